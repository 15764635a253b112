// `npm start`: install what is missing, compile, and run the service on its embedded defaults
// (PGlite under ./data, local accounts). Any configuration comes from the environment.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, ensureDependencies } from './lib/deps.mjs';
import { buildWeb } from './lib/web.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

try {
  await ensureDependencies(root);
  await build(root);
  await buildWeb(root);
} catch (err) {
  console.error(`npm start: ${err.message}`);
  process.exit(1);
}

const child = spawn(process.execPath, ['--enable-source-maps', path.join(root, 'dist/server/main.js')], { stdio: 'inherit', cwd: root });
// The service handles SIGINT/SIGTERM itself (graceful shutdown); pass them on and exit as it does.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
