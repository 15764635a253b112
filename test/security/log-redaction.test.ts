import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { createLogger } from '../../core/logger.js';
import { ProviderError } from '../../llm/providers/provider-errors.js';
import { callSecrets, scrubError } from '../../llm/providers/scrub-secrets.js';
import { fakeSecret } from '../keys/fixtures.js';

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}

describe('secrets in errors and log lines', () => {
  test('scrubError removes the call\'s key and base-URL credentials from the whole cause chain', () => {
    const apiKey = `custom-${fakeSecret('')}`;
    const password = `pw-${fakeSecret('')}`;
    const queryKey = `q-${fakeSecret('')}`;
    const sdkError = Object.assign(new Error(`401 Incorrect API key provided: ${apiKey}`), {
      status: 401,
      error: { error: { message: `Incorrect API key provided: ${apiKey}`, details: [{ echoed: `${password} ${queryKey}` }] } },
      headers: new Headers({ 'x-echo': apiKey }),
      cause: new Error(`socket said ${password}`, { cause: `string cause ${queryKey}` }),
    });
    const err = new ProviderError('E_PROVIDER_AUTH', `openai rejected the API key (401): ${sdkError.message}`, { provider: 'openai', providerStatus: 401, cause: sdkError });
    const secrets = callSecrets({ apiKey, baseUrl: `https://user:${password}@llm.example.com/v1?key=${queryKey}` });

    const scrubbed = scrubError(err, secrets);
    expect(scrubbed).toBe(err);
    expect(scrubbed.code).toBe('E_PROVIDER_AUTH');
    const everything = [inspect(scrubbed, { depth: 20, showHidden: true }), scrubbed.stack, JSON.stringify(scrubbed)].join('\n');
    for (const secret of [apiKey, password, queryKey]) expect(everything).not.toContain(secret);
    // What helps is kept: the provider's words, the status, the key's last four characters.
    expect(scrubbed.message).toContain(`Incorrect API key provided: …${apiKey.slice(-4)}`);
    expect((scrubbed.cause as { status?: number }).status).toBe(401);
  });

  test('the logger blanks credential-shaped strings anywhere in a line (message, stack, nested cause)', () => {
    const { lines, logger } = capture();
    const openai = fakeSecret('sk-proj-');
    const anthropic = fakeSecret('sk-ant-api03-');
    const groq = `gsk_${fakeSecret('').replace(/-/g, '')}`;
    const github = `ghp_${'a1B2'.repeat(9)}`;
    const bearer = fakeSecret('tok');
    const err = new Error(`provider said: Incorrect API key provided: ${openai}`, {
      cause: new Error(`nested ${anthropic} and ${groq}`, { cause: new Error(`git: https://x:${github}@github.com/o/r.git`) }),
    });
    logger.error({ err, header: `Authorization: Bearer ${bearer}` }, `call failed for ${openai}`);
    const text = lines.join('');
    for (const secret of [openai, anthropic, groq, github, bearer]) expect(text).not.toContain(secret);
    expect(text).toContain('sk-[redacted]');
    expect(text).toContain('gsk_[redacted]');
    expect(text).toContain('Incorrect API key provided');
  });
});
