// The appending side of the WAL: sequence numbers are assigned synchronously in append(), and a
// single flush loop writes whatever has queued up as one write() followed by one fdatasync()
// (group commit). A record is durable -- and may be acknowledged -- once waitDurable() resolves.
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordType, alignedSize, encodeRecord } from './framing.ts';
import { writeMark } from './mark.ts';
import { encodeRotation } from './payloads.ts';
import type { Recovered } from './recovery.ts';
import { CURRENT_SEGMENT, SEALED_SEGMENT, fsyncDir, sealCurrentSegment } from './segments.ts';
import {
  checkpointFileId,
  encodeCheckpointRef,
  removeIfPresent,
  writeSnapshotFile,
  type SnapshotStep,
  type WrittenSnapshot,
} from './snapshot-file.ts';

export interface WalFile {
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export interface WalHooks {
  onBatch?(entries: number, bytes: number, fsyncSeconds: number | null): void;
  onRotation?(sealed: string): void;
  /** `timestamp`: the one in the checkpoint record's header. */
  onCheckpoint?(seq: number, bytes: number, timestamp: number): void;
  onRetentionDelete?(name: string): void;
  /**
   * A step of a background checkpoint kept in its own file is done (crash tests copy the
   * directory here): the file written, synced, renamed into place; for a rotation's checkpoint,
   * the old segment sealed (before the reference that starts the new one is written); its
   * CheckpointRef record durable; and, at a later rotation, the segment holding the reference
   * deleted with the file.
   */
  onCheckpointStep?: (step: CheckpointStep, name: string) => void | Promise<void>;
  /**
   * A write, sync or rotation failed: appends are refused until a retry succeeds, in
   * `retryInMs`. `attempt` is 1 for the failure that took the WAL down, then counts the retries.
   */
  onWriteFailure?(err: WalUnavailableError, attempt: number, retryInMs: number): void;
  /** A retry wrote out everything queued: the WAL takes appends again. */
  onWritable?(unavailableSeconds: number, attempts: number): void;
}

export type CheckpointStep = SnapshotStep | 'segment-sealed' | 'reference-durable' | 'retention-deleted';

/** Backoff between attempts to write again after a failure (a full disk may get room). */
export interface WalRetryOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_WAL_RETRY: WalRetryOptions = { initialMs: 100, maxMs: 10_000 };

export interface WalWriterOptions {
  dir: string;
  /**
   * Rotate before a record would take the current segment past this size (once the segment holds
   * at least as many bytes of records as of the checkpoint it starts with). With a background
   * checkpoint builder, the segment keeps growing until the checkpoint the next one starts with
   * is built.
   */
  maxSegmentBytes: number;
  /** Sealed segments kept (at least 1); older ones are deleted after a rotation. */
  maxFiles: number;
  /** fdatasync every batch before acknowledging it. */
  sync: boolean;
  /** Order records between checkpoints (0 = only at rotation). */
  checkpointInterval: number;
  /**
   * With `sync`, the high-water mark (mark.ts) also follows the durable sequence at most this
   * long after a batch (besides every checkpoint and rotation): at most two fsyncs per interval,
   * off the acknowledgement path. 0 turns that off.
   */
  markIntervalMs?: number;
  now?: () => number;
  hooks?: WalHooks;
  retry?: WalRetryOptions;
  openFile?: (path: string, flags: string) => Promise<WalFile>;
}

export class WalUnavailableError extends Error {
  override readonly cause: unknown;
  /** The file or directory the failed call was about. */
  readonly path: string;
  /** The errno name (ENOSPC, EACCES, EIO, ...), or '' when the failure carried none. */
  readonly code: string;

