/**
 * A versioned system prompt. Prompts are TypeScript string modules (not .md files) so they are
 * compiled into dist/ with everything else and found at run time without a copy step; the
 * version travels into step outputs, so a run's record says which prompt produced it.
 */
export interface Prompt {
  readonly id: 'planner' | 'architect' | 'coder' | 'fixer' | 'chat';
  readonly version: number;
  readonly text: string;
}

export const promptRef = (p: Prompt): string => `${p.id}.v${p.version}`;
