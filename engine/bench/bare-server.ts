// The baseline of bench:orders: a bare fastify route with the same body schema and a response
// of the same shape, doing no work. Prints its port on stdout.
import Fastify from 'fastify';
import { orderSchema, placeOrderBody } from '@veloz/api/http/schemas';

const app = Fastify({ logger: false });
let id = 0;
app.post(
  '/api/orders',
  { schema: { body: placeOrderBody, response: { 201: orderSchema } } },
  async (req, reply) => {
    const b = req.body as { symbol: string; side: string; type: string; quantity: string; price?: string };
    id += 1;
    return reply.code(201).send({
      orderId: id,
      clientOrderId: `veloz-${id}`,
      symbol: b.symbol,
      side: b.side,
      type: b.type,
      timeInForce: 'GTC',
      status: 'ACCEPTED',
      quantity: b.quantity,
      price: b.price ?? '0',
      filledQuantity: '0',
      avgPrice: '0',
      strategy: '',
      reason: '',
      exchangeOrderId: '',
      createdAt: Date.now(),
      updatedAt: Date.now(),
      lastSequence: id,
    });
  },
);
await app.listen({ port: 0, host: '127.0.0.1' });
const addr = app.server.address();
console.log(typeof addr === 'object' && addr ? addr.port : 0);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
