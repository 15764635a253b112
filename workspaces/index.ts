/** The workspaces module: safe file access, git history and ZIP export, one directory per project. */
export type * from './port.js';
export { LocalWorkspaceStore, type LocalWorkspaceStoreOptions } from './store.js';
export { exportWorkspaceZip, EXPORT_EXCLUDED_DIRS, type ExportSource } from './export.js';
export { parseSafePath, type SafePath } from './safe-path.js';
export { GIT_AUTHOR } from './git.js';
