import pg from 'pg';
import type { Logger } from '../core/logger.js';
import { NoticeBatcher } from './notice-batcher.js';
import { NamedStatements } from './pg-statements.js';
import { assertChannel, type Database, type Queryable, type QueryResult, type Unlisten } from './port.js';

// BIGINT (int8) columns hold token counts and sequence numbers that stay far below 2^53, so
// they are parsed as JS numbers instead of strings.
pg.types.setTypeParser(20, (v) => Number(v));

export interface PgDatabaseOptions {
  connectionString: string;
  poolSize?: number;
  logger?: Logger;
  /** Sets search_path on every connection (tests use one schema each). */
  schema?: string;
}

export class PgDatabase implements Database {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private listener: pg.Client | undefined;
  private listenerReady: Promise<pg.Client> | undefined;
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();
  private readonly statements = new NamedStatements();
  private closed = false;
  /**
   * Every NOTIFY of notify(): one statement (and one transaction) per burst, not per notice.
   * pg_notify runs once per array element, in array order; count() makes the answer one row
   * instead of one per notice.
   */
  private readonly notices = new NoticeBatcher(async (channels, payloads) => {
    await this.pool.query({
      name: 'samokoder_notify',
      text: 'SELECT count(pg_notify(c, p)) FROM unnest($1::text[], $2::text[]) AS n(c, p)',
      values: [channels, payloads],
    });
  });

  constructor(private readonly options: PgDatabaseOptions) {
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      options: options.schema ? `-c search_path=${options.schema}` : undefined,
    });
    // An idle client that loses its connection emits here; without a handler Node would crash.
    this.pool.on('error', (err) => options.logger?.warn({ err }, 'idle PostgreSQL client error'));
  }

  async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.statements.run(this.pool, sql, params, false);
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx: Queryable = {
      query: <R>(sql: string, params?: readonly unknown[]) => this.statements.run<R>(client, sql, params, true),
      exec: async (sql: string) => {
        await client.query(sql);
      },
    };
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<Unlisten> {
    assertChannel(channel);
    const client = await this.listenerClient();
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await client.query(`LISTEN ${channel}`);
    }
    set.add(onPayload);
    return async () => {
      const handlers = this.handlers.get(channel);
      if (!handlers) return;
      handlers.delete(onPayload);
      if (handlers.size === 0) {
        this.handlers.delete(channel);
        if (this.listener) await this.listener.query(`UNLISTEN ${channel}`).catch(() => undefined);
      }
    };
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.notices.notify(assertChannel(channel), payload);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    this.closed = true;
    const listener = this.listener;
    this.listener = undefined;
    this.listenerReady = undefined;
    if (listener) await listener.end().catch(() => undefined);
    await this.pool.end();
  }

  /**
   * One dedicated connection carries every LISTEN. If it drops, it is reopened and the channels
   * re-subscribed; notifications sent while it was down are lost, which is why consumers treat
   * NOTIFY only as a wake-up and read the durable rows (events by sequence) themselves.
   */
  private listenerClient(): Promise<pg.Client> {
    if (this.listenerReady) return this.listenerReady;
    this.listenerReady = (async () => {
      const client = new pg.Client({ connectionString: this.options.connectionString });
      client.on('notification', (msg) => {
        for (const handler of this.handlers.get(msg.channel) ?? []) handler(msg.payload ?? '');
      });
      client.on('error', (err) => {
        this.options.logger?.warn({ err }, 'LISTEN connection lost; reconnecting');
        this.listener = undefined;
        this.listenerReady = undefined;
        client.end().catch(() => undefined);
        if (!this.closed) void this.resubscribe();
      });
      await client.connect();
      this.listener = client;
      return client;
    })();
    this.listenerReady.catch(() => {
      this.listenerReady = undefined;
    });
    return this.listenerReady;
  }

  private async resubscribe(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        const client = await this.listenerClient();
        for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
  }
}
