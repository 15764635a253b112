import { AppError } from '../core/errors.js';
import type { Queryable } from '../db/port.js';
import { newestFirstPage, type Page, type PageRequest } from '../db/repos/pagination.js';
import { isUniqueViolation } from '../db/repos/users.js';

export type ChatTurnStatus = 'answering' | 'answered' | 'failed';

/** One question about a project and its answer. */
export interface ChatTurn {
  id: string;
  projectId: string;
  userId: string;
  question: string;
  /** Null while answering, or when the answer failed. */
  answer: string | null;
  status: ChatTurnStatus;
  /** Why it failed (for people); null otherwise. */
  error: string | null;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  toolCalls: number;
  createdAt: Date;
  finishedAt: Date | null;
}

interface ChatTurnRow {
  id: string;
  project_id: string;
  user_id: string;
  question: string;
  answer: string | null;
  status: ChatTurnStatus;
  error: string | null;
  provider: string;
  model: string;
  input_tokens: number | string;
  output_tokens: number | string;
  tool_calls: number;
  created_at: Date;
  finished_at: Date | null;
  created_at_key: string;
}

const COLUMNS = 'id, project_id, user_id, question, answer, status, error, provider, model, input_tokens, output_tokens, tool_calls, created_at, finished_at, created_at::text AS created_at_key';

const toTurn = (r: ChatTurnRow): ChatTurn => ({
  id: r.id,
  projectId: r.project_id,
  userId: r.user_id,
  question: r.question,
  answer: r.answer,
  status: r.status,
  error: r.error,
  provider: r.provider,
  model: r.model,
  inputTokens: Number(r.input_tokens),
  outputTokens: Number(r.output_tokens),
  toolCalls: r.tool_calls,
  createdAt: new Date(r.created_at),
  finishedAt: r.finished_at && new Date(r.finished_at),
});

/** The chat_turns table. Every read is scoped to the owning user: another user's turn is never found. */
export class ChatRepo {
  constructor(private readonly db: Queryable) {}

  /** @throws E_CONFLICT when a turn with this id exists (a client retried a question it named). */
  async insert(input: { id?: string | undefined; projectId: string; userId: string; question: string; provider: string; model: string }): Promise<ChatTurn> {
    const res = await this.db
      .query<ChatTurnRow>(
        `INSERT INTO chat_turns (id, project_id, user_id, question, provider, model)
         VALUES (coalesce($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [input.id ?? null, input.projectId, input.userId, input.question, input.provider, input.model],
      )
      .catch((err: unknown) => {
        throw isUniqueViolation(err) ? new AppError('E_CONFLICT', `turnId: a chat turn ${input.id} already exists; send a new id (or none) for a new question.`) : err;
      });
    return toTurn(res.rows[0]!);
  }

  /** Ends an answering turn; a turn that already ended is left as it is (undefined). */
  async finish(
    id: string,
    outcome: { status: 'answered'; answer: string } | { status: 'failed'; error: string; answer?: string | undefined },
    usage: { inputTokens: number; outputTokens: number; toolCalls: number },
  ): Promise<ChatTurn | undefined> {
    const res = await this.db.query<ChatTurnRow>(
      `UPDATE chat_turns SET status = $2, answer = $3, error = $4, input_tokens = $5, output_tokens = $6, tool_calls = $7, finished_at = now()
       WHERE id = $1 AND status = 'answering' RETURNING ${COLUMNS}`,
      [id, outcome.status, outcome.answer ?? null, outcome.status === 'failed' ? outcome.error : null, usage.inputTokens, usage.outputTokens, usage.toolCalls],
    );
    return res.rows[0] && toTurn(res.rows[0]);
  }

  async get(projectId: string, userId: string, id: string): Promise<ChatTurn | undefined> {
    const res = await this.db.query<ChatTurnRow>(`SELECT ${COLUMNS} FROM chat_turns WHERE id = $1 AND project_id = $2 AND user_id = $3`, [id, projectId, userId]);
    return res.rows[0] && toTurn(res.rows[0]);
  }

  /** Newest first, keyset-paged like every list of the API. */
  async list(projectId: string, userId: string, page: PageRequest = {}): Promise<Page<ChatTurn>> {
    return newestFirstPage(this.db, { select: `SELECT ${COLUMNS} FROM chat_turns`, where: 'project_id = $1 AND user_id = $2', params: [projectId, userId] }, page, toTurn);
  }

  /** Every turn, oldest first (the export), at most `max`. */
  async all(projectId: string, userId: string, max: number): Promise<ChatTurn[]> {
    const res = await this.db.query<ChatTurnRow>(
      `SELECT ${COLUMNS} FROM chat_turns WHERE project_id = $1 AND user_id = $2 ORDER BY created_at, id LIMIT $3`,
      [projectId, userId, max],
    );
    return res.rows.map(toTurn);
  }

  /** The last `n` answered turns before `beforeId`'s, oldest first: the conversation a new question continues. */
  async recentAnswered(projectId: string, beforeId: string, n: number): Promise<ChatTurn[]> {
    const res = await this.db.query<ChatTurnRow>(
      `SELECT ${COLUMNS} FROM chat_turns t
       WHERE project_id = $1 AND status = 'answered'
         AND (created_at, id) < (SELECT created_at, id FROM chat_turns WHERE id = $2)
       ORDER BY created_at DESC, id DESC LIMIT $3`,
      [projectId, beforeId, n],
    );
    return res.rows.map(toTurn).reverse();
  }

  /**
   * Fails the turns still answering after `olderThanMs`: their process died mid-answer (a live
   * answer ends far sooner, every model call having a timeout). Returns how many.
   */
  async failAbandoned(olderThanMs: number): Promise<number> {
    const res = await this.db.query<{ n: number | string }>(
      `WITH f AS (
         UPDATE chat_turns SET status = 'failed', error = 'The server stopped while answering; ask again.', finished_at = now()
         WHERE status = 'answering' AND created_at < now() - make_interval(secs => $1::double precision / 1000) RETURNING 1
       ) SELECT count(*) AS n FROM f`,
      [olderThanMs],
    );
    return Number(res.rows[0]?.n ?? 0);
  }

  /** Deletes the project's turns; returns how many. */
  async clear(projectId: string, userId: string): Promise<number> {
    const res = await this.db.query<{ n: number | string }>(
      'WITH d AS (DELETE FROM chat_turns WHERE project_id = $1 AND user_id = $2 RETURNING 1) SELECT count(*) AS n FROM d',
      [projectId, userId],
    );
    return Number(res.rows[0]?.n ?? 0);
  }
}
