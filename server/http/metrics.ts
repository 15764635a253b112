import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Open /ws connections on this node. */
  wsConnections: Gauge;
  /** /ws connections the server dropped: `dead` (missed a heartbeat), `slow_consumer` (4008). */
  wsDropped: Counter<'reason'>;
}

/** A registry per app instance (not prom-client's global one), so several apps in one process stay apart. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'samokoder_http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'samokoder_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const wsConnections = new Gauge({ name: 'samokoder_ws_connections', help: 'Open WebSocket connections on this node', registers: [registry] });
  const wsDropped = new Counter({
    name: 'samokoder_ws_dropped_total',
    help: 'WebSocket connections the server dropped, by reason (dead: missed a heartbeat; slow_consumer: closed with 4008)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  return { registry, httpRequests, httpDuration, wsConnections, wsDropped };
}
