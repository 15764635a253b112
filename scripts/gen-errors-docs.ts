import { ERROR_CATALOGUE } from '../core/errors.js';
import { generatedNotice, markdownTable, writeWhenRunDirectly } from './docs/markdown.js';

/**
 * docs/errors.md from ERROR_CATALOGUE: one row per code with its HTTP status, whether retrying can
 * succeed, and its summary. `npm run docs:errors` writes it; test/error-catalogue.test.ts fails
 * when the file is not what this renders now.
 */
export const ERRORS_DOC = 'docs/errors.md';

export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(([code, entry]) => [`\`${code}\``, String(entry.status), entry.retryable ? 'yes' : 'no', entry.summary]);
  return `${generatedNotice('npm run docs:errors', 'core/errors.ts (ERROR_CATALOGUE)')}

# Error codes

Every error the service reports — an HTTP answer, a WebSocket \`error\` frame, a run's failure — has
one of these stable codes. HTTP errors have the body \`{"error":{"code","message","details?"}}\`:
\`code\` is for programs, \`message\` says what to fix, \`details\` holds machine-readable facts
(never a secret). *Retry?* says whether the same request can succeed later; when the service knows
when, it sends \`Retry-After\` (seconds). The CLI's exit codes are in [cli.md](cli.md).

${markdownTable(['Code', 'HTTP', 'Retry?', 'Meaning and what to do'], rows)}
`;
}

await writeWhenRunDirectly(import.meta.url, ERRORS_DOC, renderErrorsDoc);
