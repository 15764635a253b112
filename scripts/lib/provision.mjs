// What the main job needs besides npm packages: a Docker engine, the sandbox image and the
// browser image of verify's browser check. `npm test` requires all three (the sandbox tests cannot
// run without them); `npm start` provisions them where it may and otherwise starts the service
// without a sandbox (or without the browser check), after printing the exact fix.
// Dependency-free (node: built-ins only), like the scripts it drives.
import fs from 'node:fs';
import { ensureDocker, DOCKERD_LOG } from '../ensure-docker.mjs';
import { ensureBrowserImage } from '../browser-image.mjs';
import { cacheDir, ensureSandboxImage } from '../sandbox-image.mjs';

/**
 * The one command that gets a Docker engine here, for the situation ensureDocker could not handle.
 * A pure decision (tested): `situation` is { platform, root, debian, dockerHost, error }.
 */
export function engineFix({ platform, root, debian, dockerHost, error = '' }) {
  if (/permission denied|may not use its socket/i.test(error)) return 'let this user use Docker: sudo usermod -aG docker $USER, then log in again';
  if (dockerHost && !dockerHost.startsWith('unix://')) return `start the Docker engine at DOCKER_HOST=${dockerHost}, or unset DOCKER_HOST to use this machine's`;
  if (platform === 'darwin' || platform === 'win32') return 'start Docker Desktop (or colima start)';
  if (platform !== 'linux') return 'install and start a Docker engine, or point DOCKER_HOST at one';
  if (!debian) return 'install Docker Engine from your distribution and start it (systemctl start docker)';
  // Root on Debian is the case ensureDocker handles itself; it failed, and its log says why.
  if (root) return `read the dockerd log (${DOCKERD_LOG}), fix what it says, then run node scripts/ensure-docker.mjs`;
  return 'start Docker: sudo node scripts/ensure-docker.mjs';
}

/** The one command that builds the image, for a failed build (a non-root offline build needs root). */
export function imageFix(error = '') {
  if (/must run as root/i.test(error)) return 'build the image as root: sudo node scripts/sandbox-image.mjs';
  return `build the image: npm run sandbox:image (its log: ${cacheDir()}/build.log)`;
}

function situation(error) {
  return {
    platform: process.platform,
    root: process.getuid?.() === 0,
    debian: fs.existsSync('/etc/debian_version'),
    dockerHost: process.env.DOCKER_HOST,
    error,
  };
}

const firstLine = (err) => String(err?.message ?? err).split('\n')[0];

/**
 * Makes sure the Docker engine answers and the sandbox image for the current recipe exists
 * (built once, then reused: its tag is the recipe's hash). Returns
 *   { image }                               ready: run the service with SAMOKODER_SANDBOX_IMAGE=image
 *   { off: true }                           SAMOKODER_SANDBOX=off (npm start): nothing to provision
 *   { problem: {component, reason, detail, fix} }   not `required`, and the engine or the image cannot be had
 * With `required` (npm test), a problem throws instead (its message ends with the fix), and the
 * recipe's image is always the one built. Without it (npm start), an image the operator named in
 * SAMOKODER_SANDBOX_IMAGE is used as it is (the service reports it when it is missing).
 */
export async function provisionSandbox({ log: print = console.log, required = false } = {}) {
  // ensureSandboxImage checks the engine again (a no-op after ensureDocker): say it once.
  let last;
  const log = (m) => {
    if (m !== last) print(m);
    last = m;
  };
  if (!required && process.env.SAMOKODER_SANDBOX === 'off') {
    log('SAMOKODER_SANDBOX=off: no sandbox to provision');
    return { off: true };
  }
  let problem;
  try {
    await ensureDocker({ log });
  } catch (err) {
    problem = { component: 'engine', reason: `no Docker engine: ${firstLine(err)}`, detail: err.message, fix: engineFix(situation(err.message)) };
  }
  if (!problem && !required && process.env.SAMOKODER_SANDBOX_IMAGE) {
    log(`using SAMOKODER_SANDBOX_IMAGE=${process.env.SAMOKODER_SANDBOX_IMAGE}`);
    // An operator who names their own sandbox image manages images: nothing is built for them.
    const browserImage = process.env.SAMOKODER_BROWSER_IMAGE;
    return { image: process.env.SAMOKODER_SANDBOX_IMAGE, ...(browserImage ? { browserImage } : {}) };
  }
  if (!problem) {
    try {
      const built = await ensureSandboxImage({ log });
      return { image: built.tag, ...(await provisionBrowser({ log, required })) };
    } catch (err) {
      problem = { component: 'image', reason: `the sandbox image could not be built: ${firstLine(err)}`, detail: err.message, fix: imageFix(err.message) };
    }
  }
  if (required) throw new Error(`${problem.detail}\nFix: ${problem.fix}`);
  return { problem };
}

/**
 * The image verify's browser check loads generated pages in (Debian's chromium on top of the
 * sandbox image; built once, reused after). Returns { browserImage } or, for npm start, a
 * { browserProblem } to print: without it runs still build and test apps, only the browser check
 * is skipped. With `required` (npm test), a failure throws.
 */
async function provisionBrowser({ log, required }) {
  if (!required && process.env.SAMOKODER_BROWSER_CHECK === 'off') return {};
  if (!required && process.env.SAMOKODER_BROWSER_IMAGE) return { browserImage: process.env.SAMOKODER_BROWSER_IMAGE };
  try {
    return { browserImage: (await ensureBrowserImage({ log })).tag };
  } catch (err) {
    const fix = 'build it: node scripts/browser-image.mjs';
    if (required) throw new Error(`${err.message}\nFix: ${fix}`);
    return { browserProblem: { reason: `the browser image could not be built: ${firstLine(err)}`, fix } };
  }
}
