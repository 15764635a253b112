// scripts/lib/provision.mjs, which `npm start` and `npm test` share: the fix it names for each
// situation, and real runs against this machine's Docker engine in child processes (their own
// environment: DOCKER_HOST, SAMOKODER_SANDBOX, SAMOKODER_SANDBOX_IMAGE).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Docker from 'dockerode';
import { engineFix, imageFix } from '../../scripts/lib/provision.mjs';

const ROOT = path.resolve('.');

/** Runs provisionSandbox in a child process; returns what it resolved (or the error) and its log lines. */
function provision(env: Record<string, string | undefined>, required = false): { result?: { image?: string; off?: true; problem?: { component: string; fix: string } }; error?: string; log: string[] } {
  const script = `
    import { provisionSandbox } from ${JSON.stringify(path.join(ROOT, 'scripts/lib/provision.mjs'))};
    const log = [];
    provisionSandbox({ log: (m) => log.push(m), required: ${required} }).then(
      (result) => console.log(JSON.stringify({ result, log })),
      (err) => console.log(JSON.stringify({ error: err.message, log })),
    );`;
  // `npm test` sets the images it provisioned: the child decides as a fresh `npm start` would.
  const base: Record<string, string | undefined> = {
    ...process.env,
    SAMOKODER_SANDBOX_IMAGE: undefined,
    SAMOKODER_SANDBOX: undefined,
    SAMOKODER_BROWSER_IMAGE: undefined,
    SAMOKODER_BROWSER_CHECK: undefined,
  };
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...base, ...env } as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 600_000 });
  if (res.status !== 0) throw new Error(`provision child failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').at(-1)!);
}

test('the engine fix fits the situation', () => {
  const linux = { platform: 'linux' as const, root: false, debian: true, dockerHost: undefined };
  expect(engineFix(linux)).toBe('start Docker: sudo node scripts/ensure-docker.mjs');
  expect(engineFix({ ...linux, error: 'A Docker engine runs but this user may not use its socket (permission denied)' })).toMatch(/^let this user use Docker: sudo usermod -aG docker \$USER/);
  expect(engineFix({ ...linux, dockerHost: 'tcp://10.0.0.5:2375' })).toBe("start the Docker engine at DOCKER_HOST=tcp://10.0.0.5:2375, or unset DOCKER_HOST to use this machine's");
  expect(engineFix({ ...linux, dockerHost: 'unix:///run/user/1000/docker.sock' })).toBe('start Docker: sudo node scripts/ensure-docker.mjs');
  expect(engineFix({ ...linux, platform: 'darwin' })).toBe('start Docker Desktop (or colima start)');
  expect(engineFix({ ...linux, debian: false })).toMatch(/^install Docker Engine from your distribution/);
  // Root on Debian: ensureDocker already tried to install and start it; its log says why it failed.
  expect(engineFix({ ...linux, root: true })).toMatch(/^read the dockerd log \(.*samokoder-dockerd\.log\)/);
});

test('the image fix: root for the offline build, else the script and its log', () => {
  expect(imageFix('The offline sandbox image build (debootstrap + chroot) must run as root, and no image registry answers')).toBe('build the image as root: sudo node scripts/sandbox-image.mjs');
  expect(imageFix('docker build (final layer) failed (exit 1)')).toMatch(/^build the image: npm run sandbox:image \(its log: .*build\.log\)$/);
});

test("with the engine up, it returns the recipe's image, reused (not rebuilt)", async () => {
  const tag = spawnSync(process.execPath, ['scripts/sandbox-image.mjs', '--print-tag'], { encoding: 'utf8' }).stdout.trim().replace(/^IMAGE /, '');
  const { result, log } = provision({});
  expect(result).toEqual({ image: tag, browserImage: expect.stringMatching(/^samokoder-browser:[0-9a-f]{12}$/) });
  expect(await new Docker({ version: 'v1.41' }).getImage(tag).inspect()).toMatchObject({ RepoTags: expect.arrayContaining([tag]) });
  // A second start finds it: the log says so, and no build step ran.
  const again = provision({});
  expect(again.result).toEqual(result);
  expect(again.log.join('\n')).toContain('already built');
  expect(again.log.join('\n')).not.toMatch(/docker build|debootstrap|docker import/);
  expect(log.length).toBeGreaterThan(0);
}, 900_000);

test('no engine: npm start gets the problem and the fix and goes on; npm test fails with the fix', () => {
  const env = { DOCKER_HOST: 'tcp://127.0.0.1:9' };
  const start = provision(env);
  expect(start.result).toEqual({
    problem: expect.objectContaining({ component: 'engine', fix: "start the Docker engine at DOCKER_HOST=tcp://127.0.0.1:9, or unset DOCKER_HOST to use this machine's" }),
  });
  const test = provision(env, true);
  expect(test.result).toBeUndefined();
  expect(test.error).toMatch(/DOCKER_HOST=tcp:\/\/127\.0\.0\.1:9 does not answer[\s\S]*\nFix: start the Docker engine at DOCKER_HOST=tcp:\/\/127\.0\.0\.1:9/);
}, 120_000);

test("npm start honours SAMOKODER_SANDBOX=off and an operator's SAMOKODER_SANDBOX_IMAGE", () => {
  expect(provision({ SAMOKODER_SANDBOX: 'off' }).result).toEqual({ off: true });
  const own = provision({ SAMOKODER_SANDBOX_IMAGE: 'registry.example.com/my-sandbox:1' });
  expect(own.result).toEqual({ image: 'registry.example.com/my-sandbox:1' });
  expect(own.log.join('\n')).not.toContain('already built');
}, 120_000);
