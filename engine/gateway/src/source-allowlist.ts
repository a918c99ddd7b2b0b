// The client address ranges a gateway serves (spec.gateway.allowedSourceRanges). The Service's
// loadBalancerSourceRanges and the NetworkPolicy guard the same ranges where the cloud and the
// CNI enforce them; this check holds on the direct path too (a pod or node port, a cluster whose
// CNI ignores NetworkPolicy).
import { BlockList } from 'node:net';
import { parseCidr } from '@veloz/api/cidr';

export class SourceAllowlist {
  private readonly list = new BlockList();

  constructor(cidrs: readonly string[]) {
    for (const raw of cidrs) {
      const c = parseCidr(raw);
      if (!c) throw new Error(`not a CIDR: ${JSON.stringify(raw)}`);
      this.list.addSubnet(c.address, c.prefix, c.family);
    }
  }

  /** Whether a connection from `address` (as the socket reports it) may be served. */
  allows(address: string | undefined): boolean {
    if (!address) return false;
    // A dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d.
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    if (v4) return this.list.check(v4, 'ipv4');
    return this.list.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
  }
}
