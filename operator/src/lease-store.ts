// The leader-election Lease as a LeaseStore over the Kubernetes API.
import { isNotFound, type KubeClient } from './kube/client.ts';
import { RESOURCES } from './kube/resources.ts';
import type { LeaseRecord, LeaseStore } from './runtime/leader-election.ts';

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: Omit<LeaseRecord, 'resourceVersion'>;
}

export class KubeLeaseStore implements LeaseStore {
  private readonly client: KubeClient;
  private readonly namespace: string;
  private readonly name: string;

  constructor(client: KubeClient, namespace: string, name: string) {
    this.client = client;
    this.namespace = namespace;
    this.name = name;
  }

  private toRecord(l: Lease): LeaseRecord {
    return {
      ...l.spec,
      holderIdentity: l.spec.holderIdentity ?? '',
      resourceVersion: l.metadata.resourceVersion,
    };
  }

  private toLease(r: LeaseRecord): Lease & { apiVersion: string; kind: string } {
    const { resourceVersion, ...spec } = r;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      spec,
    };
  }

  async get(): Promise<LeaseRecord | undefined> {
    try {
      return this.toRecord(
        await this.client.get<Lease & { kind: string }>(RESOURCES.lease, this.namespace, this.name),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async create(r: LeaseRecord): Promise<LeaseRecord> {
    return this.toRecord(
      await this.client.create<Lease & { kind: string }>(RESOURCES.lease, this.namespace, this.toLease(r)),
    );
  }

  async update(r: LeaseRecord): Promise<LeaseRecord> {
    return this.toRecord(
      await this.client.update<Lease & { kind: string }>(RESOURCES.lease, this.namespace, this.toLease(r)),
    );
  }
}
