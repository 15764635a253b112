import type Docker from 'dockerode';
import { AppError, isAppError } from '../core/errors.js';
import type { SandboxPort } from './port.js';

/**
 * Whether the sandbox can run commands right now, and if not, which part is missing and what the
 * operator runs to fix it. /readyz, the web UI's banner, `generate` and the run worker all report
 * this one answer, so the fix reads the same everywhere.
 */
export type SandboxAvailability =
  | { readonly available: true; readonly image: string }
  | {
      readonly available: false;
      /** engine: no Docker engine answers · image: the engine has no such image · off: SAMOKODER_SANDBOX=off. */
      readonly component: 'engine' | 'image' | 'off';
      readonly reason: string;
      readonly fix: string;
    };

export type SandboxUnavailable = Extract<SandboxAvailability, { available: false }>;

export interface AvailabilityCheck {
  /** The current answer: cached for `ttlMs`, one probe at a time however many callers ask. */
  check(): Promise<SandboxAvailability>;
  /**
   * What the sandbox just saw when it used the engine (an acquire that worked, or failed for a
   * reason the probe would find): replaces the cached answer, so a change shows at once rather
   * than after the cache runs out.
   */
  observe(outcome: { ok: true } | { ok: false; error: unknown }): void;
}

export interface AvailabilityCheckOptions {
  docker: Docker;
  image: string;
  /** How long an answer is reused (default 5 s): the engine is asked at most this often. */
  ttlMs?: number;
  /** An engine that has not answered in this long counts as unavailable (default 10 s). */
  timeoutMs?: number;
  now?: () => number;
}

const DEFAULT_TTL_MS = 5_000;
const DEFAULT_TIMEOUT_MS = 10_000;

/** The image `npm run sandbox:image` builds and tags: its recipe-hash tag, or :latest. */
const BUILT_BY_SCRIPT = /^samokoder-sandbox:(latest|[0-9a-f]{12})$/;

export const SANDBOX_OFF: SandboxUnavailable = {
  available: false,
  component: 'off',
  reason: 'The sandbox is turned off on this node (SAMOKODER_SANDBOX=off), so generated apps cannot be installed or tested',
  fix: 'turn it on: unset SAMOKODER_SANDBOX (or set it to docker) and restart the service',
};

export function createAvailabilityCheck(options: AvailabilityCheckOptions): AvailabilityCheck {
  const { docker, image } = options;
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  let cached: { at: number; value: SandboxAvailability } | undefined;
  let probing: Promise<SandboxAvailability> | undefined;
  // Bumped by observe(): a probe that started before a fresher observation does not overwrite it.
  let generation = 0;

  const probe = async (): Promise<SandboxAvailability> => {
    try {
      await withTimeout(docker.ping(), timeoutMs, 'engine');
      await withTimeout(docker.getImage(image).inspect(), timeoutMs, 'image');
      return { available: true, image };
    } catch (err) {
      return diagnose(err, image) ?? { available: false, component: 'engine', reason: `The Docker engine failed: ${messageOf(err)}`, fix: engineFix() };
    }
  };

  return {
    check() {
      if (cached && now() - cached.at < ttlMs) return Promise.resolve(cached.value);
      if (!probing) {
        const started = generation;
        probing = probe()
          .then((value) => {
            if (generation === started) cached = { at: now(), value };
            return cached?.value ?? value;
          })
          .finally(() => (probing = undefined));
      }
      return probing;
    },
    observe(outcome) {
      const value = outcome.ok ? ({ available: true, image } as const) : diagnose(outcome.error, image);
      if (!value) return; // a failure of one container, not of the engine or the image
      generation += 1;
      cached = { at: now(), value };
    },
  };
}

/** The node's answer: `off` when it has no sandbox; a port that cannot tell is taken at its word. */
export async function sandboxAvailability(port: SandboxPort | undefined): Promise<SandboxAvailability> {
  if (!port) return SANDBOX_OFF;
  return port.availability ? port.availability() : { available: true, image: 'unknown' };
}

