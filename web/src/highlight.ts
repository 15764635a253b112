// Syntax highlighting with highlight.js core and the languages generated projects use most.
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import css from 'highlight.js/lib/languages/css';
import go from 'highlight.js/lib/languages/go';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import diff from 'highlight.js/lib/languages/diff';

const languages = { bash, css, go, javascript, json, markdown, python, rust, sql, typescript, xml, yaml, diff };
for (const [name, lang] of Object.entries(languages)) hljs.registerLanguage(name, lang);

const BY_EXTENSION: Record<string, string> = {
  js: 'javascript', mjs: 'javascript', cjs: 'javascript', jsx: 'javascript',
  ts: 'typescript', tsx: 'typescript', mts: 'typescript', cts: 'typescript',
  json: 'json', css: 'css', scss: 'css', html: 'xml', htm: 'xml', xml: 'xml', svg: 'xml',
  md: 'markdown', py: 'python', sh: 'bash', bash: 'bash', yml: 'yaml', yaml: 'yaml',
  go: 'go', rs: 'rust', sql: 'sql', diff: 'diff', patch: 'diff',
};

export function languageOf(path: string): string | undefined {
  const name = path.split('/').pop() ?? '';
  if (name === 'Dockerfile' || name === 'Makefile') return 'bash';
  return BY_EXTENSION[name.split('.').pop()?.toLowerCase() ?? ''];
}

/** HTML with highlight.js spans (the input is escaped by highlight.js); undefined when unknown or too large. */
export function highlight(code: string, path: string): string | undefined {
  const language = languageOf(path);
  if (!language || code.length > 300_000) return undefined;
  return hljs.highlight(code, { language, ignoreIllegals: true }).value;
}
