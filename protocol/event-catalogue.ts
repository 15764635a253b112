import { z } from 'zod';

/**
 * Every event a project's stream carries: its `type`, whether it is durable (stored with the
 * project's next gapless seq, replayed to a subscriber that resubscribes with its last seq) or
 * ephemeral (NOTIFY only, no seq, missed while disconnected), and the schema of its `data`.
 *
 * The twin of the error catalogue in core/errors.ts: the server's emit sites are typed by it (a
 * wrong field is a compile error), clients read `data` typed by it, docs/events.md is generated
 * from it, and the pipeline tests parse every stored event with it. Objects are strict so a field
 * the server starts sending without a schema (and a description) fails those tests.
 */

const stepSeq = z.number().int().min(1).meta({ description: 'The seq of the step (its position in the run) the event belongs to' });
export const STEP_KINDS = ['planner', 'architect', 'coder', 'verify', 'fixer'] as const;
const stepKind = z.enum(STEP_KINDS).meta({ description: 'The agent the step runs' });
const stepFields = {
  seq: z.number().int().min(1).meta({ description: "The step's position in the run (1, 2, …); stable across attempts" }),
  kind: stepKind,
  taskId: z.string().nullable().meta({ description: "The plan task a coder step implements (e.g. T1); null for the other steps" }),
  round: z.number().int().min(0).meta({ description: "The fix round: a fixer step's (1, 2, …), or the one a verify step checks (0 before any fix); 0 for the other steps" }),
};
const attempt = z.number().int().min(1).meta({ description: "The run job's attempt (1, then 2, … after a crash or a lost lease)" });
const text = z.string().meta({ description: 'The text produced since the previous event of this kind (coalesced)' });

const turnId = z.uuid().meta({ description: 'The chat turn (question and answer) the event belongs to' });

export const RUN_FINISHED_STATUSES = ['succeeded', 'failed', 'cancelled'] as const;

