import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Logger } from '../core/logger.js';

const run = promisify(execFile);

/**
 * Networks whose containers serve the host (the browser check's, the live previews') get a bridge
 * named skb-<random>: one firewall rule (`-i skb+`) keeps all of them off the host.
 */
export const ISOLATED_BRIDGE_PREFIX = 'skb-';

let added: Promise<string | undefined> | undefined;

/**
 * Containers on those networks must not open connections to the host: its gateway address on the
 * bridge is the host itself (Postgres, the API...). Drops new inbound connections from every skb+
 * bridge; replies to the service's own connections (CDP, the proxy, readiness probes) pass.
 * Without root and iptables nothing can be isolated: resolves to why not (undefined: isolated).
 * Added once per process; a failure is retried at the next call.
 */
export function isolateBridgesFromHost(logger: Logger): Promise<string | undefined> {
  added ??= (async () => {
    const rule = ['INPUT', '-i', `${ISOLATED_BRIDGE_PREFIX}+`, '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP'];
    try {
      const exists = await run('iptables', ['-w', '-C', ...rule]).then(() => true, () => false);
      if (!exists) await run('iptables', ['-w', '-I', ...rule]);
      return undefined;
    } catch (err) {
      logger.warn({ err: String(err) }, 'could not add the firewall rule that keeps app and browser containers off the host (needs root and iptables)');
      added = undefined;
      return 'the host firewall rule that keeps app containers off the host could not be added (needs root and iptables)';
    }
  })();
  return added;
}
