import { parseArgs } from 'node:util';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { REMOTE_HELP, REMOTE_OPTIONS, remoteClient } from '../remote.js';

export const LOGIN_HELP = `samokoder login --email E [--password-env VAR] [--register]

Signs in to a running service and prints a token to export as SAMOKODER_TOKEN. The password comes
from the environment variable named by --password-env (default SAMOKODER_PASSWORD).
--register creates the account first.

${REMOTE_HELP}`;

export async function loginCommand(argv: string[]): Promise<ExitCode> {
  const { values } = parseArgs({
    args: argv,
    options: { ...REMOTE_OPTIONS, email: { type: 'string' }, 'password-env': { type: 'string', default: 'SAMOKODER_PASSWORD' }, register: { type: 'boolean', default: false } },
  });
  if (values.help) {
    process.stdout.write(LOGIN_HELP);
    return EXIT.OK;
  }
  if (!values.email) throw new CliError('--email is required.', EXIT.BAD_INPUT);
  const password = process.env[values['password-env']];
  if (!password) throw new CliError(`the environment variable ${values['password-env']} is not set (it holds the password).`, EXIT.BAD_INPUT);
  const api = remoteClient(values, false);
  const { token } = await api.json<{ token: string }>('POST', values.register ? '/api/auth/register' : '/api/auth/login', { email: values.email, password });
  if (values.json) console.log(JSON.stringify({ token }));
  else console.log(`export SAMOKODER_TOKEN=${token}`);
  return EXIT.OK;
}
