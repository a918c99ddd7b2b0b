// Where backups live: a directory (a mounted volume) or an S3-compatible bucket, behind one small
// key/value interface. Keys use '/' on both; writes are all-or-nothing (a temporary file renamed
// into place, or one PUT), so a half-written object never carries its final key.
import { constants, createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { fsyncDir } from '@veloz/wal/segments';
import { writeFully } from './sink.ts';

export interface StoredObject {
  key: string;
  size: number;
  /** Last modification, ms since the epoch. */
  modified: number;
}

export interface Store {
  /** Human-readable location, for messages. */
  readonly location: string;
  /** Every object whose key starts with `prefix` (recursively). */
  list(prefix: string): Promise<StoredObject[]>;
  readAll(key: string): Promise<Buffer>;
  read(key: string): Promise<AsyncIterable<Buffer>>;
  /**
   * Copies the object to a new file at `path` without passing its bytes through JavaScript (a
   * volume: the kernel's copy_file_range). Absent where the bytes must be downloaded (read()).
   */
  copyOut?(key: string, path: string): Promise<void>;
  /**
   * Stores exactly `size` bytes from `body`; nothing is left under `key` when it fails. With
   * `deferSync`, the bytes are durable only after the next sync(). A chunk of `body` is not used
   * once the one after the next is asked for: its buffer may be reused (ADR 0027).
   */
  write(key: string, body: AsyncIterable<Buffer> | Buffer, size: number, deferSync?: boolean): Promise<void>;
  /** Makes every write since the last sync() durable. */
  sync(): Promise<void>;
  remove(keys: string[]): Promise<void>;
}

export class StoreError extends Error {}

function joinKey(...parts: string[]): string {
  return parts
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .join('/');
}

export { joinKey };

export class FsStore implements Store {
  readonly location: string;
  private readonly root: string;
  private tmpCounter = 0;
  /** Deferred writes' fsyncs under way, and the directories their renames are in. */
  private flushing: Promise<void>[] = [];
  private readonly unsyncedDirs = new Set<string>();

  constructor(root: string) {
    this.root = root;
    this.location = root;
  }

  private path(key: string): string {
    if (key.split('/').some((p) => p === '..' || p === '.')) throw new StoreError(`bad key ${key}`);
    return join(this.root, ...key.split('/'));
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile() && !e.name.startsWith('.tmp-')) {
          const s = await stat(p);
          out.push({ key: relative(this.root, p).split(sep).join('/'), size: s.size, modified: s.mtimeMs });
        }
      }
    };
    // The prefix names a directory here (callers always end it at a '/').
    await walk(this.path(prefix));
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  readAll(key: string): Promise<Buffer> {
    return readFile(this.path(key));
  }

  async read(key: string): Promise<AsyncIterable<Buffer>> {
    const p = this.path(key);
    await stat(p);
    return createReadStream(p, { highWaterMark: 1024 * 1024 });
  }

  async copyOut(key: string, path: string): Promise<void> {
    // EXCL: a restore never writes over a file it did not create. FICLONE: a reflink where the
    // file system has them (a copy otherwise).
    await copyFile(this.path(key), path, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  }

  async write(
    key: string,
    body: AsyncIterable<Buffer> | Buffer,
    size: number,
    deferSync = false,
  ): Promise<void> {
    const p = this.path(key);
    await mkdir(dirname(p), { recursive: true });
    const tmp = join(dirname(p), `.tmp-${process.pid}-${++this.tmpCounter}-${key.split('/').at(-1)}`);
    const fh = await open(tmp, 'w');
    let ok = false;
    let flushed: Promise<void> | null = null;
    try {
      const chunks: AsyncIterable<Buffer> | Buffer[] = Buffer.isBuffer(body) ? [body] : body;
      let written = 0;
      // One write in flight while the next chunk is asked for (a backup checks it meanwhile), and
      // done before the one after (its buffer is reused then). Chunks come in blocks of 1 MB or
      // more, so a write per chunk costs little.
      let writing: Promise<void> | null = null;
      try {
        for await (const c of chunks) {
          if (writing !== null) await writing;
          writing = writeFully(fh, [c]);
          // Awaited before the next write or after the last: this only keeps a failure meanwhile
          // from counting as unhandled.
          writing.catch(() => undefined);
          written += c.length;
        }
        if (writing !== null) await writing;
      } finally {
        // A body that failed half-way leaves no write running on the file removed below.
        await writing?.catch(() => undefined);
      }
      if (written !== size) throw new StoreError(`${key}: got ${written} bytes, expected ${size}`);
      // Deferred: flushed while the next part arrives (a sync awaited per part would stall the
      // stream); sync() waits for it.
      if (deferSync) flushed = fh.sync();
      else await fh.sync();
      ok = true;
    } finally {
      if (flushed === null) await fh.close();
      if (!ok) await rm(tmp, { force: true });
    }
    if (flushed !== null) {
      const done = flushed.finally(() => fh.close());
      // Reported by sync(), which every caller of a deferred write awaits.
      done.catch(() => undefined);
      this.flushing.push(done);
      this.unsyncedDirs.add(dirname(p));
    }
    await rename(tmp, p);
    if (!deferSync) await fsyncDir(dirname(p));
  }

  async sync(): Promise<void> {
    const flushing = this.flushing;
    const dirs = [...this.unsyncedDirs];
    this.flushing = [];
    this.unsyncedDirs.clear();
    await Promise.all(flushing);
    for (const d of dirs) await fsyncDir(d);
  }

  async remove(keys: string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const k of keys) {
      await rm(this.path(k), { force: true });
      dirs.add(dirname(this.path(k)));
    }
    // Empty backup directories go with their last file.
    for (const d of dirs) {
      if (d === this.root) continue;
      const left = await readdir(d).catch(() => ['?']);
      if (left.length === 0) await rm(d, { recursive: true, force: true });
    }
  }
}

