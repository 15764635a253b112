import { randomBytes } from 'node:crypto';
import net from 'node:net';
import Docker from 'dockerode';
import type { Container, ContainerCreateOptions } from 'dockerode';
import type { Browser, Page } from 'playwright-core';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { BrowserCheckPort, BrowserCheckRequest, BrowserCheckResult, BrowserProbeResult, BrowserProbeStep, BrowserProblem } from './browser-port.js';
import { hardenedContainerSpec } from './hardening.js';
import { ISOLATED_BRIDGE_PREFIX, isolateBridgesFromHost } from './host-isolation.js';
import { containerLabels } from './labels.js';
import { SANDBOX_HOME, SANDBOX_UID, type SandboxSettings } from './settings.js';
import { execUser, prepareWorkspace } from './workspace-owner.js';


export interface BrowserSettings {
  /** The image with Chromium (scripts/browser-image.mjs builds it). */
  readonly image: string;
  /** The port the app is told to listen on ($PORT). */
  readonly port: number;
  /** How long the start command gets to listen on the port (or to exit) before it counts as never listening. */
  readonly startTimeoutMs: number;
  /** Page load (to the `load` event) and screenshot, each. */
  readonly loadTimeoutMs: number;
  /** Memory of the browser container (memory + swap: no swap). */
  readonly memoryBytes: number;
}

/** What the service connects to: cdp-forward.mjs (in the image), which passes it to Chromium's own port on loopback. */
const CDP_PORT = 9222;
const CHROMIUM_CDP_PORT = 9223;
const FORWARDER = '/usr/local/lib/samokoder/cdp-forward.mjs';
/** The app's host name on the check's network (for the app's own logs; the page is loaded by address, see below). */
const APP_ALIAS = 'app';
const POLL_MS = 200;
/** How often the port of a start command that just started is tried, and for how long (waitListening). */
const FIRST_POLL_MS = 20;
const FAST_POLL_FOR_MS = 3000;
const MAX_PROBLEMS = 20;
const MAX_CONSOLE = 50;
const OUTPUT_CHARS = 4000;
/** After `load`, how long the page may keep fetching before the verdict (its errors usually come on load). */
const SETTLE_MS = 1500;

/**
 * Chromium in the browser container; its DevTools port is bound to loopback (headless ignores
 * --remote-debugging-address), and reached through the forwarder. --no-sandbox: Chromium's own sandbox needs user namespaces or
 * a setuid helper, which the container forbids (no-new-privileges, no capabilities); the
 * container is the sandbox. The profile lives on the /tmp tmpfs.
 */
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-breakpad', '--no-first-run', '--no-default-browser-check', '--mute-audio',
  '--remote-debugging-address=0.0.0.0', `--remote-debugging-port=${CHROMIUM_CDP_PORT}`, '--user-data-dir=/tmp/profile', 'about:blank',
];

/**
 * The browser check on the Docker engine. Per check: an internal network of its own (no route
 * out, inter-container traffic between just these two), the app in a container with the sandbox's
 * hardening (hardenedContainerSpec) and the workspace mounted, and Chromium in a hardened container
 * of the browser image. The service reaches both by their addresses on the network's bridge (host
 * to container); the containers cannot open connections to the host (a firewall rule on the
 * skb+ bridges drops new inbound connections), so the page reaches the app and nothing else.
 * Both containers and the network are removed when the check ends, whatever the outcome.
 */
