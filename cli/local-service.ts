import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { startServer, type RunningServer } from '../server/server.js';
import { CliError } from './exit-codes.js';

export interface LocalService {
  server: RunningServer;
  dataDir: string;
  /** Where the service's log lines go (undefined with verbose: on stderr). */
  logFile: string | undefined;
  /** ` (service log: FILE)` for error messages, or '' with verbose. */
  logNote: string;
  /** Stops the service; a temporary data dir is removed, and its log too unless keepLog. */
  stop(options: { keepLog: boolean }): Promise<void>;
}

/**
 * The service in this process, as `build` and `eval` run it: the embedded defaults (PGlite in the
 * data dir), an unlimited local plan, a free port on loopback. The terminal is for progress,
 * results and one-line errors; the service's JSON log lines go to a file. A temporary data dir is
 * removed at the end, so its log sits beside it (kept when the caller asks, e.g. after a failure).
 */
export async function startLocalService(options: { dataDir?: string | undefined; verbose: boolean; name: string; overrides?: Parameters<typeof loadConfig>[1] }): Promise<LocalService> {
  const tempDir = options.dataDir ? undefined : await mkdtemp(path.join(os.tmpdir(), `${options.name}-`));
  const dataDir = path.resolve(options.dataDir ?? tempDir!);
  await mkdir(dataDir, { recursive: true });
  const logFile = options.verbose ? undefined : tempDir ? `${tempDir}.log` : path.join(dataDir, `${options.name}.log`);
  const logger = logFile
    ? createLogger({ level: 'info', destination: pino.destination({ dest: logFile, sync: true }) })
    : createLogger({ level: 'info', destination: process.stderr });
  const logNote = logFile ? ` (service log: ${logFile})` : '';
  const { DATABASE_URL: _external, ...env } = process.env;
  let server: RunningServer;
  try {
    // A temporary data dir's workspaces are measured against the quota rather than loop-mounted,
    // since a mounted volume would outlive the directory (EBUSY).
    const quota = tempDir && !env.SAMOKODER_WORKSPACE_QUOTA ? { SAMOKODER_WORKSPACE_QUOTA: 'reactive' } : {};
    server = await startServer({
      env,
      overrides: { PORT: 0, HOST: '127.0.0.1', SAMOKODER_DATA_DIR: dataDir, SAMOKODER_DEFAULT_PLAN: 'unlimited', ...quota, ...options.overrides },
      logger,
    });
  } catch (err) {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    throw new CliError(`the service did not start: ${(err as Error).message}${logNote}`);
  }
  return {
    server,
    dataDir,
    logFile,
    logNote,
    async stop({ keepLog }) {
      await server.stop();
      if (tempDir) {
        await rm(tempDir, { recursive: true, force: true });
        if (!keepLog && logFile) await rm(logFile, { force: true });
      }
    },
  };
}
