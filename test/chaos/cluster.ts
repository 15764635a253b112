import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { LABEL_PROJECT } from '../../sandbox/labels.js';
import { startServiceProcess, type ServiceProcess } from '../helpers/processes.js';

/**
 * N service processes (`dist/server/main.js`) on one PostgreSQL and one shared workspaces
 * directory, each with its own data directory — as N hosts behind a load balancer would be.
 * Every process ever started is remembered so cleanup can end it, whatever happened.
 */
export class Cluster {
  private readonly current: (ServiceProcess | undefined)[];
  private readonly all: ServiceProcess[] = [];
  private readonly dirs: string[] = [];
  workspacesDir = '';

  private constructor(
    private readonly env: Record<string, string>,
    readonly size: number,
  ) {
    this.current = Array.from({ length: size }, () => undefined);
  }

  static async start(size: number, env: Record<string, string>): Promise<Cluster> {
    const cluster = new Cluster(env, size);
    cluster.workspacesDir = await cluster.tempDir('sk-chaos-ws-');
    try {
      await Promise.all(Array.from({ length: size }, (_, i) => cluster.startNode(i)));
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  async startNode(i: number): Promise<ServiceProcess> {
    const dataDir = await this.tempDir(`sk-chaos-node${i}-`);
    const node = await startServiceProcess({ ...this.env, SAMOKODER_DATA_DIR: dataDir, SAMOKODER_WORKSPACES_DIR: this.workspacesDir });
    this.all.push(node);
    this.current[i] = node;
    return node;
  }

  /** kill -9: no shutdown hook runs, leases are left to expire, containers to the start-up sweep. */
  async kill(i: number): Promise<void> {
    const node = this.current[i];
    this.current[i] = undefined;
    if (!node) return;
    node.child.kill('SIGKILL');
    await node.exited;
  }

  /** The URL of a live node, preferring `i` (a load balancer sends a reconnect to any live one). */
  urlOf(i: number): string {
    const node = this.current[i % this.size] ?? this.current.find((n) => n !== undefined);
    if (!node) throw new Error('no live node');
    return node.url;
  }

  pids(): number[] {
    return this.all.map((n) => n.child.pid ?? 0);
  }

  /** Graceful stop of the live nodes (SIGTERM); returns their exit codes. */
  async stop(): Promise<Array<number | null>> {
    const live = this.current.filter((n): n is ServiceProcess => n !== undefined);
    for (const n of live) n.child.kill('SIGTERM');
    const codes = await Promise.all(live.map(async (n) => (await n.exited).code));
    this.current.fill(undefined);
    return codes;
  }

  /** Ends every process, removes the projects' containers (if a failed test left any) and the directories. */
  async close(projectIds: string[] = []): Promise<void> {
    for (const n of this.all) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
    await Promise.all(this.all.map((n) => n.exited));
    const docker = new Docker({ version: 'v1.41' });
    for (const id of projectIds) {
      for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABEL_PROJECT}=${id}`] } })) {
        await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
      }
    }
    await Promise.all(this.dirs.map((d) => rm(d, { recursive: true, force: true }).catch(() => undefined)));
  }

  private async tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }
}

/** Containers of these projects still on the engine (`docker ps -a --filter label=samokoder.project=…`). */
export async function containersOf(projectIds: string[]): Promise<string[]> {
  const docker = new Docker({ version: 'v1.41' });
  const names: string[] = [];
  for (const id of projectIds) {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABEL_PROJECT}=${id}`] } })) names.push(`${c.Names[0] ?? c.Id} (${c.State})`);
  }
  return names;
}
