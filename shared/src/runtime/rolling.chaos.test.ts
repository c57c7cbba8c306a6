import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryStats } from '../../../connector/src/connector.ts';
import type { Message } from '../models/types.ts';
import { allMessages, api, registerUser, storedWhen } from '../../../test/api.ts';
import { closeBus, eventually } from '../../../test/bus.ts';
import { connect, connected, request, type ClientSocket } from '../../../test/socket.ts';
import { controlProc, stack } from '../../../test/stack.ts';

/**
 * A rolling update, as OpenFaaS or a Deployment does one: each instance in turn gets SIGTERM
 * while the others serve, under steady HTTP requests and steady socket sends. The chaos stack
 * routes to a second db instance (test/stack.setup.ts), started here, and writes the ingress's
 * access log, so every 5xx counts, the connector's calls to /function/db included.
 */
// Two db instances for this file only: the other chaos files keep one, as their claims assume.
beforeAll(() => controlProc('db-2', 'start'));
afterAll(() => Promise.all([closeBus(), controlProc('db-2', 'stop')]));

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface LogLine {
  status: number;
  method: string;
  uri: string;
  /** The instance that answered (host:port), or "-" when nginx answered itself. */
  upstream: string;
}

/** The ingress's access log from byte `from` on (format `upstreams` of ingress/nginx.conf.ts). */
function accessLogSince(from: number): LogLine[] {
  const file = stack().accessLog;
  if (!file) throw new Error('the chaos stack writes no access log');
  return readFileSync(file).subarray(from).toString('utf8').split('\n').filter(Boolean).map((line) => {
    const [, status, method, uri, ...rest] = line.split(' ');
    // $upstream_addr lists every instance tried ("a, b"); the last one answered.
    return { status: Number(status), method: method!, uri: uri!, upstream: rest.join(' ').match(/[\d.]+:\d+/g)?.at(-1) ?? '-' };
  });
}
const accessLogSize = () => statSync(stack().accessLog!).size;

interface Load {
  /** Resolves once every worker has finished its current request. */
  stop(): Promise<void>;
  http: Map<number, number>;
  acked: Map<string, Message>;
  failedAcks: string[];
}

/**
 * Steady load through the ingress: HTTP workers reading history and marking it read on the db
 * function, and socket clients sending back to back (each send waits for its ack, as the web
 * app's outbox does). Nothing here retries: a 5xx or a failed ack is a failure to count.
 */
async function steadyLoad(convId: string, users: Array<{ accessToken: string }>): Promise<Load> {
  const sockets: ClientSocket[] = users.map((u) => connect(u.accessToken));
  await Promise.all(sockets.map((s) => connected(s)));
  const first = await request(sockets[0]!, 'message:send', { conversationId: convId, clientMsgId: 'warm-up', body: 'warm-up' });
  expect(first.ok).toBe(true);
  const readTo = (first as { message: Message }).message.id;
  // Marking it read needs it stored; until then the answer is a (correct) 404.
  await eventually(async () => ((await allMessages(users[0]!.accessToken, convId)).some((m) => m.id === readTo) ? true : undefined), 'the first message stored');
  const http = new Map<number, number>();
  const acked = new Map<string, Message>([['warm-up', (first as { message: Message }).message]]);
  const failedAcks: string[] = [];
  let stopping = false;
  const count = (status: number) => http.set(status, (http.get(status) ?? 0) + 1);
  const readers = users.map(async (u, w) => {
    for (let i = 0; !stopping; i++) {
      const res =
        i % 2
          ? await api('POST', `/api/db/conversations/${convId}/read`, { token: u.accessToken, body: { messageId: readTo } }).catch(() => ({ status: 0 }))
          : await api('GET', `/api/db/conversations/${convId}/messages?limit=20`, { token: u.accessToken }).catch(() => ({ status: 0 }));
      count(res.status);
      if (w % 2) await pause(5);
    }
  });
  const senders = sockets.map(async (s, c) => {
    for (let i = 0; !stopping; i++) {
      const clientMsgId = `roll-${c}-${i}`;
      const ack = await request(s, 'message:send', { conversationId: convId, clientMsgId, body: clientMsgId }, 15_000).catch(() => null);
      if (ack?.ok) acked.set(clientMsgId, (ack as { message: Message }).message);
      else failedAcks.push(`${clientMsgId}: ${ack ? ack.error.code : 'no ack'}`);
      await pause(100);
    }
  });
  return {
    http,
    acked,
    failedAcks,
    stop: async () => {
      stopping = true;
      await Promise.all([...readers, ...senders]);
      for (const s of sockets) s.disconnect();
    },
  };
}

async function storedOnce(token: string, convId: string, acked: Map<string, Message>) {
  const stored = await storedWhen(token, convId, (all) => all.length >= acked.size, 'every acked message stored', 60_000, 250);
  expect(stored).toHaveLength(acked.size);
  expect(new Set(stored.map((m) => m.clientMsgId)).size).toBe(stored.length);
  for (const m of stored) expect(m.id).toBe(acked.get(m.clientMsgId)?.id);
}

