import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../core/clock.js';
import { loadConfig, type Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { MasterKey } from '../core/master-key.js';
import type { Database } from '../db/port.js';
import { createServices, type ServiceOverrides, type Services } from '../services/create-services.js';
import { createApp } from './app.js';
import { createSupabaseVerifier } from './auth/supabase.js';
import type { AppContext } from './context.js';
import { createMetrics } from './http/metrics.js';
import { attachProjectStreams } from './ws/ws-server.js';
import { startPreviewListener, type PreviewListener } from '../previews/listener.js';

/** How long an idle HTTP keep-alive connection stays open (see where it is set). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface StartOptions {
  /** Environment to read configuration from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Explicit settings, by variable name; they win over `env`. */
  overrides?: Parameters<typeof loadConfig>[1];
  /** Use this database instead of opening one from the configuration (tests). */
  db?: Database;
  logger?: Logger;
  clock?: Clock;
  /** Parts of the service to use instead of the configured ones (see createServices). */
  services?: Omit<ServiceOverrides, 'db' | 'logger' | 'clock'>;
}

export interface RunningServer {
  url: string;
  /** The preview origin (the preview server's own listener). */
  previewOrigin: string;
  /** The preview origin's listener: its data plane (SAMOKODER_PREVIEW_DATA_PLANE, resolved) and counters. */
  preview: PreviewListener;
  port: number;
  config: Config;
  ctx: AppContext;
  masterKey: MasterKey;
  services: Services;
  /** Graceful stop: refuse new connections, let in-flight requests finish, then stop the services. */
  stop(): Promise<void>;
}

/** The HTTP and WebSocket layer on top of the composition root (services/create-services.ts). */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const config = loadConfig(options.env ?? process.env, options.overrides);
  const services = await createServices(config, {
    ...options.services,
    ...(options.db ? { db: options.db } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const { logger } = services;
  let previewListener: PreviewListener | undefined;
  try {
    const ctx: AppContext = {
      config,
      db: services.db,
      logger,
      clock: services.clock,
      llm: services.llm,
      metrics: createMetrics(),
      supabase: createSupabaseVerifier({
        ...config.supabase,
        maxLifetimeSeconds: config.security.supabaseMaxLifetimeSeconds,
        now: () => services.clock.now().getTime() / 1000,
      }),
      sessions: services.sessions,
      projectLists: services.projectLists,
      workspaces: services.workspaces,
      sandbox: services.sandbox,
      lifecycle: services.lifecycle,
      chat: services.chat,
      previews: services.previews,
    };
    // The preview origin: a listener of its own, so the apps never share the API's origin.
    previewListener = await startPreviewListener({ config, db: services.db, logger, previews: services.previews });
    const previews = previewListener;
    const { app } = createApp(ctx);
    const server: Server = await new Promise((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.once('error', reject);
    });
    // Idle keep-alive connections stay open longer than a load balancer's (60 s on the common
    // ones): Node's default of 5 s closes a socket the proxy may be reusing at that moment, which
    // the client sees as a 502. headersTimeout must stay above it.
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
    const sockets = new Set<Socket>();
    server.on('connection', (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    const responses = new Set<ServerResponse>();
    server.on('request', (_req, res: ServerResponse) => {
      responses.add(res);
      res.once('close', () => responses.delete(res));
    });
    // The node's event feed serves every socket's subscriptions.
    const streams = attachProjectStreams(server, ctx, services.feed);
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        logger.info('shutting down: no new connections; waiting for in-flight requests');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // WebSocket clients get 1001 and reconnect elsewhere with their last seq.
        await streams.close();
        server.closeIdleConnections();
        // A request still in flight gets its answer, then its connection closes: left open (idle,
        // keep-alive) it would hold the stop until the timeout below.
        for (const res of responses) {
          if (!res.headersSent) res.setHeader('connection', 'close');
          else res.once('finish', () => setImmediate(() => server.closeIdleConnections()));
        }
        const timer = setTimeout(() => {
          logger.warn({ open: sockets.size }, 'shutdown timeout: closing remaining connections');
          server.closeAllConnections();
        }, config.shutdownTimeoutMs);
        await closed;
        clearTimeout(timer);
        await previews.close();
        await services.stop();
        logger.info('stopped');
      })());

    return { url, previewOrigin: services.previews.origin.origin, preview: previews, port, config, ctx, masterKey: services.masterKey, services, stop };
  } catch (err) {
    await previewListener?.close().catch(() => undefined);
    await services.stop().catch(() => undefined);
    throw err;
  }
}
