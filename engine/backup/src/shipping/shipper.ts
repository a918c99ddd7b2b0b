// Ships committed WAL records to PostgreSQL in the background. It reads what is durable from the
// WAL files (never from the order path, so it cannot slow acknowledgement down), inserts in
// batches that are idempotent by (pair, sequence), and after any failure or restart resumes
// from the highest sequence PostgreSQL holds. PostgreSQL being down only grows the lag.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import pg from 'pg';
import type { Counter, Gauge } from 'prom-client';
import { ensureTable, quoteIdent, tableName } from './schema.ts';
import { WalGapError, WalTail, type TailRecord } from './wal-tail.ts';

export interface ShipperLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ShipperMetrics {
  lag: Gauge;
  errors: Counter<'reason'>;
  shippedSequence: Gauge;
  shippedEntries: Counter;
}

export interface ShipperOptions {
  uri: string;
  deployment: string;
  pair: number;
  walDir: string;
  durableSequence: () => number;
  log: ShipperLog;
  metrics?: ShipperMetrics;
  intervalMs?: number;
  batchRecords?: number;
}

export class ShipDivergedError extends Error {}

/** PostgreSQL holds records beyond the end of the local WAL: acknowledged records were lost here. */
export class ShippedAheadError extends ShipDivergedError {}

const MAX_BACKOFF_MS = 30_000;

export class WalShipper {
  private readonly opts: Required<Omit<ShipperOptions, 'metrics'>> & { metrics?: ShipperMetrics };
  private readonly table: string;
  private readonly tail: WalTail;
  private client: pg.Client | null = null;
  private broken: Error | null = null;
  private shipped = 0;
  private stopped = false;
  private wake: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private failures = 0;

  constructor(opts: ShipperOptions) {
    this.opts = { intervalMs: 200, batchRecords: 2000, ...opts };
    this.table = tableName(opts.deployment);
    this.tail = new WalTail(opts.walDir);
  }

  /** The highest sequence PostgreSQL is known to hold. */
  get shippedSequence(): number {
    return this.shipped;
  }

  start(): void {
    this.running ??= this.run();
  }

  /**
   * Connects once before shipping starts: PostgreSQL holding records beyond the local WAL is
   * thrown (the WAL lost acknowledged records that were shipped); a server that cannot be reached
   * is left to the shipping loop, so an outage never keeps the engine from starting.
   */
  async checkAtStart(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      if (err instanceof ShippedAheadError) throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
    await this.disconnect();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let idle = true;
      // Kept current during an outage too: the lag is what alerts on it.
      this.updateLag();
      try {
        if (!this.client) await this.connect();
        idle = !(await this.shipBatch());
        this.failures = 0;
      } catch (err) {
        this.failures += 1;
        this.fail(err);
        await this.disconnect();
        await this.sleep(Math.min(MAX_BACKOFF_MS, this.opts.intervalMs * 2 ** Math.min(this.failures, 8)));
        continue;
      }
      if (idle) await this.sleep(this.opts.intervalMs);
    }
  }

  private fail(err: unknown): void {
    const reason =
      err instanceof ShipDivergedError
        ? 'diverged'
        : err instanceof WalGapError
          ? 'gap'
          : this.client
            ? 'insert'
            : 'connect';
    this.opts.metrics?.errors.inc({ reason });
    const msg = err instanceof Error ? err.message : String(err);
    // Every failure counts in the metric; the log says it once per outage and then every 30.
    if (this.failures === 1 || this.failures % 30 === 0) {
      this.opts.log.warn(
        { err: msg, reason, failures: this.failures },
        'WAL shipping to PostgreSQL failed; retrying',
      );
    }
  }

  private async connect(): Promise<void> {
    const c = new pg.Client({
      connectionString: this.opts.uri,
      connectionTimeoutMillis: 5000,
      query_timeout: 30_000,
      keepAlive: true,
      application_name: `veloz-wal-shipper-${this.opts.pair}`,
    });
    this.broken = null;
    // A dropped connection is reported as an event; unhandled, it would end the process.
    c.on('error', (err) => (this.broken = err));
    try {
      await c.connect();
      await ensureTable(c, this.table);
      const r = await c.query<{ max: string | null }>(
        `SELECT max(seq)::text AS max FROM ${quoteIdent(this.table)} WHERE pair = $1`,
        [this.opts.pair],
      );
      const shipped = Number(r.rows[0]?.max ?? 0);
      await this.checkSameHistory(c, shipped);
      this.shipped = shipped;
      this.client = c;
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    if (this.failures > 0)
      this.opts.log.info({ shipped: this.shipped }, 'WAL shipping to PostgreSQL resumed');
    this.updateLag();
  }

  /** Refuses to append to rows that came from another history (a wiped or restored WAL). */
  private async checkSameHistory(c: pg.Client, shipped: number): Promise<void> {
    if (shipped === 0) return;
    const durable = this.opts.durableSequence();
    if (shipped > durable) {
      throw new ShippedAheadError(
        `PostgreSQL table ${this.table} holds pair ${this.opts.pair} up to sequence ${shipped}, but this WAL ends at ` +
          `${durable}: acknowledged records are missing from this WAL, or it is another history (a wiped or restored WAL). Move those rows away to ship this one`,
      );
    }
    let local: TailRecord[];
    try {
      local = await this.tail.read(shipped, shipped, 1);
    } catch (err) {
      if (err instanceof WalGapError) return; // already deleted locally: nothing to compare
      throw err;
    }
    if (local.length === 0) return;
    const r = await c.query<{ crc: string }>(
      `SELECT crc::text AS crc FROM ${quoteIdent(this.table)} WHERE pair = $1 AND seq = $2`,
      [this.opts.pair, shipped],
    );
    if (r.rows[0] && Number(r.rows[0].crc) !== local[0]!.crc) {
      throw new ShipDivergedError(
        `record ${shipped} in PostgreSQL table ${this.table} differs from this WAL's: it is another history`,
      );
    }
  }

  /** Ships one batch; false when there was nothing to ship. */
  private async shipBatch(): Promise<boolean> {
    if (this.broken) throw this.broken;
    const durable = this.opts.durableSequence();
    this.updateLag(durable);
    if (durable <= this.shipped) return false;
    let records: TailRecord[];
    try {
      records = await this.tail.read(this.shipped + 1, durable, this.opts.batchRecords);
    } catch (err) {
      if (!(err instanceof WalGapError)) throw err;
      // Shipping was down for longer than the WAL keeps segments. Every segment starts with a
      // checkpoint, so shipping on from the oldest one left still restores; the gap is reported.
      this.opts.log.error(
        { from: err.missingFrom, to: err.missingTo },
        'WAL records were deleted before they were shipped; PostgreSQL has a gap there',
      );
      this.opts.metrics?.errors.inc({ reason: 'gap' });
      this.shipped = err.missingTo;
      return true;
    }
    if (records.length === 0) return false;
    await this.client!.query(
      `INSERT INTO ${quoteIdent(this.table)} (pair, seq, ts, type, crc, payload)
       SELECT $1::integer, s, t, ty, c, p
       FROM unnest($2::bigint[], $3::bigint[], $4::smallint[], $5::bigint[], $6::bytea[]) AS u(s, t, ty, c, p)
       ON CONFLICT (pair, seq) DO NOTHING`,
      [
        this.opts.pair,
        records.map((r) => r.seq),
        records.map((r) => r.timestamp),
        records.map((r) => r.type),
        records.map((r) => r.crc),
        records.map((r) => r.payload),
      ],
    );
    this.shipped = records.at(-1)!.seq;
    this.opts.metrics?.shippedEntries.inc(records.length);
    this.updateLag(durable);
    return true;
  }

  private updateLag(durable = this.opts.durableSequence()): void {
    this.opts.metrics?.lag.set(Math.max(0, durable - this.shipped));
    this.opts.metrics?.shippedSequence.set(this.shipped);
  }

  private async disconnect(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }
}