export const EVENT_CATALOGUE = {
  'run.queued': {
    durable: true,
    summary: 'A run was created and waits for a worker.',
    data: z.strictObject({
      kind: z.enum(['generate', 'change']).meta({ description: 'generate: a new project from the prompt; change: a change to the existing one' }),
      provider: z.string().meta({ description: 'The model provider (anthropic, openai, …)' }),
      model: z.string().meta({ description: 'The model name' }),
    }),
  },
  'run.started': {
    durable: true,
    summary: 'A worker started the run (its first attempt).',
    data: z.strictObject({ attempt }),
  },
  'run.resumed': {
    durable: true,
    summary: 'A worker resumed the run after an earlier attempt ended without finishing it; finished steps are not redone.',
    data: z.strictObject({ attempt }),
  },
  'run.finished': {
    durable: true,
    summary: 'The run ended; nothing of it follows.',
    data: z.strictObject({
      status: z.enum(RUN_FINISHED_STATUSES).meta({ description: 'How it ended' }),
      reason: z.string().nullable().meta({ description: 'null when it succeeded; otherwise why it stopped (verify_failed, token_budget, budget_exceeded, limit_exceeded, cancelled, worker_lost, …)' }),
      message: z.string().max(1000).optional().meta({ description: 'What went wrong, for people (at most 1,000 characters; never a stack trace)' }),
    }),
  },
  'step.started': {
    durable: true,
    summary: 'A step (one agent turn: planner, architect, a coder task, verify, a fix round) started.',
    data: z.strictObject({
      ...stepFields,
      stepId: z.uuid().meta({ description: "The step row's id" }),
      attempt,
      taskTitle: z.string().optional().meta({ description: "A coder step's task title from the plan" }),
    }),
  },
  'step.finished': {
    durable: true,
    summary: 'A step succeeded; its work is committed in the workspace.',
    data: z.strictObject({
      ...stepFields,
      commitSha: z.string().nullable().meta({ description: "The workspace commit of the step's work; null if it changed nothing" }),
      summary: z.string().meta({ description: 'What the step did, in a line' }),
    }),
  },
  'llm.delta': {
    durable: false,
    summary: "Text the model is streaming in a step (advisory: the step's result is in step.finished and the workspace).",
    data: z.strictObject({ stepSeq, text }),
  },
  'llm.usage': {
    durable: true,
    summary: "A model call of a step was settled: its tokens, and the run's totals (tokens and cost).",
    data: z.strictObject({
      stepSeq,
      inputTokens: z.number().int().min(0).meta({ description: 'Input tokens of this call' }),
      outputTokens: z.number().int().min(0).meta({ description: 'Output tokens of this call' }),
      estimated: z.boolean().optional().meta({ description: 'true: the provider reported no usage; the tokens are an estimate' }),
      runTokens: z.number().int().min(0).nullable().meta({ description: "The run's input plus output tokens so far (all settled calls)" }),
      runCostMicroUsd: z.number().int().min(0).nullable().meta({ description: "The run's cost so far in micro-USD, as the ledger prices its settled calls (the live cost meter)" }),
      cacheReadTokens: z.number().int().min(0).optional().meta({ description: "Input tokens of this call read from the provider's prompt cache (priced at the cached rate)" }),
      model: z.string().optional().meta({ description: "The model that answered (a role's own, when the run gives it one)" }),
    }),
  },
  'tool.called': {
    durable: true,
    summary: 'The model called a tool (a workspace tool, or the structured answer a planner/architect step asks for).',
    data: z.strictObject({
      stepSeq,
      name: z.string().nullable().meta({ description: 'The tool name (write_file, run_command, …); null when the model answered without a call' }),
      ok: z.boolean().meta({ description: 'false: the call failed or was invalid; the model was told why' }),
      error: z.string().optional().meta({ description: 'Why it failed (at most 500 characters), when ok is false' }),
      path: z.string().max(512).optional().meta({ description: 'The workspace path the call named, if any' }),
      command: z.string().max(512).optional().meta({ description: 'The command the call named, if any' }),
    }),
  },
  'file.written': {
    durable: true,
    summary: 'A tool call wrote a workspace file.',
    data: z.strictObject({
      stepSeq,
      path: z.string().meta({ description: 'Workspace-relative path' }),
      size: z.number().int().min(0).meta({ description: 'Bytes written' }),
    }),
  },
  'command.started': {
    durable: true,
    summary: 'A command started in the sandbox.',
    data: z.strictObject({
      stepSeq,
      command: z.string().meta({ description: 'The shell command' }),
      purpose: z.string().meta({ description: 'Why it ran: agent (a run_command call), or a verify check (install, test)' }),
      network: z.enum(['none', 'registry']).meta({ description: 'none: no network; registry: only the package registries (installs)' }),
    }),
  },
  'command.output': {
    durable: false,
    summary: "A command's output so far (stdout and stderr together, coalesced; advisory: command.finished has the tail).",
    data: z.strictObject({ stepSeq, text }),
  },
  'command.finished': {
    durable: true,
    summary: 'A sandbox command ended.',
    data: z.strictObject({
      stepSeq,
      command: z.string().meta({ description: 'The shell command' }),
      exitCode: z.number().int().meta({ description: 'Its exit code (non-zero when killed or timed out)' }),
      timedOut: z.boolean().meta({ description: 'It ran past its timeout and was killed' }),
      truncated: z.boolean().meta({ description: 'Its output passed the sandbox cap and the rest was dropped' }),
      durationMs: z.number().min(0).meta({ description: 'Wall time in milliseconds' }),
      tail: z.string().max(2001).meta({ description: 'The last 2,000 characters of its output (… in front when cut)' }),
    }),
  },
  'browser.checked': {
    durable: true,
    summary: "Verify loaded the app's page in headless Chromium (in a sandbox container).",
    data: z.strictObject({
      stepSeq,
      url: z.string().meta({ description: 'The page loaded (empty when the app never listened)' }),
      ok: z.boolean().meta({ description: 'No uncaught error, console error or failed same-origin request' }),
      errors: z.array(z.string().max(500)).max(10).meta({ description: 'The first errors, each cut at 500 characters' }),
      screenshot: z.boolean().meta({ description: 'A screenshot was taken (GET …/runs/:runId/screenshot)' }),
    }),
  },
  'chat.started': {
    durable: true,
    summary: 'A project-chat question was asked; the answer streams as chat.delta and ends with chat.answered or chat.failed. Chat events have no run (runId null).',
    data: z.strictObject({
      turnId,
      question: z.string().meta({ description: 'The question as asked' }),
      provider: z.string().meta({ description: 'The model provider' }),
      model: z.string().meta({ description: 'The model name' }),
    }),
  },
  'chat.delta': {
    durable: false,
    summary: "Text of a chat answer the model is streaming (advisory: chat.answered and GET …/chat have the answer).",
    data: z.strictObject({ turnId, text }),
  },
  'chat.tool': {
    durable: false,
    summary: 'The chat model called one of its read-only tools (list_files, read_file, search).',
    data: z.strictObject({
      turnId,
      name: z.string().meta({ description: 'The tool name' }),
      ok: z.boolean().meta({ description: 'false: the call failed or named a tool chat does not have; the model was told why' }),
      path: z.string().max(512).optional().meta({ description: 'The workspace path the call named, if any' }),
      query: z.string().max(512).optional().meta({ description: "A search call's text, if any" }),
    }),
  },
  'chat.answered': {
    durable: true,
    summary: 'A chat answer is complete (read it with GET …/chat).',
    data: z.strictObject({
      turnId,
      inputTokens: z.number().int().min(0).meta({ description: "Input tokens of the answer's model calls" }),
      outputTokens: z.number().int().min(0).meta({ description: "Output tokens of the answer's model calls" }),
      toolCalls: z.number().int().min(0).meta({ description: 'Read-only tool calls the model made' }),
    }),
  },
  'chat.failed': {
    durable: true,
    summary: 'A chat answer failed; the turn keeps the reason.',
    data: z.strictObject({
      turnId,
      code: z.string().meta({ description: 'The error code (E_LIMIT, E_PROVIDER_AUTH, E_CANCELLED, …)' }),
      message: z.string().max(1000).meta({ description: 'What went wrong, for people (at most 1,000 characters)' }),
    }),
  },
  'chat.cleared': {
    durable: true,
    summary: "The project's chat history was deleted.",
    data: z.strictObject({ turns: z.number().int().min(0).meta({ description: 'How many turns were deleted' }) }),
  },
  'preview.starting': {
    durable: true,
    summary: "The project's live preview is starting: its start command runs in a sandbox container.",
    data: z.strictObject({
      commit: z.string().meta({ description: 'The workspace commit it runs' }),
      reason: z.enum(['requested', 'files_changed']).meta({ description: 'requested: POST …/preview; files_changed: a run or a revert changed the files, so it restarts' }),
    }),
  },
  'preview.ready': {
    durable: true,
    summary: 'The preview listens on its port and is served on the preview origin.',
    data: z.strictObject({ commit: z.string().meta({ description: 'The workspace commit it runs' }) }),
  },
  'preview.failed': {
    durable: true,
    summary: 'The start command exited, or never listened on $PORT within the start timeout.',
    data: z.strictObject({
      exitCode: z.number().int().nullable().meta({ description: 'Its exit code; null when it was still running but never listened' }),
      tail: z.string().max(2001).meta({ description: "The last 2,000 characters of its output (project variables' values replaced by their names)" }),
    }),
  },
  'preview.stopped': {
    durable: true,
    summary: "The preview's container was removed.",
    data: z.strictObject({
      reason: z.enum(['requested', 'idle', 'exited', 'shutdown']).meta({ description: 'requested: DELETE …/preview; idle: no request for SAMOKODER_PREVIEW_IDLE_SECONDS; exited: the app stopped by itself; shutdown: the node stopped' }),
    }),
  },
  'preview.output': {
    durable: false,
    summary: "The running preview's output so far (coalesced; project variables' values replaced by their names).",
    data: z.strictObject({ text }),
  },
} as const satisfies Record<string, { durable: boolean; summary: string; data: z.ZodType }>;

