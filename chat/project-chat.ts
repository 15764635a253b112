import type { Config } from '../core/config.js';
import { AppError, isAppError, notFound } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/port.js';
import { PlansRepo } from '../db/repos/plans.js';
import { ProjectsRepo } from '../db/repos/projects.js';
import type { User } from '../db/repos/users.js';
import { publishEphemeral } from '../events/event-log.js';
import { appendEvent, Coalescer } from '../events/run-events.js';
import type { LlmGateway } from '../llm/llm-gateway.js';
import type { ModelGate } from '../llm/model-catalogue.js';
import { LlmSession } from '../llm/llm-session.js';
import type { ProviderId } from '../llm/providers/port.js';
import type { EventData, EventType } from '../protocol/event-catalogue.js';
import { chooseKey } from '../runs/key-choice.js';
import type { WorkspaceStore } from '../workspaces/index.js';
import { runChatLoop, type ChatToolEvent } from '../agents/chat/chat-loop.js';
import { CHAT_CONTEXT_TURNS, chatLimits } from './chat-limits.js';
import { ChatRepo, type ChatTurn } from './chat-repo.js';

export interface ProjectChatDeps {
  config: Pick<Config, 'platformKeys' | 'pipeline'>;
  db: Database;
  logger: Logger;
  gateway: LlmGateway;
  /** Refuses retired and unknown models before the turn is stored (the model catalogue). */
  models: ModelGate;
  workspaces: WorkspaceStore;
}

export interface AskInput {
  user: User;
  projectId: string;
  message: string;
  provider: ProviderId;
  model: string;
  keyId?: string | undefined;
  /** The client's id for the new turn, so it can match the streamed events before the answer returns. */
  turnId?: string | undefined;
  /** Aborts the answer (the client went away); the turn then fails with E_CANCELLED. */
  signal?: AbortSignal | undefined;
}

/** A change request's prompt is at most this long (generate's prompt limit). */
const CHANGE_PROMPT_CHARS = 20_000;

/**
 * The project chat: questions about a project's code, answered by a model with read-only tools
 * (agents/chat/chat-loop.ts), so asking never changes the workspace. Each question is a turn:
 * stored with `chat.started`, streamed as `chat.delta`, ended by `chat.answered` or `chat.failed`
 * on the project's event stream (no run). Every model call goes through the gateway: the plan's
 * monthly tokens (E_LIMIT), the ledger (with the project, no run), the key that pays.
 */
export class ProjectChat {
  private readonly inFlight = new Set<{ abort: AbortController; done: Promise<unknown> }>();

  constructor(private readonly deps: ProjectChatDeps) {}

