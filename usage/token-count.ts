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

export async function countTokens(text: string): Promise<number> {
  if (!text) return 0;
  const enc = await load();
  // No special tokens: a prompt that contains "<|endoftext|>" is counted as the text it is.
  return enc.encode(text, [], []).length;
}
