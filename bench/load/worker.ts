import { Centrifuge, type Subscription } from 'centrifuge';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { eachLimit } from '@chat/shared/concurrency';
import { Histogram } from '../lib/stats.ts';
import type { ClientSpec, CollectReply, Command, ConnectReply, Kind, Reply, StatusReply, StepReply } from './protocol.ts';

/**
 * A load generator process: owns a slice of the client sockets and, on command from the
 * orchestrator (IPC), connects them, sends at a given rate from them, and records what they
 * receive. Send time travels in the message body; every process reads the same machine clock.
 */
const wall = () => performance.timeOrigin + performance.now();
const PAD = 'x'.repeat(60);
const workerIndex = Number(process.env.BENCH_WORKER ?? 0);

interface Client {
  spec: ClientSpec;
  connected: boolean;
  send(key: string, body: string, done: (error: string | null) => void): void;
  close(): void;
}

interface StepState {
  acked: Array<[string, string]>;
  received: Map<string, number>;
  seenBySocket: Map<number, Set<string>>;
  duplicates: number;
  latency: Histogram;
  ackLatency: Histogram;
  lastReceive: number;
}

let clients: Client[] = [];
const steps = new Map<number, StepState>();
const stepState = (s: number): StepState => {
  let st = steps.get(s);
  if (!st) {
    st = { acked: [], received: new Map(), seenBySocket: new Map(), duplicates: 0, latency: new Histogram(), ackLatency: new Histogram(), lastReceive: 0 };
    steps.set(s, st);
  }
  return st;
};

function onBody(socketIndex: number, body: string) {
  const now = wall();
  let m: { k: string; t: number; s: number };
  try {
    m = JSON.parse(body) as typeof m;
  } catch {
    return;
  }
  if (typeof m.k !== 'string') return;
  const st = stepState(m.s);
  let seen = st.seenBySocket.get(socketIndex);
  if (!seen) st.seenBySocket.set(socketIndex, (seen = new Set()));
  if (seen.has(m.k)) {
    st.duplicates++;
    return;
  }
  seen.add(m.k);
  st.received.set(m.k, (st.received.get(m.k) ?? 0) + 1);
  st.latency.record(now - m.t);
  st.lastReceive = Math.max(st.lastReceive, now);
}

function makeClient(k: Kind, spec: ClientSpec, index: number, reconnection: boolean): { client: Client; ready: Promise<void> } {
  if (k === 'centrifugo') {
    const c = new Centrifuge(spec.url, { token: spec.token, websocket: WebSocket, minReconnectDelay: 500 });
    const sub: Subscription = c.newSubscription(spec.group);
    const client: Client = {
      spec,
      connected: false,
      send: (_key, body, done) => void sub.publish({ b: body, u: spec.userId }).then(() => done(null), (e: { code?: number; message?: string }) => done(`${e.code ?? ''} ${e.message ?? 'error'}`.trim())),
      close: () => c.disconnect(),
    };
    sub.on('publication', (ctx) => {
      const d = ctx.data as { b: string; u: string };
      if (d.u !== spec.userId) onBody(index, d.b);
    });
    const ready = new Promise<void>((resolve, reject) => {
      sub.on('subscribed', () => {
        client.connected = true;
        resolve();
      });
      sub.on('unsubscribed', () => (client.connected = false));
      c.on('disconnected', (ctx) => {
        client.connected = false;
        reject(new Error(`disconnected ${ctx.code} ${ctx.reason}`));
      });
      sub.on('error', (ctx) => reject(new Error(`subscribe error ${ctx.error.code} ${ctx.error.message}`)));
    });
    sub.subscribe();
    c.connect();
    return { client, ready };
  }

  const s: Socket = io(spec.url, {
    path: '/socket.io/',
    transports: ['websocket'],
    forceNew: true,
    reconnection,
    // The bare pair has no auth: the room to join travels in the handshake instead.
    auth: spec.token ? { token: spec.token } : { room: spec.group },
  });
  const client: Client = {
    spec,
    connected: false,
    send:
      k === 'chat'
        ? (key, body, done) =>
            s.timeout(30_000).emit('message:send', { conversationId: spec.group, clientMsgId: key, body }, (err: Error | null, ack?: { ok: boolean; error?: { code: string } }) =>
              done(err ? 'timeout' : ack?.ok ? null : (ack?.error?.code ?? 'error')),
            )
        : (_key, body, done) => s.timeout(30_000).emit('msg', { room: spec.group, body }, (err: Error | null) => done(err ? 'timeout' : null)),
    close: () => s.close(),
  };
  if (k === 'chat') s.on('message:new', (p: { message: { body: string } }) => onBody(index, p.message.body));
  else s.on('msg', (body: string) => onBody(index, body));
  s.on('connect', () => (client.connected = true));
  s.on('disconnect', () => (client.connected = false));
  const ready = new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    // With reconnection on, a refused first attempt is retried by the client itself.
    if (!reconnection) s.once('connect_error', (e) => reject(e));
  });
  return { client, ready };
}

