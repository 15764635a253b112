// The web UI's build: `npm run build:web` (also run by `npm start` and `npm test`) writes web/dist,
// which the service serves at `/`. `npx vite --config web/vite.config.mjs` is a dev server that
// proxies the API to a service on :3000.
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const target = process.env.SAMOKODER_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [preact()],
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 400 },
  // The UI imports the client contract from ../protocol (shared with the server and the CLI).
  server: { proxy: { '/api': target, '/ws': { target, ws: true } }, fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
});
