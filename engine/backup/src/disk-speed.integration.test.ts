// Restore copies parts with the kernel and checks the copy by reading it back; backup records
// where the newest checkpoint is so that its state digest replays only from there (ADR 0027).
// Against a real engine process, through `veloz backup` / `veloz restore` where the CLI matters.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackupScratch,
  backupArgs,
  backupEngineEnv,
  lastJson,
  orderLoad,
  restoreArgs,
  veloz,
} from '@veloz/testing/backup';
import type { DrillResult } from './drill.ts';
import { MANIFEST_FILE, type Manifest } from './manifest.ts';
import { RestoreError, restoreFromStore } from './restore.ts';
import { FsStore } from './store.ts';

const scratch = new BackupScratch('veloz-speed-');
let engineUrl: string;
let dest: string;
let backupName: string;
let manifest: Manifest;

const backup = (to: string) => veloz(backupArgs(engineUrl, to));
const manifestPath = (name: string) => join(dest, 'prod', '0', name, MANIFEST_FILE);

beforeAll(async () => {
  const wal = await scratch.tmp();
  dest = await scratch.tmp('veloz-speed-dest-');
  // 64 KiB segments: the load crosses several rotations, so the newest checkpoint is far from
  // the start of the log.
  const e = await scratch.engine(backupEngineEnv(wal));
  engineUrl = e.url;
  await orderLoad(engineUrl, 1500, 8, 'speed');
  const b = await backup(dest);
  expect(b.code, b.stderr).toBe(0);
  backupName = lastJson<{ backup: string }>(b).backup.split('/').at(-1)!;
  manifest = JSON.parse(await readFile(manifestPath(backupName), 'utf8')) as Manifest;
});

afterAll(() => scratch.cleanup());

/** A volume whose copies land with one byte flipped (a bad disk, a bad cable) in one segment. */
class DamagingCopies extends FsStore {
  private readonly victim: string;
  private readonly at: number;

  constructor(root: string, victim: string, at: number) {
    super(root);
    this.victim = victim;
    this.at = at;
  }

  override async copyOut(key: string, path: string): Promise<void> {
    await super.copyOut(key, path);
    if (!key.endsWith(this.victim)) return;
    const b = await readFile(path);
    b[this.at] = b[this.at]! ^ 0x20;
    await writeFile(path, b);
  }
}

describe('restore at disk speed', () => {
  it('records the newest checkpoint, and the state digest replayed from it matches a full replay', async () => {
    expect(manifest.segments.filter((s) => !s.checkpoint).length).toBeGreaterThan(1);
    expect(manifest.lastCheckpoint?.segment).not.toBe(manifest.segments[0]!.name);
    const at = manifest.lastCheckpoint!;
    expect(at).toBeDefined();
    const seg = manifest.segments.find((s) => s.name === at.segment)!;
    expect(seg.checkpointSequence).toBe(at.sequence);
    expect(manifest.state?.sequence).toBe(manifest.lastSequence);
    // The drill restores the whole backup and replays it with the engine's recovery.
    const d = await veloz(['restore', '--drill', '--from', dest, '--deployment', 'prod', '--pair', '0']);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(lastJson<DrillResult>(d).digest).toBe(manifest.state?.digest);
  });

  it('names the segment and offset of a byte that landed wrong in the copy, and leaves the target empty', async () => {
    const seg = manifest.segments.find((s) => !s.checkpoint && s.parts.length > 0)!;
    const part = seg.parts[0]!;
    const to = await scratch.tmp();
    // Inside the first record's payload: its checksum fails.
    const store = new DamagingCopies(dest, part.key, 40);
    const failed = restoreFromStore({ store, deployment: 'prod', pair: 0, to, target: {} });
    await expect(failed).rejects.toThrow(RestoreError);
    await expect(failed).rejects.toThrow(
      new RegExp(`backup ${backupName} is damaged: .*${part.key}: ${seg.name}: offset 0: checksum mismatch`),
    );
    expect(await readdir(to)).toEqual([]);
    // The stored part is intact: the same restore from the volume itself succeeds.
    const r = await veloz(restoreArgs(dest, to));
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson<{ lastSequence: number }>(r).lastSequence).toBe(manifest.lastSequence);
  });

  it('restores, drills and continues from a manifest written before lastCheckpoint', async () => {
    const old = structuredClone(manifest);
    delete old.lastCheckpoint;
    for (const s of old.segments) delete s.checkpointSequence;
    await writeFile(manifestPath(backupName), `${JSON.stringify(old, null, 2)}\n`);
    const to = await scratch.tmp();
    const r = await veloz(restoreArgs(dest, to));
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson<{ lastSequence: number }>(r).lastSequence).toBe(manifest.lastSequence);
    // The next backup builds on it (its stored segments say nothing about checkpoints), and its
    // digest still agrees with the drill's full replay.
    await orderLoad(engineUrl, 50, 4, 'more');
    const b = await backup(dest);
    expect(b.code, b.stderr).toBe(0);
    const d = await veloz(['restore', '--drill', '--from', dest, '--deployment', 'prod', '--pair', '0']);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(lastJson<DrillResult>(d).result).toBe('Succeeded');
  });
});
