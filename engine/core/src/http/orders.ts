// The orders plugin: place, read and cancel orders, every order's state, and positions.
import type { FastifyPluginAsync } from 'fastify';
import { ROUTES } from '@veloz/api/http/contract';
import type { Engine } from '../engine/engine.ts';
import { positionViews } from './positions.ts';
import { serve } from './serve.ts';

export const ordersPlugin: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  serve(app, ROUTES.placeOrder, async (req, reply) => {
    const { view, created } = await engine.placeOrder(req.body);
    return reply.code(created ? 201 : 200).send(view);
  });

  serve(app, ROUTES.getOrder, async (req, reply) => {
    const view = await engine.durable(() => {
      const o = engine.state.orders.get(Number(req.params.id));
      return o && engine.orderView(o);
    });
    if (!view) return reply.code(404).send({ error: `order ${req.params.id} not found` });
    return view;
  });

  serve(app, ROUTES.getOrderByClientId, async (req, reply) => {
    const { clientOrderId } = req.params;
    const view = await engine.durable(() => {
      const id = engine.state.byClientId.get(clientOrderId);
      const o = id === undefined ? undefined : engine.state.orders.get(id);
      return o && engine.orderView(o);
    });
    if (!view) return reply.code(404).send({ error: `no order with clientOrderId ${clientOrderId}` });
    return view;
  });

  serve(app, ROUTES.cancelOrder, async (req) => engine.cancelOrder(Number(req.params.id)));

  serve(app, ROUTES.ordersState, async (req) =>
    engine.durable(() => {
      const { status, limit, cursor } = req.query;
      const after = cursor === undefined ? 0 : Number(cursor);
      const ids = (status === 'open' ? [...engine.state.open] : [...engine.state.orders.keys()]).filter(
        (id) => id > after,
      );
      ids.sort((a, b) => a - b);
      const page = limit === undefined ? ids : ids.slice(0, limit);
      const more = page.length < ids.length;
      return {
        orders: page.map((id) => engine.orderView(engine.state.orders.get(id)!)),
        lastSequence: engine.state.lastSequence,
        next: more ? String(page.at(-1)!) : null,
      };
    }),
  );

  serve(app, ROUTES.positions, async () => engine.durable(() => ({ positions: positionViews(engine) })));
};
