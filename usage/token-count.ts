import type { Tiktoken } from 'js-tiktoken/lite';

/**
 * Counts tokens with OpenAI's o200k_base BPE (js-tiktoken, pure JavaScript). Other providers'
 * tokenizers differ, by some 10–20 % on English and code, which is close enough for what this is
 * for: charging calls whose provider reported no usage. The rank table (2 MB) loads on the first
 * count only, so a process whose providers all report usage never pays for it.
 */
let encoder: Promise<Tiktoken> | undefined;

function load(): Promise<Tiktoken> {
  encoder ??= (async () => {
    const [{ Tiktoken }, { default: ranks }] = await Promise.all([import('js-tiktoken/lite'), import('js-tiktoken/ranks/o200k_base')]);
    return new Tiktoken(ranks);
  })();
  return encoder;
}

/**
 * Counts of recent texts. A tool loop resends its whole conversation every turn, so all but the
 * newest messages were counted a turn ago; BPE in JavaScript costs about 2.5 ms per KB, and this
 * makes a turn pay only for what is new. Least recently used entries go first.
 */
const MEMO_ENTRIES = 512;
/** Shorter texts are counted every time: cheaper than keeping them. */
const MEMO_MIN_CHARS = 256;
const memo = new Map<string, number>();

export async function countTokens(text: string): Promise<number> {
  if (!text) return 0;
  const known = memo.get(text);
  if (known !== undefined) {
    memo.delete(text);
    memo.set(text, known);
    return known;
  }
  const enc = await load();
  // No special tokens: a prompt that contains "<|endoftext|>" is counted as the text it is.
  const count = enc.encode(text, [], []).length;
  if (text.length >= MEMO_MIN_CHARS) {
    memo.set(text, count);
    if (memo.size > MEMO_ENTRIES) memo.delete(memo.keys().next().value!);
  }
  return count;
}
