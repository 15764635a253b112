import net from 'node:net';
import type { Config } from '../core/config.js';
import { defaultPreviewOrigin } from '../core/config.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/port.js';
import { findHaproxy } from './haproxy/binary.js';
import { APP_BACKEND } from './haproxy/config.js';
import { PortInUseError, startHaproxy, type HaproxyProcess } from './haproxy/process.js';
import { RouteSync } from './haproxy/route-sync.js';
import type { PreviewServices } from './index.js';
import { PreviewOrigin } from './origin.js';
import { createPreviewServer } from './proxy-server.js';

export interface PreviewListener {
  /** The port browsers reach previews on. */
  readonly port: number;
  /** `haproxy`: HAProxy serves the traffic, the Node server behind it; `node`: the Node server alone. */
  readonly dataPlane: 'haproxy' | 'node';
  /** Requests HAProxy has sent straight to an app since it (re)started; 0 on the Node data plane. */
  fastPathRequests(): Promise<number>;
  /** Stops taking requests and closes every connection (the service is stopping). */
  close(): Promise<void>;
}

/** Tries with another free port when HAProxy loses the race for the one it was given (port 0 only). */
const PORT_ATTEMPTS = 5;

/**
 * The preview origin's listener: the Node preview server alone, or HAProxy in front of it
 * (SAMOKODER_PREVIEW_DATA_PLANE). With HAProxy the Node server listens on loopback only, for
 * HAProxy. When the origin is not configured it follows the port the listener got.
 */
export async function startPreviewListener(deps: { config: Config; db: Database; logger: Logger; previews: PreviewServices }): Promise<PreviewListener> {
  const { config, logger, previews } = deps;
  const haproxy = await resolveHaproxy(config, logger);
  const server = createPreviewServer({
    db: deps.db, logger, grants: previews.grants, manager: previews.manager,
    origin: () => previews.origin, sessionSeconds: config.preview.sessionSeconds, behindProxy: haproxy !== undefined,
  });
  const closeServer = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const follow = (port: number): void => {
    if (!config.preview.originConfigured) previews.origin = new PreviewOrigin(defaultPreviewOrigin(config.host, port));
  };

  if (!haproxy) {
    const port = await listen(server, config.preview.port, config.host);
    follow(port);
    return { port, dataPlane: 'node', fastPathRequests: () => Promise.resolve(0), close: closeServer };
  }

  try {
    const controlPort = await listen(server, 0, '127.0.0.1');
    let proc: HaproxyProcess | undefined;
    let port = config.preview.port;
    for (let attempt = 1; !proc; attempt++) {
      if (config.preview.port === 0) port = await freePort(config.host);
      follow(port);
      try {
        proc = await startHaproxy({
          binary: haproxy, logger: logger.child({ module: 'preview-haproxy' }),
          bind: { host: config.host, port }, control: { host: '127.0.0.1', port: controlPort },
          sessionSecret: previews.grants.sessionSecret, hostSuffix: previews.origin.hostSuffix,
        });
      } catch (err) {
        if (!(err instanceof PortInUseError)) throw err;
        if (config.preview.port !== 0 || attempt >= PORT_ATTEMPTS) throw new AppError('E_CONFIG', `Invalid configuration. SAMOKODER_PREVIEW_PORT: port ${port} is in use; choose a free one.`);
      }
    }
    const sync = new RouteSync({ db: deps.db, haproxy: proc, manager: previews.manager, logger });
    await sync.start();
    const running = proc;
    logger.info({ port, dataPlane: 'haproxy' }, 'preview origin listening');
    return {
      port, dataPlane: 'haproxy',
      fastPathRequests: () => running.requestsTo(APP_BACKEND),
      async close() {
        await sync.close();
        await running.close();
        await closeServer();
      },
    };
  } catch (err) {
    await closeServer();
    throw err;
  }
}

/** The haproxy executable to use, or undefined for the Node data plane; throws when `haproxy` was asked for and is missing. */
async function resolveHaproxy(config: Config, logger: Logger): Promise<string | undefined> {
  if (config.preview.dataPlane === 'node') return undefined;
  const found = await findHaproxy();
  if ('path' in found) return found.path;
  if (config.preview.dataPlane === 'haproxy') throw new AppError('E_CONFIG', `Invalid configuration. SAMOKODER_PREVIEW_DATA_PLANE: haproxy was asked for, but ${found.missing}; install HAProxy 2.5+ (Debian: apt-get install haproxy) or set it to node.`);
  logger.warn({ reason: found.missing }, 'previews are served by the Node preview server alone (several times slower per request); install HAProxy 2.5+ (apt-get install haproxy) for the fast data plane');
  return undefined;
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** A port free on `host` a moment ago (HAProxy binds it next; PORT_ATTEMPTS covers losing that race). */
function freePort(host: string): Promise<number> {
  const probe = net.createServer();
  return listen(probe, 0, host).finally(() => probe.close());
}
