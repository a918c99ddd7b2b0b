// GET /api/wal/backup: a consistent snapshot of the WAL as a tar stream. The first entry,
// backup.json, lists every file of the snapshot; the segment bytes follow. `have` names segment
// prefixes the caller already stores (by first sequence, first-record CRC and length), and only
// the bytes after them are sent: sealed segments once, the current segment's growth since.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.ts';
import { ROUTES, fastifySchema } from '@veloz/api/http/contract';
import type { WalSnapshot } from '@veloz/wal/writer';
import { TAR_END, tarHeader, tarPadding } from '@veloz/wal/tar';
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

async function* tarStream(snap: WalSnapshot, index: SnapshotIndex): AsyncGenerator<Buffer> {
  try {
    const json = Buffer.from(JSON.stringify(index));
    yield tarHeader(SNAPSHOT_INDEX, json.length, index.createdAt);
    yield json;
    yield tarPadding(json.length);
    const chunk = 1024 * 1024;
    for (let i = 0; i < snap.files.length; i++) {
      const f = snap.files[i]!;
      const from = index.files[i]!.sendFrom;
      const n = f.size - from;
      if (n <= 0) continue;
      yield tarHeader(f.name, n, index.createdAt);
      // A read stream reads ahead while the socket drains; the handle stays the snapshot's.
      let got = 0;
      const stream = f.handle.createReadStream({
        start: from,
        end: f.size - 1,
        highWaterMark: chunk,
        autoClose: false,
        emitClose: false,
      });
      for await (const c of stream as AsyncIterable<Buffer>) {
        got += c.length;
        yield c;
      }
      if (got !== n) throw new Error(`${f.name} is shorter than its snapshot size ${f.size}`);
      yield tarPadding(n);
    }
    yield TAR_END;
  } finally {
    await snap.close();
  }
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
      return reply
        .type('application/x-tar')
        .header('x-veloz-wal-sequence', String(snap.sequence))
        .send(Readable.from(tarStream(snap, index), { objectMode: false, highWaterMark: 4 << 20 }));
    },
  );
}
