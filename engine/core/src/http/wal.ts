// The WAL plugin: status, checkpoint, and the consistent snapshot backups read.
import type { FastifyPluginAsync } from 'fastify';
import { ROUTES } from '@veloz/api/http/contract';
import type { Engine } from '../engine/engine.ts';
import { registerWalBackupRoute } from './backup-route.ts';
import { serve } from './serve.ts';

export const walPlugin: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  serve(app, ROUTES.walStatus, async () => engine.walStatus());

  serve(app, ROUTES.walCheckpoint, async () => ({ sequence: await engine.requestCheckpoint() }));

  registerWalBackupRoute(app, engine);
};