async function setup() {
  const users = await Promise.all(Array.from({ length: 4 }, () => registerUser()));
  const res = await api('POST', '/api/db/conversations', { token: users[0]!.accessToken, body: { type: 'group', title: 'rolling', memberIds: users.slice(1).map((u) => u.user.id) } });
  expect(res.status).toBe(201);
  return { users, convId: res.body.conversation.id as string };
}

const total = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
/** Every answer that is not a success: a 5xx, a refused or cut request (0), or anything else. */
const notOk = (m: Map<number, number>) => Object.fromEntries([...m].filter(([s]) => s < 200 || s >= 300));

describe('rolling restarts under steady load', () => {
  it('the db function restarted one instance at a time (SIGTERM): no 5xx, no failed ack, every acked message stored once', async () => {
    expect(stack().ports.replicas.db).toHaveLength(2);
    const { users, convId } = await setup();
    const load = await steadyLoad(convId, users);
    const from = accessLogSize();
    try {
      for (const instance of ['db', 'db-2']) {
        const before = total(load.http);
        while (total(load.http) < before + 20) await pause(10);
        await controlProc(instance, 'stop'); // resolves once the process has exited
        const stoppedAt = total(load.http);
        while (total(load.http) < stoppedAt + 20) await pause(10); // the survivor serves alone
        await controlProc(instance, 'start'); // resolves once /readyz answers 200
      }
      const after = total(load.http);
      while (total(load.http) < after + 20) await pause(10);
    } finally {
      await load.stop();
    }
    const log = accessLogSince(from);
    const upstreams = (uri: string) => new Set(log.filter((l) => l.uri.startsWith(uri)).map((l) => l.upstream));
    const errors = log.filter((l) => l.status >= 500);
    console.log(
      `db SIGTERM x2 under load: ${total(load.http)} HTTP requests (${JSON.stringify(Object.fromEntries(load.http))}), ` +
        `${load.acked.size} sends acked, ${load.failedAcks.length} failed acks; ingress: ${log.length} requests, ${errors.length} 5xx, ` +
        `${log.filter((l) => l.uri.startsWith('/function/db')).length} connector calls to db`,
    );
    expect(errors).toEqual([]);
    expect(notOk(load.http)).toEqual({});
    expect(load.failedAcks).toEqual([]);
    // Both instances served (the load was balanced, and each stop moved it to the other).
    expect([...upstreams('/api/db/')].sort()).toEqual(stack().ports.replicas.db!.map((p) => `127.0.0.1:${p}`).sort());
    await storedOnce(users[0]!.accessToken, convId, load.acked);
  }, 300_000);

  it('the connector stopped (SIGTERM) with calls in flight under steady load: it settles them before it goes (its successor is redelivered nothing), no failed ack, no 5xx, every acked message stored once', async () => {
    const { users, convId } = await setup();
    const load = await steadyLoad(convId, users);
    const from = accessLogSize();
    const connectorUrl = `http://127.0.0.1:${stack().ports.connector}`;
    const dbStats = async () => ((await (await fetch(`${connectorUrl}/stats`)).json()) as { functions: DeliveryStats }).functions.db ?? { received: 0, redelivered: 0 };
    try {
      while (load.acked.size < 40) await pause(10);
      // The db instances freeze, so the connector's calls to them wait and the deliveries that
      // arrive meanwhile stay unsettled: the SIGTERM finds work in flight. A connector that
      // closed without settling it would leave it to the broker to redeliver.
      const before = await dbStats();
      await Promise.all(['db', 'db-2'].map((p) => controlProc(p, 'pause')));
      let stopped: Promise<void>;
      try {
        await eventually(async () => ((await dbStats()).received >= before.received + 5 ? true : undefined), 'deliveries waiting on the frozen db', 20_000, 20);
        stopped = controlProc('connector', 'stop'); // resolves once the process has exited
        // It has the SIGTERM once it answers "not ready" (or no longer answers at all).
        await eventually(async () => ((await fetch(`${connectorUrl}/readyz`).then((r) => r.status, () => 503)) === 503 ? true : undefined), 'the connector stopping', 20_000, 20);
      } finally {
        await Promise.all(['db', 'db-2'].map((p) => controlProc(p, 'resume')));
      }
      await stopped;
      const stoppedAt = load.acked.size;
      // Sends go on while nothing stores them: they wait in the durable queue.
      while (load.acked.size < stoppedAt + 40) await pause(10);
      await controlProc('connector', 'start');
      const after = load.acked.size;
      while (load.acked.size < after + 40) await pause(10);
    } finally {
      await load.stop();
    }
    const errors = accessLogSince(from).filter((l) => l.status >= 500);
    await storedOnce(users[0]!.accessToken, convId, load.acked);
    const successor = await dbStats();
    console.log(`connector SIGTERM under load: ${load.acked.size} sends acked, ${load.failedAcks.length} failed acks, ${total(load.http)} HTTP requests, ${errors.length} 5xx at the ingress; its successor received ${successor.received} deliveries, ${successor.redelivered} redelivered`);
    expect(load.failedAcks).toEqual([]);
    expect(errors).toEqual([]);
    expect(notOk(load.http)).toEqual({});
    // The successor took over the queue (what waited while no connector ran), none of it twice.
    expect(successor.received).toBeGreaterThanOrEqual(40);
    expect(successor.redelivered).toBe(0);
  });
});
