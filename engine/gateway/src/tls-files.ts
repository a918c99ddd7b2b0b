// HTTPS certificate files, watched: Kubernetes replaces a mounted Secret's files by swapping a
// symbolic link (..data), and cert-manager renews a certificate weeks before it expires, so the
// gateway re-reads the pair when the directory changes (and on a timer, in case an event is
// missed) and gives new connections the new certificate without a restart. A pair that does not
// load (a half-written rotation, a key of another certificate) is logged and the old one kept.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { X509Certificate } from 'node:crypto';

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 fingerprint of the leaf certificate, for logs. */
  fingerprint: string;
  notAfter: string;
}

export class TlsFileError extends Error {}

/** Reads and checks a certificate and its key; a TlsFileError names the file and the problem. */
export async function loadTlsPair(certFile: string, keyFile: string): Promise<TlsPair> {
  const read = async (file: string, what: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new TlsFileError(
        `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
  };
  const [cert, key] = await Promise.all([read(certFile, 'certificate'), read(keyFile, 'private key')]);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new TlsFileError(`${certFile} is not a PEM certificate: ${(err as Error).message}`);
  }
  try {
    // Refuses a key that is not PEM, or that does not belong to the certificate.
    createSecureContext({ cert, key });
  } catch (err) {
    throw new TlsFileError(`${keyFile} is not the private key of ${certFile}: ${(err as Error).message}`);
  }
  return { cert, key, fingerprint: leaf.fingerprint256, notAfter: leaf.validTo };
}

export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

export interface TlsWatchOptions {
  certFile: string;
  keyFile: string;
  current: TlsPair;
  /** Re-read interval when no change event comes (milliseconds). */
  pollMs?: number;
  onReload(pair: TlsPair): void;
  onError(err: TlsFileError): void;
}

/** Watches the pair's directories; returns a function that stops watching. */
export function watchTlsPair(target: SecureContextTarget, o: TlsWatchOptions): () => void {
  let current = o.current;
  let pending: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  let stopped = false;
  let reported: string | undefined;
  const reload = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        let next: TlsPair;
        try {
          next = await loadTlsPair(o.certFile, o.keyFile);
        } catch (err) {
          if (!(err instanceof TlsFileError)) throw err;
          // The same broken pair is reported once, not at every poll.
          if (!stopped && err.message !== reported) o.onError(err);
          reported = err.message;
          continue;
        }
        reported = undefined;
        if (stopped || (next.cert.equals(current.cert) && next.key.equals(current.key))) continue;
        target.setSecureContext({ cert: next.cert, key: next.key });
        current = next;
        o.onReload(next);
      } while (again && !stopped);
    } finally {
      running = false;
    }
  };
  // Several events come per rotation: one read after they settle.
  const soon = (): void => {
    if (stopped) return;
    clearTimeout(pending);
    pending = setTimeout(() => void reload(), 100);
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set([dirname(o.certFile), dirname(o.keyFile)])) {
    try {
      const w = watch(dir, soon);
      w.on('error', () => undefined);
      watchers.push(w);
    } catch {
      // A directory that cannot be watched is still polled.
    }
  }
  const poll = setInterval(soon, o.pollMs ?? 30_000);
  poll.unref();
  return () => {
    stopped = true;
    clearTimeout(pending);
    clearInterval(poll);
    for (const w of watchers) w.close();
  };
}
