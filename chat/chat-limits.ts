import type { Plan } from '../db/repos/plans.js';

/** The server's own caps, for plans that set none (NULL) and as the most any plan can get. */
export const CHAT_CAPS = { messageChars: 32_000, modelTurns: 40 } as const;

/** Earlier answered turns resent with a new question: the conversation the model continues. */
export const CHAT_CONTEXT_TURNS = 6;

/** Turns an export holds at most (the newest history beyond it is still paged by GET …/chat). */
export const CHAT_EXPORT_MAX_TURNS = 5000;

export interface ChatLimits {
  messageChars: number;
  modelTurns: number;
}

/** The plan's chat bounds, each at most the server's cap. */
export function chatLimits(plan: Pick<Plan, 'chatMaxMessageChars' | 'chatMaxModelTurns'> | undefined): ChatLimits {
  return {
    messageChars: Math.min(plan?.chatMaxMessageChars ?? CHAT_CAPS.messageChars, CHAT_CAPS.messageChars),
    modelTurns: Math.min(plan?.chatMaxModelTurns ?? CHAT_CAPS.modelTurns, CHAT_CAPS.modelTurns),
  };
}
