import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { bridgeNameFor } from '../../sandbox/network.js';
import { startTestServer } from '../helpers/server.js';

const run = promisify(execFile);
const iptables = spawnSync('iptables', ['-w', '-S', 'INPUT'], { encoding: 'utf8' });
const haveIptables = iptables.status === 0;
if (!haveIptables) {
  console.warn(`stale egress rule test skipped: iptables -S INPUT failed (${iptables.error?.message ?? iptables.stderr.trim()}); it needs root and iptables`);
}

/** The INPUT rules that mention `bridge`. */
async function rulesOf(bridge: string): Promise<string[]> {
  return (await run('iptables', ['-w', '-S', 'INPUT'])).stdout.split('\n').filter((l) => l.includes(`-i ${bridge} `));
}

(haveIptables ? describe : describe.skip)('egress firewall rules left by a killed process', () => {
  // A network of this test's own: the machine's other services keep their rules.
  const network = `samokoder-test-${randomBytes(3).toString('hex')}`;
  const bridge = bridgeNameFor(network);
  const accept = (port: number, comment?: string): string[] =>
    ['INPUT', '-i', bridge, '-p', 'tcp', '--dport', String(port), ...(comment ? ['-m', 'comment', '--comment', comment] : []), '-j', 'ACCEPT'];

  afterAll(async () => {
    for (const line of await rulesOf(bridge)) {
      const args = line.split(/\s+/).map((a) => a.replace(/^"(.*)"$/, '$1'));
      await run('iptables', ['-w', '-D', ...args.slice(1)]).catch(() => undefined);
    }
  });

  test('are removed when the service starts; a live process\'s rule is kept', async () => {
    // The pid of a process that has exited: the owner a killed service leaves behind.
    const dead = spawnSync('true').pid!;
    await run('iptables', ['-w', '-I', ...accept(40001, `samokoder-egress:${dead}`)]);
    // As an older version wrote it (no owner mark), for a port nothing listens on.
    await run('iptables', ['-w', '-I', ...accept(40002)]);
    await run('iptables', ['-w', '-I', ...accept(40003, `samokoder-egress:${process.pid}`)]);
    expect(await rulesOf(bridge)).toHaveLength(3);

    const server = await startTestServer('pglite', { SAMOKODER_SANDBOX_NETWORK: network });
    try {
      const left = await rulesOf(bridge);
      expect(left).toHaveLength(1);
      expect(left[0]).toContain('--dport 40003');
      expect(server.logs.some((l) => l.includes('removed egress firewall rules'))).toBe(true);
    } finally {
      await server.close();
    }
    // Idempotent: a second start finds nothing more to remove.
    const again = await startTestServer('pglite', { SAMOKODER_SANDBOX_NETWORK: network });
    await again.close();
    expect(await rulesOf(bridge)).toHaveLength(1);
    // Two service starts; the bound rules out a hang, not a slow machine.
  }, 300_000);
});
