// How truncate_at_corruption finds what to keep, on forged segments: runs of records that follow
// each other, chains across clean segment ends, and the chain recovery replays.
import { describe, expect, it } from 'vitest';
import { RecordType, encodeRecord } from './framing.ts';
import { encodeRotation } from './payloads.ts';
import { chainsOf, chooseChain, runsOf } from './salvage.ts';
import type { Segment } from './segments.ts';

const T = 1_700_000_000_000;
const order = (seq: number) => encodeRecord(seq, T, RecordType.OrderNew, Buffer.from('order'));
const checkpoint = (seq: number) => encodeRecord(seq, T, RecordType.Checkpoint, Buffer.from('{}'));
const rotation = (seq: number, n: number) =>
  encodeRecord(seq, T, RecordType.Rotation, encodeRotation({ sealedSegment: n }));
const garbage = Buffer.alloc(64, 0xab);

const sealed = (n: number): Segment => ({ name: `orders_${String(n).padStart(16, '0')}.wal`, number: n });
const current: Segment = { name: 'orders_current.wal', number: null };

describe('runsOf', () => {
  it('skips damage and goes on with the next valid record', () => {
    const buf = Buffer.concat([order(1), order(2), garbage, checkpoint(5), order(6)]);
    const runs = runsOf(buf, 0);
    expect(runs.map((r) => [r.firstSeq, r.lastSeq, r.checkpoint?.seq ?? null, r.cleanEnd])).toEqual([
      [1, 2, null, false],
      [5, 6, 5, true],
    ]);
    expect(runs[1]!.start).toBe(order(1).length * 2 + garbage.length);
  });

  it('starts a run at a valid record that does not follow, and ends one at a record after a rotation', () => {
    const buf = Buffer.concat([order(1), order(2), order(9), rotation(10, 1), order(11)]);
    expect(runsOf(buf, 0).map((r) => [r.firstSeq, r.lastSeq, r.rotation, r.cleanEnd])).toEqual([
      [1, 2, null, false],
      [9, 10, 1, false],
    ]);
  });
});

describe('chainsOf and chooseChain', () => {
  it('joins a sealed segment that ends with its rotation record to the next one that follows it', () => {
    const segs = [sealed(1), sealed(2), current];
    const bufs = [
      Buffer.concat([order(1), rotation(2, 1)]),
      Buffer.concat([checkpoint(3), order(4), rotation(5, 2)]),
      Buffer.concat([checkpoint(6), order(7)]),
    ];
    const chains = chainsOf(
      segs,
      bufs.map((b, i) => runsOf(b, i)),
    );
    expect(chains).toHaveLength(1);
    expect(chooseChain(chains)!.at(-1)!.lastSeq).toBe(7);
  });

  it('breaks at a missing segment and keeps the chain from the newest checkpoint', () => {
    const segs = [sealed(1), sealed(3), current];
    const bufs = [
      Buffer.concat([order(1), rotation(2, 1)]),
      Buffer.concat([checkpoint(6), order(7), rotation(8, 3)]),
      Buffer.concat([checkpoint(9), order(10)]),
    ];
    const chains = chainsOf(
      segs,
      bufs.map((b, i) => runsOf(b, i)),
    );
    expect(chains.map((c) => c.map((r) => r.segment))).toEqual([[0], [1, 2]]);
    expect(chooseChain(chains)!.map((r) => r.segment)).toEqual([1, 2]);
  });

  it('does not replay a chain without a checkpoint that does not start at sequence 1', () => {
    const runs = [runsOf(Buffer.concat([order(5), order(6)]), 0)];
    expect(chooseChain(chainsOf([current], runs))).toBeNull();
  });

  it('prefers the log from sequence 1 when no checkpoint reaches further', () => {
    const bufs = [Buffer.concat([order(1), order(2), order(3), garbage, order(9)])];
    const chosen = chooseChain(
      chainsOf(
        [current],
        bufs.map((b, i) => runsOf(b, i)),
      ),
    );
    expect(chosen!.map((r) => [r.firstSeq, r.lastSeq])).toEqual([[1, 3]]);
  });
});
