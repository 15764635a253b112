import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startFakeLlm, type FakeScript } from './server.js';

/** `npm run fake-llm -- --script FILE [--port N]`: the fake LLM server, standalone, for demos. */
const { values } = parseArgs({ options: { script: { type: 'string' }, port: { type: 'string' } } });
const script: FakeScript = values.script ? (JSON.parse(await readFile(values.script, 'utf8')) as FakeScript) : {};
const fake = await startFakeLlm({ script, port: values.port ? Number(values.port) : 0 });

console.log(`Samokoder fake LLM listening on ${fake.url}`);
console.log('It is a scripted model: it does not understand prompts, it plays back its script');
console.log(`(${script.turns?.length ?? 0} turns${values.script ? ` from ${values.script}` : ''}), then answers with a fixed default text.`);
console.log('Base URLs to configure:');
for (const [provider, url] of Object.entries(fake.baseUrls)) console.log(`  ${provider.padEnd(18)} ${url}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void fake.close().then(() => process.exit(0));
  });
}
