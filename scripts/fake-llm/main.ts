import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadSuite } from '../../evals/suite.js';
import { evalSuiteResponder } from './eval-suite.js';
import { startFakeLlm, type FakeResponder, type FakeScript } from './server.js';

/**
 * `npm run fake-llm -- --script FILE [--port N]`: the fake LLM server, standalone, for demos.
 * `--eval-suite NAME [--eval-fail ID,…] [--eval-via-fixer ID,…]`: it solves the suite's specs with
 * their reference solutions (--eval-fail: with their wrong ones; --eval-via-fixer: in the fixer's
 * first round), for `npm run eval` against it.
 */
const { values } = parseArgs({ options: { script: { type: 'string' }, port: { type: 'string' }, 'eval-suite': { type: 'string' }, 'eval-fail': { type: 'string' }, 'eval-via-fixer': { type: 'string' } } });
const script: FakeScript = values.script ? (JSON.parse(await readFile(values.script, 'utf8')) as FakeScript) : {};
const suite = values['eval-suite'] ? await loadSuite(values['eval-suite']) : undefined;
const ids = (list: string | undefined): string[] => (list ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const fail = ids(values['eval-fail']);
const responder: FakeResponder | undefined = suite ? evalSuiteResponder(suite, { fail, viaFixer: ids(values['eval-via-fixer']) }) : undefined;
const fake = await startFakeLlm({ script, port: values.port ? Number(values.port) : 0, ...(responder ? { responder } : {}) });

console.log(`Samokoder fake LLM listening on ${fake.url}`);
console.log('It is a scripted model: it does not understand prompts, it plays back its script');
if (suite) console.log(`(the eval suite ${suite.name}: reference solutions${fail.length ? `, wrong ones for ${fail.join(', ')}` : ''}), else a fixed default text.`);
else console.log(`(${script.turns?.length ?? 0} turns${values.script ? ` from ${values.script}` : ''}), then answers with a fixed default text.`);
console.log('Base URLs to configure:');
for (const [provider, url] of Object.entries(fake.baseUrls)) console.log(`  ${provider.padEnd(18)} ${url}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void fake.close().then(() => process.exit(0));
  });
}
