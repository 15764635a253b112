import { parseArgs } from 'node:util';
import type { ApiKey } from '../../protocol/api-types.js';
import { enc } from '../client.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { table } from '../format.js';
import { REMOTE_HELP, REMOTE_OPTIONS, remoteClient } from '../remote.js';

export const KEYS_HELP = `samokoder keys add --provider P --key-env VAR [--base-url URL] [--label L] [--validate [--validate-model M]]
samokoder keys list
samokoder keys rm ID

Manages your stored API keys on a running service. The key is read from the environment variable
named by --key-env, never from the command line (it would land in your shell history), and it
is never printed: the service shows keys masked.

${REMOTE_HELP}`;

export async function keysCommand(argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...REMOTE_OPTIONS,
      provider: { type: 'string' },
      'key-env': { type: 'string' },
      'base-url': { type: 'string' },
      label: { type: 'string' },
      validate: { type: 'boolean', default: false },
      'validate-model': { type: 'string' },
    },
  });
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    process.stdout.write(KEYS_HELP);
    return values.help ? EXIT.OK : EXIT.BAD_INPUT;
  }
  const api = remoteClient(values);
  switch (action) {
    case 'add': {
      if (!values.provider) throw new CliError('--provider is required (anthropic, openai, groq, openrouter, openai-compatible).', EXIT.BAD_INPUT);
      if (!values['key-env']) throw new CliError('--key-env VAR is required: the environment variable that holds the key.', EXIT.BAD_INPUT);
      const apiKey = process.env[values['key-env']];
      if (!apiKey) throw new CliError(`the environment variable ${values['key-env']} is not set.`, EXIT.BAD_INPUT);
      const body = {
        provider: values.provider,
        apiKey,
        ...(values.label ? { label: values.label } : {}),
        ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}),
        ...(values.validate ? { validate: true } : {}),
        ...(values['validate-model'] ? { validateModel: values['validate-model'] } : {}),
      };
      const key = await api.json<ApiKey>('POST', '/api/user/api-keys', body);
      if (values.json) console.log(JSON.stringify(key, null, 2));
      else console.log(`stored ${key.provider} key ${key.masked} as ${key.id}`);
      return EXIT.OK;
    }
    case 'list':
    case 'ls': {
      const body = await api.json<{ keys?: ApiKey[] } | ApiKey[]>('GET', '/api/user/api-keys');
      const keys = Array.isArray(body) ? body : (body.keys ?? []);
      if (values.json) console.log(JSON.stringify(keys, null, 2));
      else if (keys.length === 0) console.log('no keys stored');
      else console.log(table([['ID', 'PROVIDER', 'KEY', 'LABEL', 'BASE URL'], ...keys.map((k) => [k.id, k.provider, k.masked, k.label ?? '', k.baseUrl ?? ''])]));
      return EXIT.OK;
    }
    case 'rm':
    case 'remove':
    case 'delete': {
      if (rest.length === 0) throw new CliError('which key? samokoder keys rm ID (samokoder keys list shows the ids)', EXIT.BAD_INPUT);
      for (const id of rest) {
        await api.raw('DELETE', `/api/user/api-keys/${enc(id)}`);
        console.log(`deleted ${id}`);
      }
      return EXIT.OK;
    }
    default:
      throw new CliError(`unknown keys action "${action}": use add, list or rm.`, EXIT.BAD_INPUT);
  }
}
