// Backups proven by restoring: real engine processes under order load, `veloz backup` and
// `veloz restore` run as the CronJob and the init container run them, a directory destination
// and a real S3-compatible server (MinIO built from the Go module proxy).
import { copyFile, readFile, readdir, rm, writeFile, mkdtemp, mkdir } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import { verifyWal } from '@veloz/wal/recovery';
import { runBackup } from './backup.ts';
import type { Manifest } from './manifest.ts';
import { applyRetention } from './retention.ts';
import { FsStore } from './store.ts';
import {
  backupEngineEnv,
  engineView,
  lastJson,
  orderLoad,
  startMinio,
  veloz,
  type Minio,
} from '@veloz/testing/backup';

let minio: Minio;
const dirs: string[] = [];
const procs: EngineProcess[] = [];

beforeAll(async () => {
  minio = await startMinio();
  await minio.createBucket('veloz-backups');
});
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  await minio?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tmp(prefix = 'veloz-bk-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function engineEnv(wal: string): Record<string, string> {
  return backupEngineEnv(wal, { VELOZ_WAL_MAX_FILES: '1000' });
}

async function engine(env: Record<string, string>): Promise<EngineProcess> {
  const e = await startEngineProcess(env);
  procs.push(e);
  return e;
}

interface BackupOut {
  result: string;
  backup: string;
  sequence: number;
  sentFiles: string[];
  sentBytes: number;
  bytes: number;
}

/** The CronJob's command line (cdk8s/render/src/render.ts), with the destination and engine of a test. */
function backupArgs(url: string, dest: string, deployment = 'prod', pair = 0): string[] {
  return [
    'backup',
    '--engine-url',
    url,
    '--deployment',
    deployment,
    '--pair',
    String(pair),
    '--dest',
    dest,
    '--retention-days',
    '7',
  ];
}

const destinations = [
  { name: 'a mounted volume', dest: () => tmp('veloz-dest-'), env: () => ({}) },
  {
    name: 'an S3-compatible bucket',
    dest: async () => `s3://veloz-backups/${(await tmp()).split('-').at(-1)!.toLowerCase()}`,
    env: () => minio.env,
  },
];

describe.each(destinations)('backup and restore on $name', ({ dest: makeDest, env: destEnv }) => {
  it('round trip: engine under order load -> backup -> wipe the WAL -> restore -> identical orders and positions', async () => {
    const wal = await tmp();
    const dest = await makeDest();
    const env = engineEnv(wal);
    const a = await engine(env);
    await orderLoad(a.url, 300, 8, 'warm');
    // Backups while orders keep coming and segments keep rotating.
    const load = orderLoad(a.url, 1500, 8, 'load');
    const during: BackupOut[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await veloz(backupArgs(a.url, dest), destEnv());
      expect(r.code, r.stderr).toBe(0);
      during.push(lastJson<BackupOut>(r));
    }
    await load;
    const final = await veloz(backupArgs(a.url, dest), destEnv());
    expect(final.code, final.stderr).toBe(0);
    const out = lastJson<BackupOut>(final);
    expect(out.result).toBe('complete');
    const before = await engineView(a.url);
    expect(await a.kill('SIGTERM')).toBe(0);
    // The same log replayed in place: the reference for mark-dependent position fields (the
    // simulated market takes one step at every start).
    const again = await engine(env);
    const reference = await engineView(again.url);
    expect(await again.kill('SIGTERM')).toBe(0);
    expect(reference.orders).toEqual(before.orders);

    await rm(wal, { recursive: true, force: true });
    const r = await veloz(
      ['restore', '--from', dest, '--deployment', 'prod', '--pair', '0', '--to', wal],
      destEnv(),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson<{ lastSequence: number }>(r).lastSequence).toBe(out.sequence);
    const b = await engine(env);
    const after = await engineView(b.url);
    expect(await b.kill('SIGTERM')).toBe(0);
    expect(after.orders).toEqual(before.orders);
    expect(after.positions).toEqual(reference.positions);

    // Each backup taken during the load restores to exactly its own sequence.
    // --from may also name the pair's own directory (the other deployment's, when bootstrapping).
    for (const [i, d] of during.entries()) {
      const to = await tmp();
      const rr = await veloz(
        [
          'restore',
          '--from',
          i === 0 ? `${dest}/prod/0` : dest,
          '--deployment',
          'prod',
          '--pair',
          '0',
          '--to',
          to,
          '--up-to-sequence',
          String(d.sequence),
        ],
        destEnv(),
      );
      expect(rr.code, rr.stderr).toBe(0);
      const rep = await verifyWal(to);
      expect(rep.healthy).toBe(true);
      expect(rep.lastSequence).toBe(d.sequence);
    }
  });
});

