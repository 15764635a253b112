/** How much of a file is scanned for a NUL byte (git and most editors use the same 8 KB). */
const SNIFF_BYTES = 8 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes `bytes` as UTF-8 text, or returns undefined for binary content: a NUL byte in the
 * first 8 KB, or bytes that are not valid UTF-8.
 */
export function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.subarray(0, SNIFF_BYTES).includes(0)) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}
