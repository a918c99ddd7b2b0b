// GET /api/wal/backup: a consistent snapshot of the WAL as a tar stream. The first entry,
// backup.json, lists every file of the snapshot; the segment bytes follow. `have` names segment
// prefixes the caller already stores (by first sequence, first-record CRC and length), and only
// the bytes after them are sent: sealed segments once, the current segment's growth since.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.ts';
import { ROUTES, fastifySchema } from '@veloz/api/http/contract';
import type { WalSnapshot } from '@veloz/wal/writer';
import { TAR_BLOCK, TAR_END, tarHeader, tarPadding } from '@veloz/wal/tar';
import {
  SNAPSHOT_FORMAT,
  SNAPSHOT_INDEX,
  parseHave,
  segmentIdOf,
  type SnapshotFile,
  type SnapshotIndex,
} from '@veloz/wal/snapshot-format';

async function describe(snap: WalSnapshot, have: Map<string, number>): Promise<SnapshotFile[]> {
  const out: SnapshotFile[] = [];
  for (const f of snap.files) {
    if (f.checkpointId !== undefined) {
      // A checkpoint file never changes: a store that holds it whole gets none of it again.
      const whole = have.get(f.checkpointId) === f.size;
      out.push({
        name: f.name,
        size: f.size,
        id: f.checkpointId,
        firstSequence: null,
        sendFrom: whole ? f.size : 0,
        checkpoint: true,
      });
      continue;
    }
    const first = await segmentIdOf(f.handle, f.size);
    const id = first?.id ?? null;
    const known = id === null ? undefined : have.get(id);
    out.push({
      name: f.name,
      size: f.size,
      id,
      firstSequence: first?.firstSequence ?? null,
      sendFrom: known !== undefined && known <= f.size ? known : 0,
    });
  }
  return out;
}

/** Bytes of the tar stream: announced up front (Content-Length), so no chunk framing is needed. */
function tarLength(snap: WalSnapshot, index: SnapshotIndex, json: Buffer): number {
  let n = TAR_BLOCK + json.length + tarPadding(json.length).length + TAR_END.length;
  for (let i = 0; i < snap.files.length; i++) {
    const len = snap.files[i]!.size - index.files[i]!.sendFrom;
    if (len > 0) n += TAR_BLOCK + len + tarPadding(len).length;
  }
  return n;
}

/** Segment bytes are read into these buffers in turn; four keep the disk and the socket busy. */
const BUFFERS = 4;
const CHUNK = 1024 * 1024;

/**
 * Writes the snapshot as a tar stream. The segment bytes go through a few buffers used again
 * and again, each read into only once the socket has taken what it held: a fresh buffer per
 * read (a read stream) cost page faults and garbage collection that slowed backups (ADR 0027).
 */
async function sendTar(
  res: ServerResponse,
  snap: WalSnapshot,
  index: SnapshotIndex,
  json: Buffer,
): Promise<void> {
  const closed = new Promise<never>((_, reject) =>
    res.once('close', () => reject(new Error('the client closed the connection'))),
  );
  // Only raced against writes: a close after the last one is the normal end.
  closed.catch(() => undefined);
  const written = (chunk: Buffer): Promise<void> =>
    new Promise((resolve, reject) => res.write(chunk, (err) => (err ? reject(err) : resolve())));
  res.write(tarHeader(SNAPSHOT_INDEX, json.length, index.createdAt));
  res.write(json);
  res.write(tarPadding(json.length));
  const bufs = Array.from({ length: BUFFERS }, () => Buffer.allocUnsafeSlow(CHUNK));
  const busy: Array<Promise<void>> = bufs.map(() => Promise.resolve());
  let turn = 0;
  for (let i = 0; i < snap.files.length; i++) {
    const f = snap.files[i]!;
    const from = index.files[i]!.sendFrom;
    const n = f.size - from;
    if (n <= 0) continue;
    res.write(tarHeader(f.name, n, index.createdAt));
    for (let pos = from; pos < f.size;) {
      const b = turn++ % BUFFERS;
      await Promise.race([busy[b], closed]);
      const buf = bufs[b]!;
      // The handle stays the snapshot's: bytes past `size` (written since) are never sent.
      const { bytesRead } = await f.handle.read(buf, 0, Math.min(CHUNK, f.size - pos), pos);
      if (bytesRead === 0) throw new Error(`${f.name} is shorter than its snapshot size ${f.size}`);
      pos += bytesRead;
      busy[b] = written(buf.subarray(0, bytesRead));
      busy[b].catch(() => undefined);
    }
    res.write(tarPadding(n));
  }
  res.write(TAR_END);
  await Promise.race([Promise.all(busy), closed]);
  res.end();
}

export function registerWalBackupRoute(app: FastifyInstance, engine: Engine): void {
  app.get<{ Querystring: { have?: string; checkpoint?: boolean } }>(
    ROUTES.walBackup.url,
    { schema: fastifySchema(ROUTES.walBackup) },
    async (req, reply) => {
      // No checkpoint by default: every segment starts with one already, and a checkpoint per backup
      // would add the whole state to the log (and to every incremental backup) each time.
      const snap = await engine.walSnapshot(req.query.checkpoint ?? false);
      let index: SnapshotIndex;
      try {
        index = {
          format: SNAPSHOT_FORMAT,
          sequence: snap.sequence,
          createdAt: Date.now(),
          files: await describe(snap, parseHave(req.query.have)),
          identity: engine.identity(),
        };
      } catch (err) {
        await snap.close();
        throw err;
      }
      const json = Buffer.from(JSON.stringify(index));
      // Written by hand: a write's callback says when its buffer is free (see sendTar). The
      // onResponse hooks still run when the response finishes.
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'application/x-tar',
        'content-length': String(tarLength(snap, index, json)),
        'x-veloz-wal-sequence': String(snap.sequence),
      });
      try {
        await sendTar(reply.raw, snap, index, json);
      } catch (err) {
        // The status is sent: a cut stream is how the client learns (the tar and its length).
        req.log.warn({ err }, 'WAL backup stream failed');
        reply.raw.destroy();
      } finally {
        await snap.close();
      }
    },
  );
}
