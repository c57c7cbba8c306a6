import http from 'node:http';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { AMQP_SOCKET_OPTIONS } from '@chat/shared/infra/rabbit';
import { drainedQueues } from '../lib/broker.ts';

/**
 * The fan-out baseline: one of a pair of bare Socket.IO v4 servers sharing rooms through the same
 * sharded Redis adapter as the gateway, with the gateway's engine settings, but no auth, no
 * membership, no ledger and no persistence. A client names its room in the handshake; `msg`
 * is relayed to the room's other sockets and acked.
 *
 * With DURABLE_EXCHANGE set (and AMQP_URL), the relay first does what the contract asks of every
 * send: a persistent publish that RabbitMQ confirms, into two durable queues (as the db and
 * notification functions have), which this process drains and acks. Only then is `msg` relayed
 * and acked. That is the least any conforming gateway does before a message reaches anyone.
 */
const port = Number(process.env.PORT ?? 3900);
const pub = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const sub = pub.duplicate();

const httpServer = http.createServer((req, res) => {
  if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  if (!req.url?.startsWith('/socket.io/')) res.writeHead(404).end();
});
const io = new Server(httpServer, {
  adapter: createShardedAdapter(pub, sub, { channelPrefix: `${process.env.CHANNEL_PREFIX ?? 'bench-bare:'}socket.io` }),
  serveClient: false,
  pingInterval: 20_000,
  pingTimeout: 20_000,
  maxHttpBufferSize: 64 * 1024,
});
io.use(async (socket, next) => {
  const room = (socket.handshake.auth as { room?: unknown }).room;
  if (typeof room === 'string') await socket.join(room);
  next();
});

type Persist = (payload: string, done: (err: unknown) => void) => void;

async function durableLog(url: string, exchange: string): Promise<Persist> {
  const conn = await amqp.connect(url, AMQP_SOCKET_OPTIONS);
  await drainedQueues(conn, exchange, { prefetch: 2000, ackEvery: 100 });
  const ch = await conn.createConfirmChannel();
  return (payload, done) => void ch.publish(exchange, 'message.created', Buffer.from(payload), { persistent: true, contentType: 'application/json' }, done);
}

const persist: Persist | null = process.env.DURABLE_EXCHANGE ? await durableLog(process.env.AMQP_URL!, process.env.DURABLE_EXCHANGE) : null;

io.on('connection', (socket) => {
  socket.on('msg', (p: { room: string; body: string }, ack?: () => void) => {
    const relay = () => {
      socket.to(p.room).emit('msg', p.body);
      if (typeof ack === 'function') ack();
    };
    if (!persist) return relay();
    // No ack when the broker refuses: the client counts it as an ack error, as with the gateway.
    persist(JSON.stringify(p), (err) => {
      if (!err) relay();
    });
  });
});
httpServer.listen(port, '127.0.0.1');
const stop = () => io.close(() => void Promise.allSettled([pub.quit(), sub.quit()]).then(() => process.exit(0)));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
