import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { isSafeEntryName } from './safe-path.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface WalkEntry {
  /** Relative to the walk root, `/`-separated. */
  readonly rel: string;
  readonly abs: string;
  readonly type: EntryType;
}

export interface WalkOptions {
  /** A directory for which this returns true is neither yielded nor entered. */
  readonly skipDir?: (rel: string, name: string) => boolean;
  readonly signal?: AbortSignal;
}

/**
 * Depth-first walk in a fixed order (names sorted by code unit in each directory), without
 * following symlinks: the type comes from the directory entry (lstat semantics), so a symlink is
 * yielded as 'symlink' and never entered. Entries with unsafe names (backslash, control
 * characters, not valid UTF-8) are left out. Only one directory listing per level is held, so
 * memory stays flat for large trees.
 */
export async function* walk(root: string, options: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  yield* walkDir(root, '', options);
}

async function* walkDir(abs: string, rel: string, options: WalkOptions): AsyncGenerator<WalkEntry> {
  options.signal?.throwIfAborted();
  // Re-checked right before listing: a directory swapped for a symlink since its parent was
  // listed is skipped rather than followed.
  if (!(await fsp.lstat(abs)).isDirectory()) return;
  const dirents = await fsp.readdir(abs, { withFileTypes: true });
  dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of dirents) {
    if (!isSafeEntryName(d.name)) continue;
    const childRel = rel === '' ? d.name : `${rel}/${d.name}`;
    const childAbs = path.join(abs, d.name);
    if (d.isSymbolicLink()) yield { rel: childRel, abs: childAbs, type: 'symlink' };
    else if (d.isFile()) yield { rel: childRel, abs: childAbs, type: 'file' };
    else if (d.isDirectory()) {
      if (options.skipDir?.(childRel, d.name)) continue;
      yield { rel: childRel, abs: childAbs, type: 'dir' };
      yield* walkDir(childAbs, childRel, options);
    } else yield { rel: childRel, abs: childAbs, type: 'other' };
  }
}
