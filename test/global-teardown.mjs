export default async function globalTeardown() {
  await globalThis.__SAMOKODER_PG__?.stop();
}
