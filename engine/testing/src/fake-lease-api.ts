// An in-memory Lease for the engine's self-fencing tests: resourceVersions, 409 on a stale
// replace, and a switch that makes every call fail as an unreachable API server would.
import type { Lease, LeaseApi } from '@veloz/engine/fence/lease-api';
import { LeaseConflict } from '@veloz/engine/fence/lease-api';

export class FakeLeaseApi implements LeaseApi {
  lease: Lease | undefined;
  /** While set, every call fails with this message (the API server out of reach). */
  down: string | undefined;
  calls = 0;
  private version = 0;

  private check(): void {
    this.calls++;
    if (this.down !== undefined) throw new Error(this.down);
  }

  get(): Promise<Lease | undefined> {
    this.check();
    return Promise.resolve(this.lease && structuredClone(this.lease));
  }

  create(lease: Lease): Promise<Lease> {
    this.check();
    if (this.lease) return Promise.reject(new LeaseConflict('exists'));
    return Promise.resolve(this.store(lease));
  }

  replace(lease: Lease): Promise<Lease> {
    this.check();
    if (!this.lease || lease.metadata.resourceVersion !== this.lease.metadata.resourceVersion)
      return Promise.reject(new LeaseConflict('stale resourceVersion'));
    return Promise.resolve(this.store(lease));
  }

  /** Another holder writes the Lease directly (a replacement pod, a person with kubectl). */
  takeBy(holder: string, renewTime: string): void {
    this.store({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.lease?.metadata.name ?? 'lease' },
      spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime },
    });
  }

  private store(lease: Lease): Lease {
    this.lease = structuredClone({
      ...lease,
      metadata: { ...lease.metadata, resourceVersion: String(++this.version) },
    });
    return structuredClone(this.lease);
  }
}
