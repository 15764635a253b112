import { isAppError } from '../../core/errors.js';
import { ResponseCollector, type LlmRequest, type LlmResponse, type Message, type Usage } from '../../llm/providers/port.js';
import type { RunTotals } from '../../db/repos/usage-ledger-repo.js';
import type { RunContext, StepRef } from './run-context.js';
import { modelForStep } from '../../runs/role-models.js';
import { checkRunBudget, checkStopLoss } from './run-budget.js';
import { RunStop } from './run-stop.js';

export type ModelRequest = Omit<LlmRequest, 'model' | 'maxOutputTokens' | 'signal'>;

/**
 * One model call of a step, with the model of the step's role (modelForStep), through the gateway
 * (plan check, reservation, ledger): refuses to start when the run's stop-loss or its own budget
 * is spent, streams text deltas as coalesced `llm.delta` events, and — in the gateway's settle
 * statement — sets the run's totals from the ledger and appends `llm.usage`; a call that took the
 * run over its budget then ends it `budget_exceeded` (checkRunBudget). A plan limit (E_LIMIT) ends
 * the run `limit_exceeded`; aborts and provider errors propagate.
 */
export async function callModel(rc: RunContext, step: StepRef, request: ModelRequest): Promise<LlmResponse> {
  checkStopLoss(rc);
  checkRunBudget(rc);
  const { run } = rc;
  const model = modelForStep(run, step.kind);
  const deltas = rc.events.coalescer('llm.delta', { stepSeq: step.seq });
  const response = new ResponseCollector();
  // The gateway sets the run's totals from the ledger (not incremented) and appends llm.usage in
  // the statement that settles the call, so they always equal the run's settled ledger rows,
  // whatever process settled them, and the event commits with them.
  const runRecord = {
    usageEvent: (u: Usage) => ({
      type: 'llm.usage' as const,
      data: {
        stepSeq: step.seq,
        inputTokens: u.inputTokens,
        outputTokens: u.outputTokens,
        model: model.model,
        ...(u.cacheReadTokens ? { cacheReadTokens: u.cacheReadTokens } : {}),
        ...(u.estimated ? { estimated: true } : {}),
      },
    }),
    onRunTotals: (totals: RunTotals) => {
      rc.tokensUsed = totals.tokens;
      rc.costMicroUsdUsed = totals.costMicroUsd;
    },
  };
  try {
    const stream = rc.gateway.stream(
      { ...request, model: model.model, maxOutputTokens: rc.settings.maxOutputTokens, signal: rc.signal },
      {
        userId: run.userId,
        projectId: run.projectId,
        runId: run.id,
        stepId: step.id,
        provider: model.provider,
        keySource: model.keySource,
        keyId: model.keyId ?? undefined,
        session: rc.llmSession,
        runRecord,
      },
    );
    for await (const part of stream) {
      response.push(part);
      if (part.type === 'text-delta') deltas.push(part.text);
    }
  } catch (err) {
    if (isAppError(err) && err.code === 'E_LIMIT') throw new RunStop('limit_exceeded', err.message);
    throw err;
  } finally {
    deltas.flush();
  }
  checkRunBudget(rc);
  return response.response();
}

/** The answer as the assistant turn of the conversation, its reasoning kept (DeepSeek needs it back). */
export function assistantTurn(res: LlmResponse): Extract<Message, { role: 'assistant' }> {
  return { role: 'assistant', content: res.text, toolCalls: res.toolCalls, ...(res.reasoning ? { reasoning: res.reasoning } : {}) };
}
