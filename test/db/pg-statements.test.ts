import { PgDatabase } from '../../db/pg-database.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

/** The pg adapter runs parameterised queries as named statements (db/pg-statements.ts). */
describe('named statements on PostgreSQL', () => {
  let t: TestDatabase;
  let db: PgDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('postgres', { migrate: false });
    // One connection, so every query below meets the statements it prepared before.
    db = new PgDatabase({ connectionString: t.url!, poolSize: 1 });
    await db.exec('CREATE TABLE things (id int PRIMARY KEY, label text)');
    await db.query('INSERT INTO things (id, label) VALUES ($1, $2), ($3, $4)', [1, 'one', 2, 'two']);
  });
  afterAll(async () => {
    await db?.close();
    await t?.cleanup();
  });

  test('a statement is prepared once per connection and reused with new parameters', async () => {
    const sql = 'SELECT label FROM things WHERE id = $1';
    expect((await db.query<{ label: string }>(sql, [1])).rows).toEqual([{ label: 'one' }]);
    expect((await db.query<{ label: string }>(sql, [2])).rows).toEqual([{ label: 'two' }]);
    const prepared = await db.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements WHERE statement = $1', [sql]);
    expect(prepared.rows).toHaveLength(1);
  });

  test('a SELECT * prepared before a column was added still answers afterwards, and in a transaction', async () => {
    const sql = 'SELECT * FROM things WHERE id = $1';
    expect((await db.query(sql, [1])).rows).toEqual([{ id: 1, label: 'one' }]);
    await db.exec("ALTER TABLE things ADD COLUMN colour text NOT NULL DEFAULT 'red'");
    // PostgreSQL refuses the prepared statement now ("cached plan must not change result type").
    expect((await db.query(sql, [1])).rows).toEqual([{ id: 1, label: 'one', colour: 'red' }]);
    expect(await db.transaction(async (tx) => (await tx.query(sql, [2])).rows)).toEqual([{ id: 2, label: 'two', colour: 'red' }]);
  });
});
