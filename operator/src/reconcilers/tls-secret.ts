// What the gateway needs of its TLS Secret, checked by the operator so a bad Secret is a
// condition message on the VelozDeployment instead of gateways that cannot start.
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';

/** Why `tls.crt`/`tls.key` would not serve HTTPS, or undefined when they would. */
export function tlsSecretProblem(cert: string | undefined, key: string | undefined): string | undefined {
  const missing = [
    ['tls.crt', cert],
    ['tls.key', key],
  ].filter(([, v]) => !v);
  if (missing.length > 0) return `no (or an empty) key ${missing.map(([k]) => k).join(', ')}`;
  try {
    new X509Certificate(cert!);
  } catch (err) {
    return `tls.crt is not a PEM certificate (${(err as Error).message})`;
  }
  try {
    createSecureContext({ cert: cert!, key: key! });
  } catch (err) {
    return `tls.key is not the private key of tls.crt (${(err as Error).message})`;
  }
  return undefined;
}
