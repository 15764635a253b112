import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * SSRF protection for URLs a user supplies and the service then connects to (webhook targets, LLM
 * base URLs): the service must not become a tool that reaches the cloud metadata endpoint, itself,
 * its database or the operator's private network because a user typed such a URL. Addresses are
 * classified with node:net's BlockList (which also matches an IPv4-mapped IPv6 address such as
 * ::ffff:7f00:1 against the IPv4 rules) and hosts are read with the WHATWG URL parser, which turns
 * 0x7f000001, 2130706433, 0177.0.0.1 and 127.1 into 127.0.0.1.
 *
 * - `public`: allowed.
 * - `private`: loopback, RFC 1918, CGNAT 100.64/10, IPv6 ULA fc00::/7; allowed only when the
 *   policy allows private addresses (an operator setting, e.g. on a self-hosted deployment).
 * - `reserved`: link-local (169.254/16 with the cloud metadata endpoint, fe80::/10), the known
 *   metadata addresses inside private ranges, unspecified, multicast, broadcast, documentation and
 *   other special-purpose ranges, and any IPv6 outside global unicast 2000::/3: never allowed,
 *   whatever the setting (no legitimate receiver lives there, but credentials do).
 */
export type AddressClass = 'public' | 'private' | 'reserved';

/** Who may be reached, and what the refusal tells the operator. */
export interface AddressPolicy {
  allowPrivate: boolean;
  /** The environment variable that allows private addresses, named in refusals. */
  setting: string;
  /** Completes "a self-hosted deployment that … can set <setting>=true". */
  privateUse: string;
}

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

function why(cls: Exclude<AddressClass, 'public'>, policy: AddressPolicy): string {
  return cls === 'private'
    ? `a loopback or private-network address; a self-hosted deployment that ${policy.privateUse} can set ${policy.setting}=true`
    : `a link-local (cloud metadata), unspecified, multicast or otherwise non-public address, refused even with ${policy.setting}=true`;
}

/** Why connecting to `address` is refused ("a … address; …"), or undefined when it is allowed. */
export function addressRefusal(address: string, policy: AddressPolicy): string | undefined {
  const cls = classifyAddress(address);
  if (cls === 'public' || (cls === 'private' && policy.allowPrivate)) return undefined;
  return why(cls, policy);
}

/** The host of a URL as an address or name: no IPv6 brackets, no trailing root dot. */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/**
 * What can be decided from the URL alone (when it is set, and again before connecting): a literal
 * IP, or `localhost` / `*.localhost` (loopback by RFC 6761, whatever DNS says). Other names are
 * checked on the addresses they resolve to when connecting (guardedLookup).
 */
export function urlRefusal(url: URL, policy: AddressPolicy): string | undefined {
  const host = urlHost(url);
  let reason: string | undefined;
  if (isIP(host)) reason = addressRefusal(host, policy);
  else if ((host === 'localhost' || host.endsWith('.localhost')) && !policy.allowPrivate) reason = why('private', policy);
  return reason === undefined ? undefined : `${host} is ${reason}`;
}

/**
 * Builds the error a refused lookup fails the connection with: `resolved` is the refused address
 * and why ("a … address; …"), or undefined when the name resolved to no address at all.
 */
export type RefusedLookup = (hostname: string, resolved: { address: string; why: string } | undefined) => Error;

/**
 * A `lookup` for net/tls connections that resolves the name, refuses it if any address it resolves
 * to is refused, and hands back only those addresses: the socket connects to exactly an address
 * checked here, so DNS rebinding (public when set, private when connecting) cannot get past it.
 * Refusing on any bad answer, rather than dropping it, also keeps a name with mixed answers from
 * reaching the private one through happy-eyeballs fallback. Node never calls `lookup` for a literal
 * IP host: check those with urlRefusal / addressRefusal before connecting.
 */
export function guardedLookup(policy: AddressPolicy, refused: RefusedLookup): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      if (addresses.length === 0) return callback(refused(hostname, undefined), '');
      for (const { address } of addresses) {
        const why = addressRefusal(address, policy);
        if (why !== undefined) return callback(refused(hostname, { address, why }), '');
      }
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
