import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { GitCredential, ImportResult, PushResult } from '../../protocol/gitio-types.js';
import { enc } from '../client.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { table } from '../format.js';
import { REMOTE_HELP, REMOTE_OPTIONS, remoteClient } from '../remote.js';

const HOST_KEY_HELP = `For ssh remotes other than github.com, --host-key gives the server's SSH host key: its
fingerprint (SHA256:…) or the line ssh-keyscan prints; a server showing another key is refused.`;

export const IMPORT_HELP = `samokoder import <git-url | file.zip> [--ref BRANCH] [--credential ID] [--host-key KEY] [--name NAME]

Imports a git repository (a shallow clone of --ref, default the remote's default branch) or a
ZIP file as a new project whose history starts with one "Imported" commit. Every run on it is a
change request. A private repository needs a stored credential (samokoder git-credentials add).
${HOST_KEY_HELP}

${REMOTE_HELP}`;

export const PUSH_HELP = `samokoder push <project-id> <remote-url> [--branch main] [--credential ID] [--host-key KEY] [--force]

Pushes the project's history to a branch of any git remote. A push that would overwrite commits
on the remote is refused (exit 2) unless --force is given.
${HOST_KEY_HELP}

${REMOTE_HELP}`;

export const GIT_CREDENTIALS_HELP = `samokoder git-credentials add --kind token --secret-env VAR [--username U] [--label L]
samokoder git-credentials add --kind ssh-key --key-file PATH [--label L]
samokoder git-credentials list
samokoder git-credentials rm ID

Stores a credential for import and push: a token (for https:// remotes; read from the environment
variable named by --secret-env, never from the command line) or an SSH private key (read from a
file). The service stores it encrypted and shows it masked.

${REMOTE_HELP}`;

const isZipFile = async (arg: string): Promise<boolean> => /\.zip$/i.test(arg) && (await stat(arg).then((s) => s.isFile(), () => false));

export async function importCommand(argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...REMOTE_OPTIONS, ref: { type: 'string' }, credential: { type: 'string' }, 'host-key': { type: 'string' }, name: { type: 'string' } },
  });
  const [source] = positionals;
  if (values.help || !source || positionals.length > 1) {
    process.stdout.write(IMPORT_HELP);
    return values.help ? EXIT.OK : EXIT.BAD_INPUT;
  }
  const api = remoteClient(values);
  let result: ImportResult;
  if (await isZipFile(source)) {
    if (values.ref || values.credential || values['host-key']) throw new CliError('--ref, --credential and --host-key are for git URLs, not ZIP files.', EXIT.BAD_INPUT);
    const form = new FormData();
    if (values.name) form.append('name', values.name);
    form.append('file', new Blob([await readFile(source)], { type: 'application/zip' }), path.basename(source));
    result = await api.json<ImportResult>('POST', '/api/projects/import', form);
  } else {
    result = await api.json<ImportResult>('POST', '/api/projects/import', {
      gitUrl: source,
      ...(values.ref ? { ref: values.ref } : {}),
      ...(values.credential ? { credentialId: values.credential } : {}),
      ...(values['host-key'] ? { hostKey: values['host-key'] } : {}),
      ...(values.name ? { name: values.name } : {}),
    });
  }
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`imported ${result.import.files} files as project ${result.project.id} (${result.project.name})`);
    if (result.import.skipped.length) console.log(`left out: ${result.import.skipped.join(', ')}`);
  }
  return EXIT.OK;
}

export async function pushCommand(argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...REMOTE_OPTIONS, branch: { type: 'string', default: 'main' }, credential: { type: 'string' }, 'host-key': { type: 'string' }, force: { type: 'boolean', default: false } },
  });
  const [projectId, remoteUrl] = positionals;
  if (values.help || !projectId || !remoteUrl || positionals.length > 2) {
    process.stdout.write(PUSH_HELP);
    return values.help ? EXIT.OK : EXIT.BAD_INPUT;
  }
  const body = {
    remoteUrl,
    branch: values.branch,
    ...(values.credential ? { credentialId: values.credential } : {}),
    ...(values['host-key'] ? { hostKey: values['host-key'] } : {}),
    ...(values.force ? { force: true } : {}),
  };
  const { push } = await remoteClient(values).json<{ push: PushResult }>('POST', `/api/projects/${enc(projectId)}/push`, body);
  if (values.json) console.log(JSON.stringify(push, null, 2));
  else console.log(`pushed ${push.sha.slice(0, 12)} to ${push.branch} of ${push.remote}${push.forced ? ' (forced)' : ''}`);
  return EXIT.OK;
}

export async function gitCredentialsCommand(argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...REMOTE_OPTIONS, kind: { type: 'string' }, 'secret-env': { type: 'string' }, 'key-file': { type: 'string' }, username: { type: 'string' }, label: { type: 'string' } },
  });
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    process.stdout.write(GIT_CREDENTIALS_HELP);
    return values.help ? EXIT.OK : EXIT.BAD_INPUT;
  }
  const api = remoteClient(values);
  switch (action) {
    case 'add': {
      let secret: string;
      if (values.kind === 'token') {
        if (!values['secret-env']) throw new CliError('--secret-env VAR is required: the environment variable that holds the token.', EXIT.BAD_INPUT);
        secret = process.env[values['secret-env']] ?? '';
        if (!secret) throw new CliError(`the environment variable ${values['secret-env']} is not set.`, EXIT.BAD_INPUT);
      } else if (values.kind === 'ssh-key') {
        if (!values['key-file']) throw new CliError('--key-file PATH is required: the private key file.', EXIT.BAD_INPUT);
        secret = await readFile(values['key-file'], 'utf8').catch(() => {
          throw new CliError(`cannot read ${values['key-file']}.`, EXIT.BAD_INPUT);
        });
      } else throw new CliError('--kind is required: token or ssh-key.', EXIT.BAD_INPUT);
      const body = { kind: values.kind, secret, ...(values.username ? { username: values.username } : {}), ...(values.label ? { label: values.label } : {}) };
      const c = await api.json<GitCredential>('POST', '/api/user/git-credentials', body);
      if (values.json) console.log(JSON.stringify(c, null, 2));
      else console.log(`stored ${c.kind} ${c.masked} as ${c.id}`);
      return EXIT.OK;
    }
    case 'list':
    case 'ls': {
      const { credentials } = await api.json<{ credentials: GitCredential[] }>('GET', '/api/user/git-credentials');
      if (values.json) console.log(JSON.stringify(credentials, null, 2));
      else if (credentials.length === 0) console.log('no git credentials stored');
      else console.log(table([['ID', 'KIND', 'SECRET', 'USERNAME', 'LABEL'], ...credentials.map((c) => [c.id, c.kind, c.masked, c.username ?? '', c.label ?? ''])]));
      return EXIT.OK;
    }
    case 'rm':
    case 'remove':
    case 'delete': {
      if (rest.length === 0) throw new CliError('which credential? samokoder git-credentials rm ID (list shows the ids)', EXIT.BAD_INPUT);
      for (const id of rest) {
        await api.raw('DELETE', `/api/user/git-credentials/${enc(id)}`);
        console.log(`deleted ${id}`);
      }
      return EXIT.OK;
    }
    default:
      throw new CliError(`unknown git-credentials action "${action}": use add, list or rm.`, EXIT.BAD_INPUT);
  }
}
