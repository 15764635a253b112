import { isAppError } from '../../core/errors.js';
import { ResponseCollector, type LlmRequest, type LlmResponse, type Message, type ProviderId, type Usage } from '../../llm/providers/port.js';
import type { RunContext, StepRef } from './run-context.js';
import { RunStop } from './run-stop.js';

export type ModelRequest = Omit<LlmRequest, 'model' | 'maxOutputTokens' | 'signal'>;

/**
 * One model call of a step, through the gateway (plan check, reservation, ledger): refuses to
 * start when the run's token stop-loss is spent, streams text deltas as coalesced `llm.delta`
 * events, and — in the gateway's settle statement — sets the run's totals from the ledger and
 * appends `llm.usage`. A plan limit (E_LIMIT) ends the run `limit_exceeded`; aborts and provider
 * errors propagate.
 */
export async function callModel(rc: RunContext, step: StepRef, request: ModelRequest): Promise<LlmResponse> {
  if (rc.tokensUsed >= rc.settings.tokenBudget) {
    throw new RunStop('token_budget', `The run spent ${rc.tokensUsed} tokens, its stop-loss is ${rc.settings.tokenBudget} (SAMOKODER_RUN_TOKEN_BUDGET).`);
  }
  const { run } = rc;
  const deltas = rc.events.coalescer('llm.delta', { stepSeq: step.seq });
  const response = new ResponseCollector();
  // The gateway sets the run's totals from the ledger (not incremented) and appends llm.usage in
  // the statement that settles the call, so they always equal the run's settled ledger rows,
  // whatever process settled them, and the event commits with them.
  const runRecord = {
    usageEvent: (u: Usage) => ({
      type: 'llm.usage' as const,
      data: { stepSeq: step.seq, inputTokens: u.inputTokens, outputTokens: u.outputTokens, ...(u.estimated ? { estimated: true } : {}) },
    }),
    onRunTokens: (tokens: number) => {
      rc.tokensUsed = tokens;
    },
  };
  try {
    const stream = rc.gateway.stream(
      { ...request, model: run.model, maxOutputTokens: rc.settings.maxOutputTokens, signal: rc.signal },
      {
        userId: run.userId,
        projectId: run.projectId,
        runId: run.id,
        stepId: step.id,
        provider: run.provider as ProviderId,
        keySource: run.keySource,
        keyId: run.keyId ?? undefined,
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
  return response.response();
}

/** The answer as the assistant turn of the conversation, its reasoning kept (DeepSeek needs it back). */
export function assistantTurn(res: LlmResponse): Extract<Message, { role: 'assistant' }> {
  return { role: 'assistant', content: res.text, toolCalls: res.toolCalls, ...(res.reasoning ? { reasoning: res.reasoning } : {}) };
}
