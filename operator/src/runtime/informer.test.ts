import { describe, expect, it } from 'vitest';
import { slim } from './informer.ts';

describe('slim', () => {
  it('drops managedFields and the last-applied annotation, keeps everything else', () => {
    const o = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'x',
        managedFields: [{ manager: 'veloz-operator' }],
        annotations: { a: '1', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
      data: { k: 'v' },
    };
    expect(slim(o)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x', annotations: { a: '1' } },
      data: { k: 'v' },
    });
    expect(o.metadata.managedFields).toHaveLength(1);
  });

  it('returns objects without them unchanged', () => {
    const o = { metadata: { name: 'x' } };
    expect(slim(o)).toBe(o);
  });
});
