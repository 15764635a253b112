// The web UI in English, Russian and Ukrainian. The catalogues: every namespace has the same keys in
// each locale, each plural key has every form the locale's plural rules use, and each translation
// keeps its {{placeholders}}. In Debian's headless Chromium, with the browser's language set to each
// locale: every page renders with no missing key, and the Russian and Ukrainian pages show no
// English words outside user content (marked translate="no"), code, and product names.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { ensureWebBuild } from './web-build.js';

const LOCALES_DIR = path.resolve('web/src/i18n/locales');
const LOCALES = ['en', 'ru', 'uk'] as const;
const PLURAL = /_(zero|one|two|few|many|other)$/;

type Catalogue = Record<string, unknown>;
const load = (locale: string, ns: string) => JSON.parse(readFileSync(path.join(LOCALES_DIR, locale, `${ns}.json`), 'utf8')) as Catalogue;

function flatten(c: Catalogue, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(c)) {
    if (v && typeof v === 'object') for (const [kk, vv] of flatten(v as Catalogue, `${prefix}${k}.`)) out.set(kk, vv);
    else out.set(prefix + k, String(v));
  }
  return out;
}

const placeholders = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

describe('catalogues', () => {
  const namespaces = readdirSync(path.join(LOCALES_DIR, 'en')).map((f) => f.replace(/\.json$/, ''));

  test('every locale has every namespace', () => {
    expect(namespaces.length).toBeGreaterThan(5);
    for (const locale of LOCALES) expect(readdirSync(path.join(LOCALES_DIR, locale)).sort()).toEqual(namespaces.map((n) => `${n}.json`).sort());
  });

  test.each(['ru', 'uk'])('%s: the same keys as English, all plural forms, the same placeholders', (locale) => {
    const forms = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
    for (const ns of namespaces) {
      const en = flatten(load('en', ns));
      const tr = flatten(load(locale, ns));
      const base = (keys: Iterable<string>) => new Set([...keys].map((k) => k.replace(PLURAL, '')));
      expect({ ns, keys: [...base(tr.keys())].sort() }).toEqual({ ns, keys: [...base(en.keys())].sort() });
      for (const key of base(en.keys())) {
        const plural = en.has(`${key}_other`);
        const variants = plural ? forms.map((f) => `${key}_${f}`) : [key];
        for (const v of variants) expect({ ns, key: v, present: tr.has(v) }).toEqual({ ns, key: v, present: true });
        const want = placeholders(en.get(plural ? `${key}_other` : key)!);
        for (const v of variants) expect({ ns, key: v, placeholders: placeholders(tr.get(v)!) }).toEqual({ ns, key: v, placeholders: want });
      }
    }
  });
});

