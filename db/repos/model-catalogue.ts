import type { ModelEdit, ModelPrices, Recommended } from '../../protocol/model-catalogue.js';
import type { ProviderId } from '../../protocol/providers.js';
import type { Database, Queryable } from '../port.js';

/** One model of the catalogue as stored (retired ones included). */
export interface CatalogueEntry {
  provider: ProviderId;
  model: string;
  name: string;
  contextWindow: number | null;
  maxOutputTokens: number | null;
  prices: ModelPrices | null;
  toolCalling: boolean;
  recommended: Recommended;
  retiredAt: Date | null;
  editedByOperator: boolean;
}

/** A seed file's rows (llm/catalogue-seed.ts parses the shipped file into this). */
export interface CatalogueSeed {
  /** YYYY-MM-DD: when the file's prices and limits were taken from the providers. */
  date: string;
  providers: { id: ProviderId; name: string; sortOrder: number }[];
  models: {
    provider: ProviderId;
    model: string;
    name: string;
    contextWindow: number | null;
    maxOutputTokens: number | null;
    toolCalling: boolean;
    prices: ModelPrices | null;
    recommended: Recommended;
  }[];
}

/** A model one of a user's keys listed (ai_key_models joined to the key). */
export interface KeyListedModel {
  keyId: string;
  provider: ProviderId;
  model: string;
  contextWindow: number | null;
  maxOutputTokens: number | null;
}

interface ModelRow {
  provider: ProviderId;
  model: string;
  display_name: string;
  context_window: number | null;
  max_output_tokens: number | null;
  input_price: string | number | null;
  output_price: string | number | null;
  cached_input_price: string | number | null;
  cache_write_price: string | number | null;
  tool_calling: boolean;
  recommended: Recommended;
  retired_at: Date | null;
  edited_by_operator: boolean;
}

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

const toEntry = (r: ModelRow): CatalogueEntry => ({
  provider: r.provider,
  model: r.model,
  name: r.display_name,
  contextWindow: r.context_window,
  maxOutputTokens: r.max_output_tokens,
  prices:
    r.input_price === null || r.output_price === null
      ? null
      : { input: Number(r.input_price), output: Number(r.output_price), cachedInput: num(r.cached_input_price), cacheWrite: num(r.cache_write_price) },
  toolCalling: r.tool_calling,
  recommended: r.recommended ?? {},
  retiredAt: r.retired_at,
  editedByOperator: r.edited_by_operator,
});

/** provider and model as one text value, for `= ANY($1)` over pairs (a provider id has no newline). */
const pairKey = (provider: string, model: string): string => `${provider}\n${model}`;

export class ModelCatalogueRepo {
  constructor(private readonly db: Database) {}

  async providers(): Promise<{ id: ProviderId; name: string }[]> {
    return (await this.db.query<{ id: ProviderId; name: string }>('SELECT id, name FROM ai_providers ORDER BY sort_order, id')).rows;
  }

  async models(): Promise<CatalogueEntry[]> {
    const res = await this.db.query<ModelRow>('SELECT m.* FROM ai_models m JOIN ai_providers p ON p.id = m.provider ORDER BY p.sort_order, m.provider, m.display_name, m.model');
    return res.rows.map(toEntry);
  }

  async seedDate(): Promise<string | null> {
    const res = await this.db.query<{ seed_date: string }>("SELECT to_char(seed_date, 'YYYY-MM-DD') AS seed_date FROM ai_catalogue_seed");
    return res.rows[0]?.seed_date ?? null;
  }

