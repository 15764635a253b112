// `npm test`: install and start what the tests need, then type-check, lint and run the suite.
//   npm dependencies (npm install, pinned by the lock file) · the Docker engine (installed and
//   started when none answers) · the sandbox image (built offline when no registry is reachable)
//   · Chromium, OpenSSH's sshd and HAProxy (apt-get, services kept stopped) · a throwaway PostgreSQL 15
//   (Jest's global setup) · compile to dist/
// Extra arguments go to Jest: `npm test -- test/auth.test.ts`.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, ensureDependencies } from './lib/deps.mjs';
import { run } from './lib/run.mjs';
import { ensureChromium } from './lib/chromium.mjs';
import { ensureSshd } from './lib/sshd.mjs';
import { ensureHaproxy } from './lib/haproxy.mjs';
import { buildWeb, typecheckWeb } from './lib/web.mjs';
import { provisionSandbox } from './lib/provision.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (p) => path.join(root, 'node_modules', p);
const started = Date.now();
const step = (m) => console.log(`\n• ${m}`);

async function main() {
  await ensureDependencies(root);
  step('Docker engine, sandbox and browser images');
  const { image, browserImage } = await provisionSandbox({ log: (m) => console.log(`  ${m}`), required: true });
  // The sandbox tests run this exact image (the tag is a hash of its recipe).
  process.env.SAMOKODER_SANDBOX_IMAGE = image;
  // Verify's browser check loads pages in this image (also a recipe hash).
  process.env.SAMOKODER_BROWSER_IMAGE = browserImage;
  step('Chromium (browser tests)');
  const chromium = await ensureChromium({ log: (m) => console.log(`  ${m}`) });
  if (chromium) process.env.SAMOKODER_CHROMIUM = chromium;
  step('OpenSSH server (ssh import/push tests)');
  await ensureSshd({ log: (m) => console.log(`  ${m}`) });
  step('HAProxy (the preview data plane)');
  await ensureHaproxy({ log: (m) => console.log(`  ${m}`), missing: 'the HAProxy data plane tests will fail' });
  step('type-check (tsc --noEmit)');
  await run(process.execPath, [bin('typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit'], { cwd: root });
  step('type-check the web UI (web/tsconfig.json)');
  await typecheckWeb(root);
  step('lint (eslint)');
  await run(process.execPath, [bin('eslint/bin/eslint.js'), '.', '--max-warnings=0'], { cwd: root });
  // Some tests start the compiled service as real processes (two nodes migrating at once, kill -9).
  await build(root, step);
  await buildWeb(root, step);
  step('jest');
  const report = path.join(root, 'test-artifacts', 'jest-report.json');
  mkdirSync(path.dirname(report), { recursive: true });
  rmSync(report, { force: true });
  const jestArgs = ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', bin('jest/bin/jest.js'), '--json', `--outputFile=${report}`, ...process.argv.slice(2)];
  let failed;
  await run(process.execPath, jestArgs, { cwd: root }).catch((err) => (failed = err));
  let summary = '';
  try {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    summary = `${r.numPassedTests} passed, ${r.numFailedTests} failed`;
    if (r.numTotalTests === 0) failed ??= new Error('Jest ran no test');
  } catch {
    failed ??= new Error('Jest wrote no report');
  }
  console.log(`\ntests (${Math.round((Date.now() - started) / 1000)} s in all):`);
  if (summary) console.log(summary);
  if (failed) throw failed;
}

main().catch((err) => {
  console.error(`\nnpm test: ${err.message}`);
  process.exit(1);
});
