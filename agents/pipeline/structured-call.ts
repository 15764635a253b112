import type { z } from 'zod';
import type { Message, ToolSpec } from '../../llm/providers/port.js';
import { parseToolArgs } from '../tools/schemas.js';
import { assistantTurn, callModel } from './llm-call.js';
import { OutputLimitGuard } from './output-limit.js';
import type { RunContext, StepRef } from './run-context.js';
import { RunStop } from './run-stop.js';

/**
 * Asks the model for one call of `tool` (forced with toolChoice) and returns its validated
 * arguments. A wrong answer (no call, bad JSON, a missing field) is answered with a tool error the
 * model can correct; after `maxInvalidToolCalls` wrong answers in a row the run stops (with
 * `output_truncated` when they were all cut off at the output-token limit).
 */
export async function requireToolCall<T>(rc: RunContext, step: StepRef, input: { system: string; user: string; tool: ToolSpec; schema: z.ZodType<T> }): Promise<T> {
  const messages: Message[] = [{ role: 'user', content: input.user }];
  const errors: string[] = [];
  const outputLimit = new OutputLimitGuard(rc, step, `${step.kind} step`);
  while (errors.length < rc.settings.maxInvalidToolCalls) {
    const res = await callModel(rc, step, { system: input.system, messages, tools: [input.tool], toolChoice: { name: input.tool.name } });
    messages.push(assistantTurn(res));
    const call = res.toolCalls.find((c) => c.name === input.tool.name);
    const parsed = call ? parseToolArgs(input.schema, call.arguments) : { ok: false as const, error: `Call the ${input.tool.name} tool.` };
    await rc.events.append('tool.called', { stepSeq: step.seq, name: call?.name ?? res.toolCalls[0]?.name ?? null, ok: parsed.ok, ...(parsed.ok ? {} : { error: parsed.error }) });
    if (parsed.ok) return parsed.value;
    errors.push(parsed.error);
    // Every call gets its result (providers reject a conversation with an unanswered call).
    for (const c of res.toolCalls) messages.push({ role: 'tool', toolCallId: c.id, name: c.name, content: c === call ? parsed.error : `Only ${input.tool.name} is available.`, isError: true });
    if (res.toolCalls.length === 0) messages.push({ role: 'user', content: parsed.error });
    const cutOff = outputLimit.observe(res);
    if (cutOff) messages.push({ role: 'user', content: cutOff });
  }
  throw new RunStop('invalid_tool_calls', `The ${step.kind} step made ${errors.length} invalid ${input.tool.name} calls in a row; last: ${errors.at(-1)}`);
}
