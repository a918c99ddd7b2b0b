// Throw-away certificates for tests, made with openssl, and the way Kubernetes lays out a mounted
// Secret (files behind the symbolic link ..data, replaced atomically on an update).
import { spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertificatePair {
  cert: string;
  key: string;
}

/** A self-signed EC certificate for 127.0.0.1 and localhost, or why openssl could not make one. */
export function selfSignedCertificate(commonName = 'localhost'): CertificatePair | string {
  const dir = mkdtempSync(join(tmpdir(), 'veloz-tls-'));
  try {
    const r = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    if (r.error || r.status !== 0) return `openssl: ${r.error?.message ?? r.stderr.toString()}`;
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A directory laid out as the kubelet mounts a Secret: `tls.crt` -> `..data/tls.crt`, `..data` ->
 * a timestamped directory. update() swaps `..data` with one rename, as the kubelet's atomic writer.
 */
export class MountedSecretDir {
  readonly dir: string;
  private n = 0;

  constructor(files: Record<string, string>) {
    this.dir = mkdtempSync(join(tmpdir(), 'veloz-secret-'));
    const generation = this.writeGeneration(files);
    symlinkSync(generation, join(this.dir, '..data'));
    for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(this.dir, name));
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  update(files: Record<string, string>): void {
    const generation = this.writeGeneration(files);
    const tmp = join(this.dir, '..data_tmp');
    symlinkSync(generation, tmp);
    renameSync(tmp, join(this.dir, '..data'));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private writeGeneration(files: Record<string, string>): string {
    const name = `..generation_${++this.n}`;
    mkdirSync(join(this.dir, name));
    for (const [file, content] of Object.entries(files)) writeFileSync(join(this.dir, name, file), content);
    return name;
  }
}