/** Throws E_SANDBOX_UNAVAILABLE (with the fix) unless the sandbox can run commands now. */
export async function requireSandbox(port: SandboxPort | undefined): Promise<void> {
  const status = await sandboxAvailability(port);
  if (!status.available) throw sandboxUnavailableError(status);
}

/**
 * The error a caller gets when the sandbox is unavailable: the reason and the fix in the message,
 * both also in `details` for clients that show them apart (the web UI, the CLI).
 */
export function sandboxUnavailableError(status: SandboxUnavailable, cause?: unknown): AppError {
  return new AppError('E_SANDBOX_UNAVAILABLE', `${status.reason}. Fix: ${status.fix}.`, {
    details: { component: status.component, reason: status.reason, fix: status.fix },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * True for a sandbox error no retry can cure: the engine is down, the image is missing or the
 * sandbox is off. The run worker fails such a run at once instead of retrying it.
 */
export function isSandboxDown(err: unknown): boolean {
  return isAppError(err) && err.code === 'E_SANDBOX_UNAVAILABLE' && typeof err.details?.component === 'string';
}

/**
 * Which component a Docker error means is missing, or undefined when it is some other failure
 * (one container's start, a conflict) that says nothing about the engine or the image.
 */
export function diagnose(err: unknown, image: string): SandboxUnavailable | undefined {
  if (isAppError(err)) {
    const { component, reason, fix } = err.details ?? {};
    if (err.code !== 'E_SANDBOX_UNAVAILABLE' || typeof reason !== 'string' || typeof fix !== 'string') return undefined;
    return component === 'engine' || component === 'image' || component === 'off' ? { available: false, component, reason, fix } : undefined;
  }
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (err instanceof ProbeTimeout) {
    return { available: false, component: 'engine', reason: `The Docker engine did not answer within ${err.ms / 1000} s (${err.what})`, fix: engineFix() };
  }
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT' || e.code === 'ECONNRESET' || e.code === 'EHOSTUNREACH' || e.code === 'ETIMEDOUT') {
    return { available: false, component: 'engine', reason: `No Docker engine answers at ${engineAddress()} (${e.code})`, fix: engineFix() };
  }
  if (e.code === 'EACCES' || e.code === 'EPERM') {
    return {
      available: false,
      component: 'engine',
      reason: `This user may not use the Docker socket ${engineAddress()} (${e.code})`,
      fix: 'let this user use Docker: sudo usermod -aG docker $USER, then log in again (or run the service as root)',
    };
  }
  if (e.statusCode === 404 && /image/i.test(e.message ?? '')) {
    return { available: false, component: 'image', reason: `The sandbox image ${image} is not on the Docker engine`, fix: imageFix(image) };
  }
  return undefined;
}

function imageFix(image: string): string {
  if (BUILT_BY_SCRIPT.test(image)) return 'build the image: npm run sandbox:image';
  return `build the image: npm run sandbox:image, then set SAMOKODER_SANDBOX_IMAGE to the tag it prints (it is ${image} now)`;
}

function engineFix(): string {
  const host = process.env.DOCKER_HOST;
  if (host && !host.startsWith('unix://')) return `start the Docker engine at DOCKER_HOST=${host}, or unset DOCKER_HOST to use this machine's`;
  if (process.platform === 'darwin' || process.platform === 'win32') return 'start Docker Desktop (or colima start)';
  return 'start Docker: sudo node scripts/ensure-docker.mjs';
}

/** Where dockerode connects (the same rule as docker-modem: DOCKER_HOST, else the default socket). */
function engineAddress(): string {
  return process.env.DOCKER_HOST ?? (process.platform === 'win32' ? '//./pipe/docker_engine' : '/var/run/docker.sock');
}

class ProbeTimeout extends Error {
  constructor(
    readonly ms: number,
    readonly what: string,
  ) {
    super(`no answer in ${ms} ms`);
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout(ms, what === 'engine' ? 'ping' : `inspecting the image`)), ms);
  });
  work.catch(() => undefined); // a late failure after the deadline must not become an unhandled rejection
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function messageOf(err: unknown): string {
  return (err as { message?: string })?.message ?? String(err);
}
