import { describe, expect, it } from 'vitest';
import { desk } from '@veloz/testing/desk';
import { apiKeyRef, apiKeySecret } from './api-key-secret.ts';

const CTX = {
  defaultImage: 'veloz:1',
  engineTokens: { trading: 't', admin: 'a', backup: 'b' },
  monitoringApiServed: false,
};

describe('apiKeySecret', () => {
  it('holds the given key, base64-encoded, under apiKey', () => {
    const s = apiKeySecret(desk('d1'), { ...CTX, apiKey: 'k3y' });
    expect(s.metadata.name).toBe('d1-gateway-api-key');
    expect(s['type']).toBe('Opaque');
    expect(s['data']).toEqual({ apiKey: Buffer.from('k3y').toString('base64') });
  });

  it('never makes a key itself', () => {
    expect(() => apiKeySecret(desk('d1'), CTX)).toThrow(/ctx.apiKey/);
  });

  it('is what the gateways read, unless the user brings a Secret', () => {
    expect(apiKeyRef(desk('d1'))).toEqual({ name: 'd1-gateway-api-key', key: 'apiKey' });
    const own = desk('d1', { gateway: { apiKeySecretRef: { name: 'mine', key: 'token' } } });
    expect(apiKeyRef(own)).toEqual({ name: 'mine', key: 'token' });
  });
});
