import { describe, expect, it } from 'vitest';
import { selfSignedCertificate, type CertificatePair } from '@veloz/testing/tls';
import { tlsSecretProblem } from './tls-secret.ts';

const a = selfSignedCertificate('a');
const b = selfSignedCertificate('b');

describe.skipIf(typeof a === 'string' || typeof b === 'string')('tlsSecretProblem', () => {
  const x = a as CertificatePair;
  const y = b as CertificatePair;

  it('accepts a certificate with its key', () => {
    expect(tlsSecretProblem(x.cert, x.key)).toBeUndefined();
  });

  it.each([
    [undefined, 'k', 'no (or an empty) key tls.crt'],
    ['', undefined, 'no (or an empty) key tls.crt, tls.key'],
    ['not a certificate', 'k', 'tls.crt is not a PEM certificate'],
  ])('names what is missing or wrong: %s', (cert, key, problem) => {
    expect(tlsSecretProblem(cert, key)).toContain(problem);
  });

  it('refuses the key of another certificate', () => {
    expect(tlsSecretProblem(x.cert, y.key)).toContain('tls.key is not the private key of tls.crt');
  });
});
