import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Database, Queryable, Unlisten } from '../db/port.js';
import { ModelCatalogueRepo, type CatalogueEntry } from '../db/repos/model-catalogue.js';
import type { CatalogueModel, ModelCatalogue as CatalogueView, ModelEdit, ModelPrices, ModelRole, ModelTier } from '../protocol/model-catalogue.js';
import type { ProviderId } from '../protocol/providers.js';
import type { PriceSource } from '../usage/cost.js';
import { shippedSeed, type CatalogueSeed } from './catalogue-seed.js';
import type { OutputLimits } from './providers/model-limits.js';
import type { ListedModel } from './providers/port.js';

/** Every node listens here and reloads its copy when an operator changed the catalogue. */
export const CATALOGUE_CHANGED_CHANNEL = 'model_catalogue_changed';

const pair = (provider: string, model: string): string => `${provider}\n${model}`;
/**
 * A node also reloads on this period: a notice sent while its LISTEN connection was down is lost
 * (db/pg-database.ts), and prices must not stay stale until the next edit or restart.
 */
const RELOAD_EVERY_MS = 60_000;

/** Providers whose model list is open-ended (a gateway's or a local server's names): any model may be named. */
const OPEN_MODEL_LISTS: ReadonlySet<ProviderId> = new Set(['openai-compatible', 'openrouter']);

/** What a run, a role, a chat turn or an estimate checks its model against before anything is called or reserved. */
export interface ModelGate {
  requireUsable(userId: string, provider: ProviderId, model: string): Promise<void>;
}

/**
 * The model catalogue: providers and their models with limits, prices and role recommendations,
 * in the database (operators edit it; a newer shipped seed file updates what they did not edit).
 * Each node keeps a copy in memory for what every model call reads without a query — the price
 * (the usage ledger) and the output limit (the gateway caps each call's max_tokens with it) — reloaded on the change notice.
 * A user's view adds the models their keys' providers listed and leaves out what those lists no
 * longer name; retired models are never offered.
 */
