import { parseArgs } from 'node:util';
import type { Preview } from '../../protocol/preview-types.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { REMOTE_HELP, REMOTE_OPTIONS, remoteClient } from '../remote.js';

export const PREVIEW_HELP = `samokoder preview PROJECT_ID [--stop]

Starts the project's live preview on a running service and prints its URL (open it within a
minute: it carries a short-lived grant). --stop stops it. Exit 1 when the app did not start (its
output is printed).

${REMOTE_HELP}`;

export async function previewCommand(argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...REMOTE_OPTIONS, stop: { type: 'boolean' } }, allowPositionals: true });
  if (values.help) {
    process.stdout.write(PREVIEW_HELP);
    return EXIT.OK;
  }
  const projectId = positionals[0];
  if (!projectId) throw new CliError('samokoder preview: name the project id (samokoder preview PROJECT_ID)', EXIT.BAD_INPUT);
  const api = remoteClient(values);
  const preview = await api.json<Preview>(values.stop ? 'DELETE' : 'POST', `/api/projects/${encodeURIComponent(projectId)}/preview`);
  if (values.json) {
    console.log(JSON.stringify(preview, null, 2));
    return preview.status === 'failed' ? EXIT.OTHER : EXIT.OK;
  }
  if (preview.status === 'running') {
    console.log(preview.url);
    return EXIT.OK;
  }
  console.log(`preview ${preview.status}`);
  if (preview.output) console.log(preview.output);
  return preview.status === 'failed' ? EXIT.OTHER : EXIT.OK;
}
