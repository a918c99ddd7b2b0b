import { describe, expect, it } from 'vitest';
import { desk } from '@veloz/testing/desk';
import { enginePdb } from './pdb.ts';

describe('enginePdb', () => {
  it('allows one engine disruption at a time', () => {
    const pdb = enginePdb(desk('d1'));
    expect([pdb.kind, pdb.metadata.name]).toEqual(['PodDisruptionBudget', 'd1-engine']);
    expect(pdb['spec']).toEqual({
      maxUnavailable: 1,
      selector: {
        matchLabels: {
          'app.kubernetes.io/name': 'veloz',
          'app.kubernetes.io/instance': 'd1',
          'app.kubernetes.io/component': 'engine',
        },
      },
    });
  });
});
