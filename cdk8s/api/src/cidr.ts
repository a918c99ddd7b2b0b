// CIDR syntax as Kubernetes reads it (CEL's isCIDR, Go's netip.ParsePrefix): one definition for the
// CRD validator, the gateway's allowlist and its configuration variable.
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** The parts of `a.b.c.d/n` or `x::y/n`, or undefined when it is not a CIDR. */
export function parseCidr(raw: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(raw);
  if (!m) return undefined;
  const [, address, bits] = m as unknown as [string, string, string];
  // netip refuses a prefix with a leading zero ("/08") and an IPv4 octet with one ("010.0.0.0").
  if (bits.length > 1 && bits.startsWith('0')) return undefined;
  const prefix = Number(bits);
  if (isIPv4(address)) {
    if (address.split('.').some((o) => o.length > 1 && o.startsWith('0'))) return undefined;
    return prefix <= 32 ? { address, prefix, family: 'ipv4' } : undefined;
  }
  if (isIPv6(address) && !address.includes('%')) {
    return prefix <= 128 ? { address, prefix, family: 'ipv6' } : undefined;
  }
  return undefined;
}

export const isCidr = (raw: string): boolean => parseCidr(raw) !== undefined;
