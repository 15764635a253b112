import { rmSync } from 'node:fs';

export default async function globalTeardown() {
  await globalThis.__SAMOKODER_PG__?.stop();
  const templateDir = globalThis.__SAMOKODER_PGLITE_TEMPLATE_DIR__;
  if (templateDir) rmSync(templateDir, { recursive: true, force: true });
}
