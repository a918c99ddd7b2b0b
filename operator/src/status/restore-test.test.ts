import { describe, expect, it } from 'vitest';
import { desk } from '@veloz/testing/desk';
import { backupVerifiedCondition, parseDrillReport, summarizeDrill } from './restore-test.ts';

const TIME = '2026-11-21T03:05:00.000Z';
const NOW = Date.parse('2026-11-21T10:00:00.000Z');
const ok = (pair: number, sequence: number) =>
  JSON.stringify({
    pair,
    result: 'Succeeded',
    backup: `20261121T030000000Z-${String(sequence).padStart(16, '0')}`,
    sequence,
    entriesReplayed: 40,
    durationSeconds: 1.2,
    checks: [
      `sequence ${sequence} matches the manifest`,
      'order-state digest sha256:ab matches the manifest',
    ],
  });
const verified = desk('d', { pairs: 2, backup: { verify: { schedule: '0 3 * * *' } } });

describe('restore drill status', () => {
  it('sums up every pair: replayed entries, the slowest duration rounded up, the backups', () => {
    const t = summarizeDrill(2, {
      time: TIME,
      jobFailed: false,
      messages: new Map([
        ['drill-0', ok(0, 100)],
        ['drill-1', ok(1, 7)],
      ]),
    });
    expect(t.status).toMatchObject({
      time: TIME,
      result: 'Succeeded',
      entriesReplayed: 80,
      durationSeconds: 2,
      backups: ['0/20261121T030000000Z-0000000000000100', '1/20261121T030000000Z-0000000000000007'],
    });
    expect(backupVerifiedCondition(verified, t, new Map([[0, 120]]), NOW)).toMatchObject({
      status: 'True',
      reason: 'DrillSucceeded',
    });
  });

  it('is False with the failed pair’s reason and check, or NoReport naming the Job’s failure', () => {
    const failed = JSON.stringify({
      pair: 1,
      result: 'Failed',
      reason: 'RestoreFailed',
      backup: 'b',
      sequence: null,
      checks: ['FAILED (RestoreFailed): backup b is damaged: segments/x.wal has 10 bytes'],
    });
    const t = summarizeDrill(2, {
      time: TIME,
      jobFailed: true,
      messages: new Map([
        ['drill-0', ok(0, 100)],
        ['drill-1', failed],
      ]),
    });
    const c = backupVerifiedCondition(verified, t, new Map(), NOW)!;
    expect(c).toMatchObject({ status: 'False', reason: 'RestoreFailed' });
    expect(c.message).toContain('pair 1: FAILED (RestoreFailed): backup b is damaged');
    const none = summarizeDrill(2, {
      time: TIME,
      jobFailed: true,
      jobMessage: 'Job has reached the specified backoff limit',
      messages: new Map([['drill-0', 'not json']]),
    });
    expect(backupVerifiedCondition(verified, none, new Map(), NOW)).toMatchObject({
      status: 'False',
      reason: 'NoReport',
      message: expect.stringContaining('pair 1: no drill report (the Job failed: Job has reached'),
    });
  });

  it('is False when an engine is behind the backup it was drilled from, or the drill is stale', () => {
    const t = summarizeDrill(1, {
      time: TIME,
      jobFailed: false,
      messages: new Map([['drill-0', ok(0, 100)]]),
    });
    const one = desk('d', { backup: { verify: { schedule: '0 3 * * *' } } });
    expect(backupVerifiedCondition(one, t, new Map([[0, 99]]), NOW)).toMatchObject({
      status: 'False',
      reason: 'LiveEngineBehind',
    });
    expect(backupVerifiedCondition(one, t, new Map(), Date.parse('2026-11-23T04:00:00.000Z'))).toMatchObject({
      status: 'False',
      reason: 'DrillStale',
    });
  });

  it('has no condition without spec.backup.verify, and reads only drill reports', () => {
    expect(backupVerifiedCondition(desk('d'), undefined, new Map(), NOW)).toBeUndefined();
    expect(parseDrillReport('{"pair":"0","result":"Succeeded","checks":[]}')).toBeNull();
    expect(parseDrillReport(undefined)).toBeNull();
  });
});