export function createDockerBrowserCheck(options: { sandbox: SandboxSettings; browser: BrowserSettings; logger: Logger; docker?: Docker }): BrowserCheckPort {
  const { sandbox, browser: settings, logger } = options;
  const docker = options.docker ?? new Docker({ version: 'v1.41' });
  const inFlight = new Set<Promise<unknown>>();

  async function check(req: BrowserCheckRequest): Promise<BrowserCheckResult> {
    const imageOk = await docker.getImage(settings.image).inspect().then(() => true, () => false);
    if (!imageOk) return { kind: 'unavailable', reason: `the browser image ${settings.image} is missing (node scripts/browser-image.mjs builds it; SAMOKODER_BROWSER_IMAGE)` };
    const isolationProblem = await isolateBridgesFromHost(logger);
    if (isolationProblem) return { kind: 'unavailable', reason: isolationProblem };
    const id = randomBytes(6).toString('hex').slice(0, 11);
    const labels = containerLabels(req.projectId, req.ownerId, sandbox.namespace, sandbox.extraLabels);
    const netName = `samokoder-check-${id}`;
    const containers: Container[] = [];
    let cdp: Browser | undefined;
    const closeOnAbort = (): void => void cdp?.close().catch(() => undefined);
    try {
      const network = await docker.createNetwork({
        Name: netName, Driver: 'bridge', Internal: true, CheckDuplicate: true, Labels: labels,
        Options: { 'com.docker.network.bridge.name': `${ISOLATED_BRIDGE_PREFIX}${id}` },
      });
      const gateway = ((await network.inspect()) as { IPAM?: { Config?: { Gateway?: string }[] } }).IPAM?.Config?.[0]?.Gateway;
      if (!gateway) throw new Error(`Docker network ${netName} has no gateway address`);
      await prepareWorkspace(req.workspaceDir);
      const app = await docker.createContainer(appSpec(req, netName));
      containers.push(app);
      await app.start();
      const appIp = await addressOn(app, netName);
      const started = await waitListening(app, appIp, settings.port, settings.startTimeoutMs, req.signal);
      if (started !== 'listening') {
        const output = await logsOf(app);
        return started.exitCode === undefined ? { kind: 'not-listening', output } : { kind: 'exited', exitCode: started.exitCode, output };
      }
      const browserBox = await docker.createContainer(browserSpec(labels, netName, gateway));
      containers.push(browserBox);
      await browserBox.start();
      const browserIp = await addressOn(browserBox, netName);
      cdp = await connect(`http://${browserIp}:${CDP_PORT}`, Date.now() + Math.max(settings.startTimeoutMs, 20_000), req.signal);
      // A cancel mid-load ends the page's awaits at once (they reject; the catch below reports the cancel).
      req.signal?.addEventListener('abort', closeOnAbort, { once: true });
      // By address: Chromium upgrades http:// to https:// for host names (HTTPS-Upgrades), never for IP addresses.
      const url = `http://${appIp}:${settings.port}/`;
      const loaded = await loadPage(cdp, url, settings.loadTimeoutMs, req.probe);
      return { kind: 'loaded', url, ...loaded, output: await logsOf(app) };
    } catch (err) {
      if (req.signal?.aborted) throw new AppError('E_CANCELLED', 'The browser check was cancelled');
      throw err instanceof AppError ? err : new AppError('E_SANDBOX_UNAVAILABLE', `The browser check failed: ${(err as Error).message}`, { cause: err, retryable: true });
    } finally {
      req.signal?.removeEventListener('abort', closeOnAbort);
      await cdp?.close().catch(() => undefined);
      await Promise.all(containers.map((c) => c.remove({ force: true }).catch((err: unknown) => logger.warn({ err }, 'browser check: could not remove a container'))));
      await docker.getNetwork(netName).remove().catch((err: unknown) => {
        if ((err as { statusCode?: number }).statusCode !== 404) logger.warn({ err, network: netName }, 'browser check: could not remove its network');
      });
    }
  }

  /** The app: the sandbox's container definition, with the start command as its process and the check's network. */
  function appSpec(req: BrowserCheckRequest, netName: string): ContainerCreateOptions {
    const base = hardenedContainerSpec(sandbox, { projectId: req.projectId, ownerId: req.ownerId, workspaceDir: req.workspaceDir });
    return {
      ...base,
      // umask 002 like sandbox execs: what the app writes stays modifiable by the service's group.
      Cmd: ['/bin/sh', '-c', `umask 002\n${req.command}`],
      User: execUser(),
      Hostname: APP_ALIAS,
      Env: [...(base.Env ?? []), `PORT=${settings.port}`, 'HOST=0.0.0.0', 'NODE_ENV=production'],
      HostConfig: { ...base.HostConfig, NetworkMode: netName },
      NetworkingConfig: { EndpointsConfig: { [netName]: { Aliases: [APP_ALIAS] } } },
    };
  }

  function browserSpec(labels: Record<string, string>, netName: string, gateway: string): ContainerCreateOptions {
    return {
      Image: settings.image,
      Cmd: ['/bin/sh', '-c', `node ${FORWARDER} ${CDP_PORT} ${CHROMIUM_CDP_PORT} & exec chromium "$@"`, 'chromium', ...CHROMIUM_ARGS],
      // The image's sandbox user: never root.
      User: `${SANDBOX_UID}:${SANDBOX_UID}`,
      Hostname: 'browser',
      // ALLOW_FROM: the forwarder serves the host (the service) only, never the app beside it.
      Env: [`HOME=${SANDBOX_HOME}`, 'PATH=/usr/local/bin:/usr/bin:/bin', 'LANG=C.UTF-8', `ALLOW_FROM=${gateway}`],
      Labels: labels,
      HostConfig: {
        NetworkMode: netName,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges:true'],
        Privileged: false,
        ReadonlyRootfs: true,
        // The profile (user-data-dir) and caches: size-capped, gone with the container.
        Tmpfs: {
          '/tmp': 'rw,nosuid,nodev,size=268435456',
          [SANDBOX_HOME]: `rw,nosuid,nodev,size=67108864,uid=${SANDBOX_UID},gid=${SANDBOX_UID},mode=0700`,
        },
        // Chromium's renderers share memory through /dev/shm; Docker's default 64 MiB crashes tabs.
        ShmSize: 256 * 1024 * 1024,
        IpcMode: 'private',
        Memory: settings.memoryBytes,
        MemorySwap: settings.memoryBytes,
        NanoCpus: 1e9,
        // Chromium's processes and threads together.
        PidsLimit: 512,
        Init: true,
        RestartPolicy: { Name: 'no' },
        Binds: [],
        Devices: [],
      },
    };
  }

  return {
    async check(req) {
      const p = check(req);
      inFlight.add(p);
      try {
        return await p;
      } finally {
        inFlight.delete(p);
      }
    },
    async close() {
      await Promise.allSettled([...inFlight]);
    },
  };
}

