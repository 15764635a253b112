import { AppError } from '../core/errors.js';

/** Longest relative path accepted, in UTF-8 bytes (Linux PATH_MAX is 4096 for the whole path). */
export const MAX_PATH_BYTES = 1024;
/** Longest single name, in UTF-8 bytes (NAME_MAX on Linux filesystems). */
export const MAX_NAME_BYTES = 255;

export interface SafePath {
  /** The normalised path: segments joined with `/`, no `.`, no empty segments. */
  readonly rel: string;
  readonly segments: readonly string[];
}

const unsafe = (raw: string, why: string): AppError =>
  new AppError('E_PATH_UNSAFE', `Path refused (${why}): ${JSON.stringify(raw.slice(0, 200))}`, { details: { reason: why } });

/**
 * Parses a workspace-relative path supplied by a model or a client. This is purely lexical; the
 * filesystem side (no symlink on the way) is checked by fs-guard when the path is used.
 *
 * Refused: non-strings, empty, absolute (`/x`, `C:…`), NUL and other control characters, any
 * backslash (a separator on Windows, so `..\\x` in an archive unpacked there would escape),
 * `..` segments, overlong paths or names. `.` and repeated slashes are dropped (`./a//b` = `a/b`).
 */
export function parseSafePath(raw: unknown): SafePath {
  if (typeof raw !== 'string') throw unsafe(String(raw), 'not a string');
  if (raw.length === 0) throw unsafe(raw, 'empty');
  if (Buffer.byteLength(raw, 'utf8') > MAX_PATH_BYTES) throw unsafe(raw, 'too long');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw unsafe(raw, 'control character');
  if (raw.includes('\\')) throw unsafe(raw, 'backslash');
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw unsafe(raw, 'absolute');
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0) throw unsafe(raw, 'empty');
  for (const s of segments) {
    if (s === '..') throw unsafe(raw, '".." segment');
    if (Buffer.byteLength(s, 'utf8') > MAX_NAME_BYTES) throw unsafe(raw, 'name too long');
  }
  return { rel: segments.join('/'), segments };
}

/**
 * True when a single directory-entry name read from disk may be exported or listed. Such names
 * never contain `/` or NUL; backslashes and control characters are refused because an archive
 * consumer on another OS could read them as separators or mangle them.
 */
export function isSafeEntryName(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  return name !== '' && name !== '.' && name !== '..' && !/[\\\u0000-\u001f\u007f]/.test(name) && !name.includes('\uFFFD');
}
