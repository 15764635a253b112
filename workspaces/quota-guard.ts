import { isNoSpace, quotaExceeded } from './disk-quota.js';
import type { WorkspaceFiles, WorkspaceHistory, WorkspaceQuota } from './port.js';

/**
 * The service's own writes under the quota: the files API, the agents' write_file and every git
 * operation that stores objects. A volume refuses them itself (ENOSPC, turned into
 * E_WORKSPACE_QUOTA here); a reactive quota is checked before each write and commit, so a commit
 * never stores a workspace that is over it.
 */
export function guardFiles(files: WorkspaceFiles, quota: WorkspaceQuota): WorkspaceFiles {
  if (quota.mode === 'off') return files;
  return {
    readFile: (p, options) => files.readFile(p, options),
    deleteFile: (p) => files.deleteFile(p),
    tree: (options) => files.tree(options),
    async writeFile(p, content) {
      if (quota.mode === 'reactive') {
        const u = await quota.usage();
        const size = typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
        if (u.usedBytes + size > u.limitBytes) throw quotaExceeded(u, `${p} (${size} bytes) was not written`);
      }
      return onNoSpace(quota, `${p} was not written`, () => files.writeFile(p, content));
    },
  };
}

export function guardHistory(history: WorkspaceHistory, quota: WorkspaceQuota): WorkspaceHistory {
  if (quota.mode === 'off') return history;
  const beforeCommit = async (what: string): Promise<void> => {
    if (quota.mode !== 'reactive') return;
    const u = await quota.usage();
    if (u.full) throw quotaExceeded(u, what);
  };
  return {
    async commitAll(message, trailers) {
      await beforeCommit('The step was not committed');
      return onNoSpace(quota, 'The step was not committed', () => history.commitAll(message, trailers));
    },
    async revert(toSha, message, trailers) {
      await beforeCommit('The revert was not committed');
      return onNoSpace(quota, 'The revert was not committed', () => history.revert(toSha, message, trailers));
    },
    history: (options) => history.history(options),
    diff: (from, to, options) => history.diff(from, to, options),
    resetToHead: () => onNoSpace(quota, 'The workspace was not reset', () => history.resetToHead()),
    headSha: () => history.headSha(),
    maintain: () => history.maintain(),
  };
}

/** Runs `work`; the filesystem being full becomes E_WORKSPACE_QUOTA. */
export async function onNoSpace<T>(quota: WorkspaceQuota, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!isNoSpace(err)) throw err;
    throw quotaExceeded(await quota.usage(), what, err);
  }
}
