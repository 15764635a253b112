import { AppError } from '../core/errors.js';
import type { Trailers } from './port.js';

const TRAILER_KEY = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/** Keeps a commit message printable: no NUL or other control characters except newline and tab. */
export function cleanMessage(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

/**
 * `subject` + a blank line + `Key: value` lines, the layout `git interpret-trailers` parses.
 * Values are flattened to one line so a value can never forge another trailer.
 */
export function formatCommitMessage(message: string, trailers: Trailers = {}): string {
  const body = cleanMessage(message).trim() || 'Samokoder step';
  const lines = Object.entries(trailers).map(([key, value]) => {
    if (!TRAILER_KEY.test(key)) throw new AppError('E_VALIDATION', `Invalid trailer key: ${JSON.stringify(key)}`);
    return `${key}: ${cleanMessage(value).replace(/\s+/g, ' ').trim()}`;
  });
  return lines.length === 0 ? body : `${body}\n\n${lines.join('\n')}`;
}

/** Parses git's `%(trailers:only,unfold)` output (`Key: value` per line). A repeated key keeps the last value. */
export function parseTrailers(text: string): Trailers {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9][A-Za-z0-9-]*):\s?(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}