export interface S3Options {
  bucket: string;
  prefix: string;
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
}

/** Parses s3://bucket/prefix. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m || !m[1]) throw new StoreError(`not an s3://bucket/prefix URL: ${url}`);
  return { bucket: m[1], prefix: joinKey(m[2] ?? '') };
}

/** Each chunk copied: the request holds chunks after asking for the next (see Store.write). */
async function* copies(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const c of body) yield Buffer.from(c);
}

export class S3Store implements Store {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(opts: S3Options) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix;
    this.location = `s3://${opts.bucket}/${opts.prefix}`;
    const endpoint = opts.endpoint;
    this.client = new S3Client({
      ...(endpoint ? { endpoint } : {}),
      // An S3-compatible server at an endpoint usually has no region of its own.
      region: opts.region ?? (endpoint ? 'us-east-1' : undefined),
      // Virtual-host addressing needs DNS for every bucket: S3-compatible servers use paths.
      forcePathStyle: opts.forcePathStyle ?? Boolean(endpoint),
      ...(opts.accessKeyId && opts.secretAccessKey
        ? { credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } }
        : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private full(key: string): string {
    return joinKey(this.prefix, key);
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const dir = this.full(prefix);
    // The bucket root lists with no prefix at all ('/' would match nothing).
    const full = dir ? `${dir}/` : '';
    let token: string | undefined;
    do {
      const r = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: full, ContinuationToken: token }),
      );
      for (const o of r.Contents ?? []) {
        if (!o.Key) continue;
        out.push({
          key: this.prefix ? o.Key.slice(this.prefix.length + 1) : o.Key,
          size: o.Size ?? 0,
          modified: o.LastModified?.getTime() ?? 0,
        });
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async readAll(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.read(key)) chunks.push(c);
    return Buffer.concat(chunks);
  }

  async read(key: string): Promise<AsyncIterable<Buffer>> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
    if (!(r.Body instanceof Readable)) throw new StoreError(`${key}: unexpected response body`);
    return r.Body as AsyncIterable<Buffer>;
  }

  async write(key: string, body: AsyncIterable<Buffer> | Buffer, size: number): Promise<void> {
    // Durable once the PUT succeeds: nothing to defer. A single PUT is atomic: the object appears complete or not at all. A stream whose source
    // fails (a checksum error mid-way, say) aborts the request.
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.full(key),
        Body: Buffer.isBuffer(body) ? body : Readable.from(copies(body), { objectMode: false }),
        ContentLength: size,
      }),
    );
  }

  async sync(): Promise<void> {
    // Every PUT is durable when it returns.
  }

  async remove(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const r = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((k) => ({ Key: this.full(k) })), Quiet: true },
        }),
      );
      if (r.Errors && r.Errors.length > 0) {
        const e = r.Errors[0]!;
        throw new StoreError(`deleting ${e.Key} from ${this.location} failed: ${e.Code} ${e.Message}`);
      }
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}