  constructor(cause: unknown, path: string) {
    const e = cause as NodeJS.ErrnoException | undefined;
    const code = typeof e?.code === 'string' ? e.code : '';
    // Calls on an open file handle (write, fdatasync) name no path: the WAL adds it.
    const where = typeof e?.path === 'string' ? e.path : path;
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      `WAL is unavailable after a write failure: ${detail}${detail.includes(where) ? '' : ` (${where})`}`,
    );
    this.cause = cause;
    this.path = where;
    this.code = code;
  }
}

/** Room kept for the Rotation record that ends a segment, so that it fits in maxSegmentBytes too. */
const ROTATION_RECORD_BYTES = alignedSize(8);

type QueueItem =
  | { kind: 'record'; seq: number; buf: Buffer; checkpoint: boolean }
  | { kind: 'seal'; number: number }
  | { kind: 'mark' }
  | { kind: 'barrier'; resolve: (s: WalSnapshot) => void; reject: (err: Error) => void };

export interface WalSnapshotFile {
  name: string;
  /** Bytes of the file that belong to the snapshot (the current segment keeps growing after it). */
  size: number;
  /** Opened inside the barrier: a later rename (rotation) or unlink (retention) does not affect it. */
  handle: FileHandle;
  /**
   * Only for a checkpoint file: `<sequence>.<CRC32C hex>` from the record naming it (its bytes
   * never change, so a backup that holds them needs them once).
   */
  checkpointId?: string;
}

/** Every WAL file as of one durable sequence, for backups. close() releases the handles. */
export interface WalSnapshot {
  sequence: number;
  /** Sealed segments oldest first, then orders_current.wal, then the checkpoint files they name. */
  files: WalSnapshotFile[];
  close(): Promise<void>;
}

/** A record appended while a background checkpoint was being built (see startBackground). */
export interface AppendedRecord {
  seq: number;
  timestamp: number;
  type: RecordType;
  payload: Uint8Array;
}

/**
 * Builds interval checkpoints off the append path (ADR 0019). `start` is called inside append(),
 * before the record being appended is applied: it captures the state as of `sequence` at once and
 * builds the payload later, then hands it over with completeCheckpoint(`generation`, ...).
 */
