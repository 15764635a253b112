import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import type { Logger } from '../core/logger.js';
import { APP_VALUE, LABEL_APP } from './labels.js';
import { isAlive } from '../core/process-alive.js';

const run = promisify(execFile);

export interface EgressNetwork {
  name: string;
  /** The host's address on the network: where the package cache listens. */
  gateway: string;
  /** The Linux bridge's name (for the host firewall rule). */
  bridge: string;
}

/**
 * The internal Docker network 'registry' commands join: `Internal` means no route out, so the
 * only thing a container reaches is the host's gateway address, where the package cache listens.
 * Inter-container traffic is off (enable_icc=false): two projects on it cannot talk to each other.
 */
export async function ensureEgressNetwork(docker: Docker, name: string): Promise<EgressNetwork> {
  const bridge = bridgeNameFor(name);
  let info = await docker.getNetwork(name).inspect().catch(() => undefined);
  if (!info) {
    await docker
      .createNetwork({
        Name: name,
        Driver: 'bridge',
        Internal: true,
        CheckDuplicate: true,
        Labels: { [LABEL_APP]: APP_VALUE },
        Options: { 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.name': bridge },
      })
      // Another process may have created it at the same moment: inspect again below.
      .catch(() => undefined);
    info = await docker.getNetwork(name).inspect();
  }
  const gateway = (info as { IPAM?: { Config?: { Gateway?: string }[] } }).IPAM?.Config?.[0]?.Gateway;
  if (!gateway) throw new Error(`Docker network ${name} has no gateway address`);
  const options = (info as { Options?: Record<string, string> }).Options ?? {};
  return { name, gateway, bridge: options['com.docker.network.bridge.name'] ?? bridge };
}

/** The Linux bridge name the service gives its egress network (at most 15 characters). */
export function bridgeNameFor(network: string): string {
  return `sk-${network.replace(/[^a-zA-Z0-9]/g, '').slice(-12)}`;
}

/**
 * Each process's ACCEPT rule carries this comment with its pid, so a later process can tell a
 * rule whose owner is gone (killed before it could remove it) from a live sibling's.
 */
const RULE_OWNER = 'samokoder-egress:';

/**
 * Removes ACCEPT rules for `bridge` left by processes of this service that are no longer running
 * (and unmarked ones, from versions before the mark, whose port nothing listens on). A stale rule keeps a cache port open from the
 * sandbox network to the host, a port some other service may listen on next. Idempotent; without
 * iptables or root it does nothing and says why. Returns how many rules it removed.
 */
export async function removeStaleEgressRules(bridge: string, logger: Logger): Promise<number> {
  let listing: string;
  try {
    listing = (await run('iptables', ['-w', '-S', 'INPUT'])).stdout;
  } catch (err) {
    logger.debug({ err: String(err) }, 'sandbox: cannot list iptables rules (needs root and iptables); no stale egress rule removed');
    return 0;
  }
  let removed = 0;
  let listening: Set<number> | undefined;
  for (const line of listing.split('\n')) {
    const args = line.trim().split(/\s+/).map((a) => a.replace(/^"(.*)"$/, '$1'));
    if (args[0] !== '-A' || args[1] !== 'INPUT' || !isOurAccept(args, bridge)) continue;
    const owner = args.includes('--comment') ? (args[args.indexOf('--comment') + 1] ?? '') : '';
    if (owner.startsWith(RULE_OWNER)) {
      if (isAlive(Number(owner.slice(RULE_OWNER.length)))) continue;
    } else if ((listening ??= await listeningTcpPorts()).has(Number(args[args.indexOf('--dport') + 1]))) {
      // Unmarked (an older version's): stale only once nothing listens on its port any more.
      continue;
    }
    try {
      await run('iptables', ['-w', '-D', ...args.slice(1)]);
      removed++;
    } catch (err) {
      logger.warn({ err: String(err), rule: line }, 'sandbox: could not remove a stale egress firewall rule');
    }
  }
  if (removed) logger.info({ bridge, removed }, 'sandbox: removed egress firewall rules left by a process that is gone');
  return removed;
}

function isOurAccept(args: readonly string[], bridge: string): boolean {
  const at = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i < 0 ? undefined : args[i + 1];
  };
  return at('-i') === bridge && at('-p') === 'tcp' && at('--dport') !== undefined && at('-j') === 'ACCEPT';
}

/** Local TCP ports in LISTEN state on this host (IPv4 and IPv6), from /proc/net. */
async function listeningTcpPorts(): Promise<Set<number>> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const row of text.split('\n').slice(1)) {
      const [, local, , state] = row.trim().split(/\s+/);
      // State 0A is LISTEN; the local address ends in :<port in hex>.
      if (state === '0A' && local) ports.add(parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
    }
  }
  return ports;
}

/**
 * The gateway address is the host itself, so without a rule a container on the network could
 * reach every service the host listens on (0.0.0.0:5432, the API...). Best effort: with root
 * and iptables, traffic from the bridge to the host is dropped except to the package cache's port.
 * Returns a function that removes the cache's rule; without root the operator adds it
 * (docs/security.md, "Package cache").
 */
export async function restrictHostAccess(net: EgressNetwork, cachePort: number, logger: Logger): Promise<() => Promise<void>> {
  const drop = ['INPUT', '-i', net.bridge, '-j', 'DROP'];
  const accept = ['INPUT', '-i', net.bridge, '-p', 'tcp', '--dport', String(cachePort), '-m', 'comment', '--comment', `${RULE_OWNER}${process.pid}`, '-j', 'ACCEPT'];
  // Docker's embedded DNS lives inside the container's own namespace, so DNS is unaffected.
  const ensure = async (rule: string[]): Promise<void> => {
    const exists = await run('iptables', ['-w', '-C', ...rule]).then(() => true, () => false);
    if (!exists) await run('iptables', ['-w', '-I', ...rule]);
  };
  try {
    await removeStaleEgressRules(net.bridge, logger);
    await ensure(drop);
    // Inserted after the DROP so it lands above it.
    await ensure(accept);
  } catch (err) {
    logger.warn({ err: String(err) }, 'sandbox: could not add the firewall rule that keeps egress-network containers off the host\'s other ports (needs root and iptables); see docs/security.md, "Package cache"');
    return async () => undefined;
  }
  return async () => {
    await run('iptables', ['-w', '-D', ...accept]).catch(() => undefined);
  };
}
