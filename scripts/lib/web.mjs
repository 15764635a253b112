// Builds the web UI (web/ → web/dist) with Vite. Run by `npm start` and `npm test`; the service
// serves web/dist at `/`.
import path from 'node:path';
import { run } from './run.mjs';

export async function buildWeb(root, log = console.log) {
  log('• building the web UI (vite)…');
  await run(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', path.join(root, 'web/vite.config.mjs')], { cwd: root });
}

/** Type-checks the web UI (its own tsconfig: DOM, JSX). */
export async function typecheckWeb(root) {
  await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'web/tsconfig.json')], { cwd: root });
}
