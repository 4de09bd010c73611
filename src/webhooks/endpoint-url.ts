import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';

/**
 * Where webhooks may go. In production: `https` only, to public addresses only — loopback,
 * private, link-local (169.254.169.254, the cloud metadata address, is link-local), unique
 * local (fd00:ec2::254, its IPv6 form, is one), multicast, reserved and IPv4-mapped forms of
 * them are refused. The check is made when the endpoint is created (by name, for a clear 400)
 * and again at connect time on the address actually dialled (`guardedLookup`), so a DNS name
 * that later resolves to a private address (DNS rebinding) is refused too. In development and
 * test, `http` and loopback are allowed so that local receivers work; private ranges are not.
 */
export interface UrlPolicy {
  production: boolean;
}

export function urlPolicy(env: 'development' | 'test' | 'production'): UrlPolicy {
  return { production: env === 'production' };
}

/** Why an address may not be dialled under the policy, or null. */
export function refuseAddress(address: string, policy: UrlPolicy): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress())
    ip = (ip as ipaddr.IPv6).toIPv4Address();
  const range = ip.range();
  if (range === 'unicast') return null;
  if (range === 'loopback' && !policy.production) return null;
  return `${address} is a ${range} address`;
}

/** Why a URL may not be an endpoint under the policy (before any DNS), or null. */
export function refuseUrl(text: string, policy: UrlPolicy): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'url must be an absolute URL';
  }
  if (text.length > 2048) return 'url must be at most 2048 characters';
  if (url.username || url.password) return 'url must not carry credentials';
  if (policy.production ? url.protocol !== 'https:' : !['http:', 'https:'].includes(url.protocol))
    return policy.production ? 'url must be https' : 'url must be http or https';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) {
    const refused = refuseAddress(host, policy);
    if (refused) return `url must point to a public address (${refused})`;
  } else if (
    policy.production &&
    (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.'))
  ) {
    return 'url must name a public host';
  }
  return null;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http.request that refuses any resolved address the policy refuses: the
 * socket connects only to an address checked here, whatever the name resolved to before.
 */
export function guardedLookup(policy: UrlPolicy) {
  return (hostname: string, options: object, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const list = addresses;
      for (const a of list) {
        const refused = refuseAddress(a.address, policy);
        if (refused) {
          const e = new Error(`refused to connect to ${hostname}: ${refused}`) as NodeJS.ErrnoException;
          e.code = 'EADDRREFUSED_BY_POLICY';
          return callback(e, '');
        }
      }
      if ((options as { all?: boolean }).all) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}