  /**
   * Applies a seed file newer than the last one applied, in one transaction (concurrent starts
   * wait on the seed row): providers and models are written, except models an operator edited;
   * models of earlier seeds that this one dropped are retired. @returns whether it was applied.
   */
  async applySeed(seed: CatalogueSeed): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.query("INSERT INTO ai_catalogue_seed (seed_date) VALUES ('1970-01-01') ON CONFLICT (id) DO NOTHING");
      const current = await tx.query<{ newer: boolean }>('SELECT seed_date >= $1::date AS newer FROM ai_catalogue_seed FOR UPDATE', [seed.date]);
      if (current.rows[0]?.newer) return false;
      for (const p of seed.providers) {
        await tx.query(
          'INSERT INTO ai_providers (id, name, sort_order) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, sort_order = EXCLUDED.sort_order',
          [p.id, p.name, p.sortOrder],
        );
      }
      for (const m of seed.models) {
        await tx.query(
          `INSERT INTO ai_models (provider, model, display_name, context_window, max_output_tokens, input_price, output_price,
             cached_input_price, cache_write_price, tool_calling, recommended)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
           ON CONFLICT (provider, model) DO UPDATE SET
             display_name = EXCLUDED.display_name, context_window = EXCLUDED.context_window, max_output_tokens = EXCLUDED.max_output_tokens,
             input_price = EXCLUDED.input_price, output_price = EXCLUDED.output_price, cached_input_price = EXCLUDED.cached_input_price,
             cache_write_price = EXCLUDED.cache_write_price, tool_calling = EXCLUDED.tool_calling, recommended = EXCLUDED.recommended,
             retired_at = NULL, updated_at = now()
           WHERE NOT ai_models.edited_by_operator`,
          [m.provider, m.model, m.name, m.contextWindow, m.maxOutputTokens, m.prices?.input ?? null, m.prices?.output ?? null,
            m.prices?.cachedInput ?? null, m.prices?.cacheWrite ?? null, m.toolCalling, JSON.stringify(m.recommended)],
        );
      }
      await tx.query(
        `UPDATE ai_models SET retired_at = now(), updated_at = now()
         WHERE NOT edited_by_operator AND retired_at IS NULL AND NOT (provider || E'\\n' || model = ANY($1::text[]))`,
        [seed.models.map((m) => pairKey(m.provider, m.model))],
      );
      await tx.query('UPDATE ai_catalogue_seed SET seed_date = $1::date, applied_at = now()', [seed.date]);
      return true;
    });
  }

  /** An operator's edit: creates the model or changes the fields given; the row is then the operator's. */
  async edit(edit: ModelEdit, now: Date): Promise<CatalogueEntry> {
    const sets: string[] = ['edited_by_operator = true', 'updated_at = $3'];
    const params: unknown[] = [edit.provider, edit.model, now];
    const set = (column: string, value: unknown, cast = ''): void => {
      params.push(value);
      sets.push(`${column} = $${params.length}${cast}`);
    };
    if (edit.name !== undefined) set('display_name', edit.name);
    if (edit.contextWindow !== undefined) set('context_window', edit.contextWindow);
    if (edit.maxOutputTokens !== undefined) set('max_output_tokens', edit.maxOutputTokens);
    if (edit.prices !== undefined) {
      set('input_price', edit.prices?.input ?? null);
      set('output_price', edit.prices?.output ?? null);
      set('cached_input_price', edit.prices?.cachedInput ?? null);
      set('cache_write_price', edit.prices?.cacheWrite ?? null);
    }
    if (edit.toolCalling !== undefined) set('tool_calling', edit.toolCalling);
    if (edit.recommended !== undefined) set('recommended', JSON.stringify(edit.recommended), '::jsonb');
    // Retiring keeps the first retirement's time; un-retiring clears it.
    if (edit.retired !== undefined) sets.push(edit.retired ? 'retired_at = COALESCE(ai_models.retired_at, $3)' : 'retired_at = NULL');
    return this.db.transaction(async (tx) => {
      // A provider the seed never named (none today) gets a row named after its id.
      await tx.query('INSERT INTO ai_providers (id, name, sort_order) VALUES ($1, $1, 100) ON CONFLICT (id) DO NOTHING', [edit.provider]);
      await tx.query(
        'INSERT INTO ai_models (provider, model, display_name, edited_by_operator) VALUES ($1, $2, $2, true) ON CONFLICT (provider, model) DO NOTHING',
        [edit.provider, edit.model],
      );
      // One pick per provider, role and tier: the model this edit recommends takes it from the one that had it.
      for (const [role, tier] of Object.entries(edit.recommended ?? {})) {
        await tx.query(
          `UPDATE ai_models SET recommended = recommended - $3::text, edited_by_operator = true, updated_at = $5
           WHERE provider = $1 AND model <> $2 AND recommended ->> $3::text = $4`,
          [edit.provider, edit.model, role, tier, now],
        );
      }
      const res = await tx.query<ModelRow>(`UPDATE ai_models SET ${sets.join(', ')} WHERE provider = $1 AND model = $2 RETURNING *`, params);
      return toEntry(res.rows[0]!);
    });
  }

  /** The models to retire (absent from a provider's list), and to offer again (listed again). */
  async retireUnlisted(provider: ProviderId, listed: readonly string[], now: Date): Promise<{ retired: string[]; restored: string[] }> {
    return this.db.transaction(async (tx) => {
      const retired = await tx.query<{ model: string }>(
        'UPDATE ai_models SET retired_at = $3, updated_at = $3 WHERE provider = $1 AND retired_at IS NULL AND NOT (model = ANY($2::text[])) RETURNING model',
        [provider, listed, now],
      );
      // Only rows retired this way come back: an operator's deliberate retirement is edited_by_operator.
      const restored = await tx.query<{ model: string }>(
        'UPDATE ai_models SET retired_at = NULL, updated_at = $3 WHERE provider = $1 AND retired_at IS NOT NULL AND NOT edited_by_operator AND model = ANY($2::text[]) RETURNING model',
        [provider, listed, now],
      );
      return { retired: retired.rows.map((r) => r.model).sort(), restored: restored.rows.map((r) => r.model).sort() };
    });
  }

  /** Replaces what a key's provider listed for it. */
  async replaceKeyModels(q: Queryable, keyId: string, models: readonly { id: string; contextWindow?: number; maxOutputTokens?: number }[]): Promise<void> {
    await q.query('DELETE FROM ai_key_models WHERE key_id = $1', [keyId]);
    if (models.length === 0) return;
    await q.query(
      `INSERT INTO ai_key_models (key_id, model, context_window, max_output_tokens)
       SELECT $1, m, c, o FROM unnest($2::text[], $3::int[], $4::int[]) AS t (m, c, o)`,
      [keyId, models.map((m) => m.id), models.map((m) => m.contextWindow ?? null), models.map((m) => m.maxOutputTokens ?? null)],
    );
  }

  async keyModels(userId: string): Promise<KeyListedModel[]> {
    const res = await this.db.query<{ key_id: string; provider: ProviderId; model: string; context_window: number | null; max_output_tokens: number | null }>(
      `SELECT m.key_id, k.provider, m.model, m.context_window, m.max_output_tokens
       FROM ai_key_models m JOIN api_keys k ON k.id = m.key_id
       WHERE k.user_id = $1 ORDER BY k.provider, m.model, k.created_at`,
      [userId],
    );
    return res.rows.map((r) => ({ keyId: r.key_id, provider: r.provider, model: r.model, contextWindow: r.context_window, maxOutputTokens: r.max_output_tokens }));
  }
}