  /**
   * Answers one question and returns the finished turn.
   * @throws E_NOT_FOUND, E_VALIDATION (a question longer than the plan allows), E_MODEL_RETIRED,
   *   E_MODEL_UNKNOWN, E_NO_KEY,
   *   E_CONFLICT (turnId taken); after the turn is stored, the loop's error (E_LIMIT, a provider's,
   *   E_CANCELLED), with the turn failed.
   */
  async ask(input: AskInput): Promise<ChatTurn> {
    const { db } = this.deps;
    const project = await new ProjectsRepo(db).get(input.projectId, input.user.id);
    if (!project) throw notFound('Project');
    const plan = await new PlansRepo(db).get(input.user.planId);
    const limits = chatLimits(plan);
    if (input.message.length > limits.messageChars) {
      throw new AppError('E_VALIDATION', `Invalid body. message: at most ${limits.messageChars} characters on the ${plan?.name ?? input.user.planId} plan (it has ${input.message.length}); shorten the question.`, {
        details: { limit: 'chat_max_message_chars', max: limits.messageChars },
      });
    }
    await this.deps.models.requireUsable(input.user.id, input.provider, input.model);
    const key = await chooseKey(db, this.deps.config.platformKeys, input.user, input.provider, input.keyId);
    const turn = await db.transaction(async (tx) => {
      const t = await new ChatRepo(tx).insert({ id: input.turnId, projectId: project.id, userId: input.user.id, question: input.message, provider: input.provider, model: input.model });
      await appendEvent(tx, { projectId: project.id, runId: null, type: 'chat.started', data: { turnId: t.id, question: t.question, provider: t.provider, model: t.model } });
      return t;
    });
    const abort = new AbortController();
    const onAbort = () => abort.abort(input.signal?.reason);
    input.signal?.addEventListener('abort', onAbort, { once: true });
    const done = this.answer(turn, input.user, key, limits.modelTurns, abort.signal);
    const entry = { abort, done: done.catch(() => undefined) };
    this.inFlight.add(entry);
    try {
      return await done;
    } finally {
      this.inFlight.delete(entry);
      input.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The turn as a change request's prompt (POST …/generate with fromChatTurn). @throws E_NOT_FOUND, E_CONFLICT (not answered). */
  async changeRequestPrompt(projectId: string, userId: string, turnId: string, note: string | undefined): Promise<string> {
    const turn = await new ChatRepo(this.deps.db).get(projectId, userId, turnId);
    if (!turn) throw notFound('Chat turn');
    if (turn.status !== 'answered' || turn.answer === null) {
      throw new AppError('E_CONFLICT', `fromChatTurn: the chat turn is ${turn.status === 'answering' ? 'still being answered' : 'a failed one, with no answer'}; use an answered turn.`);
    }
    const head = note ? `${note}\n\n` : 'Make the change discussed in the project chat below.\n\n';
    const text = `${head}Question:\n${turn.question}\n\nAnswer:\n${turn.answer}`;
    return text.length > CHANGE_PROMPT_CHARS ? `${text.slice(0, CHANGE_PROMPT_CHARS - 12)}\n… (cut)` : text;
  }

  /** Deletes the project's chat history (with `chat.cleared`); returns how many turns went. @throws E_NOT_FOUND. */
  async clear(projectId: string, userId: string): Promise<number> {
    return this.deps.db.transaction(async (tx) => {
      const project = await new ProjectsRepo(tx).get(projectId, userId);
      if (!project) throw notFound('Project');
      const turns = await new ChatRepo(tx).clear(projectId, userId);
      await appendEvent(tx, { projectId, runId: null, type: 'chat.cleared', data: { turns } });
      return turns;
    });
  }

  /** Stops the answers in flight (each turn fails with E_CANCELLED) and waits for them to record it. */
  async stop(): Promise<void> {
    const entries = [...this.inFlight];
    for (const e of entries) e.abort.abort(new AppError('E_CANCELLED', 'The server is shutting down; ask again.'));
    await Promise.all(entries.map((e) => e.done));
  }

  private async answer(turn: ChatTurn, user: User, key: { keyId: string | null; keySource: 'byok' | 'platform' }, modelTurns: number, signal: AbortSignal): Promise<ChatTurn> {
    const { db, logger } = this.deps;
    const repo = new ChatRepo(db);
    const deltas = new Coalescer((text) => this.ephemeral(turn.projectId, 'chat.delta', { turnId: turn.id, text }), 50);
    let spent = { inputTokens: 0, outputTokens: 0, toolCalls: 0 };
    try {
      const history = await repo.recentAnswered(turn.projectId, turn.id, CHAT_CONTEXT_TURNS);
      const workspace = await this.deps.workspaces.open(turn.projectId);
      const result = await runChatLoop({
        gateway: this.deps.gateway,
        call: { userId: user.id, projectId: turn.projectId, provider: turn.provider as ProviderId, keySource: key.keySource, keyId: key.keyId ?? undefined, session: new LlmSession() },
        model: turn.model,
        maxOutputTokens: this.deps.config.pipeline.maxOutputTokens,
        maxModelTurns: modelTurns,
        files: workspace.files,
        history: history.map((h) => ({ question: h.question, answer: h.answer ?? '' })),
        question: turn.question,
        signal,
        onDelta: (text) => deltas.push(text),
        onTool: (e: ChatToolEvent) => this.ephemeral(turn.projectId, 'chat.tool', { turnId: turn.id, ...e }),
        onUsage: (u) => (spent = u),
      });
      deltas.flush();
      spent = { ...result.usage, toolCalls: result.toolCalls };
      const done = await db.transaction(async (tx) => {
        const t = await new ChatRepo(tx).finish(turn.id, { status: 'answered', answer: result.answer }, spent);
        if (t) await appendEvent(tx, { projectId: t.projectId, runId: null, type: 'chat.answered', data: { turnId: t.id, ...spent } });
        return t;
      });
      if (!done) throw new AppError('E_CONFLICT', 'The chat turn ended meanwhile (its history was cleared).');
      return done;
    } catch (err) {
      deltas.flush();
      // Aborted: by stop() (its reason says so), or because the client went away.
      const failure = !signal.aborted ? err : isAppError(signal.reason) ? signal.reason : new AppError('E_CANCELLED', 'The answer was cancelled: the client went away.');
      const code = isAppError(failure) ? failure.code : 'E_INTERNAL';
      const message = isAppError(failure) ? failure.message.slice(0, 1000) : 'The answer failed on the service side; try again.';
      if (!isAppError(failure)) logger.error({ err, turnId: turn.id, projectId: turn.projectId }, 'chat answer failed');
      await db
        .transaction(async (tx) => {
          const t = await new ChatRepo(tx).finish(turn.id, { status: 'failed', error: message }, spent);
          if (t) await appendEvent(tx, { projectId: t.projectId, runId: null, type: 'chat.failed', data: { turnId: t.id, code, message } });
        })
        .catch((e: unknown) => logger.error({ err: e, turnId: turn.id }, 'could not record a failed chat turn'));
      throw failure;
    }
  }

  /** Fire-and-forget, like a run's deltas: a lost one must never fail the answer. */
  private ephemeral<T extends 'chat.delta' | 'chat.tool'>(projectId: string, type: T, data: EventData<T>): void {
    publishEphemeral(this.deps.db, { projectId, runId: null, type: type as EventType, data }).catch((err: unknown) =>
      this.deps.logger.debug({ err, type }, 'ephemeral chat event not sent'),
    );
  }
}
