import { defaultPreviewOrigin, loadConfig } from '../../core/config.js';
import { AppError } from '../../core/errors.js';
import { parseMasterKey } from '../../core/master-key.js';

describe('configuration', () => {
  test('defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.database.url).toBeUndefined();
    expect(c.defaultPlan).toBe('free');
    expect(c.dataDir).toMatch(/\/data$/);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.supabase)).toBe(true);
  });

  test('explicit options win over the environment, which wins over defaults', () => {
    expect(loadConfig({ PORT: '4000' }).port).toBe(4000);
    expect(loadConfig({ PORT: '4000' }, { PORT: 5000 }).port).toBe(5000);
    expect(loadConfig({ PORT: '' }).port).toBe(3000);
    expect(loadConfig({}).pipeline.maxAttempts).toBe(5);
    expect(loadConfig({ SAMOKODER_RUN_MAX_ATTEMPTS: '8' }).pipeline.maxAttempts).toBe(8);
  });

  test('private LLM base URLs (keys\' own Ollama on localhost) are allowed unless the operator says false', () => {
    expect(loadConfig({}).llm.allowPrivateBaseUrls).toBe(true);
    expect(loadConfig({ SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS: 'false' }).llm.allowPrivateBaseUrls).toBe(false);
    expect(loadConfig({ SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS: '0' }, { SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS: true }).llm.allowPrivateBaseUrls).toBe(true);
  });

  test.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ SUPABASE_JWKS_URL: 'not a url' }, 'SUPABASE_JWKS_URL'],
    [{ SAMOKODER_BODY_LIMIT: 'huge' }, 'SAMOKODER_BODY_LIMIT'],
    [{ SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS: 'maybe' }, 'SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS'],
    [{ SAMOKODER_RUN_MAX_ATTEMPTS: '0' }, 'SAMOKODER_RUN_MAX_ATTEMPTS'],
  ])('an invalid value fails loudly naming the variable: %o', (env, variable) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('E_CONFIG');
    expect((error as AppError).message).toContain(variable);
  });

  test('master keys: 32 bytes as hex or base64, anything else is a clear error', () => {
    const hex = 'ab'.repeat(32);
    const fromHex = parseMasterKey(hex, 'SAMOKODER_MASTER_KEY');
    const fromB64 = parseMasterKey(Buffer.from(hex, 'hex').toString('base64'), 'SAMOKODER_MASTER_KEY');
    expect(fromHex.id).toBe(fromB64.id);
    expect(fromHex.id).toMatch(/^mk_[0-9a-f]{12}$/);
    expect(() => parseMasterKey('too-short', 'SAMOKODER_MASTER_KEY')).toThrow(/SAMOKODER_MASTER_KEY must be 32 random bytes/);
  });
  test('previews: own hosts under localhost on a loopback listener (never the UI host, whose cookies any port gets), the listen host otherwise', () => {
    expect(loadConfig({}).preview.origin).toBe('http://*.localhost:3001');
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '8080' }).preview.origin).toBe('http://*.localhost:8081');
    expect(defaultPreviewOrigin('::1', 4001)).toBe('http://*.localhost:4001');
    expect(defaultPreviewOrigin('192.168.1.20', 3001)).toBe('http://192.168.1.20:3001');
    expect(defaultPreviewOrigin('fd00::2', 3001)).toBe('http://[fd00::2]:3001');
    expect(loadConfig({ SAMOKODER_PREVIEW_ORIGIN: 'https://*.preview.example.com' }).preview.origin).toBe('https://*.preview.example.com');
  });

  test('a CORS origin where previews are served is refused at start', () => {
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        return (err as AppError).code === 'E_CONFIG' ? (err as AppError).message : 'other';
      }
      return 'accepted';
    };
    expect(refused({ SAMOKODER_PREVIEW_ORIGIN: 'https://*.preview.example.com', SAMOKODER_CORS_ORIGINS: 'https://app.example.com,https://abc.preview.example.com' }))
      .toMatch(/SAMOKODER_CORS_ORIGINS: https:\/\/abc\.preview\.example\.com is where previews are served/);
    expect(refused({ SAMOKODER_PREVIEW_ORIGIN: 'https://previews.example.com', SAMOKODER_CORS_ORIGINS: 'https://previews.example.com' })).toMatch(/is where previews are served/);
    expect(refused({ SAMOKODER_PREVIEW_ORIGIN: 'https://*.preview.example.com', SAMOKODER_CORS_ORIGINS: 'https://app.example.com,https://preview.example.com' })).toBe('accepted');
  });
});
