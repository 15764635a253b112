import { systemClock } from '../../core/clock.js';
import { createLogger } from '../../core/logger.js';
import { ModelCatalogueRepo } from '../../db/repos/model-catalogue.js';
import { parseSeed, shippedSeed } from '../../llm/catalogue-seed.js';
import { ModelCatalogue } from '../../llm/model-catalogue.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';

const logger = createLogger({ level: 'silent' });
const price = (input: number, output: number) => ({ input, output, cachedInput: null, cacheWrite: null });

/** A seed file with one provider and the given models. */
const seedFile = (date: string, models: Record<string, unknown>) => ({ date, providers: { openai: { name: 'OpenAI', models } } });
const model = (name: string, p: ReturnType<typeof price>, extra: Record<string, unknown> = {}) => ({ name, contextWindow: 1000, maxOutputTokens: 100, toolCalling: true, prices: p, ...extra });

describe('the shipped seed file', () => {
  test('parses, is dated, and recommends one model per provider, role and tier', () => {
    const seed = shippedSeed();
    expect(seed.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(seed.models.length).toBeGreaterThan(10);
  });

  test('a seed recommending two models for the same role and tier is refused, naming them', () => {
    const bad = seedFile('2030-01-01', { a: model('A', price(1, 1), { recommended: { coder: 'strong' } }), b: model('B', price(1, 1), { recommended: { coder: 'strong' } }) });
    expect(() => parseSeed(bad)).toThrow(/openai already recommends a as the strong coder/);
  });
});

describe.each(DATABASE_KINDS)('seeding and sharing the catalogue on %s', (kind) => {
  let t: TestDatabase;
  const open: ModelCatalogue[] = [];
  const openCatalogue = async (seed: ReturnType<typeof parseSeed>, reloadEveryMs?: number) => {
    const c = await ModelCatalogue.open({ db: t.db, clock: systemClock, logger, seed, reloadEveryMs });
    open.push(c);
    return c;
  };
  // One database for both tests: each applies seeds dated later than the one before.
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await t.cleanup();
  });

  test('a newer seed updates what no operator edited and retires what it dropped; an older one changes nothing', async () => {
    const v1 = parseSeed(seedFile('2030-01-01', { keep: model('Keep', price(1, 2)), edited: model('Edited', price(1, 2)), dropped: model('Dropped', price(1, 2)) }));
    const first = await openCatalogue(v1);
    await first.edit({ provider: 'openai', model: 'edited', prices: price(5, 6) });

    const v2 = parseSeed(seedFile('2030-06-01', { keep: model('Keep v2', price(3, 4)), edited: model('Edited v2', price(9, 9)), added: model('Added', price(7, 8)) }));
    const second = await openCatalogue(v2);
    const view = second.adminView().providers.find((p) => p.id === 'openai')!.models;
    const byId = Object.fromEntries(view.map((m) => [m.id, m]));
    expect(byId.keep).toMatchObject({ name: 'Keep v2', prices: price(3, 4), retiredAt: null });
    expect(byId.edited).toMatchObject({ name: 'Edited', prices: price(5, 6), retiredAt: null });
    expect(byId.added).toMatchObject({ prices: price(7, 8), retiredAt: null });
    expect(byId.dropped!.retiredAt).toEqual(expect.any(String));
    expect(second.adminView().catalogueDate).toBe('2030-06-01');

    // An older file (a node not yet upgraded starting) leaves the newer catalogue as it is.
    const old = await openCatalogue(v1);
    expect(old.adminView().catalogueDate).toBe('2030-06-01');
    expect(old.price('openai', 'keep')).toEqual(price(3, 4));
    expect(old.adminView().providers[0]!.models.find((m) => m.id === 'dropped')!.retiredAt).toEqual(expect.any(String));
  });

  test("an operator's edit reaches every node's copy (prices and the output clamp) through the change notice", async () => {
    const seed = parseSeed(seedFile('2031-01-01', { m: model('M', price(1, 2)) }));
    const nodeA = await openCatalogue(seed);
    const nodeB = await openCatalogue(seed);
    expect(nodeB.maxOutputTokensOf('openai', 'm')).toBe(100);
    await nodeA.edit({ provider: 'openai', model: 'm', prices: price(4, 8), maxOutputTokens: 2000 });
    expect(nodeA.price('openai', 'm')).toEqual(price(4, 8));
    expect(await eventually(async () => nodeB.price('openai', 'm')?.input, 4, 10_000)).toBe(4);
    expect(nodeB.maxOutputTokensOf('openai', 'm')).toBe(2000);
    expect(nodeB.maxOutputTokensOf('openai', 'unknown')).toBeUndefined();
  });

  test('a node that missed the notice (its LISTEN connection was down) catches up on its reload period', async () => {
    const seed = parseSeed(seedFile('2032-01-01', { n: model('N', price(1, 2)) }));
    const node = await openCatalogue(seed, 200);
    // Changed in the database with no notice at all, as if it had been sent while the node was deaf.
    await new ModelCatalogueRepo(t.db).edit({ provider: 'openai', model: 'n', prices: price(7, 9) }, new Date());
    expect(await eventually(async () => node.price('openai', 'n')?.input, 7, 10_000)).toBe(7);
  });
});
