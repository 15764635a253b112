import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { ChatTurn, Project, Run } from '../../protocol/api-types.js';
import { PROVIDERS, type ProviderId } from '../../protocol/providers.js';
import { enc } from '../client.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { EventFollower } from '../follow.js';
import { REMOTE_HELP, REMOTE_OPTIONS, remoteClient } from '../remote.js';

export const CHAT_HELP = `samokoder chat PROJECT_ID "question" --provider P --model M [--key-id K]
samokoder chat PROJECT_ID --history | --export md|json [--out FILE] | --clear
samokoder chat PROJECT_ID --change TURN_ID --provider P --model M [--key-id K]

Asks a question about a project's code and streams the answer. The chat reads the workspace
(list, read, search) and never changes it. --change starts a change request (a run) from an
answered turn.

  --provider P      ${PROVIDERS.join(', ')}
  --model M         the model name
  --key-id K        the API key to pay with (default: as for runs)
  --history         the questions and answers so far, newest first
  --export FMT      the whole history as md (Markdown) or json, to stdout or --out FILE
  --clear           delete the history
  --change TURN_ID  start a change request from that answer
${REMOTE_HELP}`;

const OPTIONS = {
  ...REMOTE_OPTIONS,
  provider: { type: 'string' },
  model: { type: 'string' },
  'key-id': { type: 'string' },
  history: { type: 'boolean', default: false },
  export: { type: 'string' },
  out: { type: 'string' },
  clear: { type: 'boolean', default: false },
  change: { type: 'string' },
} as const;

export async function chatCommand(argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  if (values.help) {
    process.stdout.write(CHAT_HELP);
    return EXIT.OK;
  }
  const [projectId, question, ...extra] = positionals;
  if (!projectId || extra.length > 0) throw new CliError('usage: samokoder chat PROJECT_ID "question" --provider P --model M (samokoder chat --help)', EXIT.BAD_INPUT);
  const api = remoteClient(values);
  const base = `/api/projects/${enc(projectId)}/chat`;

  if (values.export !== undefined) {
    if (values.export !== 'md' && values.export !== 'json') throw new CliError('--export: md or json', EXIT.BAD_INPUT);
    const text = await (await api.raw('GET', `${base}/export?format=${values.export}`)).text();
    if (values.out) await writeFile(values.out, text);
    else process.stdout.write(text);
    return EXIT.OK;
  }
  if (values.clear) {
    const { deleted } = await api.json<{ deleted: number }>('DELETE', base);
    console.log(`deleted ${deleted} chat turn${deleted === 1 ? '' : 's'}`);
    return EXIT.OK;
  }
  if (values.history) {
    const { turns } = await api.json<{ turns: ChatTurn[] }>('GET', `${base}?limit=100`);
    if (values.json) console.log(JSON.stringify(turns, null, 2));
    else if (turns.length === 0) console.log('no chat yet');
    else for (const t of turns) console.log(`${t.id}  ${t.createdAt}  ${t.status}\n  Q: ${t.question}\n  A: ${(t.answer ?? t.error ?? '').replace(/\n/g, '\n     ')}\n`);
    return EXIT.OK;
  }
  const model = { provider: provider(values.provider), model: required(values.model, '--model'), ...(values['key-id'] ? { keyId: values['key-id'] } : {}) };
  if (values.change !== undefined) {
    const { run } = await api.json<{ run: Run }>('POST', `/api/projects/${enc(projectId)}/generate`, { ...model, fromChatTurn: values.change });
    console.log(values.json ? JSON.stringify(run, null, 2) : `change request queued: run ${run.id} (follow it in the web UI, or GET /api/projects/${projectId}/runs/${run.id})`);
    return EXIT.OK;
  }
  if (!question) throw new CliError('a question is required: samokoder chat PROJECT_ID "what does it do?"', EXIT.BAD_INPUT);
  return ask(api, projectId, question, model, values.json);
}

/** Follows the project's stream from now, asks, and prints the answer's deltas as they come. */
async function ask(api: ReturnType<typeof remoteClient>, projectId: string, message: string, model: { provider: ProviderId; model: string; keyId?: string }, json: boolean): Promise<ExitCode> {
  const { project } = await api.json<{ project: Project }>('GET', `/api/projects/${enc(projectId)}`);
  const turnId = randomUUID();
  let streamed = '';
  let follower: EventFollower | undefined;
  if (!json) {
    // Streaming is a nicety: without a socket within 5 s the answer is printed when it is complete.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      follower = new EventFollower(
        api.baseUrl.replace(/\/$/, '').replace(/^http/, 'ws') + '/ws',
        api.token!,
        project.id,
        (e) => {
          const data = e.data as { turnId?: string; text?: string };
          if (e.type === 'chat.delta' && data.turnId === turnId && data.text) {
            streamed += data.text;
            process.stdout.write(data.text);
          }
        },
        { since: project.lastEventSeq, onSubscribed: () => (clearTimeout(timer), resolve()) },
      );
    });
  }
  try {
    const { turn } = await api.json<{ turn: ChatTurn }>('POST', `/api/projects/${enc(projectId)}/chat`, { message, ...model, turnId });
    if (json) {
      console.log(JSON.stringify(turn, null, 2));
      return EXIT.OK;
    }
    const answer = turn.answer ?? '';
    // Deltas are advisory: print whatever of the answer the stream did not deliver.
    const start = streamed.trim();
    process.stdout.write(start && answer.startsWith(start) ? `${answer.slice(start.length)}\n` : `${start ? '\n' : ''}${answer}\n`);
    console.error(`(turn ${turn.id}: ${turn.usage.inputTokens + turn.usage.outputTokens} tokens, ${turn.usage.toolCalls} file lookups; samokoder chat ${projectId} --change ${turn.id} … makes it a change request)`);
    return EXIT.OK;
  } finally {
    follower?.stop();
  }
}

function provider(v: string | undefined): ProviderId {
  if (!v || !(PROVIDERS as readonly string[]).includes(v)) throw new CliError(`--provider: one of ${PROVIDERS.join(', ')}`, EXIT.BAD_INPUT);
  return v as ProviderId;
}

function required(v: string | undefined, flag: string): string {
  if (!v) throw new CliError(`${flag} is required`, EXIT.BAD_INPUT);
  return v;
}