describe('pages in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let token: string;
  let projectId: string;
  const email = 'locale@example.com';

  beforeAll(async () => {
    ensureWebBuild();
    server = await startTestServer('pglite', { SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest' });
    const api = apiClient(server.url);
    ({ token } = await registerUser(api, email));
    expect((await api('POST', '/api/user/api-keys', { token, body: { provider: 'openai', apiKey: 'sk-locale-test-0123456789', label: 'мой ключ' } })).status).toBe(201);
    const project = await api('POST', '/api/projects', { token, body: { name: 'Список покупок', prompt: 'Список покупок с тестами' } });
    expect(project.status).toBe(201);
    projectId = (project.body as { project: { id: string } }).project.id;
    ({ browser, close: closeBrowser } = await launchBrowser());
  }, 300_000);
  afterAll(async () => {
    await closeBrowser?.();
    await server?.close();
  });

  /** Words in Latin letters that are names, not English: brands, formats, and identifiers on screen. */
  const ALLOWED = new Set(['Samokoder', 'API', 'ZIP', 'OpenAI', 'Anthropic', 'Groq', 'OpenRouter', 'Ollama', 'ollama', 'LM', 'Studio', 'vLLM', 'URL', 'Docker', 'diff', 'English', 'Free', 'Pro', 'Team', 'USD', 'Node', 'js', 'Markdown', 'JSON', 'Git', 'git', 'GitHub', 'GitLab', 'Gitea', 'SSH', 'ssh']);

  /** The visible text of the page outside code, pre and translate="no" elements. */
  // Runs in the page (a string: this project's type-check has no DOM library).
  const TRANSLATABLE_TEXT = `(() => {
    const skip = (el) => !!el.closest('code, pre, script, style, [translate="no"], option');
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const parts = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || skip(el) || !el.offsetParent) continue;
      parts.push(n.textContent || '');
    }
    // Labels users hear and see too: aria-labels, titles, placeholders.
    for (const el of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
      if (skip(el)) continue;
      for (const a of ['aria-label', 'title', 'placeholder']) parts.push(el.getAttribute(a) || '');
    }
    return parts.join('\\n');
  })()`;

  /** The visible text of the page outside code, pre and translate="no" elements. */
  const translatableText = (page: Page) => page.evaluate<string>(TRANSLATABLE_TEXT);

  function englishWords(text: string): string[] {
    // URLs of any scheme, e-mail addresses, key prefixes and «quoted» literals are values to type, not prose.
    const stripped = text.replace(/[a-z]+:\/\/\S*/g, ' ').replace(/«[^»]*»/g, ' ').replace(/\S+@\S+/g, ' ').replace(/sk-\S+/g, ' ');
    return [...new Set(stripped.match(/[A-Za-z][A-Za-z'’-]*[A-Za-z]/g) ?? [])].filter((w) => !ALLOWED.has(w));
  }

  async function check(page: Page, locale: string, name: string): Promise<void> {
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: path.join(ARTIFACTS, `locale-${locale}-${name}.png`), fullPage: true });
    const missing = await page.evaluate(() => [...((globalThis as unknown as { __samokoderMissingKeys?: Set<string> }).__samokoderMissingKeys ?? [])]);
    expect({ page: name, missing }).toEqual({ page: name, missing: [] });
    expect(await page.evaluate('document.documentElement.lang')).toBe(locale);
    if (locale !== 'en') expect({ page: name, english: englishWords(await translatableText(page)) }).toEqual({ page: name, english: [] });
  }

  test.each(LOCALES)('%s: the browser language picks the locale and every page is fully translated', async (locale) => {
    const context = await browser.newContext({ locale: locale === 'en' ? 'en-US' : locale === 'ru' ? 'ru-RU' : 'uk-UA', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('dialog', (d) => void d.dismiss());

    await page.goto(`${server.url}/login`);
    await page.locator('form button[type="submit"]').waitFor();
    await check(page, locale, 'login');
    await page.goto(`${server.url}/signup`);
    await page.locator('form button[type="submit"]').waitFor();
    await check(page, locale, 'signup');

    await context.addInitScript(`localStorage.setItem('samokoder.token', ${JSON.stringify(token)})`);
    for (const [name, url, ready] of [
      ['projects', '/', `a[href="/projects/${projectId}"]`],
      ['keys', '/keys', 'tr[data-key-id]'],
      ['usage', '/usage', '[role="progressbar"]'],
      ['project', `/projects/${projectId}`, '[role="tab"]'],
    ] as const) {
      await page.goto(server.url + url);
      await page.locator(ready).first().waitFor();
      await check(page, locale, name);
    }
    for (const [i, name] of ['files', 'history', 'preview', 'chat'].entries()) {
      await page.locator('[role="tab"]').nth(i + 1).click();
      await page.locator(`#panel-${name}`).waitFor();
      await check(page, locale, `project-${name}`);
    }
    await context.close();
  }, 120_000);

  test('the language switch changes the page at once and is remembered', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    await context.addInitScript(`localStorage.setItem('samokoder.token', ${JSON.stringify(token)})`);
    const page = await context.newPage();
    await page.goto(`${server.url}/keys`);
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page.getByRole('combobox', { name: 'Language' }).selectOption('uk');
    await page.getByRole('heading', { name: 'API-ключі', level: 1 }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'API-ключі', level: 1 }).waitFor();
    expect(await page.evaluate("localStorage.getItem('samokoder.locale')")).toBe('uk');
    await context.close();
  }, 60_000);
});
