import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureBuilt, MAIN, onJsonLines, ROOT } from '../helpers/processes.js';

const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

beforeAll(() => ensureBuilt());

/**
 * `npm start` under systemd (KillMode=control-group) or `docker stop` of a process group: SIGTERM
 * reaches the service from the group and again from the launcher forwarding it. The repeat is
 * the same request, not a second Ctrl-C: the service must still shut down cleanly and exit 0.
 */
test('SIGTERM to the process group twice in a row: one clean shutdown, exit 0', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'samokoder-signals-'));
  // Its own process group (detached), so the test can signal the group as systemd does.
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    detached: true,
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', SAMOKODER_DATA_DIR: dataDir, SAMOKODER_MASTER_KEY: MASTER_KEY, SAMOKODER_SANDBOX: 'off' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  try {
    await new Promise<void>((resolve, reject) => {
      onJsonLines(child.stdout!, (parsed) => {
        lines.push(parsed);
        if (parsed.msg === 'samokoder listening') resolve();
      });
      void exited.then(({ code }) => reject(new Error(`service exited (${code}) before listening: ${stderr}`)));
    });
    process.kill(-child.pid!, 'SIGTERM');
    process.kill(-child.pid!, 'SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    const messages = lines.map((l) => l.msg);
    expect(messages.filter((m) => m === 'signal received')).toHaveLength(1);
    expect(messages.at(-1)).toBe('stopped');
    expect(stderr).toBe('');
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}, 180_000);
