import type { Queryable } from '../port.js';

export interface Plan {
  id: string;
  name: string;
  maxProjects: number | null;
  monthlyTokenLimit: number | null;
  maxConcurrentRuns: number | null;
  /** A run's wall-clock budget from its first start, resumed attempts included. */
  maxRunSeconds: number | null;
  /** Wall-clock seconds of sandbox commands per month. */
  monthlySandboxSeconds: number | null;
  /** Disk quota of each project's workspace, MiB; null: the node's default (SAMOKODER_WORKSPACE_QUOTA_MB). */
  maxWorkspaceMb: number | null;
  /** The longest project-chat question, characters; null: the server's cap. */
  chatMaxMessageChars: number | null;
  /** Model turns one chat answer may take (tool calls included); null: the server's cap. */
  chatMaxModelTurns: number | null;
  byokAllowed: boolean;
  platformKeysAllowed: boolean;
  priceUsdMonth: number;
}

interface PlanRow {
  id: string;
  name: string;
  max_projects: number | null;
  monthly_token_limit: number | null;
  max_concurrent_runs: number | null;
  max_run_seconds: number | null;
  monthly_sandbox_seconds: string | number | null;
  max_workspace_mb: number | null;
  chat_max_message_chars: number | null;
  chat_max_model_turns: number | null;
  byok_allowed: boolean;
  platform_keys_allowed: boolean;
  price_usd_month: string | number;
}

const toPlan = (r: PlanRow): Plan => ({
  id: r.id,
  name: r.name,
  maxProjects: r.max_projects,
  monthlyTokenLimit: r.monthly_token_limit === null ? null : Number(r.monthly_token_limit),
  maxConcurrentRuns: r.max_concurrent_runs,
  maxRunSeconds: r.max_run_seconds,
  monthlySandboxSeconds: r.monthly_sandbox_seconds === null ? null : Number(r.monthly_sandbox_seconds),
  maxWorkspaceMb: r.max_workspace_mb,
  chatMaxMessageChars: r.chat_max_message_chars,
  chatMaxModelTurns: r.chat_max_model_turns,
  byokAllowed: r.byok_allowed,
  platformKeysAllowed: r.platform_keys_allowed,
  priceUsdMonth: Number(r.price_usd_month),
});

export type PlanUpdate = Partial<Omit<Plan, 'id'>>;

const COLUMN: Record<keyof PlanUpdate, string> = {
  name: 'name',
  maxProjects: 'max_projects',
  monthlyTokenLimit: 'monthly_token_limit',
  maxConcurrentRuns: 'max_concurrent_runs',
  maxRunSeconds: 'max_run_seconds',
  monthlySandboxSeconds: 'monthly_sandbox_seconds',
  maxWorkspaceMb: 'max_workspace_mb',
  chatMaxMessageChars: 'chat_max_message_chars',
  chatMaxModelTurns: 'chat_max_model_turns',
  byokAllowed: 'byok_allowed',
  platformKeysAllowed: 'platform_keys_allowed',
  priceUsdMonth: 'price_usd_month',
};

export class PlansRepo {
  constructor(private readonly db: Queryable) {}

  async list(): Promise<Plan[]> {
    const res = await this.db.query<PlanRow>('SELECT * FROM plans ORDER BY sort_order, id');
    return res.rows.map(toPlan);
  }

  async get(id: string): Promise<Plan | undefined> {
    const res = await this.db.query<PlanRow>('SELECT * FROM plans WHERE id = $1', [id]);
    return res.rows[0] && toPlan(res.rows[0]);
  }

  /** Plans are data: an operator edits limits without a deploy. */
  async update(id: string, changes: PlanUpdate): Promise<Plan | undefined> {
    const entries = Object.entries(changes).filter(([, v]) => v !== undefined) as [keyof PlanUpdate, unknown][];
    if (entries.length === 0) return this.get(id);
    const sets = entries.map(([k], i) => `${COLUMN[k]} = $${i + 2}`);
    const res = await this.db.query<PlanRow>(
      `UPDATE plans SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING *`,
      [id, ...entries.map(([, v]) => v)],
    );
    return res.rows[0] && toPlan(res.rows[0]);
  }
}
