// The sandbox availability check on the real Docker engine: which component is missing, the fix it
// names, the cache, and observations replacing the cached answer.
import Docker from 'dockerode';
import { jest } from '@jest/globals';
import { createAvailabilityCheck, isSandboxDown, sandboxUnavailableError } from '../../sandbox/availability.js';

const IMAGE = process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest';
const docker = new Docker({ version: 'v1.41' });

test('an engine with the image is available', async () => {
  expect(await createAvailabilityCheck({ docker, image: IMAGE }).check()).toEqual({ available: true, image: IMAGE });
});

test('a missing image: component image, and the fix builds it (and names the variable for a foreign tag)', async () => {
  const foreign = await createAvailabilityCheck({ docker, image: 'samokoder-sandbox:does-not-exist' }).check();
  expect(foreign).toMatchObject({ available: false, component: 'image', reason: expect.stringContaining('samokoder-sandbox:does-not-exist') });
  expect(!foreign.available && foreign.fix).toBe('build the image: npm run sandbox:image, then set SAMOKODER_SANDBOX_IMAGE to the tag it prints (it is samokoder-sandbox:does-not-exist now)');
  // A recipe-hash tag is what the script builds: the fix is just the script.
  const recipe = await createAvailabilityCheck({ docker, image: 'samokoder-sandbox:000000000000' }).check();
  expect(recipe).toMatchObject({ available: false, component: 'image', fix: 'build the image: npm run sandbox:image' });
});

test('no engine at the socket: component engine, and the fix starts Docker', async () => {
  const status = await createAvailabilityCheck({ docker: new Docker({ socketPath: '/nonexistent/docker.sock' }), image: IMAGE }).check();
  expect(status).toMatchObject({ available: false, component: 'engine', reason: expect.stringContaining('ENOENT') });
  if (process.platform === 'linux' && !process.env.DOCKER_HOST) expect(!status.available && status.fix).toBe('start Docker: sudo node scripts/ensure-docker.mjs');
  // The error built from it carries the fix in the message and the parts in details.
  const err = sandboxUnavailableError(status.available ? (undefined as never) : status);
  expect(err).toMatchObject({ code: 'E_SANDBOX_UNAVAILABLE', status: 503, details: { component: 'engine' } });
  expect(err.message).toMatch(/\. Fix: start Docker/);
  expect(isSandboxDown(err)).toBe(true);
});

test('answers are cached for the TTL and shared by concurrent callers; an observation replaces them at once', async () => {
  let now = 1_000_000;
  const probed = new Docker({ version: 'v1.41' });
  const ping = jest.spyOn(probed, 'ping');
  const check = createAvailabilityCheck({ docker: probed, image: 'samokoder-sandbox:does-not-exist', ttlMs: 5_000, now: () => now });
  const answers = await Promise.all([check.check(), check.check(), check.check()]);
  expect(answers.map((a) => a.available)).toEqual([false, false, false]);
  expect(ping).toHaveBeenCalledTimes(1);
  now += 4_000;
  await check.check();
  expect(ping).toHaveBeenCalledTimes(1);
  // The sandbox saw a container start: available now, without asking the engine.
  check.observe({ ok: true });
  expect(await check.check()).toMatchObject({ available: true });
  expect(ping).toHaveBeenCalledTimes(1);
  // A failure that is not the engine's or the image's (one container) changes nothing.
  check.observe({ ok: false, error: new Error('container name conflict') });
  expect(await check.check()).toMatchObject({ available: true });
  // Past the TTL the engine is asked again, and the image is still missing.
  now += 6_000;
  expect(await check.check()).toMatchObject({ available: false, component: 'image' });
  expect(ping).toHaveBeenCalledTimes(2);
});