async function connectAll(cmd: Extract<Command, { cmd: 'connect' }>): Promise<ConnectReply> {
  const t0 = performance.now();
  let connected = 0;
  let failed = 0;
  const errors: string[] = [];
  const base = clients.length;
  await eachLimit(cmd.clients, cmd.concurrency, async (spec, i) => {
    const { client, ready } = makeClient(cmd.kind, spec, base + i, cmd.reconnection);
    clients.push(client);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([ready, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('connect timeout')), cmd.timeoutMs)))]);
      connected++;
    } catch (e) {
      failed++;
      if (errors.length < 5) errors.push(e instanceof Error ? e.message : String(e));
    } finally {
      clearTimeout(timer);
    }
  });
  return { connected, failed, ms: performance.now() - t0, errors };
}

async function runStep(cmd: Extract<Command, { cmd: 'step' }>): Promise<StepReply> {
  const st = stepState(cmd.step);
  const senders = clients.filter((c) => c.connected);
  let sent = 0;
  let acked = 0;
  let settled = 0;
  const ackErrors: Record<string, number> = {};
  let firstSend = 0;
  let lastSend = 0;
  const byGroup = new Map<string, number>();
  const result = () => ({ sent, acked, ackErrors, ackedByGroup: [...byGroup], firstSend, lastSend });
  if (senders.length === 0 || cmd.rate <= 0) return result();
  const t0 = performance.now();
  let seq = 0;
  await new Promise<void>((resolve) => {
    // A 5 ms tick sends whatever is due, so a slow tick catches up instead of lowering the rate.
    const timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      const due = Math.min(Math.floor((Math.min(elapsed, cmd.durationMs) * cmd.rate) / 1000), Math.round((cmd.durationMs * cmd.rate) / 1000));
      while (sent < due) {
        const c = senders[seq % senders.length]!;
        const k = `${workerIndex}.${cmd.step}.${seq++}`;
        const t = wall();
        if (!firstSend) firstSend = t;
        lastSend = t;
        sent++;
        c.send(k, JSON.stringify({ k, t, s: cmd.step, p: PAD }), (error) => {
          settled++;
          if (error) ackErrors[error] = (ackErrors[error] ?? 0) + 1;
          else {
            acked++;
            byGroup.set(c.spec.group, (byGroup.get(c.spec.group) ?? 0) + 1);
            st.acked.push([k, c.spec.group]);
            st.ackLatency.record(wall() - t);
          }
        });
      }
      if (elapsed >= cmd.durationMs) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  // Wait for the outstanding acks (each has its own 30 s timeout).
  while (settled < sent) await new Promise((r) => setTimeout(r, 20));
  return result();
}

function progress(step: number): { received: number; lastReceive: number } {
  const st = stepState(step);
  let received = 0;
  for (const n of st.received.values()) received += n;
  return { received, lastReceive: st.lastReceive };
}

function collect(step: number): CollectReply {
  const st = stepState(step);
  steps.delete(step);
  return {
    acked: st.acked,
    received: Object.fromEntries(st.received),
    duplicates: st.duplicates,
    latency: st.latency.toJSON(),
    ackLatency: st.ackLatency.toJSON(),
    lastReceive: st.lastReceive,
  };
}

function status(): StatusReply {
  const groups: Record<string, number> = {};
  for (const c of clients) if (c.connected) groups[c.spec.group] = (groups[c.spec.group] ?? 0) + 1;
  return { connected: clients.filter((c) => c.connected).length, total: clients.length, groups };
}

process.on('message', (raw) => {
  const cmd = raw as Command;
  const reply = (r: Reply) => process.send!(r);
  const handle = async (): Promise<unknown> => {
    switch (cmd.cmd) {
      case 'connect':
        return connectAll(cmd);
      case 'step':
        return runStep(cmd);
      case 'progress':
        return progress(cmd.step);
      case 'collect':
        return collect(cmd.step);
      case 'status':
        return status();
      case 'close':
        for (const c of clients) c.close();
        clients = [];
        steps.clear();
        return null;
    }
  };
  handle().then(
    (value) => reply({ id: cmd.id, ok: true, value }),
    (e: unknown) => reply({ id: cmd.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
process.on('disconnect', () => process.exit(0));
