import { z } from 'zod';
import { ENV_SCHEMA } from '../core/config-schema.js';
import { ENV_DESCRIPTIONS } from '../core/config-descriptions.js';
import { generatedNotice, markdownTable, writeWhenRunDirectly } from './docs/markdown.js';

/**
 * docs/configuration.md from the configuration schema: every environment variable with its type
 * and default (read from ENV_SCHEMA itself, so they cannot drift from what loadConfig accepts) and
 * its description (core/config-descriptions.ts). `npm run docs:config` writes it;
 * test/docs/configuration-docs.test.ts fails when the file is not what this renders now.
 */
export const CONFIGURATION_DOC = 'docs/configuration.md';

interface JsonSchemaFacts {
  type?: string;
  enum?: readonly unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
}

const BOOLEAN_WORDS = ['0', '1', 'true', 'false', 'yes', 'no'];
const code = (v: unknown) => `\`${String(v)}\``;

/** The value the operator may write, in words: what ENV_SCHEMA accepts as the variable's text. */
function describeType(schema: z.ZodType): string {
  const facts = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaFacts;
  if (facts.enum) {
    const values = facts.enum.map(String);
    if (values.length === BOOLEAN_WORDS.length && values.every((v) => BOOLEAN_WORDS.includes(v))) return 'boolean (`true`/`false`, `1`/`0`, `yes`/`no`)';
    return `one of ${values.map(code).join(', ')}`;
  }
  if (facts.type === 'integer' || facts.type === 'number') {
    const integer = facts.type === 'integer';
    const kind = integer ? 'integer' : 'number';
    const max = facts.maximum !== undefined && facts.maximum < Number.MAX_SAFE_INTEGER ? facts.maximum : undefined;
    if (facts.minimum !== undefined) return max === undefined ? `${kind} ≥ ${facts.minimum}` : `${kind} ${facts.minimum}–${max}`;
    if (facts.exclusiveMinimum === undefined) return max === undefined ? kind : `${kind} ≤ ${max}`;
    const above = integer ? `≥ ${facts.exclusiveMinimum + 1}` : `> ${facts.exclusiveMinimum}`;
    return max === undefined ? `${kind} ${above}` : `${kind} ${above}, ≤ ${max}`;
  }
  if (facts.format === 'uri') return 'URL';
  if (facts.pattern) return `string matching ${code(facts.pattern)}`;
  return facts.minLength ? 'non-empty string' : 'string';
}

function describeDefault(schema: z.ZodType): string {
  if (!(schema instanceof z.ZodDefault)) return 'unset';
  const value: unknown = schema.def.defaultValue;
  return value === '' ? 'empty' : code(value);
}

export function renderConfigurationDoc(): string {
  const rows = Object.entries(ENV_SCHEMA.shape).map(([name, schema]) => {
    const description = (ENV_DESCRIPTIONS as Record<string, string | undefined>)[name];
    if (!description) throw new Error(`${name} has no description in core/config-descriptions.ts`);
    return [code(name), describeType(schema), describeDefault(schema), description];
  });
  return `${generatedNotice('npm run docs:config', 'core/config-schema.ts (ENV_SCHEMA) and core/config-descriptions.ts')}

# Configuration

Samokoder reads its configuration once, at start (\`core/config.ts\`): an explicit option (the CLI's
flags, a test's overrides) wins, then the environment variable, then the default. An empty variable
counts as unset. The result is validated with zod and frozen; an invalid value stops start-up with
\`E_CONFIG\` and a message naming the variable to fix. Booleans accept \`true\`/\`false\`, \`1\`/\`0\`
and \`yes\`/\`no\`; lists are comma-separated. \`npm start\` needs none of them: every default suits a
single machine.

${markdownTable(['Variable', 'Type', 'Default', 'Description'], rows)}

## Read elsewhere

These are not Samokoder settings but are honoured where they apply:

- \`DOCKER_HOST\`: the Docker engine the sandbox talks to (dockerode's usual resolution; the default
  socket otherwise).
- \`npm_config_registry\`: the package cache's upstream when \`SAMOKODER_PACKAGE_CACHE_UPSTREAM\` is
  unset; \`HTTPS_PROXY\`, \`HTTP_PROXY\`, \`NO_PROXY\` (or npm's \`npm_config_https_proxy\`,
  \`npm_config_proxy\`, \`npm_config_noproxy\`): the proxy it reaches the upstream through.
- \`SAMOKODER_URL\`, \`SAMOKODER_TOKEN\`, \`SAMOKODER_PASSWORD\`: the CLI's service URL, session token
  and password (see [cli.md](cli.md)).
- \`SAMOKODER_CHROMIUM\`, \`TEST_DATABASE_URL\`, \`SAMOKODER_CACHE_DIR\`, \`SAMOKODER_DEBIAN_MIRROR\`,
  \`SAMOKODER_SANDBOX_OFFLINE\`: the test and image-build scripts (see [testing.md](testing.md)).
`;
}

await writeWhenRunDirectly(import.meta.url, CONFIGURATION_DOC, renderConfigurationDoc);
