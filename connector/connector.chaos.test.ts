import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Conversation, Message } from '@chat/shared/models/types';
import { allMessages as history, api, registerUser } from '../test/api.ts';
import { busChannel, closeBus, eventually, makeMessage, publishEvents } from '../test/bus.ts';
import { closeTestDb, testDb } from '../test/db.ts';
import { controlProc, stack } from '../test/stack.ts';
import { CONNECTION_NAME } from './src/connector.ts';

const run = promisify(execFile);

/** Closes the connector's RabbitMQ connections in this stack's vhost, as a broker restart would. */
async function closeConnectorConnections(): Promise<number> {
  const vhost = decodeURIComponent(new URL(stack().env.AMQP_URL!).pathname.slice(1));
  // Text output: the JSON formatter prints pids in a form close_connection does not accept.
  const { stdout } = await run('rabbitmqctl', ['-q', '--no-table-headers', 'list_connections', 'pid', 'vhost', 'client_properties']);
  const ours = stdout
    .split('\n')
    .map((line) => line.split('\t'))
    .filter(([, v, props]) => v === vhost && props?.includes(CONNECTION_NAME))
    .map(([pid]) => pid!);
  for (const pid of ours) await run('rabbitmqctl', ['close_connection', pid, 'chaos test']);
  return ours.length;
}

afterAll(() => Promise.all([closeBus(), closeTestDb()]));

type Session = Awaited<ReturnType<typeof registerUser>>;

async function setup(): Promise<{ owner: Session; conv: Conversation }> {
  const [owner, other] = await Promise.all([registerUser(), registerUser()]);
  const res = await api('POST', '/api/db/conversations', { token: owner.accessToken, body: { type: 'group', title: 'chaos', memberIds: [other.user.id] } });
  expect(res.status).toBe(201);
  return { owner, conv: res.body.conversation };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('connector and db function under failure', () => {
  it('stores every published message exactly once while the db function and the connector are killed and restarted', async () => {
    const { owner, conv } = await setup();
    const sent: Message[] = [];
    let chaosDone = false;
    // The publisher keeps going until every failure below has happened (and at least 1,000 sent),
    // so each kill lands mid-stream. It is paced (about 80 a second) and capped: the chaos lasts
    // as long as the restarts take, which on a loaded machine is many times longer (a db start
    // took 15-22 s at load 30), and an unpaced stream then grew to tens of thousands of messages
    // that could not all be stored in time. Past the cap the backlog keeps every kill mid-stream.
    const publisher = (async () => {
      while ((!chaosDone || sent.length < 1000) && sent.length < 5000) {
        const next = pause(250);
        const chunk = Array.from({ length: 20 }, (_, j) => makeMessage(conv.id, owner.user.id, `msg ${sent.length + j}`));
        await publishEvents('message.created', chunk.map((message) => ({ message })));
        sent.push(...chunk);
        await next;
      }
    })();
    try {
      await pause(300);
      await controlProc('db', 'kill');
      await pause(1500);
      await controlProc('db', 'start');
      await pause(300);
      await controlProc('connector', 'kill');
      await pause(1000);
      await controlProc('connector', 'start');
      await pause(200);
      await Promise.all([controlProc('db', 'kill'), controlProc('connector', 'kill')]);
      await pause(500);
      await controlProc('connector', 'start');
      await pause(500);
      await controlProc('db', 'start');
      await controlProc('connector', 'stop'); // graceful: drains in-flight work
      await controlProc('connector', 'start');
    } finally {
      chaosDone = true;
    }
    await publisher;
    const total = sent.length;

    // Counted in the store (one indexed query) while waiting; paging the whole history every
    // half second cost more than the storing it waited for. Then the history must show them all:
    // a stored message that history does not reach (its chunk bookkeeping lost in a kill) is a
    // loss for every reader, so it fails here by name.
    const { Message: messages } = (await testDb()).models;
    await eventually(
      async () => ((await messages.countDocuments({ conversationId: { $eq: conv.id } })) >= total ? true : undefined),
      'every message stored',
      120_000,
      500,
    );
    let seen = 0;
    const stored = await eventually(
      async () => {
        const all = await history(owner.accessToken, conv.id);
        seen = all.length;
        return all.length >= total ? all : undefined;
      },
      `every stored message in the history (${total} stored)`,
      60_000,
      2000,
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}; the history showed ${seen} of ${total}`);
    });
    expect(stored).toHaveLength(total);
    expect(new Set(stored.map((m) => m.id)).size).toBe(total);
    expect(stored.map((m) => m.id)).toEqual(sent.map((m) => m.id).sort());
    expect(stored.map((m) => m.body)).toEqual(Array.from({ length: total }, (_, i) => `msg ${i}`));
  }, 300_000);

  it('parks events in the backoff queue while the db function is down, then stores them when it is back', async () => {
    const { owner, conv } = await setup();
    await controlProc('db', 'stop');
    try {
      const m = makeMessage(conv.id, owner.user.id, 'waited for the function');
      await publishEvents('message.created', [{ message: m }]);
      const ch = await busChannel();
      // The first retry goes to the 1 s delay queue; seeing it there (or passing through it) proves the retry path.
      const retried = await eventually(
        async () => {
          const q = await ch.checkQueue('chat.fn.db.retry.1000').catch(() => null);
          return q && q.messageCount > 0 ? q : undefined;
        },
        'the event in the retry queue',
        15_000,
        50,
      );
      expect(retried.messageCount).toBeGreaterThan(0);
    } finally {
      await controlProc('db', 'start');
    }
    const all = await eventually(async () => {
      const msgs = await history(owner.accessToken, conv.id);
      return msgs.length > 0 ? msgs : undefined;
    }, 'the message stored after the restart', 60_000, 250);
    expect(all.map((m) => m.body)).toEqual(['waited for the function']);
  });

  it('reconnects by itself when RabbitMQ drops its connection, and keeps storing', async () => {
    const { owner, conv } = await setup();
    const before = makeMessage(conv.id, owner.user.id, 'before the drop');
    await publishEvents('message.created', [{ message: before }]);
    await eventually(async () => ((await history(owner.accessToken, conv.id)).length === 1 ? true : undefined), 'first message stored');
    expect(await closeConnectorConnections()).toBeGreaterThan(0);
    const after = makeMessage(conv.id, owner.user.id, 'after the drop');
    await publishEvents('message.created', [{ message: after }]);
    const all = await eventually(async () => {
      const msgs = await history(owner.accessToken, conv.id);
      return msgs.length === 2 ? msgs : undefined;
    }, 'message stored after the reconnect', 60_000, 250);
    expect(all.map((m) => m.body)).toEqual(['before the drop', 'after the drop']);
  });
});