export type BackgroundCheckpoint = (sequence: number, generation: number) => void;

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class WalWriter {
  private readonly opts: Required<Omit<WalWriterOptions, 'hooks'>> & { hooks: WalHooks };
  /** How far a rotation got before a failure, so that a retry resumes it instead of redoing it. */
  private sealStage: {
    number: number;
    closed: boolean;
    name: string | null;
    opened: boolean;
    rotated: boolean;
  } | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private failedAt = 0;
  private file: WalFile;
  private position: number;
  private segmentBytes: number;
  private nextSealed: number;
  private sealedNames: string[];
  private seq: number;
  private durable: number;
  private sinceCheckpoint = 0;
  /** Record bytes appended since the last checkpoint started, and that checkpoint's size. */
  private bytesSinceCheckpoint = 0;
  private lastCheckpointBytes = 0;
  private queue: QueueItem[] = [];
  private waiters: Waiter[] = [];
  private loop: Promise<void> | null = null;
  private failure: WalUnavailableError | null = null;
  private closed = false;
  private snapshotProvider: () => Buffer = () => Buffer.from('{}');
  private background: BackgroundCheckpoint | null = null;
  /** Bumped by every checkpoint started: a background build of an older one is dropped. */
  private generation = 0;
  /** The background checkpoint being built, with the records appended since its capture. */
  private building: { generation: number; sequence: number; tail: AppendedRecord[] } | null = null;
  /**
   * The segment is full: the background checkpoint being built rotates it when it is done, and
   * its reference starts the new segment (the order path never waits for a rotation's checkpoint).
   */
  private rotationDue = false;
  /** A build failed while a rotation waited for it: that rotation takes an inline checkpoint. */
  private inlineRotation = false;
  /** Callers of requestCheckpoint(), answered when the build `generation` (or a newer one) lands. */
  private checkpointWaiters: Array<{
    generation: number;
    resolve: (seq: number) => void;
    reject: (err: Error) => void;
  }> = [];
  /** A checkpoint file being written (close() waits for it). */
  private snapshotWrite: Promise<unknown> | null = null;
  /**
   * Checkpoint files and the sealed number of the segment whose CheckpointRef names them (the
   * current segment's is nextSealed): retention deletes a file with its segment.
   */
  private snapshotFiles: Array<{ segment: number; durableAt: number } & WrittenSnapshot>;
  private readonly walId: string;
  /** The sequence the mark on disk vouches for. */
  private marked: number;
  private markTimer: NodeJS.Timeout | null = null;

  private constructor(opts: WalWriter['opts'], file: WalFile, recovered: Recovered, sealedNames: string[]) {
    this.opts = opts;
    this.file = file;
    this.position = recovered.currentSize;
    this.segmentBytes = recovered.currentSize;
    this.nextSealed = recovered.nextSealedNumber;
    this.sealedNames = sealedNames;
    this.seq = recovered.lastSequence;
    this.durable = recovered.lastSequence;
    this.walId = recovered.mark.walId;
    this.marked = recovered.mark.durableSequence;
    this.snapshotFiles = recovered.snapshotFiles.map(({ segment, ...file }) => ({
      segment: segment === CURRENT_SEGMENT ? recovered.nextSealedNumber : sealedNumber(segment),
      durableAt: 0,
      ...file,
    }));
  }

  static async open(options: WalWriterOptions, recovered: Recovered): Promise<WalWriter> {
    const opts = {
      now: Date.now,
      retry: DEFAULT_WAL_RETRY,
      markIntervalMs: 1000,
      openFile: (p: string, f: string) => open(p, f),
      ...options,
      hooks: options.hooks ?? {},
    };
    const file = await opts.openFile(join(opts.dir, CURRENT_SEGMENT), 'r+');
    const w = new WalWriter(opts, file, recovered, [...recovered.sealedSegments]);
    w.pendingCheckpoint = recovered.needsCheckpoint;
    return w;
  }

  private pendingCheckpoint = false;
  /** Bytes of the segment's leading checkpoint record (and a jump before it). */
  private leadingCheckpointBytes = 0;
  /**
   * Bytes of the state that checkpoint holds (the record's for an inline one, the file's for a
   * reference): the segment rotates once it holds as many bytes of records after it.
   */
  private leadingStateBytes = 0;

  /** The checkpoint payload source: must describe the state after every record appended so far. */
  setSnapshotProvider(fn: () => Buffer): void {
    this.snapshotProvider = fn;
  }

  /**
   * Checkpoints are then built by `start` off the append path: at intervals, for a rotation (the
   * new segment starts with its reference) and for requestCheckpoint(). The inline provider is
   * left for forceCheckpoint(), the checkpoint recovery says the log owes (writeOwedCheckpoint(),
   * before serving) and a rotation whose build failed.
   */
  setBackgroundCheckpoint(start: BackgroundCheckpoint | null): void {
    this.background = start;
  }

  /** A background checkpoint is being built (or its file written). */
  get checkpointInProgress(): boolean {
    return this.building !== null;
  }

  /** Whether the background checkpoint `generation` is still wanted (a newer one supersedes it). */
  checkpointWanted(generation: number): boolean {
    return this.building?.generation === generation && !this.failure && !this.closed;
  }

  /**
   * Completes the background checkpoint `generation` (ADR 0019): writes `snapshot` (the state at
   * the capture) to its own file and makes it durable, off the flush loop, while records keep
   * being appended and acknowledged; then appends a CheckpointRef record naming the file, with
   * `fields(records appended since the capture)` as members the reference adds to the snapshot.
   * Returns the reference's sequence, or null when the checkpoint is no longer wanted (the file
   * is then deleted again).
   */
  async completeCheckpoint(
    generation: number,
    snapshot: Buffer,
    fields: (tail: readonly AppendedRecord[]) => Record<string, unknown>,
  ): Promise<number | null> {
    const b = this.building;
    if (!b || !this.checkpointWanted(generation)) return null;
    const write = writeSnapshotFile(this.opts.dir, b.sequence, snapshot, {
      sync: this.opts.sync,
      onStep: this.opts.hooks.onCheckpointStep,
    });
    // For close() to wait on; a failure reaches the caller through `await write` below.
    this.snapshotWrite = write.catch(() => undefined);
    let written;
    try {
      written = await write;
    } finally {
      this.snapshotWrite = null;
    }
    if (!this.checkpointWanted(generation)) {
      // Overtaken (or the WAL went down) while the file was written: nothing will name it.
      await removeIfPresent(join(this.opts.dir, written.file));
      return null;
    }
    this.building = null;
    // The tail ends with the last record appended: a rotation's record comes after it, so that
    // the tail stays a run of consecutive records, and the reference starts the new segment.
    const tail = fields(b.tail);
    const rotating = this.rotationDue;
    if (rotating) this.enqueueRotation();
    const ref = encodeCheckpointRef({ ...written, sequence: b.sequence, fields: tail });
    this.lastCheckpointBytes = snapshot.length;
    const timestamp = this.opts.now();
    const seq = this.enqueue(RecordType.CheckpointRef, ref, timestamp, true);
    if (rotating) {
      this.leadingCheckpointBytes = this.segmentBytes;
      this.leadingStateBytes = snapshot.length;
    }
    this.snapshotFiles.push({ segment: this.nextSealed, durableAt: seq, ...written });
    this.opts.hooks.onCheckpoint?.(seq, snapshot.length, timestamp);
    this.answerCheckpointWaiters(generation, seq);
    const step = this.opts.hooks.onCheckpointStep;
    if (step) {
      await this.waitDurable(seq);
      await step('reference-durable', written.file);
    }
    return seq;
  }

  /**
   * A background build ended without its reference (`err`: it threw; else it was no longer
   * wanted): the next append starts another one. A rotation waiting for it then takes an inline
   * checkpoint, so that a build failing again and again cannot hold a segment open.
   */
  abandonCheckpoint(generation: number, err?: unknown): void {
    if (this.building?.generation !== generation) return;
    this.building = null;
    if (err !== undefined && this.rotationDue) this.inlineRotation = true;
    const why =
      err instanceof Error
        ? err
        : (this.failure ?? new Error(this.closed ? 'WAL is closed' : 'checkpoint build abandoned'));
    const still: typeof this.checkpointWaiters = [];
    for (const w of this.checkpointWaiters) {
      if (w.generation <= generation) w.reject(why);
      else still.push(w);
    }
    this.checkpointWaiters = still;
  }

  /**
   * A checkpoint of everything appended so far, built off the order path like an interval one
   * (joining the build under way, whose reference's tail reaches past this call). Resolves with
   * the sequence of its record once appended (waitDurable() for it to be durable). Without a
   * background builder, an inline checkpoint.
   */
  requestCheckpoint(): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('WAL is closed'));
    if (!this.background) return Promise.resolve(this.forceCheckpoint());
    if (!this.building) this.startBuild();
    const generation = this.building!.generation;
    return new Promise((resolve, reject) => this.checkpointWaiters.push({ generation, resolve, reject }));
  }

  /**
   * Writes the checkpoint recovery said the log owes (the current segment is new, or follows a
   * declared sequence jump) now, before the caller serves: otherwise the first append would
   * serialize it inline.
   */
  async writeOwedCheckpoint(): Promise<void> {
    if (!this.pendingCheckpoint) return;
    if (this.failure) throw this.failure;
    this.pendingCheckpoint = false;
    this.enqueueCheckpoint();
    this.leadingCheckpointBytes = this.segmentBytes;
    this.leadingStateBytes = this.segmentBytes;
    await this.flush();
  }

  get lastSequence(): number {
    return this.seq;
  }

  get durableSequence(): number {
    return this.durable;
  }

  get failed(): WalUnavailableError | null {
    return this.failure;
  }

  /**
   * Queues a record and returns its sequence number. Callers apply the record to their state
   * right after this returns, so a checkpoint taken here describes everything before it.
   */
  append(type: RecordType, payload: Uint8Array, timestamp: number = this.opts.now()): number {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('WAL is closed');
    const size = alignedSize(payload.length);
    // Bytes of the segment after its leading checkpoint. Rotation also waits until these are at
    // least as many as the checkpoint's: otherwise a state larger than maxSegmentBytes would
    // make every append rotate (and sync, and write a checkpoint).
    const logged = this.segmentBytes - this.leadingCheckpointBytes;
    if (this.pendingCheckpoint) {
      this.pendingCheckpoint = false;
      this.enqueueCheckpoint();
      // The segment starts with this checkpoint, or with the sequence jump recovery declared and
      // then this checkpoint: either way, rotation waits for as many bytes of records after it.
      this.leadingCheckpointBytes = this.segmentBytes;
      this.leadingStateBytes = this.segmentBytes;
    } else if (this.rotationDue) {
      // Waiting for the build whose reference starts the next segment; one dropped meanwhile (an
      // inline checkpoint overtook it, the WAL failed) is started again.
      if (!this.building) {
        if (this.inlineRotation) this.rotateInline();
        else this.startBuild();
      }
    } else if (
      logged > 0 &&
      this.segmentBytes + size + ROTATION_RECORD_BYTES > this.opts.maxSegmentBytes &&
      logged >= this.leadingStateBytes
    ) {
      if (!this.background) this.rotateInline();
      else {
        // Off the order path (ADR 0019): the segment grows on until a checkpoint is built (the one
        // under way, or one started now), then that build rotates it.
        this.rotationDue = true;
        if (!this.building) this.startBuild();
      }
    } else if (this.opts.checkpointInterval > 0 && this.sinceCheckpoint >= this.opts.checkpointInterval) {
      if (!this.background) this.enqueueCheckpoint();
      else if (!this.building && this.bytesSinceCheckpoint >= this.lastCheckpointBytes) {
        // The interval counts from the capture; while one is built no other starts. Nor does one
        // start before the log since the last holds as many bytes as it did: replaying them costs
        // about what loading a checkpoint does, and a large state (resting orders) would otherwise
        // be written out again every few hundred orders (ADR 0019).
        this.startBuild();
      }
    }
    this.sinceCheckpoint += 1;
    this.bytesSinceCheckpoint += size;
    const seq = this.enqueue(type, payload, timestamp);
    this.building?.tail.push({ seq, timestamp, type, payload });
    return seq;
  }

  /** Captures the state for a background build (inside append(), or between appends). */
  private startBuild(): void {
    this.sinceCheckpoint = 0;
    this.bytesSinceCheckpoint = 0;
    const generation = ++this.generation;
    this.building = { generation, sequence: this.seq, tail: [] };
    this.background!(this.seq, generation);
  }

  /** Ends the segment and starts the next with an inline checkpoint. */
  private rotateInline(): void {
    this.enqueueRotation();
    this.enqueueCheckpoint();
    this.leadingCheckpointBytes = this.segmentBytes;
    this.leadingStateBytes = this.segmentBytes;
  }

  /** Ends the segment with a Rotation record; the records queued after it go to the next one. */
  private enqueueRotation(): void {
    this.rotationDue = false;
    this.inlineRotation = false;
    this.enqueue(RecordType.Rotation, encodeRotation({ sealedSegment: this.nextSealed }));
    this.queue.push({ kind: 'seal', number: this.nextSealed });
    this.nextSealed += 1;
    this.segmentBytes = 0;
  }

  private answerCheckpointWaiters(generation: number, seq: number): void {
    if (this.checkpointWaiters.length === 0) return;
    const still: typeof this.checkpointWaiters = [];
    for (const w of this.checkpointWaiters) {
      if (w.generation <= generation) w.resolve(seq);
      else still.push(w);
    }
    this.checkpointWaiters = still;
  }

  /** Queues an inline checkpoint now and returns its sequence number (see requestCheckpoint()). */
  forceCheckpoint(): number {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('WAL is closed');
    this.enqueueCheckpoint();
    return this.seq;
  }

  private enqueueCheckpoint(): void {
    // An inline checkpoint supersedes one being built: the built one would describe less.
    this.generation += 1;
    this.building = null;
    const payload = this.snapshotProvider();
    const timestamp = this.opts.now();
    const seq = this.enqueue(RecordType.Checkpoint, payload, timestamp, true);
    this.sinceCheckpoint = 0;
    this.bytesSinceCheckpoint = 0;
    this.lastCheckpointBytes = payload.length;
    this.opts.hooks.onCheckpoint?.(seq, payload.length, timestamp);
    // It describes more than the build its waiters asked for.
    this.answerCheckpointWaiters(this.generation, seq);
  }

  private enqueue(
    type: RecordType,
    payload: Uint8Array,
    timestamp: number = this.opts.now(),
    checkpoint = false,
  ): number {
    const seq = ++this.seq;
    const buf = encodeRecord(seq, timestamp, type, payload);
    this.queue.push({ kind: 'record', seq, buf, checkpoint });
    this.segmentBytes += buf.length;
    this.loop ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushLoop());
    return seq;
  }

  /**
   * A consistent snapshot for backups: a barrier in the flush loop opens every segment while no
   * write, rotation or retention can run, and notes how many bytes of the current segment are
   * durable. With `checkpoint`, a checkpoint is appended first so a restore replays little.
   */
  snapshot(options: { checkpoint?: boolean } = {}): Promise<WalSnapshot> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('WAL is closed'));
    if (options.checkpoint && this.background) {
      // Built off the order path: the barrier follows its reference (records appended meanwhile
      // are in the snapshot too).
      return this.requestCheckpoint().then(() => this.snapshot());
    }
    if (options.checkpoint) this.forceCheckpoint();
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'barrier', resolve, reject });
      this.loop ??= new Promise<void>((r) => setImmediate(r)).then(() => this.flushLoop());
    });
  }

  private async capture(): Promise<WalSnapshot> {
    const files: WalSnapshotFile[] = [];
    const close = async () => {
      await Promise.all(files.map((f) => f.handle.close()));
    };
    try {
      for (const name of this.sealedNames) {
        const handle = await open(join(this.opts.dir, name), 'r');
        files.push({ name, size: (await handle.stat()).size, handle });
      }
      const handle = await open(join(this.opts.dir, CURRENT_SEGMENT), 'r');
      files.push({ name: CURRENT_SEGMENT, size: this.position, handle });
      // Named by durable CheckpointRef records only: a reference still queued is not in the snapshot.
      for (const f of this.snapshotFiles.filter((s) => s.durableAt <= this.durable)) {
        const h = await open(join(this.opts.dir, f.file), 'r');
        files.push({ name: f.file, size: f.size, handle: h, checkpointId: checkpointFileId(f) });
      }
    } catch (err) {
      await close();
      throw err;
    }
    return { sequence: this.durable, files, close };
  }

  /** Resolves once record `seq` (and every record before it) is durable. */
  waitDurable(seq: number): Promise<void> {
    if (seq <= this.durable) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Resolves once everything appended so far is durable. */
  flush(): Promise<void> {
    return this.waitDurable(this.seq);
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.flushOnce();
    } catch (err) {
      this.fail(err);
    } finally {
      this.loop = null;
    }
    // An append may have raced the end of the loop.
    if (this.queue.length > 0 && !this.failure) {
      this.loop ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushLoop());
    }
  }

  /** Carries out the head of the queue: a rotation, a snapshot barrier or a batch of records. */
  private async flushOnce(): Promise<void> {
    const head = this.queue[0]!;
    if (head.kind === 'seal') {
      // Left at the head until done: after a failure, the retry resumes it.
      await this.seal(head.number);
      this.queue.shift();
      return;
    }
    if (head.kind === 'mark') {
      if (this.durable > this.marked) await this.updateMark();
      this.queue.shift();
      return;
    }
    if (head.kind === 'barrier') {
      this.queue.shift();
      // A failed snapshot (say, too many open files) fails the backup, not the WAL.
      await this.capture().then(head.resolve, head.reject);
      return;
    }
    let n = 1;
    while (n < this.queue.length && this.queue[n]!.kind === 'record') n++;
    // The batch leaves the queue only once written and synced: after a failure the retry writes
    // it again from the same position, so no record applied to the caller's state is dropped, and
    // bytes that a failed fdatasync may have lost from the page cache are written anew.
    const batch = this.queue.slice(0, n) as Array<Extract<QueueItem, { kind: 'record' }>>;
    const buf = batch.length === 1 ? batch[0]!.buf : Buffer.concat(batch.map((b) => b.buf));
    const end = await this.writeAll(buf);
    let fsyncSeconds: number | null = null;
    if (this.opts.sync) {
      const t = performance.now();
      await this.file.datasync();
      fsyncSeconds = (performance.now() - t) / 1000;
    }
    this.queue.splice(0, n);
    this.position = end;
    this.markDurable(batch[batch.length - 1]!.seq);
    this.opts.hooks.onBatch?.(batch.length, buf.length, fsyncSeconds);
    // The high-water mark moves at checkpoints and rotations, off the acknowledgement path:
    // the waiters above are already resolved, the next batch waits.
    if (this.opts.sync && batch.some((b) => b.checkpoint)) await this.updateMark();
    else this.scheduleMark();
  }

  /** Writes `buf` at the current position and returns where it ends (the position moves on commit). */
  private async writeAll(buf: Buffer): Promise<number> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.file.write(buf, off, buf.length - off, this.position + off);
      off += bytesWritten;
    }
    return this.position + off;
  }

  private markDurable(seq: number): void {
    this.durable = seq;
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= seq) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private async seal(number: number): Promise<void> {
    const dir = this.opts.dir;
    // Each step is done once: a retry after a failure resumes where the last attempt stopped, so
    // it never renames the new current segment over the one just sealed.
    const stage = (this.sealStage ??= { number, closed: false, name: null, opened: false, rotated: false });
    if (!stage.rotated) {
      if (!stage.closed) {
        await this.file.datasync();
        await this.file.close();
        stage.closed = true;
      }
      stage.name ??= await sealCurrentSegment(dir, number);
      if (!stage.opened) {
        // A retry may find the file created by an attempt that failed later on: it is still empty.
        const flags = this.failure ? 'w+' : 'wx+';
        this.file = await this.opts.openFile(join(dir, CURRENT_SEGMENT), flags);
        stage.opened = true;
      }
      // The rotation record is durable now; one directory sync covers the rename, the new segment
      // and the new mark.
      await writeMark(dir, { walId: this.walId, durableSequence: this.durable }, this.opts.now, false);
      await fsyncDir(dir);
      this.marked = this.durable;
      this.position = 0;
      this.sealedNames.push(stage.name);
      stage.rotated = true;
      this.opts.hooks.onRotation?.(stage.name);
      await this.opts.hooks.onCheckpointStep?.('segment-sealed', stage.name);
    }
    // Every segment begins with a checkpoint, so older sealed segments are never needed to recover.
    // The newest one always stays: the new segment's checkpoint is not durable yet.
    while (this.sealedNames.length > Math.max(1, this.opts.maxFiles)) {
      const old = this.sealedNames[0]!;
      try {
        await unlink(join(dir, old));
      } catch (err) {
        // Already gone (removed by hand, say) is what retention wanted; it must not take the WAL down.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      this.sealedNames.shift();
      this.opts.hooks.onRetentionDelete?.(old);
      // The checkpoint files its CheckpointRef records name go with it: no kept record names them.
      const number = sealedNumber(old);
      for (const f of this.snapshotFiles.filter((s) => s.segment <= number)) {
        await removeIfPresent(join(dir, f.file));
        this.opts.hooks.onRetentionDelete?.(f.file);
      }
      this.snapshotFiles = this.snapshotFiles.filter((s) => s.segment > number);
      await this.opts.hooks.onCheckpointStep?.('retention-deleted', old);
    }
    this.sealStage = null;
  }

  private async updateMark(): Promise<void> {
    const seq = this.durable;
    await writeMark(this.opts.dir, { walId: this.walId, durableSequence: seq }, this.opts.now);
    this.marked = seq;
  }

  /** Queues a mark update `markIntervalMs` from now, unless one is pending. */
  private scheduleMark(): void {
    if (!this.opts.sync || this.opts.markIntervalMs <= 0 || this.markTimer !== null) return;
    this.markTimer = setTimeout(() => {
      this.markTimer = null;
      if (this.closed || this.failure || this.durable <= this.marked) return;
      this.queue.push({ kind: 'mark' });
      this.loop ??= new Promise<void>((r) => setImmediate(r)).then(() => this.flushLoop());
    }, this.opts.markIntervalMs);
    this.markTimer.unref();
  }

  /**
   * Takes the WAL out of service: waiters and snapshots fail at once (callers answer 503), appends
   * are refused, and the records already queued -- applied to the caller's state -- stay queued
   * until a retry writes them out.
   */
  private fail(err: unknown): void {
    const first = this.failure === null;
    this.failure = new WalUnavailableError(err, join(this.opts.dir, CURRENT_SEGMENT));
    if (first) this.failedAt = performance.now();
    this.attempts += 1;
    for (const w of this.waiters) w.reject(this.failure);
    for (const item of this.queue) if (item.kind === 'barrier') item.reject(this.failure);
    this.waiters = [];
    this.queue = this.queue.filter((item) => item.kind !== 'barrier');
    const { initialMs, maxMs } = this.opts.retry;
    const delay = Math.min(maxMs, initialMs * 2 ** Math.min(30, this.attempts - 1));
    this.opts.hooks.onWriteFailure?.(this.failure, this.attempts, delay);
    if (this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      // Started on a later tick, so that `loop` is set before the retry can clear it.
      this.loop ??= new Promise<void>((r) => setImmediate(r)).then(() => this.retryLoop());
    }, delay);
    this.retryTimer.unref();
  }

  private async retryLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.flushOnce();
    } catch (err) {
      this.loop = null;
      this.fail(err);
      return;
    }
    this.loop = null;
    const seconds = (performance.now() - this.failedAt) / 1000;
    const attempts = this.attempts;
    this.failure = null;
    this.attempts = 0;
    this.opts.hooks.onWritable?.(seconds, attempts);
  }

  /** Writes out everything queued, syncs and closes. Appends after this throw. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (this.markTimer) clearTimeout(this.markTimer);
    // A checkpoint file being written is deleted again by its writer (no longer wanted).
    await this.snapshotWrite;
    while (this.loop) await this.loop;
    if (!this.failure) {
      await this.file.datasync();
      this.durable = this.seq;
      await this.updateMark();
    }
    await this.file.close();
  }
}

function sealedNumber(name: string): number {
  const m = SEALED_SEGMENT.exec(name);
  if (!m) throw new Error(`${name} is not a sealed segment name`);
  return Number(m[1]);
}
