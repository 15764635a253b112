import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { waitFor } from './fixtures.js';

// Database.notify batches on PostgreSQL (NoticeBatcher): notices sent while one statement is in
// flight go out together. These race many notices at once, as the pipeline's deltas do.
describe.each(DATABASE_KINDS)('notify on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind, { migrate: false });
  });
  afterAll(async () => {
    await t.cleanup();
  });

  async function listen(channel: string): Promise<{ got: string[]; stop: () => Promise<void> }> {
    const got: string[] = [];
    const stop = await t.db.listen(channel, (p) => got.push(p));
    return { got, stop };
  }

  test('300 notices sent at once arrive once each, in the order sent', async () => {
    const l = await listen('notify_order');
    try {
      const sent = Array.from({ length: 300 }, (_, i) => String(i));
      await Promise.all(sent.map((p) => t.db.notify('notify_order', p)));
      await waitFor('300 notices', () => l.got.length >= 300, 5000);
      expect(l.got).toEqual(sent);
    } finally {
      await l.stop();
    }
  });

  test('identical notices are not merged (PostgreSQL folds duplicates within one transaction)', async () => {
    const l = await listen('notify_same');
    try {
      await Promise.all(Array.from({ length: 50 }, () => t.db.notify('notify_same', 'tick')));
      await waitFor('50 notices', () => l.got.length >= 50, 5000);
      await new Promise((r) => setTimeout(r, 100));
      expect(l.got).toEqual(Array.from({ length: 50 }, () => 'tick'));
    } finally {
      await l.stop();
    }
  });

  test('a notice PostgreSQL refuses fails alone; the ones sent with it arrive', async () => {
    const l = await listen('notify_bad');
    try {
      const results = await Promise.allSettled([
        t.db.notify('notify_bad', 'before'),
        t.db.notify('notify_bad', 'x'.repeat(9000)), // over the 8000-byte payload limit
        t.db.notify('notify_bad', 'after'),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      await waitFor('two notices', () => l.got.length >= 2, 5000);
      expect(l.got).toEqual(['before', 'after']);
    } finally {
      await l.stop();
    }
  });
});
