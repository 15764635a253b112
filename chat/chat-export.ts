import type { ChatTurn as ChatTurnJson } from '../protocol/api-types.js';
import type { ChatTurn } from './chat-repo.js';

export const toChatTurnJson = (t: ChatTurn): ChatTurnJson => ({
  id: t.id,
  projectId: t.projectId,
  question: t.question,
  answer: t.answer,
  status: t.status,
  error: t.error,
  provider: t.provider,
  model: t.model,
  usage: { inputTokens: t.inputTokens, outputTokens: t.outputTokens, toolCalls: t.toolCalls },
  createdAt: t.createdAt.toISOString(),
  finishedAt: t.finishedAt?.toISOString() ?? null,
});

/** The export as JSON: the project's name and every turn, oldest first, as GET …/chat shows them. */
export function chatExportJson(project: { id: string; name: string }, turns: readonly ChatTurn[], exportedAt: Date): string {
  return `${JSON.stringify({ project: { id: project.id, name: project.name }, exportedAt: exportedAt.toISOString(), turns: turns.map(toChatTurnJson) }, null, 2)}\n`;
}

/**
 * The export as Markdown: a heading per turn, the question as a quote, the answer as it is (it is
 * Markdown already). A failed turn says why instead.
 */
export function chatExportMarkdown(project: { name: string }, turns: readonly ChatTurn[], exportedAt: Date): string {
  const out = [`# Chat: ${project.name}`, '', `Exported ${exportedAt.toISOString()}, ${turns.length} turn${turns.length === 1 ? '' : 's'}.`, ''];
  for (const t of turns) {
    out.push(`## ${t.createdAt.toISOString()} · ${t.provider}/${t.model}`, '', ...t.question.split('\n').map((l) => `> ${l}`), '');
    if (t.status === 'answered') out.push(t.answer ?? '');
    else if (t.status === 'failed') out.push(`*No answer: ${t.error ?? 'failed'}*`);
    else out.push('*Still being answered.*');
    out.push('');
  }
  return out.join('\n');
}
