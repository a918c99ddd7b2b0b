import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ResourceRef } from './kube/resources.ts';
import { nodeAccess } from './node-access.ts';

interface Review {
  kind: string;
  spec: { resourceAttributes: { group: string; resource: string; verb: string } };
}

/** A client answering SelfSubjectAccessReviews: `allowed` verbs on Nodes are allowed. */
function reviewer(allowed: string[] | Error) {
  const asked: Review[] = [];
  return {
    asked,
    client: {
      create<T>(r: ResourceRef, _ns: string | undefined, body: object): Promise<T> {
        expect(r.plural).toBe('selfsubjectaccessreviews');
        const review = body as Review;
        asked.push(review);
        if (allowed instanceof Error) return Promise.reject(allowed);
        const ok =
          review.spec.resourceAttributes.resource === 'nodes' &&
          allowed.includes(review.spec.resourceAttributes.verb);
        return Promise.resolve({ ...review, status: { allowed: ok } } as T);
      },
    },
  };
}

const log = pino({ level: 'silent' });

describe('nodeAccess', () => {
  it('reads Nodes when list and watch are both allowed, cluster-wide', async () => {
    const r = reviewer(['get', 'list', 'watch']);
    expect(await nodeAccess(r.client, log)).toEqual({ readable: true });
    expect(r.asked.map((a) => a.spec.resourceAttributes.verb).sort()).toEqual(['list', 'watch']);
    expect(
      r.asked.every(
        (a) => a.kind === 'SelfSubjectAccessReview' && !('namespace' in a.spec.resourceAttributes),
      ),
    ).toBe(true);
  });

  it('does not when either is refused (rbac.nodes=false)', async () => {
    expect(await nodeAccess(reviewer([]).client, log)).toEqual({ readable: false });
    expect(await nodeAccess(reviewer(['list']).client, log)).toEqual({ readable: false });
  });

  it('does not when the review itself fails, and the operator still starts', async () => {
    expect(await nodeAccess(reviewer(new Error('connection refused')).client, log)).toEqual({
      readable: false,
    });
  });
});