describe('backup and restore', () => {
  it('restores to a sequence and to a time in the middle of the log', async () => {
    const wal = await tmp();
    const dest = await tmp('veloz-dest-');
    const env = engineEnv(wal);
    const a = await engine(env);
    await orderLoad(a.url, 400, 8, 'a');
    const atPoint = await engineView(a.url);
    const point = (atPoint.orders as { lastSequence: number }).lastSequence;
    await new Promise((r) => setTimeout(r, 5));
    const pointTime = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await orderLoad(a.url, 600, 8, 'b');
    const r0 = await veloz(backupArgs(a.url, dest));
    expect(r0.code, r0.stderr).toBe(0);
    expect(lastJson<BackupOut>(r0).sequence).toBeGreaterThan(point);
    expect(await a.kill('SIGTERM')).toBe(0);

    const restore = (to: string, ...more: string[]) =>
      veloz(['restore', '--from', dest, '--deployment', 'prod', '--pair', '0', '--to', to, ...more]);
    for (const flag of [
      ['--up-to-sequence', String(point)],
      ['--up-to-time', pointTime],
    ]) {
      const to = await tmp();
      const r = await restore(to, ...flag);
      expect(r.code, r.stderr).toBe(0);
      expect(lastJson<{ lastSequence: number }>(r).lastSequence).toBe(point);
      const b = await engine({ ...env, VELOZ_WAL_DIR: to });
      expect((await engineView(b.url)).orders, flag[0]).toEqual(atPoint.orders);
      expect(await b.kill('SIGTERM')).toBe(0);
    }
    const beyond = await restore(await tmp(), '--up-to-sequence', '99999999');
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toMatch(/no backup holds sequence 99999999/);
  });

  // Enough orders for several rotations: a segment is sealed once it holds as many bytes of
  // records as of the checkpoint it starts with (the resting orders), and background checkpoints
  // no longer pad the log every 1000 records (ADR 19).
  it('incremental: a backup sends only what the destination does not hold', async () => {
    const wal = await tmp();
    const dest = await tmp('veloz-dest-');
    const a = await engine(engineEnv(wal));
    await orderLoad(a.url, 2500, 8, 'a');
    const first = lastJson<BackupOut>(await veloz(backupArgs(a.url, dest)));
    const sealed = first.sentFiles.filter((f) => f !== 'orders_current.wal');
    expect(sealed.length).toBeGreaterThan(1);
    expect(first.sentBytes).toBe(first.bytes);

    // Nothing new: nothing sent, yet a complete backup.
    const second = lastJson<BackupOut>(await veloz(backupArgs(a.url, dest)));
    expect(second.sentFiles).toEqual([]);
    expect(second.sentBytes).toBe(0);
    expect(second.sequence).toBe(first.sequence);

    // A few orders: the current segment's growth (and at most a rotation's worth) is sent.
    await orderLoad(a.url, 10, 2, 'few');
    const grown = lastJson<BackupOut>(await veloz(backupArgs(a.url, dest)));
    for (const f of sealed) expect(grown.sentFiles).not.toContain(f);
    expect(grown.sentBytes).toBeLessThan(grown.bytes - first.bytes + 70_000);

    await orderLoad(a.url, 2500, 8, 'b');
    const third = lastJson<BackupOut>(await veloz(backupArgs(a.url, dest)));
    for (const f of sealed) expect(third.sentFiles).not.toContain(f);
    expect(third.sentFiles.length).toBeGreaterThan(1);
    expect(third.sentBytes).toBeLessThanOrEqual(third.bytes - grown.bytes + 70_000);
    // Every part the newest manifest refers to is stored.
    const pairDir = join(dest, 'prod', '0');
    const manifests = (await readdir(pairDir)).filter((d) => d !== 'segments').sort();
    expect(manifests).toHaveLength(4);
    const m = JSON.parse(await readFile(join(pairDir, manifests[3]!, 'manifest.json'), 'utf8')) as Manifest;
    const stored = await readdir(join(pairDir, 'segments'));
    for (const s of m.segments)
      for (const p of s.parts) expect(stored).toContain(p.key.replace('segments/', ''));
    expect(await a.kill('SIGTERM')).toBe(0);
  });

  it('retention deletes old backups and their unshared parts, never the newest complete one, nothing else', async () => {
    const wal = await tmp();
    const dest = await tmp('veloz-dest-');
    const store = new FsStore(dest);
    // The engine keeps one sealed segment: old segments leave the log, so older backups hold
    // parts that newer ones no longer need.
    const a = await engine({ ...engineEnv(wal), VELOZ_WAL_MAX_FILES: '1' });
    const DAY = 86_400_000;
    const t0 = Date.now();
    const names: string[] = [];
    for (const day of [0, 2, 5, 9]) {
      await orderLoad(a.url, 1000, 8, `d${day}`);
      names.push(
        (await runBackup({ engineUrl: a.url, deployment: 'prod', pair: 0, store, now: () => t0 + day * DAY }))
          .name,
      );
    }
    // Things retention must not touch: another pair, a stray file, a backup still being written.
    await mkdir(join(dest, 'prod', '1', 'segments'), { recursive: true });
    await writeFile(join(dest, 'prod', '1', 'segments', 'x.wal'), 'other pair');
    await writeFile(join(dest, 'prod', 'notes.txt'), 'keep me');
    const running = join(dest, 'prod', '0', '20991231T000000000Z-0000000000000001');
    await mkdir(running, { recursive: true });
    await writeFile(join(running, 'partial'), 'in progress');
    const partsBefore = new Set(await readdir(join(dest, 'prod', '0', 'segments')));

    const now = () => t0 + 10 * DAY;
    // Fresh files are inside the grace period: only whole backups go.
    const early = await applyRetention({
      store,
      deployment: 'prod',
      pair: 0,
      retentionDays: 7,
      now,
      graceMs: 20 * DAY,
    });
    expect(early.deletedBackups).toEqual(names.slice(0, 2));
    expect(early.deletedParts).toEqual([]);
    expect(early.deletedPartial).toEqual([]);
    const r = await applyRetention({ store, deployment: 'prod', pair: 0, retentionDays: 7, now, graceMs: 0 });
    expect(r.deletedBackups).toEqual([]);
    expect(r.kept).toEqual(names.slice(2));
    expect(r.deletedPartial).toEqual(['20991231T000000000Z-0000000000000001']);
    const kept = await Promise.all(
      names
        .slice(2)
        .map(
          async (n) =>
            JSON.parse(await readFile(join(dest, 'prod', '0', n, 'manifest.json'), 'utf8')) as Manifest,
        ),
    );
    const needed = new Set(
      kept.flatMap((m) => m.segments.flatMap((s) => s.parts.map((p) => p.key.replace('segments/', '')))),
    );
    const partsAfter = new Set(await readdir(join(dest, 'prod', '0', 'segments')));
    expect(partsAfter).toEqual(needed);
    expect(r.deletedParts.map((k) => k.replace('segments/', '')).sort()).toEqual(
      [...partsBefore].filter((p) => !needed.has(p)).sort(),
    );
    expect(r.deletedParts.length).toBeGreaterThan(0);
    expect(await readFile(join(dest, 'prod', '1', 'segments', 'x.wal'), 'utf8')).toBe('other pair');
    expect(await readFile(join(dest, 'prod', 'notes.txt'), 'utf8')).toBe('keep me');

    // Past every cut-off the newest complete backup stays, and it still restores.
    const late = await applyRetention({
      store,
      deployment: 'prod',
      pair: 0,
      retentionDays: 0,
      now: () => t0 + 100 * DAY,
      graceMs: 0,
    });
    expect(late.kept).toEqual([names[3]]);
    const to = await tmp();
    const rr = await veloz(['restore', '--from', dest, '--deployment', 'prod', '--pair', '0', '--to', to]);
    expect(rr.code, rr.stderr).toBe(0);
    expect((await verifyWal(to)).healthy).toBe(true);
    expect(await a.kill('SIGTERM')).toBe(0);
  });

  it('detects a corrupted backup at restore, refuses a non-empty target, never completes a cut-short backup', async () => {
    const wal = await tmp();
    const dest = await tmp('veloz-dest-');
    const a = await engine(engineEnv(wal));
    await orderLoad(a.url, 500, 8, 'a');
    const ok = lastJson<BackupOut>(await veloz(backupArgs(a.url, dest)));
    const pairDir = join(dest, 'prod', '0');

    // An engine answer cut off in the middle: exit 1, and no new manifest.
    const proxy: Server = createServer((req, res) => {
      const up = request(`${a.url}${req.url}`, (u) => {
        res.writeHead(u.statusCode ?? 500, u.headers);
        let sent = 0;
        u.on('data', (c: Buffer) => {
          sent += c.length;
          res.write(c);
          if (sent > 100_000) res.destroy();
        });
      });
      up.end();
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    const port = (proxy.address() as { port: number }).port;
    // A fresh destination, so the whole log has to come through the proxy.
    const dest2 = await tmp('veloz-dest-');
    const cut = await veloz(backupArgs(`http://127.0.0.1:${port}`, dest2));
    proxy.close();
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/veloz backup: /);
    expect(await readdir(join(dest2, 'prod', '0')).catch(() => [])).not.toContainEqual(
      expect.stringMatching(/^\d{8}T/),
    );

    // One flipped bit in one stored part: restore names the backup and the part, writes nothing.
    const okName = ok.backup.split('/').at(-1)!;
    const m = JSON.parse(await readFile(join(pairDir, okName, 'manifest.json'), 'utf8')) as Manifest;
    const part = m.segments[0]!.parts[0]!.key;
    const victim = join(pairDir, part);
    const bytes = await readFile(victim);
    bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0x40, bytes.length >> 1);
    await writeFile(victim, bytes);
    const to = await tmp();
    const bad = await veloz(['restore', '--from', dest, '--deployment', 'prod', '--pair', '0', '--to', to]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(new RegExp(`backup ${okName} is damaged: .*${part}: `));
    expect(await readdir(to)).toEqual([]);

    // A target holding a WAL is refused unless forced; --if-empty leaves it alone.
    await copyFile(join(wal, 'orders_current.wal'), join(to, 'orders_current.wal'));
    const busy = await veloz(['restore', '--from', dest, '--deployment', 'prod', '--pair', '0', '--to', to]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/is not empty \(it holds a WAL: orders_current\.wal: /);
    const skip = await veloz([
      'restore',
      '--from',
      dest,
      '--deployment',
      'prod',
      '--pair',
      '0',
      '--to',
      to,
      '--if-empty',
    ]);
    expect(skip.code).toBe(0);
    expect(lastJson<{ result: string }>(skip).result).toBe('skipped');

    // A damaged manifest is named too.
    await writeFile(join(pairDir, okName, 'manifest.json'), '{"format":');
    const badManifest = await veloz([
      'restore',
      '--from',
      dest,
      '--deployment',
      'prod',
      '--pair',
      '0',
      '--to',
      to,
      '--force',
    ]);
    expect(badManifest.code).toBe(1);
    expect(badManifest.stderr).toMatch(/manifest is not valid JSON/);
    expect(await a.kill('SIGTERM')).toBe(0);
  });

  it('rejects bad input with exit 2 naming the flag, and documents every subcommand', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['backup', '--deployment', 'x', '--pair', '0', '--dest', '/tmp/x'], /--engine-url/],
      [
        ['backup', '--engine-url', 'http://e', '--deployment', 'x', '--pair', 'one', '--dest', '/tmp/x'],
        /--pair must be an integer/,
      ],
      [
        ['backup', '--engine-url', 'http://e', '--deployment', 'X_Y', '--pair', '0', '--dest', '/tmp/x'],
        /--deployment/,
      ],
      [
        ['backup', '--engine-url', 'http://e', '--deployment', 'x', '--pair', '0', '--dest', 'gs://b'],
        /--dest/,
      ],
      [
        [
          'backup',
          '--engine-url',
          'http://e',
          '--deployment',
          'x',
          '--pair',
          '0',
          '--dest',
          '/x',
          '--retention-days',
          '-1',
        ],
        /--retention-days/,
      ],
      [['restore', '--from', '/b', '--deployment', 'x', '--pair', '0'], /--to/],
      [
        [
          'restore',
          '--from',
          '/b',
          '--deployment',
          'x',
          '--pair',
          '0',
          '--to',
          '/t',
          '--up-to-time',
          'yesterday',
        ],
        /--up-to-time/,
      ],
      [
        [
          'restore',
          '--from',
          '/b',
          '--deployment',
          'x',
          '--pair',
          '0',
          '--to',
          '/t',
          '--up-to-sequence',
          '5',
          '--up-to-time',
          '2026-01-01T00:00:00Z',
        ],
        /cannot be combined/,
      ],
      [['restore', '--bogus'], /bogus/],
    ];
    await Promise.all(
      cases.map(async ([args, re]) => {
        const r = await veloz(args, { VELOZ_DEPLOYMENT_NAME: '', VELOZ_PAIR_INDEX: '' });
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr).toMatch(re);
      }),
    );
    // Every flag can come from the environment instead.
    const viaEnv = await veloz(['backup'], {
      VELOZ_BACKUP_ENGINE_URL: 'http://127.0.0.1:1',
      VELOZ_DEPLOYMENT_NAME: 'x',
      VELOZ_PAIR_INDEX: '0',
      VELOZ_BACKUP_DEST: await tmp(),
    });
    expect(viaEnv.code).toBe(1);
    expect(viaEnv.stderr).toMatch(/cannot reach the engine at http:\/\/127\.0\.0\.1:1/);
    for (const cmd of ['backup', 'restore']) {
      const h = await veloz([cmd, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(new RegExp(`Usage: veloz ${cmd}`));
    }
  });
});
