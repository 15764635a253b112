import type { Message } from '../../llm/providers/port.js';
import { WORKSPACE_TOOL_SPECS } from '../tools/schemas.js';
import { compactHistory, withShortArguments } from './history-compaction.js';
import { assistantTurn, callModel } from './llm-call.js';
import { OutputLimitGuard } from './output-limit.js';
import { LoopGuard } from './loop-guard.js';
import type { RunContext, StepRef } from './run-context.js';
import { RunStop } from './run-stop.js';
import { executeTool } from './tool-executor.js';

export interface ToolLoopResult {
  summary: string;
  turns: number;
  filesWritten: string[];
}

/**
 * The coder's and the fixer's loop: call the model with the workspace tools, run each tool call,
 * feed the results back, until `finish`. Invalid calls (unknown tool, bad JSON, missing field,
 * unsafe path, or no call at all) are answered with an error the model can read; an answer cut off
 * at the output-token limit is explained to it (OutputLimitGuard, which stops `output_truncated`);
 * `maxInvalidToolCalls` of them in a row stop the run with `invalid_tool_calls`. A loop that goes
 * nowhere (LoopGuard) stops it with `stuck`, and one that uses every turn without `finish` with
 * `max_turns`: neither is a step that succeeded.
 */
export async function runToolLoop(rc: RunContext, step: StepRef, prompt: { system: string; user: string }): Promise<ToolLoopResult> {
  const messages: Message[] = [{ role: 'user', content: prompt.user }];
  const written = new Set<string>();
  const guard = new LoopGuard({ repeats: rc.settings.loopRepeats, idleTurns: rc.settings.loopIdleTurns });
  const what = step.taskId ? `${step.kind} step of task ${step.taskId}` : `${step.kind} step`;
  const outputLimit = new OutputLimitGuard(rc, step, what);
  let invalidInARow = 0;
  let lastInvalid = '';
  for (let turn = 1; turn <= rc.settings.maxStepsPerTask; turn++) {
    compactHistory(messages);
    const res = await callModel(rc, step, { system: prompt.system, messages, tools: WORKSPACE_TOOL_SPECS, toolChoice: 'required' });
    const assistant = assistantTurn(res);
    messages.push(assistant);
    let finishSummary: string | undefined;
    let changed = false;
    let stuck: string | undefined;
    if (res.toolCalls.length === 0) {
      invalidInARow++;
      // Real models occasionally answer with nothing at all: said so, since it is not a wrong call.
      lastInvalid = res.text.trim() ? 'no tool call' : 'an empty answer (no text, no tool call)';
      messages.push({ role: 'user', content: 'Answer with a tool call; call finish {summary} when the task is done.' });
    }
    for (const [i, call] of res.toolCalls.entries()) {
      const r = await executeTool(rc, step, call);
      // A refused call's arguments (a 5 MB write_file) would otherwise be resent with every turn.
      if (r.isError) assistant.toolCalls![i] = withShortArguments(call);
      messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: r.content, isError: r.isError });
      if (r.invalid) {
        invalidInARow++;
        lastInvalid = r.content;
      } else invalidInARow = 0;
      if (r.written) written.add(r.written.path);
      if (r.finishSummary !== undefined) finishSummary = r.finishSummary;
      stuck ??= guard.observe(call, r);
      changed ||= r.written !== undefined || (call.name === 'run_command' && guard.isNew(call, r.content));
    }
    const cutOff = outputLimit.observe(res);
    if (cutOff) messages.push({ role: 'user', content: cutOff });
    if (invalidInARow >= rc.settings.maxInvalidToolCalls) {
      throw new RunStop('invalid_tool_calls', `The ${what} made ${invalidInARow} invalid tool calls in a row; last: ${lastInvalid}`);
    }
    if (finishSummary !== undefined) return { summary: finishSummary, turns: turn, filesWritten: [...written] };
    stuck ??= guard.endTurn(changed);
    if (stuck) {
      throw new RunStop('stuck', `The ${what} was stopped: ${stuck}. Tried: ${guard.summary()}. Try a stronger model, or describe the change more precisely.`);
    }
  }
  throw new RunStop(
    'max_turns',
    `The ${what} used all ${rc.settings.maxStepsPerTask} model turns without calling finish (SAMOKODER_MAX_STEPS_PER_TASK). Tried: ${guard.summary()}. Split the request into smaller changes, or raise the limit.`,
  );
}
