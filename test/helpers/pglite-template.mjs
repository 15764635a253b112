// A freshly initialised, empty PGlite cluster, dumped once per run (Jest's global setup). Each
// test's PGlite database starts from this tarball instead of running initdb again: the same
// cluster a fresh `new PGlite()` makes, at about a third of the cost (initdb is most of it).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';

/** Writes the template tarball into `dir` and returns its path. */
export async function writePgliteTemplate(dir) {
  const db = new PGlite();
  await db.waitReady;
  const dump = await db.dumpDataDir('none');
  await db.close();
  const file = path.join(dir, 'pglite-template.tar');
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  return file;
}