type Catalogue = typeof EVENT_CATALOGUE;
export type EventType = keyof Catalogue;
export type DurableEventType = { [T in EventType]: Catalogue[T]['durable'] extends true ? T : never }[EventType];
export type EphemeralEventType = Exclude<EventType, DurableEventType>;
/** The `data` of an event of type T, as the server sends it. */
export type EventData<T extends EventType> = z.infer<Catalogue[T]['data']>;
/** One event to append: its type and matching data (a union over T, so each pair is checked). */
export type EventInput<T extends EventType = EventType> = { [K in T]: { type: K; data: EventData<K> } }[T];

export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as EventType[];

export const isEventType = (type: string): type is EventType => Object.hasOwn(EVENT_CATALOGUE, type);
export const isDurableEventType = (type: string): type is DurableEventType => isEventType(type) && EVENT_CATALOGUE[type].durable;

/**
 * Checks an event's data against its schema.
 * @returns the parsed data, or an error naming the unknown type or the mismatching fields.
 */
export function parseEventData(type: string, data: unknown): { ok: true; data: unknown } | { ok: false; error: string } {
  if (!isEventType(type)) return { ok: false, error: `unknown event type "${type}" (not in protocol/event-catalogue.ts)` };
  const r = EVENT_CATALOGUE[type].data.safeParse(data);
  if (r.success) return { ok: true, data: r.data };
  return { ok: false, error: `${type}: ${r.error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`).join('; ')}` };
}
