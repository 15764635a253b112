import { randomBytes } from 'node:crypto';
import type { MasterKey } from '../../core/master-key.js';
import { parseMasterKey } from '../../core/master-key.js';
import type { Queryable } from '../../db/port.js';
import { UsersRepo } from '../../db/repos/users.js';

export const newMasterKeyText = (): string => randomBytes(32).toString('base64');
export const newMasterKey = (): MasterKey => parseMasterKey(newMasterKeyText(), 'test');

/** A long, unique, realistic-looking secret: any occurrence of it anywhere is a leak. */
export const fakeSecret = (prefix = 'sk-'): string => `${prefix}test${randomBytes(24).toString('hex')}`;

export async function createUser(db: Queryable, planId = 'free'): Promise<string> {
  const u = await new UsersRepo(db).create({ email: `u-${randomBytes(5).toString('hex')}@example.com`, passwordHash: null, planId });
  return u.id;
}

/**
 * Every column of every table of the public schema as text; bytea values are given as UTF-8, hex
 * and base64, so a secret stored in any encoding shows up in a substring search.
 */
export async function dumpDatabase(db: Queryable): Promise<string> {
  const tables = await db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
  );
  const out: string[] = [];
  for (const { table_name } of tables.rows) {
    const rows = await db.query<Record<string, unknown>>(`SELECT * FROM "${table_name}"`);
    for (const row of rows.rows) {
      for (const [column, value] of Object.entries(row)) {
        const text =
          value instanceof Uint8Array
            ? [Buffer.from(value).toString('utf8'), Buffer.from(value).toString('hex'), Buffer.from(value).toString('base64')].join(' ')
            : typeof value === 'object' && value !== null && !(value instanceof Date)
              ? JSON.stringify(value)
              : String(value);
        out.push(`${table_name}.${column}=${text}`);
      }
    }
  }
  return out.join('\n');
}
