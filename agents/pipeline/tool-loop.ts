import type { Message } from '../../llm/providers/port.js';
import { WORKSPACE_TOOL_SPECS } from '../tools/schemas.js';
import { callModel } from './llm-call.js';
import type { RunContext, StepRef } from './run-context.js';
import { RunStop } from './run-stop.js';
import { executeTool } from './tool-executor.js';

export interface ToolLoopResult {
  /** The model called finish (false: it ran out of turns; the work so far is kept). */
  finished: boolean;
  summary: string;
  turns: number;
  filesWritten: string[];
}

/**
 * The coder's and the fixer's loop: call the model with the workspace tools, run each tool call,
 * feed the results back, until `finish` or the per-task turn cap. Invalid calls (unknown tool,
 * bad JSON, missing field, unsafe path, or no call at all) are answered with an error the model
 * can read; `maxInvalidToolCalls` of them in a row stop the run with `invalid_tool_calls`.
 */
export async function runToolLoop(rc: RunContext, step: StepRef, prompt: { system: string; user: string }): Promise<ToolLoopResult> {
  const messages: Message[] = [{ role: 'user', content: prompt.user }];
  const written = new Set<string>();
  let invalidInARow = 0;
  let lastInvalid = '';
  for (let turn = 1; turn <= rc.settings.maxStepsPerTask; turn++) {
    const res = await callModel(rc, step, { system: prompt.system, messages, tools: WORKSPACE_TOOL_SPECS, toolChoice: 'required' });
    messages.push({ role: 'assistant', content: res.text, toolCalls: res.toolCalls });
    let finishSummary: string | undefined;
    if (res.toolCalls.length === 0) {
      invalidInARow++;
      lastInvalid = 'no tool call';
      messages.push({ role: 'user', content: 'Answer with a tool call; call finish {summary} when the task is done.' });
    }
    for (const call of res.toolCalls) {
      const r = await executeTool(rc, step, call);
      messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: r.content, isError: r.isError });
      if (r.invalid) {
        invalidInARow++;
        lastInvalid = r.content;
      } else invalidInARow = 0;
      if (r.written) written.add(r.written.path);
      if (r.finishSummary !== undefined) finishSummary = r.finishSummary;
    }
    if (invalidInARow >= rc.settings.maxInvalidToolCalls) {
      throw new RunStop('invalid_tool_calls', `The ${step.kind} step made ${invalidInARow} invalid tool calls in a row; last: ${lastInvalid}`);
    }
    if (finishSummary !== undefined) return { finished: true, summary: finishSummary, turns: turn, filesWritten: [...written] };
  }
  return { finished: false, summary: `Stopped after ${rc.settings.maxStepsPerTask} model turns (SAMOKODER_MAX_STEPS_PER_TASK).`, turns: rc.settings.maxStepsPerTask, filesWritten: [...written] };
}
