import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * SSRF protection of webhook targets: the service must not become a tool that POSTs to the cloud
 * metadata endpoint, to itself, to its database or to the operator's private network because a
 * user typed such a URL. Addresses are classified with node:net's BlockList (which also matches an
 * IPv4-mapped IPv6 address such as ::ffff:7f00:1 against the IPv4 rules) and hosts are read with
 * the WHATWG URL parser, which turns 0x7f000001, 2130706433, 0177.0.0.1 and 127.1 into 127.0.0.1.
 *
 * - `public`: delivered.
 * - `private`: loopback, RFC 1918, CGNAT 100.64/10, IPv6 ULA fc00::/7; delivered only when the
 *   operator sets SAMOKODER_WEBHOOK_ALLOW_PRIVATE=true (a self-hosted deployment on its own network).
 * - `reserved`: link-local (169.254/16 with the cloud metadata endpoint, fe80::/10), the known
 *   metadata addresses inside private ranges, unspecified, multicast, broadcast, documentation and
 *   other special-purpose ranges, and any IPv6 outside global unicast 2000::/3: never delivered,
 *   whatever the setting (no webhook receiver lives there, but credentials do).
 */
export type AddressClass = 'public' | 'private' | 'reserved';

const RESERVED = blockList(
  [
    ['0.0.0.0', 8], // "this network", 0.0.0.0 (which Linux connects to the local host)
    ['169.254.0.0', 16], // link-local, incl. 169.254.169.254 (AWS, GCP, Azure, OpenStack metadata)
    ['192.0.0.0', 24], // IETF protocol assignments
    ['192.0.2.0', 24], // documentation
    ['198.18.0.0', 15], // benchmarking
    ['198.51.100.0', 24], // documentation
    ['203.0.113.0', 24], // documentation
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, incl. broadcast 255.255.255.255
    ['100.100.100.200', 32], // Alibaba Cloud metadata (inside CGNAT space, so also refused when private is allowed)
  ],
  [
    ['::', 128], // unspecified
    ['fe80::', 10], // link-local
    ['fec0::', 10], // site-local (deprecated)
    ['ff00::', 8], // multicast
    ['2001:db8::', 32], // documentation
    ['fd00:ec2::254', 128], // AWS metadata over IPv6 (inside ULA space)
  ],
);

const PRIVATE = blockList(
  [
    ['10.0.0.0', 8],
    ['100.64.0.0', 10], // carrier-grade NAT
    ['127.0.0.0', 8], // loopback
    ['172.16.0.0', 12],
    ['192.168.0.0', 16],
  ],
  [
    ['::1', 128], // loopback
    ['fc00::', 7], // unique local
  ],
);

/** The only IPv6 block with public unicast addresses; anything else (NAT64, IPv4-compatible, …) is refused. */
const GLOBAL_UNICAST_V6 = blockList([], [['2000::', 3]]);

function blockList(v4: [string, number][], v6: [string, number][]): BlockList {
  const list = new BlockList();
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, 'ipv6');
  return list;
}

/** Classifies an IP address; anything that is not an IP address is `reserved` (fail closed). */
export function classifyAddress(address: string): AddressClass {
  const ip = address.replace(/%.*$/, ''); // an IPv6 zone (fe80::1%eth0) is not part of the address
  const version = isIP(ip);
  if (version === 0) return 'reserved';
  const family = version === 6 ? 'ipv6' : 'ipv4';
  if (RESERVED.check(ip, family)) return 'reserved';
  if (PRIVATE.check(ip, family)) return 'private';
  if (family === 'ipv6' && !GLOBAL_UNICAST_V6.check(ip, 'ipv6')) return 'reserved';
  return 'public';
}

const WHY: Record<Exclude<AddressClass, 'public'>, string> = {
  private: 'a loopback or private-network address; a self-hosted deployment that delivers webhooks inside its own network can set SAMOKODER_WEBHOOK_ALLOW_PRIVATE=true',
  reserved: 'a link-local (cloud metadata), unspecified, multicast or otherwise non-public address, refused even with SAMOKODER_WEBHOOK_ALLOW_PRIVATE=true',
};

/** Why delivering to `address` is refused ("a … address; …"), or undefined when it is allowed. */
export function addressRefusal(address: string, allowPrivate: boolean): string | undefined {
  const cls = classifyAddress(address);
  if (cls === 'public' || (cls === 'private' && allowPrivate)) return undefined;
  return WHY[cls];
}

/** The host of a URL as an address or name: no IPv6 brackets, no trailing root dot. */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/**
 * What can be decided from the URL alone (at set time and again before each delivery): a literal
 * IP, or `localhost` / `*.localhost` (loopback by RFC 6761, whatever DNS says). Other names are
 * checked on the addresses they resolve to when delivering (guardedLookup).
 */
export function urlRefusal(url: URL, allowPrivate: boolean): string | undefined {
  const host = urlHost(url);
  let why: string | undefined;
  if (isIP(host)) why = addressRefusal(host, allowPrivate);
  else if ((host === 'localhost' || host.endsWith('.localhost')) && !allowPrivate) why = WHY.private;
  return why === undefined ? undefined : `${host} is ${why}`;
}

/** A delivery refused because of where it would go; final, never retried. */
export class WebhookTargetRefusedError extends Error {
  constructor(reason: string) {
    super(`E_WEBHOOK_TARGET: webhook target refused: ${reason}`);
    this.name = 'WebhookTargetRefusedError';
  }
}

/**
 * A `lookup` for net/http that resolves the name, refuses it if any address it resolves to is
 * refused, and hands back only those addresses: the socket connects to exactly an address checked
 * here, so DNS rebinding (public at set time, private at delivery) cannot get past it. Refusing on
 * any bad answer, rather than dropping it, also keeps a name with mixed answers from reaching the
 * private one through happy-eyeballs fallback.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      if (addresses.length === 0) return callback(new WebhookTargetRefusedError(`${hostname} resolves to no address`), '');
      for (const { address } of addresses) {
        const why = addressRefusal(address, allowPrivate);
        if (why !== undefined) return callback(new WebhookTargetRefusedError(`${hostname} resolves to ${address}, ${why}`), '');
      }
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
