import { spawnSync } from 'node:child_process';
import { findWebDist } from '../../server/http/web-ui.js';

/** web/dist, built now when missing (`npm test` builds it before Jest; a lone `npm run jest` may not have). */
export function ensureWebBuild(): string {
  const found = findWebDist();
  if (found) return found;
  const res = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.mjs'], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`vite build failed: ${res.stderr || res.stdout}`);
  const built = findWebDist();
  if (!built) throw new Error('vite build wrote no web/dist/index.html');
  return built;
}
