// One PostgreSQL table per deployment holds the shipped WAL records of all its pairs, byte for
// byte (header fields in columns, the payload as bytea), so a WAL directory can be rebuilt.
import { createHash } from 'node:crypto';
import type pg from 'pg';

/** `veloz_wal_<deployment>`; names that would pass PostgreSQL's 63-byte limit end in a hash. */
export function tableName(deployment: string): string {
  const plain = `veloz_wal_${deployment.replace(/[^a-z0-9_]/g, '_')}`;
  if (plain.length <= 63) return plain;
  const hash = createHash('sha256').update(deployment).digest('hex').slice(0, 8);
  return `${plain.slice(0, 54)}_${hash}`;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function ensureTable(client: pg.Client, table: string): Promise<void> {
  const t = quoteIdent(table);
  // Two shippers may start at once (a rollout): IF NOT EXISTS plus a retry on the race's error.
  const ddl = `CREATE TABLE IF NOT EXISTS ${t} (
    pair integer NOT NULL,
    seq bigint NOT NULL,
    ts bigint NOT NULL,
    type smallint NOT NULL,
    crc bigint NOT NULL,
    payload bytea NOT NULL,
    PRIMARY KEY (pair, seq)
  );
  CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_ts`)} ON ${t} (pair, ts);`;
  try {
    await client.query(ddl);
  } catch (err) {
    if ((err as { code?: string }).code !== '23505' && (err as { code?: string }).code !== '42P07') throw err;
    await client.query(ddl);
  }
}
