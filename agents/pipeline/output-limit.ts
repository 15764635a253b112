import type { LlmResponse } from '../../llm/providers/port.js';
import { modelForStep } from '../../runs/role-models.js';
import type { RunContext, StepRef } from './run-context.js';
import { RunStop } from './run-stop.js';

/**
 * Answers cut off at the output-token limit (`finish_reason: "length"`, Anthropic's `max_tokens`).
 * Such an answer's tool call is usually incomplete JSON: the model is told why, so it can make
 * smaller calls; when every answer keeps being cut off, the run stops with `output_truncated` and
 * says which limit was hit, rather than with "invalid JSON" that explains nothing.
 */
export class OutputLimitGuard {
  private inARow = 0;
  private readonly limit: number;

  constructor(
    private readonly rc: RunContext,
    step: Pick<StepRef, 'kind'>,
    private readonly what: string,
  ) {
    // The step's own model: a role may run on another model than the run's (generate's `models`).
    const model = modelForStep(rc.run, step.kind);
    this.limit = Math.min(rc.settings.maxOutputTokens, rc.gateway.maxOutputTokensOf(model.provider, model.model) ?? Infinity);
  }

  /** After each answer: a note for the model when it was cut off, else undefined; throws when the cut-offs persist. */
  observe(res: Pick<LlmResponse, 'finishReason'>): string | undefined {
    if (res.finishReason !== 'length') {
      this.inARow = 0;
      return undefined;
    }
    this.inARow++;
    if (this.inARow >= this.rc.settings.maxInvalidToolCalls) {
      throw new RunStop(
        'output_truncated',
        `The ${this.what} stopped: the model's last ${this.inARow} answers were all cut off at the output-token limit of ${this.limit} tokens ` +
          `(SAMOKODER_MAX_OUTPUT_TOKENS, or the model's own maximum), so its tool calls were incomplete. ` +
          'Raise SAMOKODER_MAX_OUTPUT_TOKENS up to what the model allows, use a model with a larger output limit, or ask for a smaller change.',
      );
    }
    return (
      `Your last answer was cut off at the output limit of ${this.limit} tokens, so any tool call in it is incomplete. ` +
      'Answer in smaller pieces: change files with edit_file, split a large file into several smaller ones, and keep text short.'
    );
  }
}