export class ModelCatalogue implements PriceSource, OutputLimits, ModelGate {
  private readonly repo: ModelCatalogueRepo;
  private entries = new Map<string, CatalogueEntry>();
  private providers: { id: ProviderId; name: string }[] = [];
  private seedDate: string | null = null;
  private unlisten: Unlisten | undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.repo = new ModelCatalogueRepo(db);
  }

  /** Applies the seed file when it is newer than the database's, loads the copy, listens for changes (and reloads every `reloadEveryMs`). */
  static async open(deps: { db: Database; clock: Clock; logger: Logger; seed?: CatalogueSeed; reloadEveryMs?: number }): Promise<ModelCatalogue> {
    const catalogue = new ModelCatalogue(deps.db, deps.clock, deps.logger);
    const seed = deps.seed ?? shippedSeed();
    if (await catalogue.repo.applySeed(seed)) deps.logger.info({ seedDate: seed.date }, 'model catalogue seeded');
    const reload = () => catalogue.reload().catch((err: unknown) => deps.logger.error({ err }, 'could not reload the model catalogue'));
    catalogue.unlisten = await deps.db.listen(CATALOGUE_CHANGED_CHANNEL, () => void reload());
    await catalogue.reload();
    catalogue.timer = setInterval(() => void reload(), deps.reloadEveryMs ?? RELOAD_EVERY_MS).unref();
    return catalogue;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.unlisten?.();
    this.unlisten = undefined;
  }

  async reload(): Promise<void> {
    const [providers, models, seedDate] = await Promise.all([this.repo.providers(), this.repo.models(), this.repo.seedDate()]);
    this.providers = providers;
    this.entries = new Map(models.map((m) => [pair(m.provider, m.model), m]));
    this.seedDate = seedDate;
  }

  /** The catalogue's prices for a model (retired ones too: a call already made is still billed). */
  price(provider: string, model: string): ModelPrices | undefined {
    return this.entryOf(provider, model)?.prices ?? undefined;
  }

  /** The model's output-token ceiling (model-limits.ts caps requests with it); undefined when not known. */
  maxOutputTokensOf(provider: string, model: string): number | undefined {
    return this.entryOf(provider, model)?.maxOutputTokens ?? undefined;
  }

  /**
   * The model's entry; a dated snapshot the catalogue does not list by name (`gpt-4o-mini-2024-07-18`,
   * `claude-sonnet-4-5-20250929`) takes its family's entry, the longest listed name it extends.
   */
  private entryOf(provider: string, model: string): CatalogueEntry | undefined {
    const exact = this.entries.get(pair(provider, model));
    if (exact) return exact;
    let best: CatalogueEntry | undefined;
    for (const e of this.entries.values()) {
      if (e.provider === provider && model.startsWith(`${e.model}-`) && /^\d/.test(model.slice(e.model.length + 1)) && e.model.length > (best?.model.length ?? 0)) best = e;
    }
    return best;
  }

  /**
   * Refuses a model that would only fail later at the provider: a retired one (a dated snapshot of
   * a retired family too), and on a provider with a closed model list a name neither the catalogue
   * nor the user's keys' lists know. Without such a list (a platform key, a key never listed) an
   * unknown name has nothing to be checked against and is let through.
   * @throws E_MODEL_RETIRED naming a replacement, E_MODEL_UNKNOWN.
   */
  async requireUsable(userId: string, provider: ProviderId, model: string): Promise<void> {
    const entry = this.entryOf(provider, model);
    if (entry?.retiredAt) {
      const replacement = this.replacementFor(entry);
      throw new AppError(
        'E_MODEL_RETIRED',
        `The model ${provider}/${model} was retired on ${entry.retiredAt.toISOString().slice(0, 10)}: ${replacement ? `use ${replacement} instead, or ` : ''}pick another from GET /api/models.`,
        { details: { provider, model, replacement: replacement ?? null } },
      );
    }
    if (entry || OPEN_MODEL_LISTS.has(provider)) return;
    const listed = (await this.repo.keyModels(userId)).filter((l) => l.provider === provider);
    if (listed.length === 0 || listed.some((l) => l.model === model)) return;
    throw new AppError('E_MODEL_UNKNOWN', `Unknown model ${provider}/${model}: neither the catalogue nor your ${provider} keys' model lists name it. Pick one from GET /api/models, or, if the provider added it since, list your key's models again (POST /api/user/api-keys/:id/models).`, {
      details: { provider, model },
    });
  }

  /** A retired model's stand-in: the provider's model recommended at the tier it was recommended at (else the strong one). */
  private replacementFor(retired: CatalogueEntry): string | undefined {
    const tier = Object.values(retired.recommended)[0] ?? 'strong';
    return this.recommended(retired.provider, 'coder', tier) ?? this.recommended(retired.provider, 'coder', tier === 'strong' ? 'cheap' : 'strong');
  }

  /** The provider's recommended model for a role, never a retired one. */
  recommended(provider: ProviderId, role: ModelRole, tier: ModelTier): string | undefined {
    for (const e of this.entries.values()) {
      if (e.provider === provider && !e.retiredAt && e.recommended[role] === tier) return e.model;
    }
    return undefined;
  }

  /** The cheapest model of the provider that is not retired (by output price), for a one-token key check. */
  cheapest(provider: ProviderId): string | undefined {
    let best: CatalogueEntry | undefined;
    for (const e of this.entries.values()) {
      if (e.provider !== provider || e.retiredAt || !e.prices) continue;
      if (!best || e.prices.output < best.prices!.output) best = e;
    }
    return best?.model;
  }

  /**
   * What `userId` is offered: per provider, the catalogue's models that are not retired, and
   * those their keys' providers listed. Once a provider listed models for one of the user's keys,
   * catalogue models it does not list are left out (the provider no longer serves them to this
   * user); listed models the catalogue does not know come with what the list said (no price).
   */
  async view(userId: string, provider?: ProviderId): Promise<CatalogueView> {
    const listed = await this.repo.keyModels(userId);
    const byProvider = new Map<ProviderId, Map<string, { keyIds: string[]; contextWindow: number | null; maxOutputTokens: number | null }>>();
    for (const l of listed) {
      const models = byProvider.get(l.provider) ?? new Map();
      byProvider.set(l.provider, models);
      const m = models.get(l.model) ?? { keyIds: [], contextWindow: l.contextWindow, maxOutputTokens: l.maxOutputTokens };
      m.keyIds.push(l.keyId);
      models.set(l.model, m);
    }
    const providers = this.providers
      .filter((p) => provider === undefined || p.id === provider)
      .map((p) => {
        const keyListed = byProvider.get(p.id);
        const models: CatalogueModel[] = [];
        const retired = new Set<string>();
        for (const e of this.entries.values()) {
          if (e.provider !== p.id) continue;
          if (e.retiredAt) retired.add(e.model);
          else if (!keyListed || keyListed.has(e.model)) models.push(toModel(e, keyListed?.get(e.model)?.keyIds ?? []));
        }
        for (const [id, l] of keyListed ?? []) {
          if (this.entries.has(pair(p.id, id)) || retired.has(id)) continue;
          models.push({
            provider: p.id, id, name: id, contextWindow: l.contextWindow, maxOutputTokens: l.maxOutputTokens, prices: null,
            toolCalling: null, recommended: {}, source: 'key', keyIds: l.keyIds, retiredAt: null,
          });
        }
        return { id: p.id, name: p.name, models };
      });
    return { catalogueDate: this.seedDate, providers };
  }

  /** Everything, retired models included (the operators' view). */
  adminView(): CatalogueView {
    return {
      catalogueDate: this.seedDate,
      providers: this.providers.map((p) => ({ id: p.id, name: p.name, models: [...this.entries.values()].filter((e) => e.provider === p.id).map((e) => toModel(e, [])) })),
    };
  }

  /** An operator's edit; every node reloads (this one before it answers). */
  async edit(edit: ModelEdit): Promise<CatalogueModel> {
    const entry = await this.repo.edit(edit, this.clock.now());
    await this.changed();
    this.logger.info({ provider: edit.provider, model: edit.model, fields: Object.keys(edit).filter((k) => k !== 'provider' && k !== 'model') }, 'model catalogue edited');
    return toModel(entry, []);
  }

  /** Retires the provider's catalogue models its own list (the operator's key) no longer names. */
  async retireUnlisted(provider: ProviderId, listed: readonly ListedModel[]): Promise<{ retired: string[]; restored: string[] }> {
    // An empty list says nothing about the models (an account in trouble, a proxy): retire none.
    if (listed.length === 0) return { retired: [], restored: [] };
    const result = await this.repo.retireUnlisted(provider, listed.map((m) => m.id), this.clock.now());
    await this.changed();
    if (result.retired.length > 0) this.logger.warn({ provider, retired: result.retired }, 'models the provider no longer lists were retired');
    return result;
  }

  /** Records what a key's provider listed for it (in the caller's transaction when given). */
  recordKeyModels(keyId: string, models: readonly ListedModel[], q: Queryable = this.db): Promise<void> {
    return this.repo.replaceKeyModels(q, keyId, models);
  }

  private async changed(): Promise<void> {
    await this.reload();
    await this.db.notify(CATALOGUE_CHANGED_CHANNEL, '');
  }
}

function toModel(e: CatalogueEntry, keyIds: string[]): CatalogueModel {
  return {
    provider: e.provider,
    id: e.model,
    name: e.name,
    contextWindow: e.contextWindow,
    maxOutputTokens: e.maxOutputTokens,
    prices: e.prices,
    toolCalling: e.toolCalling,
    recommended: e.recommended,
    source: 'catalogue',
    keyIds,
    retiredAt: e.retiredAt?.toISOString() ?? null,
  };
}
