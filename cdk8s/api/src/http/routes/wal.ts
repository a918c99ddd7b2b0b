// The order write-ahead log: its state, checkpoints, and consistent snapshots for backups.
import { errorAnswer, route } from '../route.ts';
import { checkpointResponse, textBody, walBackupQuery, walStatusResponse } from '../schemas.ts';
import { badRequest, unavailable } from './errors.ts';

export const WAL_ROUTES = {
  walStatus: route({
    method: 'GET',
    url: '/api/wal/status',
    summary: 'The WAL: sequences, settings, what recovery did, the last checkpoint',
    tag: 'wal',
    scope: 'admin',
    responses: { 200: { description: 'The WAL’s state.', schema: walStatusResponse } },
  }),
  walCheckpoint: route({
    method: 'POST',
    url: '/api/wal/checkpoint',
    summary: 'Write a checkpoint now',
    description:
      'At most one per `VELOZ_WAL_CHECKPOINT_MIN_INTERVAL` (default 60 s): each checkpoint holds the whole state, so it grows the WAL and every later backup.',
    tag: 'wal',
    scope: 'admin',
    responses: {
      200: { description: 'The checkpoint, durable.', schema: checkpointResponse },
      429: {
        ...errorAnswer('A checkpoint was asked for less than `VELOZ_WAL_CHECKPOINT_MIN_INTERVAL` ago.'),
        headers: {
          'Retry-After': {
            description: 'seconds until a checkpoint may be asked for again',
            schema: { type: 'integer' },
          },
        },
      },
      503: unavailable,
    },
  }),
  walBackup: route({
    method: 'GET',
    url: '/api/wal/backup',
    summary: 'A consistent snapshot of the WAL as a tar stream (what `veloz backup` reads)',
    description:
      'The first entry, backup.json, lists every file of the snapshot; the segment bytes follow. Segments named in `have` are sent only from where the caller’s copy ends.',
    tag: 'wal',
    scope: 'backup',
    querystring: walBackupQuery,
    responses: {
      200: {
        description: 'application/x-tar: backup.json, then the segment bytes.',
        schema: textBody,
        mediaType: 'application/x-tar',
        headers: {
          'x-veloz-wal-sequence': {
            description: 'the last WAL sequence in the snapshot',
            schema: { type: 'string', pattern: '^\\d+$' },
          },
        },
      },
      400: badRequest,
      503: unavailable,
    },
  }),
} as const;
