// The tests read exports with the same reader the evaluation uses.
export { extractZip, readEntry, zipEntries, type ZipEntry } from '../../workspaces/zip/read.js';
