import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { createDockerPreviewRuntime, type DockerPreviewRuntime } from '../../previews/docker-runtime.js';
import type { PreviewStartResult } from '../../previews/runtime.js';
import { ownerLabels } from '../../sandbox/labels.js';
import { createIsolatedNetwork, holderSpec, joinHolder } from '../../sandbox/netns-holder.js';
import { sandboxSettingsFromConfig } from '../../sandbox/settings.js';
import { TEST_RUN_LABEL } from '../sandbox/fixture.js';

// Real previews on the local engine, with one spare network kept ready (previews/spare-networks.ts).
const run = promisify(execFile);
const runId = randomUUID().slice(0, 8);
const docker = new Docker({ version: 'v1.41' });
const config = loadConfig({ SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest' });
const sandbox = { ...sandboxSettingsFromConfig(config), namespace: `test-spares-${runId}`, extraLabels: { [TEST_RUN_LABEL]: runId } };
const logger = createLogger({ level: process.env.SANDBOX_TEST_LOG ?? 'silent' });
const APP = `require('node:http').createServer((q, s) => s.end(process.env.WHO)).listen(Number(process.env.PORT), process.env.HOST);\n`;
const dirs: string[] = [];
let runtime: DockerPreviewRuntime;

const ours = async (): Promise<{ containers: Docker.ContainerInfo[]; networks: Docker.NetworkInspectInfo[] }> => ({
  containers: await docker.listContainers({ all: true, filters: { label: [`${TEST_RUN_LABEL}=${runId}`] } }),
  networks: await docker.listNetworks({ filters: { label: [`${TEST_RUN_LABEL}=${runId}`] } }),
});

/** A workspace with the app, which answers `who`. */
async function workspace(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sk-spares-ws-'));
  dirs.push(dir);
  await writeFile(path.join(dir, 'server.js'), APP);
  return dir;
}

async function start(who: string, dir?: string): Promise<Extract<PreviewStartResult, { kind: 'listening' }>> {
  const workspaceDir = dir ?? (await workspace());
  const r = await runtime.start({ projectId: `${who}-${runId}`, ownerId: `user-${runId}`, workspaceDir, command: 'node server.js', projectEnv: { WHO: who } });
  if (r.kind !== 'listening') throw new Error(`expected ${who} to listen: ${JSON.stringify(r)}`);
  return r;
}

/** The preview network a preview's app is on: its holder's when it joined one, else its own. */
async function networkOf(containerId: string): Promise<{ network: string; holder: string | undefined }> {
  const app = await docker.getContainer(containerId).inspect();
  const mode = app.HostConfig.NetworkMode ?? '';
  const holder = mode.startsWith('container:') ? mode.slice('container:'.length) : undefined;
  const onNetwork = holder ? await docker.getContainer(holder).inspect() : app;
  const networks = Object.keys(onNetwork.NetworkSettings.Networks);
  expect(networks).toHaveLength(1);
  return { network: networks[0]!, holder };
}

/** What `from`'s app gets when it asks `upstream` (host:port) over HTTP, from inside its container. */
async function fetchFrom(containerId: string, upstream: string): Promise<string> {
  const script = `fetch('http://${upstream}/', { signal: AbortSignal.timeout(3000) }).then((r) => r.text()).then((t) => console.log('got ' + t), (e) => console.log('failed ' + (e.cause?.code ?? e.name)))`;
  return (await run('docker', ['exec', containerId, 'node', '-e', script])).stdout.trim();
}

beforeAll(() => {
  runtime = createDockerPreviewRuntime({ sandbox, settings: { appPort: 3000, startTimeoutMs: 30_000, spareNetworks: 1 }, logger, docker });
});

afterAll(async () => {
  await runtime?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

test('a spare is made after the first start and taken by the next preview alone; two projects never share a network nor reach each other; stop and close remove holders and networks', async () => {
  const a = await start('a');
  const onA = await networkOf(a.containerId);
  // None was ready at the first start: a network made for it, the app alone on it.
  expect(onA.holder).toBeUndefined();
  // Then one spare: a network with its started holder, labelled for the sweep but for no project.
  await runtime.sparesReady();
  const spare = (await ours()).containers.filter((x) => x.State === 'running' && !x.Labels['samokoder.project']);
  expect(spare).toHaveLength(1);
  expect((await ours()).networks).toHaveLength(2);

  const b = await start('b');
  const onB = await networkOf(b.containerId);
  expect(onB.holder).toBeDefined();
  expect(onB.network).not.toBe(onA.network);
  expect(b.upstream).not.toBe(a.upstream);
  // Each answers the service, and neither app reaches the other (nor the other's holder: the same address).
  expect(await fetchFrom(a.containerId, a.upstream)).toBe('got a');
  expect(await fetchFrom(b.containerId, b.upstream)).toBe('got b');
  expect(await fetchFrom(a.containerId, b.upstream)).toMatch(/^failed/);
  expect(await fetchFrom(b.containerId, a.upstream)).toMatch(/^failed/);

  // Two starts at once with one spare (refilled after b): they get two different networks.
  await runtime.sparesReady();
  expect((await ours()).networks).toHaveLength(3);
  const [dirC, dirD] = [await workspace(), await workspace()];
  const [c, d] = await Promise.all([start('c', dirC), start('d', dirD)]);
  const [onC, onD] = await Promise.all([networkOf(c.containerId), networkOf(d.containerId)]);
  expect(new Set([onA.network, onB.network, onC.network, onD.network]).size).toBe(4);
  expect([onC.holder, onD.holder].filter(Boolean)).toHaveLength(1);

  // A stopped preview's holder and network go with it; nothing is handed out twice.
  await runtime.stop(b.containerId);
  expect(await docker.getContainer(onB.holder!).inspect().then(() => 'there', () => 'gone')).toBe('gone');
  expect(await docker.getNetwork(onB.network).inspect().then(() => 'there', () => 'gone')).toBe('gone');

  await runtime.close();
  const left = await ours();
  expect(left.containers.map((x) => x.Id)).toEqual([]);
  expect(left.networks.map((n) => n.Name)).toEqual([]);
}, 240_000);

test("a preview another process started (a node that restarted) is stopped with its holder and network, found by its NetworkMode", async () => {
  // What that process left: a spare's holder on its network, and an app container that joined it.
  const labels = ownerLabels(sandbox.namespace, sandbox.extraLabels);
  const network = await createIsolatedNetwork(docker, labels);
  const holder = await docker.createContainer(holderSpec(sandbox.image, network, labels));
  await holder.start();
  const app = await docker.createContainer({ Image: sandbox.image, Cmd: ['sleep', 'infinity'], User: '65534:65534', Labels: labels, HostConfig: { NetworkMode: joinHolder(holder.id), CapDrop: ['ALL'] } });
  await app.start();
  const fresh = createDockerPreviewRuntime({ sandbox, settings: { appPort: 3000, startTimeoutMs: 30_000, spareNetworks: 0 }, logger, docker });
  await fresh.stop(app.id);
  for (const c of [app.id, holder.id]) expect(await docker.getContainer(c).inspect().then(() => 'there', () => 'gone')).toBe('gone');
  expect(await docker.getNetwork(network).inspect().then(() => 'there', () => 'gone')).toBe('gone');
  await fresh.close();
  expect(await ours()).toEqual({ containers: [], networks: [] });
}, 120_000);
