import { PGlite } from '@electric-sql/pglite';
import { PgliteDatabase } from '../../db/pglite-database.js';
import { pgliteTemplate } from '../helpers/databases.js';

const SCHEMA = 'CREATE TABLE things (id uuid PRIMARY KEY, n bigint, doc jsonb, at timestamptz, tags text[], note text)';
const INSERT = 'INSERT INTO things (id, n, doc, at, tags, note) VALUES ($1, $2, $3, $4, $5, $6)';
const ECHO = 'SELECT $1::uuid AS id, $2::bigint AS n, $3::jsonb AS doc, $4::timestamptz AS at, $5::text[] AS tags, $6::text AS note';

function valuesFor(i: number): unknown[] {
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  return [
    id,
    i % 3 === 0 ? null : 9007199254740000n + BigInt(i),
    i % 4 === 0 ? null : { i, nested: { list: [i, 'x', null], ok: i % 2 === 0 }, quote: `it's "${i}"` },
    i % 5 === 0 ? null : new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    i % 6 === 0 ? null : [`a${i}`, 'with space', 'comma,brace}', ''],
    i % 2 === 0 ? null : `note ${i}`,
  ];
}

/** The PGlite adapter runs parameterised queries as named statements (db/pglite-statements.ts). */
describe('named statements on PGlite', () => {
  let db: PgliteDatabase;
  let plain: PGlite;
  beforeAll(async () => {
    // Both from the run's template cluster (a fresh initdb's twin, without its cost).
    const template = pgliteTemplate();
    db = template ? await PgliteDatabase.load(template) : await PgliteDatabase.open();
    plain = new PGlite(template ? { loadDataDir: pgliteTemplate() } : {});
    await db.exec(SCHEMA);
    await plain.exec(SCHEMA);
  });
  afterAll(async () => {
    await db?.close();
    await plain?.close();
  });

  test('a statement reused with many values (null, jsonb, bigint, timestamptz, text[], uuid) round-trips as plain query() does', async () => {
    for (let i = 1; i <= 30; i++) {
      const values = valuesFor(i);
      const named = await db.query(ECHO, values);
      const reference = await plain.query(ECHO, values);
      expect(named.rows).toEqual(reference.rows);
      expect(named.rowCount).toBe(1);
      const inserted = await db.query(INSERT, values);
      await plain.query(INSERT, values);
      expect(inserted.rowCount).toBe(1);
    }
    const all = 'SELECT * FROM things WHERE n IS NULL OR n > $1 ORDER BY id';
    const rows = (await db.query(all, [0])).rows;
    expect(rows).toHaveLength(30);
    expect(rows).toEqual((await plain.query(all, [0])).rows);
    const updated = await db.query('UPDATE things SET note = $1 WHERE note IS NULL', ['filled']);
    expect(updated.rowCount).toBe((await plain.query('UPDATE things SET note = $1 WHERE note IS NULL', ['filled'])).affectedRows);
    // Each SQL text was prepared once and reused, not re-parsed per query.
    const prepared = await db.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements WHERE statement = ANY($1)', [[ECHO, INSERT]]);
    expect(prepared.rows.map((r) => r.statement).sort()).toEqual([ECHO, INSERT].sort());
  });

  test('a unique violation surfaces with its code and the connection stays usable, also in a transaction that rolls back', async () => {
    const values = valuesFor(1);
    const expected = await plain.query(INSERT, values).catch((e: unknown) => e as { code: string; message: string });
    const err = await db.query(INSERT, values).catch((e: unknown) => e as { code: string; message: string });
    expect(err).toMatchObject({ code: '23505', message: (expected as { message: string }).message });
    expect((await db.query(INSERT, valuesFor(100))).rowCount).toBe(1);

    const inTx = await db
      .transaction(async (tx) => {
        await tx.query(INSERT, valuesFor(101));
        // First prepared inside the transaction that rolls back: must still exist afterwards.
        await tx.query('SELECT count(*)::int AS c FROM things WHERE note = $1', ['never']);
        await tx.query(INSERT, valuesFor(100));
      })
      .catch((e: unknown) => e as { code: string });
    expect(inTx).toMatchObject({ code: '23505' });
    expect((await db.query('SELECT count(*)::int AS c FROM things WHERE id = $1', [valuesFor(101)[0]])).rows).toEqual([{ c: 0 }]);
    expect((await db.query<{ c: number }>('SELECT count(*)::int AS c FROM things WHERE note = $1', ['never'])).rows).toEqual([{ c: 0 }]);
    expect(await db.transaction(async (tx) => (await tx.query(INSERT, valuesFor(101))).rowCount)).toBe(1);
  });

  test('a SELECT * prepared before a column was added still answers afterwards, and in a transaction', async () => {
    await db.exec('CREATE TABLE labels (id int PRIMARY KEY, label text)');
    await db.query('INSERT INTO labels (id, label) VALUES ($1, $2), ($3, $4)', [1, 'one', 2, 'two']);
    const sql = 'SELECT * FROM labels WHERE id = $1';
    expect((await db.query(sql, [1])).rows).toEqual([{ id: 1, label: 'one' }]);
    await db.exec("ALTER TABLE labels ADD COLUMN colour text NOT NULL DEFAULT 'red'");
    // PostgreSQL refuses the prepared statement now ("cached plan must not change result type").
    expect((await db.query(sql, [1])).rows).toEqual([{ id: 1, label: 'one', colour: 'red' }]);
    expect(await db.transaction(async (tx) => (await tx.query(sql, [2])).rows)).toEqual([{ id: 2, label: 'two', colour: 'red' }]);
  });
});
