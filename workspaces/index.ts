/** The workspaces module: safe file access, git history and ZIP export, one directory per project. */
export type * from './port.js';
export { LocalWorkspaceStore, type LocalWorkspaceStoreOptions, type WorkspaceQuotaOptions } from './store.js';
export { mib, NO_SPACE_TEXT, type QuotaSetting } from './disk-quota.js';
export { checkDiskReserve } from './disk-reserve.js';
export { exportWorkspaceZip, EXPORT_EXCLUDED_DIRS, type ExportSource } from './export.js';
export { parseSafePath, type SafePath } from './safe-path.js';
export { GIT_AUTHOR } from './git.js';