/** Deployment and pair from a StatefulSet pod's host name, `<deployment>-engine-<pair>`. */
export function identityFromHostname(name = hostname()): { deployment: string; pair: number } | null {
  const m = /^(.+)-engine-(\d+)$/.exec(name);
  return m ? { deployment: m[1]!, pair: Number(m[2]) } : null;
}

export interface ShippingConfig {
  walPostgresUri: string | undefined;
  walPostgresUriFile: string;
  deploymentName: string | undefined;
  pairIndex: number | undefined;
  walShipIntervalMs: number;
  walDir: string;
  /** strict: PostgreSQL holding records the WAL lacks stops the start (see checkAtStart). */
  walRecoveryMode?: string;
}

/** The shipper the configuration asks for, or null (no URI set, no URI file mounted). */
export async function shipperFromConfig(
  c: ShippingConfig,
  durableSequence: () => number,
  log: ShipperLog,
  metrics?: ShipperMetrics,
): Promise<WalShipper | null> {
  let uri = c.walPostgresUri;
  if (!uri) {
    try {
      uri = (await readFile(c.walPostgresUriFile, 'utf8')).trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
  if (!uri) return null;
  const fromHost = identityFromHostname();
  const deployment = c.deploymentName ?? fromHost?.deployment ?? 'veloz';
  const pair = c.pairIndex ?? fromHost?.pair ?? 0;
  log.info({ deployment, pair, table: tableName(deployment) }, 'shipping the WAL to PostgreSQL');
  const s = new WalShipper({
    uri,
    deployment,
    pair,
    walDir: c.walDir,
    durableSequence,
    log,
    intervalMs: c.walShipIntervalMs,
    ...(metrics ? { metrics } : {}),
  });
  if (c.walRecoveryMode === 'strict') {
    try {
      await s.checkAtStart();
    } catch (err) {
      throw new ShippedAheadError(
        `${err instanceof Error ? err.message : String(err)}. Refusing to start: those records were acknowledged. ` +
          'Restore the WAL from PostgreSQL (veloz restore --from postgres://...), or set ' +
          'VELOZ_WAL_RECOVERY_MODE=truncate_at_corruption to go on without them',
        { cause: err },
      );
    }
  }
  s.start();
  return s;
}
