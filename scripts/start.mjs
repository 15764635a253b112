// `npm start`: install what is missing, compile, provision the sandbox (the Docker engine and the
// sandbox image, as `npm test` does), and run the service on its embedded defaults (PGlite under
// ./data, local accounts). Any configuration comes from the environment.
// Without a sandbox (no Docker engine here, or the image cannot be built) the service starts
// anyway, after the exact command to fix it is printed; /readyz and the web UI say so too.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, ensureDependencies } from './lib/deps.mjs';
import { ensureHaproxy } from './lib/haproxy.mjs';
import { provisionSandbox } from './lib/provision.mjs';
import { buildWeb } from './lib/web.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let sandbox;
try {
  await ensureDependencies(root);
  // Before the sandbox's provisioning, which may use apt-get too (one at a time).
  await ensureHaproxy({ log: (m) => console.log(`• preview data plane: ${m}`) });
  // The image build (minutes, the first time) waits mostly on the network and Docker; the
  // compilers keep the CPU busy meanwhile. Each line says which of the two it comes from.
  [sandbox] = await Promise.all([
    provisionSandbox({ log: (m) => console.log(`• sandbox: ${m}`) }),
    (async () => {
      await build(root);
      await buildWeb(root);
    })(),
  ]);
} catch (err) {
  console.error(`npm start: ${err.message}`);
  process.exit(1);
}

const env = { ...process.env };
if (sandbox.image) env.SAMOKODER_SANDBOX_IMAGE = sandbox.image;
if (sandbox.browserImage) env.SAMOKODER_BROWSER_IMAGE = sandbox.browserImage;
if (sandbox.browserProblem) {
  console.error(`\n! No browser check: ${sandbox.browserProblem.reason}\n  Apps are still built and tested; to have verify load their pages too: ${sandbox.browserProblem.fix}\n`);
}
if (sandbox.problem) {
  console.error(
    `\n! No sandbox: ${sandbox.problem.reason}\n` +
      '  The service starts anyway, but runs cannot build or test apps until this is fixed:\n' +
      `    ${sandbox.problem.fix}\n` +
      '  then run npm start again.\n',
  );
}

const child = spawn(process.execPath, ['--enable-source-maps', path.join(root, 'dist/server/main.js')], { stdio: 'inherit', cwd: root, env });
// The service handles SIGINT/SIGTERM itself (graceful shutdown); pass them on and exit as it does.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
