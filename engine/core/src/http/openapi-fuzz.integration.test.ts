// A property-based fuzzer (Schemathesis), driven by the OpenAPI document a live engine process
// serves, sends it generated valid and invalid requests, including chains that follow the
// document's links (place an order, then read and cancel it), and finds no 5xx answer and no
// answer that its own document does not allow: an undocumented status, media type, header or
// body. A fixed seed and a bounded number of examples per operation keep it to about a minute.
//
// Not checked: negative_data_rejection. The engine coerces body types as its ajv options say
// (`coerceTypes`, kept for the query string), so `"clientOrderId": false` is taken as "false"
// rather than refused; that is its behaviour, not a contract violation.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import { schemathesis } from '@veloz/testing/schemathesis';

let dir: string;
let engine: EngineProcess | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'veloz-fuzz-'));
  engine = await startEngineProcess({
    VELOZ_WAL_DIR: join(dir, 'wal'),
    VELOZ_WAL_SYNC: 'false',
    // Generated orders should reach the order path, not stop at the rate limit.
    VELOZ_ORDER_RATE_LIMIT: '1000000',
    VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
  });
});
afterAll(async () => {
  await engine?.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

it('finds no server error and no answer outside the engine’s own OpenAPI document', async () => {
  const run = await schemathesis(
    [
      `${engine!.url}/openapi.json`,
      '--checks',
      [
        'not_a_server_error',
        'response_schema_conformance',
        'status_code_conformance',
        'content_type_conformance',
        'response_headers_conformance',
      ].join(','),
      '--max-examples',
      '40',
      '--seed',
      '20260101',
      // One worker: Python 3.11's parser is not safe across the threads of several workers.
      '--workers',
      '1',
      // An endless event stream has no answer to check.
      '--exclude-path',
      '/api/stream',
      '--request-timeout',
      '10',
      '--generation-database',
      'none',
      '--no-color',
    ],
    dir,
    240_000,
  );
  expect(run.code, run.output).toBe(0);
  expect(run.output).toMatch(/\d+ generated, \d+ passed/);
  expect(engine!.output()).not.toMatch(/request failed/);
}, 300_000);
