import { ApiClient } from './client.js';
import { CliError, EXIT } from './exit-codes.js';

export const REMOTE_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

export const REMOTE_HELP = `  --url URL      the service (default: $SAMOKODER_URL, else http://127.0.0.1:3000)
  --token T      a bearer token (default: $SAMOKODER_TOKEN); get one with \`samokoder login\`
  --json         print JSON
`;

/** A client for a running service: URL and token from flags or the environment. */
export function remoteClient(values: { url?: string | undefined; token?: string | undefined }, needToken = true): ApiClient {
  const url = values.url ?? process.env.SAMOKODER_URL ?? 'http://127.0.0.1:3000';
  const token = values.token ?? process.env.SAMOKODER_TOKEN;
  if (needToken && !token) throw new CliError('no token: pass --token or set SAMOKODER_TOKEN (samokoder login prints one).', EXIT.BAD_INPUT);
  return new ApiClient(url, token);
}
