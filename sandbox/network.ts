import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import type { Logger } from '../core/logger.js';
import { APP_VALUE, LABEL_APP } from './labels.js';

const run = promisify(execFile);

export interface EgressNetwork {
  name: string;
  /** The host's address on the network: where the egress proxy listens. */
  gateway: string;
  /** The Linux bridge's name (for the host firewall rule). */
  bridge: string;
}

/**
 * The internal Docker network 'registry' commands join: `Internal` means no route out, so the
 * only thing a container reaches is the host's gateway address, where the egress proxy listens.
 * Inter-container traffic is off (enable_icc=false): two projects on it cannot talk to each other.
 */
export async function ensureEgressNetwork(docker: Docker, name: string): Promise<EgressNetwork> {
  const bridge = `sk-${name.replace(/[^a-zA-Z0-9]/g, '').slice(-12)}`;
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

/**
 * The gateway address is the host itself, so without a rule a container on the network could
 * reach every service the host listens on (0.0.0.0:5432, the API...). Best effort: with root
 * and iptables, traffic from the bridge to the host is dropped except to the proxy's port. Returns
 * a function that removes the proxy's rule; without root the operator adds it (docs/security.md, "Egress proxy").
 */
export async function restrictHostAccess(net: EgressNetwork, proxyPort: number, logger: Logger): Promise<() => Promise<void>> {
  const drop = ['INPUT', '-i', net.bridge, '-j', 'DROP'];
  const accept = ['INPUT', '-i', net.bridge, '-p', 'tcp', '--dport', String(proxyPort), '-j', 'ACCEPT'];
  // Docker's embedded DNS lives inside the container's own namespace, so DNS is unaffected.
  const ensure = async (rule: string[]): Promise<void> => {
    const exists = await run('iptables', ['-w', '-C', ...rule]).then(() => true, () => false);
    if (!exists) await run('iptables', ['-w', '-I', ...rule]);
  };
  try {
    await ensure(drop);
    // Inserted after the DROP so it lands above it.
    await ensure(accept);
  } catch (err) {
    logger.warn({ err: String(err) }, 'sandbox: could not add the firewall rule that keeps egress-network containers off the host\'s other ports (needs root and iptables); see docs/security.md, "Egress proxy"');
    return async () => undefined;
  }
  return async () => {
    await run('iptables', ['-w', '-D', ...accept]).catch(() => undefined);
  };
}