export async function addressOn(container: Container, netName: string): Promise<string> {
  const info = await container.inspect();
  const ip = info.NetworkSettings.Networks[netName]?.IPAddress;
  if (!ip) throw new Error(`container ${container.id.slice(0, 12)} has no address on ${netName}`);
  return ip;
}

/**
 * Until the app accepts a TCP connection on the port, exits, or the time is up. A small app listens
 * within a few hundred ms of its start, so for the first FAST_POLL_FOR_MS the port is tried every
 * FIRST_POLL_MS (a refused connection costs next to nothing), then every POLL_MS; the container's
 * state (has the command exited?) is asked every POLL_MS only, an engine round trip each.
 */
export async function waitListening(app: Container, ip: string, port: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<'listening' | { exitCode: number | undefined }> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let stateAt = -Infinity;
  for (;;) {
    signal?.throwIfAborted();
    if (Date.now() - stateAt >= POLL_MS) {
      const state = (await app.inspect()).State;
      if (!state.Running) return { exitCode: state.ExitCode };
      stateAt = Date.now();
    }
    if (await canConnect(ip, port)) return 'listening';
    if (Date.now() > deadline) return { exitCode: undefined };
    await new Promise((r) => setTimeout(r, Date.now() - started < FAST_POLL_FOR_MS ? FIRST_POLL_MS : POLL_MS));
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1000 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** Chromium's DevTools endpoint answers a moment after the container starts: retry until the deadline. */
async function connect(endpoint: string, deadline: number, signal: AbortSignal | undefined): Promise<Browser> {
  // Loaded on the first check, not with the service: playwright-core takes a second or more to load.
  const { chromium } = await import('playwright-core');
  for (;;) {
    signal?.throwIfAborted();
    try {
      return await chromium.connectOverCDP(endpoint, { timeout: 5000 });
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Chromium's DevTools endpoint did not answer: ${(err as Error).message.split('\n')[0]}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}

async function loadPage(cdp: Browser, url: string, timeoutMs: number, probe: readonly BrowserProbeStep[] | undefined): Promise<Omit<Extract<BrowserCheckResult, { kind: 'loaded' }>, 'kind' | 'url' | 'output'>> {
  const context = await cdp.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const origin = new URL(url).origin;
  const problems: BrowserProblem[] = [];
  const blockedRequests: string[] = [];
  const consoleLines: string[] = [];
  const problem = (p: BrowserProblem): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ ...p, text: p.text.slice(0, 2000) });
  };
  const sameOrigin = (u: string): boolean => {
    try {
      return new URL(u).origin === origin;
    } catch {
      return false;
    }
  };
  page.on('pageerror', (err) => problem({ kind: 'pageerror', text: err.stack ?? `${err.name}: ${err.message}` }));
  page.on('console', (msg) => {
    const text = msg.text();
    if (consoleLines.length < MAX_CONSOLE) consoleLines.push(`${msg.type()}: ${text}`.slice(0, 2000));
    // "Failed to load resource" echoes a failed request, which the request handlers below judge
    // (same origin: a problem; another origin: blocked by design; the browser's own favicon probe: neither).
    if (msg.type() === 'error' && !text.startsWith('Failed to load resource')) {
      const at = msg.location().url;
      problem({ kind: 'console', text, ...(at ? { url: at } : {}) });
    }
  });
  page.on('requestfailed', (req) => {
    const why = req.failure()?.errorText ?? 'failed';
    if (sameOrigin(req.url())) problem({ kind: 'request', text: `${req.method()} ${req.url()}: ${why}`, url: req.url() });
    else if (blockedRequests.length < MAX_CONSOLE) blockedRequests.push(`${req.method()} ${req.url()}: ${why}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && sameOrigin(res.url())) problem({ kind: 'request', text: `${res.request().method()} ${res.url()}: HTTP ${res.status()}`, url: res.url() });
  });
  try {
    await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
  } catch (err) {
    problem({ kind: 'request', text: `GET ${url}: the page did not load (${(err as Error).message.split('\n')[0]})`, url });
  }
  await page.waitForLoadState('networkidle', { timeout: SETTLE_MS * 4 }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const probed = probe?.length ? await runProbe(page, probe) : undefined;
  const screenshot = await page.screenshot({ type: 'png', timeout: timeoutMs }).catch(() => undefined);
  await context.close().catch(() => undefined);
  return { problems, blockedRequests, console: consoleLines, screenshot, ...(probed ? { probe: probed } : {}) };
}

/** How long one probe step waits for its element (or text): generous for a loaded machine, short for a missing element. */
const PROBE_STEP_MS = 10_000;

/** The probe's steps in order, up to the first that fails. */
async function runProbe(page: Page, steps: readonly BrowserProbeStep[]): Promise<BrowserProbeResult> {
  const log: string[] = [];
  for (const step of steps) {
    const [what, selector] = describeStep(step);
    try {
      const el = page.locator(selector).first();
      if ('expectVisible' in step) await el.waitFor({ state: 'visible', timeout: PROBE_STEP_MS });
      else if ('fill' in step) await el.fill(step.value, { timeout: PROBE_STEP_MS });
      else if ('click' in step) await el.click({ timeout: PROBE_STEP_MS });
      else await waitForText(page, selector, step.contains);
      log.push(`ok ${what}`);
    } catch (err) {
      log.push(`FAILED ${what}: ${(err as Error).message.split('\n')[0]}`);
      return { passed: false, log };
    }
  }
  return { passed: true, log };
}

function describeStep(step: BrowserProbeStep): [string, string] {
  if ('expectVisible' in step) return [`${step.expectVisible} is visible`, step.expectVisible];
  if ('fill' in step) return [`fill ${step.fill} with ${JSON.stringify(step.value)}`, step.fill];
  if ('click' in step) return [`click ${step.click}`, step.click];
  return [`${step.expectText} contains ${JSON.stringify(step.contains)}`, step.expectText];
}

async function waitForText(page: Page, selector: string, text: string): Promise<void> {
  const deadline = Date.now() + PROBE_STEP_MS;
  let last: string | null = null;
  for (;;) {
    last = await page.locator(selector).first().textContent({ timeout: PROBE_STEP_MS }).catch(() => null);
    if (last?.includes(text)) return;
    if (Date.now() > deadline) throw new Error(`its text is ${last === null ? 'missing' : JSON.stringify(last.slice(0, 200))}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The container's stdout and stderr (Docker's multiplexed log format), the last OUTPUT_CHARS. */
export async function logsOf(container: Container): Promise<string> {
  const raw = (await container.logs({ stdout: true, stderr: true, follow: false }).catch(() => Buffer.alloc(0))) as Buffer;
  const parts: Buffer[] = [];
  for (let i = 0; i + 8 <= raw.length; ) {
    const len = raw.readUInt32BE(i + 4);
    parts.push(raw.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  const text = Buffer.concat(parts).toString('utf8');
  return text.length <= OUTPUT_CHARS ? text : `…${text.slice(-OUTPUT_CHARS)}`;
}
