// Restore drills (issue 21, ADR 0024): `veloz restore --drill` as the drill CronJob runs it,
// against backups `veloz backup` took of a real engine process under order load, on a volume and
// in a real S3-compatible server (MinIO). A good backup restores, replays into the order state
// its manifest recorded and agrees with the live engine; a damaged one fails naming what broke.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import { backupEngineEnv, lastJson, orderLoad, startMinio, veloz, type Minio } from '@veloz/testing/backup';
import type { DrillResult } from './drill.ts';
import type { Manifest } from './manifest.ts';

let minio: Minio;
const dirs: string[] = [];
let engine: EngineProcess;
let wal: string;

async function tmp(prefix = 'veloz-drill-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  minio = await startMinio();
  await minio.createBucket('veloz-drills');
  wal = await tmp();
  engine = await startEngineProcess(backupEngineEnv(wal));
  // Resting orders, fills and cancels across several segment rotations.
  await orderLoad(engine.url, 600, 8, 'drill');
});

afterAll(async () => {
  await engine?.kill('SIGKILL');
  await minio?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const backup = (dest: string, env: Record<string, string>) =>
  veloz(['backup', '--engine-url', engine.url, '--deployment', 'prod', '--pair', '0', '--dest', dest], env);

const drill = (dest: string, env: Record<string, string>, ...more: string[]) =>
  veloz(['restore', '--drill', '--from', dest, '--deployment', 'prod', '--pair', '0', ...more], env);

/** The newest manifest of prod/0 in a volume destination. */
async function newestManifestPath(dest: string): Promise<string> {
  const base = join(dest, 'prod', '0');
  const name = (await readdir(base))
    .filter((n) => n !== 'segments')
    .sort()
    .at(-1)!;
  return join(base, name, 'manifest.json');
}

const destinations = [
  { name: 'a mounted volume', dest: () => tmp('veloz-drill-dest-'), env: () => ({}) },
  {
    name: 'an S3-compatible bucket',
    dest: async () => `s3://veloz-drills/${(await tmp()).split('-').at(-1)!.toLowerCase()}`,
    env: () => minio.env,
  },
];

describe.each(destinations)('veloz restore --drill on $name', ({ dest: makeDest, env }) => {
  it('restores and replays the newest backup into the state its manifest recorded, and agrees with the live engine', async () => {
    const dest = await makeDest();
    const b = await backup(dest, env());
    expect(b.code, b.stderr).toBe(0);
    const taken = lastJson<{ sequence: number; stateDigest?: string }>(b);
    expect(taken.stateDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const scratch = await tmp();
    const report = join(await tmp(), 'termination-log');
    const r = await drill(
      dest,
      env(),
      '--to',
      scratch,
      '--engine-url',
      engine.url,
      '--max-backup-age-seconds',
      '3600',
      '--report-file',
      report,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson<DrillResult>(r);
    expect(out).toMatchObject({
      result: 'Succeeded',
      deployment: 'prod',
      pair: 0,
      sequence: taken.sequence,
      digest: taken.stateDigest,
    });
    expect(out.reason).toBeUndefined();
    expect(out.entriesReplayed).toBeGreaterThan(0);
    expect(out.checks.join('\n')).toContain('order-state digest');
    expect(out.checks.join('\n')).toMatch(/live engine at sequence \d+ on the same WAL/);
    // What the CronJob leaves for the operator: the same JSON in the termination message.
    expect(JSON.parse(await readFile(report, 'utf8'))).toEqual(out);
    // The scratch copy is gone: a drill leaves nothing behind.
    expect(await readdir(scratch)).toEqual([]);
  });
});

describe('veloz restore --drill on a damaged or older backup', () => {
  it('fails with RestoreFailed naming the part when a stored segment is corrupted', async () => {
    const dest = await tmp('veloz-drill-dest-');
    expect((await backup(dest, {})).code).toBe(0);
    const segs = join(dest, 'prod', '0', 'segments');
    const part = (await readdir(segs)).sort()[0]!;
    const bytes = await readFile(join(segs, part));
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await writeFile(join(segs, part), bytes);
    const r = await drill(dest, {}, '--to', await tmp());
    expect(r.code).toBe(1);
    const out = lastJson<DrillResult>(r);
    expect(out).toMatchObject({ result: 'Failed', reason: 'RestoreFailed' });
    expect(out.checks.at(-1)).toContain(`is damaged`);
    expect(out.checks.at(-1)).toContain(part);
  });

  it('fails with DigestMismatch when the backup replays into another order state than it recorded', async () => {
    const dest = await tmp('veloz-drill-dest-');
    expect((await backup(dest, {})).code).toBe(0);
    const path = await newestManifestPath(dest);
    const m = JSON.parse(await readFile(path, 'utf8')) as Manifest;
    const recorded = m.state!.digest;
    m.state!.digest = `sha256:${'0'.repeat(64)}`;
    await writeFile(path, JSON.stringify(m));
    const r = await drill(dest, {});
    expect(r.code).toBe(1);
    const out = lastJson<DrillResult>(r);
    expect(out).toMatchObject({ result: 'Failed', reason: 'DigestMismatch', digest: recorded });
    expect(out.checks.at(-1)).toContain(`it recorded sha256:${'0'.repeat(64)}`);
  });

  it('compares the sequence only for a backup from before drills, and says so', async () => {
    const dest = await tmp('veloz-drill-dest-');
    expect((await backup(dest, {})).code).toBe(0);
    const path = await newestManifestPath(dest);
    const m = JSON.parse(await readFile(path, 'utf8')) as Manifest;
    delete m.state;
    await writeFile(path, JSON.stringify(m));
    const r = await drill(dest, {});
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson<DrillResult>(r);
    expect(out.result).toBe('Succeeded');
    expect(out.checks.join('\n')).toContain('records no order-state digest');
  });

  it('fails with BackupTooOld when the newest backup is older than one backup interval', async () => {
    const dest = await tmp('veloz-drill-dest-');
    expect((await backup(dest, {})).code).toBe(0);
    const path = await newestManifestPath(dest);
    const m = JSON.parse(await readFile(path, 'utf8')) as Manifest;
    m.createdAtMs -= 3_600_000;
    await writeFile(path, JSON.stringify(m));
    const r = await drill(dest, {}, '--max-backup-age-seconds', '300');
    expect(r.code).toBe(1);
    expect(lastJson<DrillResult>(r)).toMatchObject({ result: 'Failed', reason: 'BackupTooOld' });
  });

  it('refuses bad input naming the flag', async () => {
    const r = await drill('/nowhere', {}, '--up-to-sequence', '5');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--up-to-sequence cannot be combined');
    const pg = await drill('postgres://', {});
    expect(pg.code).toBe(2);
    expect(pg.stderr).toContain('not postgres://');
  });
});
