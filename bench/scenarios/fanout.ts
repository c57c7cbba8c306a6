import type { ClientSpec, Kind } from '../load/protocol.ts';
import { LoadPool } from '../load/pool.ts';
import { startCentrifugo } from '../baseline/centrifugo.ts';
import { ensureTool } from '../../scripts/stack/tools.ts';
import { procGroup, type BenchContext, type Chart, type CpuPhase, type ScenarioResult, type Table } from '../lib/context.ts';
import { cpuWindow, type ProcGroup } from '../lib/procstat.ts';
import { seedUsersAndGroups, mintTokens } from '../lib/seed.ts';
import { evaluate, Histogram, round, saturationIndex, type TargetResult } from '../lib/stats.ts';
import path from 'node:path';

/**
 * Fan-out: N sockets in groups of 20 (half of each group on each instance), every member a
 * sender, total send rate stepped up; per step the send-to-receive latency, delivered rate, lost
 * and duplicated messages. The same clients and pattern run against the product, the bare
 * Socket.IO pair and Centrifugo.
 */
const GROUP = 20;

export interface StepResult {
  offered: number;
  sent: number;
  acked: number;
  ackErrors: Record<string, number>;
  /** Messages per second fully delivered: receptions / (members - 1) over first send .. last receive. */
  delivered: number;
  receptions: number;
  expected: number;
  lost: number;
  duplicates: number;
  latency: ReturnType<Histogram['summary']>;
  ack: ReturnType<Histogram['summary']>;
  drainMs: number;
}

interface TargetRun {
  target: string;
  connect: { connected: number; failed: number; ms: number; errors: string[] };
  steps: StepResult[];
  stored?: { acked: number; stored: number; missing: number; waitedMs: number };
  error?: string;
}

async function runSteps(ctx: BenchContext, pool: LoadPool, label: string, rates: number[], durationMs: number, groups: ProcGroup[], cpu: CpuPhase[], ackedAll?: Set<string>) {
  const steps: StepResult[] = [];
  for (const [i, rate] of rates.entries()) {
    const step = i + 1;
    ctx.log(`fan-out ${label}: ${rate} msg/s for ${durationMs / 1000} s`);
    // Lost counts against the members actually connected (a socket that failed to connect is reported apart).
    const membersConnected = new Map(Object.entries((await pool.status()).groups));
    const end = cpuWindow(groups);
    const t0 = performance.now();
    const sent = await pool.step(step, rate, durationMs);
    const acked = sent.reduce((a, s) => a + s.acked, 0);
    const expected = sent.reduce((a, s) => a + s.ackedByGroup.reduce((b, [g, n]) => b + n * ((membersConnected.get(g) ?? GROUP) - 1), 0), 0);
    // Drain: until every acked message reached every other member, or receptions stop growing.
    const drainStart = performance.now();
    let last = -1;
    let stableSince = performance.now();
    for (;;) {
      const p = await pool.progress(step);
      if (p.received >= expected) break;
      if (p.received !== last) {
        last = p.received;
        stableSince = performance.now();
      } else if (performance.now() - stableSince > 3000) break;
      if (performance.now() - drainStart > 20_000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const drainMs = performance.now() - drainStart;
    const samples = end();
    cpu.push({ phase: `${label} @ ${rate}/s`, seconds: round((performance.now() - t0) / 1000, 1)!, samples });
    const collected = await pool.collect(step);
    const received = new Map<string, number>();
    for (const c of collected) for (const [k, n] of Object.entries(c.received)) received.set(k, (received.get(k) ?? 0) + n);
    let lost = 0;
    for (const c of collected)
      for (const [k, group] of c.acked) {
        lost += Math.max(0, (membersConnected.get(group) ?? GROUP) - 1 - (received.get(k) ?? 0));
        ackedAll?.add(k);
      }
    const receptions = [...received.values()].reduce((a, n) => a + n, 0);
    const latency = new Histogram();
    const ack = new Histogram();
    for (const c of collected) {
      latency.merge(c.latency);
      ack.merge(c.ackLatency);
    }
    const firstSend = Math.min(...sent.map((s) => s.firstSend || Infinity));
    const lastReceive = Math.max(...collected.map((c) => c.lastReceive));
    const windowS = (lastReceive - firstSend) / 1000;
    const ackErrors: Record<string, number> = {};
    for (const s of sent) for (const [k, n] of Object.entries(s.ackErrors)) ackErrors[k] = (ackErrors[k] ?? 0) + n;
    steps.push({
      offered: rate,
      sent: sent.reduce((a, s) => a + s.sent, 0),
      acked,
      ackErrors,
      delivered: windowS > 0 ? round(receptions / (GROUP - 1) / windowS, 1)! : 0,
      receptions,
      expected,
      lost,
      duplicates: collected.reduce((a, c) => a + c.duplicates, 0),
      latency: latency.summary(),
      ack: ack.summary(),
      drainMs: Math.round(drainMs),
    });
  }
  return steps;
}

/** Every acked message must be in the store: polls the count, then checks each clientMsgId. */
async function checkStored(ctx: BenchContext, conversationIds: string[], acked: Set<string>): Promise<NonNullable<TargetRun['stored']>> {
  const Message = ctx.mongo.models.Message;
  const t0 = performance.now();
  const deadline = t0 + 60_000;
  let count = 0;
  while (performance.now() < deadline) {
    count = await Message.countDocuments({ conversationId: { $in: conversationIds } });
    if (count >= acked.size) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const stored = new Set<string>();
  const docs = await Message.find({ conversationId: { $in: conversationIds } }, { clientMsgId: 1 }).lean<Array<{ clientMsgId: string }>>();
  for (const d of docs) stored.add(d.clientMsgId);
  let missing = 0;
  for (const k of acked) if (!stored.has(k)) missing++;
  return { acked: acked.size, stored: docs.length, missing, waitedMs: Math.round(performance.now() - t0) };
}

/** The bare pair that publishes each message with a RabbitMQ confirm before relaying it. */
const DURABLE = 'bare pair + confirmed publish';

export async function fanout(ctx: BenchContext): Promise<ScenarioResult> {
  const sockets = ctx.quick ? 400 : 2000;
  const rates = ctx.quick ? [200, 500] : [200, 500, 1000, 1500, 2000];
  const durationMs = ctx.quick ? 4000 : 10_000;
  const workers = ctx.quick ? 2 : 3;
  const { stack } = ctx;
  const runs: TargetRun[] = [];
  const cpu: CpuPhase[] = [];
  const notes: string[] = [];
  // Member i of a group: the first half on instance 1, the second half on instance 2.
  const instanceOf = (i: number) => ((i % GROUP) < GROUP / 2 ? 0 : 1);

  const withPool = async (target: string, kind: Kind, clients: ClientSpec[], groups: ProcGroup[], after?: (run: TargetRun) => Promise<void>, acked?: Set<string>) => {
    const pool = new LoadPool(workers);
    const run: TargetRun = { target, connect: { connected: 0, failed: 0, ms: 0, errors: [] }, steps: [] };
    try {
      await pool.status();
      await ctx.settle(`${target} connects`);
      run.connect = await pool.connect(kind, clients, { concurrency: 25, timeoutMs: 60_000 });
      if (run.connect.failed > 0) notes.push(`${target}: ${run.connect.failed} of ${clients.length} sockets failed to connect (${run.connect.errors.join('; ')})`);
      await ctx.settle(`${target} steps`);
      run.steps = await runSteps(ctx, pool, target, rates, durationMs, [...groups, procGroup('load workers', 'load', pool.procs)], cpu, acked);
      await after?.(run);
    } catch (e) {
      run.error = e instanceof Error ? e.message : String(e);
      notes.push(`${target}: failed: ${run.error}`);
    } finally {
      await pool.stop();
      runs.push(run);
      await ctx.settle(`the next fan-out target`);
    }
  };

  // The product
  {
    const seeded = await seedUsersAndGroups(ctx.mongo, 'fo', sockets, GROUP);
    const tokens = await mintTokens(ctx.keys, seeded.userIds);
    const clients = seeded.userIds.map((userId, i) => ({
      url: `http://127.0.0.1:${stack.ports.gateways[instanceOf(i)]}`,
      token: tokens[i],
      userId,
      group: seeded.groups[Math.floor(i / GROUP)]!.id,
    }));
    const acked = new Set<string>();
    const sut = [ctx.stackGroup('gateway-1'), ctx.stackGroup('gateway-2'), ctx.stackGroup('connector'), ctx.stackGroup('db', 'db function'), ctx.stackGroup('notification', 'notification function'), ctx.stackGroup('nginx'), ctx.stackGroup('ferretdb'), ...ctx.infraGroups()];
    await withPool('chat gateways', 'chat', clients, sut, async (run) => {
      if (!stack.procs.has('connector') || !stack.procs.has('db')) {
        notes.push('Stored check not run: this checkout has no connector or db function.');
        return;
      }
      ctx.log(`fan-out: waiting until the ${acked.size} acked messages are stored`);
      run.stored = await checkStored(ctx, seeded.groups.map((g) => g.id), acked);
    }, acked);
  }

  // Baseline: the bare pair
  {
    const bare = await ctx.barePair();
    const clients = Array.from({ length: sockets }, (_, i) => ({ url: `http://127.0.0.1:${bare.ports[instanceOf(i)]}`, userId: `u${i}`, group: `fo-${Math.floor(i / GROUP)}` }));
    await withPool('bare Socket.IO pair', 'bare', clients, [procGroup('bare-1', 'baseline', [bare.procs[0]!]), procGroup('bare-2', 'baseline', [bare.procs[1]!]), ...ctx.infraGroups()]);
  }

  // Reference (full runs): the bare pair plus the confirmed publish the contract asks before delivery.
  if (!ctx.quick) {
    const durable = await ctx.barePair('durable');
    try {
      const clients = Array.from({ length: sockets }, (_, i) => ({ url: `http://127.0.0.1:${durable.ports[instanceOf(i)]}`, userId: `u${i}`, group: `fo-${Math.floor(i / GROUP)}` }));
      await withPool(DURABLE, 'bare', clients, [procGroup('durable-1', 'baseline', [durable.procs[0]!]), procGroup('durable-2', 'baseline', [durable.procs[1]!]), ...ctx.infraGroups()]);
    } finally {
      await durable.stop();
    }
  }

  // Peer: Centrifugo
  try {
    const bin = await ensureTool('centrifugo', ctx.log);
    const cf = await startCentrifugo({ bin, dir: path.join(ctx.runDir, 'centrifugo'), redisUrl: stack.env.REDIS_URL!, prefix: `bench-cf-${process.pid}`, out: ctx.out });
    try {
      const clients = await Promise.all(
        Array.from({ length: sockets }, async (_, i) => ({ url: cf.urls[instanceOf(i)]!, token: await cf.token(`u${i}`), userId: `u${i}`, group: `fo${Math.floor(i / GROUP)}` })),
      );
      await withPool('Centrifugo pair', 'centrifugo', clients, [procGroup('centrifugo-1', 'peer', [cf.procs[0]!]), procGroup('centrifugo-2', 'peer', [cf.procs[1]!]), ...ctx.infraGroups()]);
      notes.push('Centrifugo also delivers a publication to the publishing client (which ignores it), so it sends 20 frames per message where the Socket.IO servers send 19.');
    } finally {
      await cf.stop();
    }
  } catch (e) {
    notes.push(`Centrifugo not measured: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }

  return report(runs, { sockets, rates, durationMs, workers, groupSize: GROUP }, cpu, notes);
}

function report(runs: TargetRun[], params: Record<string, unknown> & { rates: number[] }, cpu: CpuPhase[], notes: string[]): ScenarioResult {
  const tables: Table[] = runs.map((r) => ({
    title: `${r.target} (${r.connect.connected} sockets connected in ${(r.connect.ms / 1000).toFixed(1)} s)`,
    columns: ['offered msg/s', 'sent', 'acked', 'delivered msg/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'ack p99 ms', 'lost', 'dup', 'ack errors', 'drain ms'],
    rows: r.steps.map((s) => [
      s.offered,
      s.sent,
      s.acked,
      s.delivered,
      s.latency.p50,
      s.latency.p95,
      s.latency.p99,
      s.latency.max,
      s.ack.p99,
      s.lost,
      s.duplicates,
      Object.entries(s.ackErrors).map(([k, n]) => `${k}:${n}`).join(' ') || '0',
      s.drainMs,
    ]),
  }));
  const chat = runs.find((r) => r.target === 'chat gateways');
  const bare = runs.find((r) => r.target === 'bare Socket.IO pair');
  const targets: TargetResult[] = [];
  if (chat && bare && bare.steps.length) {
    const sat = saturationIndex(bare.steps);
    notes.push(`Bare pair keeps up through ${bare.steps[sat]!.offered} msg/s in this run; the ratio targets apply to the steps up to there.`);
    for (let i = 0; i <= sat && i < chat.steps.length; i++) {
      const c = chat.steps[i]!;
      const b = bare.steps[i]!;
      targets.push(evaluate({ name: `delivered rate @ ${c.offered}/s vs bare`, kind: 'higher', target: 0.8 }, c.delivered, b.delivered));
      targets.push(evaluate({ name: `p99 latency @ ${c.offered}/s vs bare`, kind: 'lower', target: 1.5 }, c.latency.p99, b.latency.p99));
    }
  }
  if (chat) {
    targets.push(evaluate({ name: 'lost messages (all steps)', kind: 'abs-max', target: 0 }, chat.steps.length ? chat.steps.reduce((a, s) => a + s.lost, 0) : null));
    targets.push(evaluate({ name: 'duplicated messages (all steps)', kind: 'abs-max', target: 0 }, chat.steps.length ? chat.steps.reduce((a, s) => a + s.duplicates, 0) : null));
    targets.push(evaluate({ name: 'acked messages not stored', kind: 'abs-max', target: 0 }, chat.stored ? chat.stored.missing : null));
    if (chat.stored)
      tables.push({
        title: 'chat gateways: storage after draining',
        columns: ['acked', 'stored in those conversations', 'acked but missing', 'waited ms'],
        rows: [[chat.stored.acked, chat.stored.stored, chat.stored.missing, chat.stored.waitedMs]],
      });
  }
  const durable = runs.find((r) => r.target === DURABLE);
  if (chat && bare && durable && durable.steps.length) {
    // Reported, not a target: how much of the gap to the bare pair the contract's durable publish explains.
    const p99Ratio = (a: TargetRun, b: TargetRun) =>
      a.steps.map((s, i) => {
        const base = b.steps[i]?.latency.p99;
        return base && s.latency.p99 !== null ? `${(s.latency.p99 / base).toFixed(1)}×` : '–';
      }).join(' / ');
    notes.push(
      `p99 at ${params.rates.join(' / ')} msg/s: the bare pair with a confirmed publish before each relay is ${p99Ratio(durable, bare)} the plain bare pair's; the gateways are ${p99Ratio(chat, durable)} that durable pair's.`,
    );
  }
  const colors: Record<string, string> = { 'chat gateways': '#d6336c', 'bare Socket.IO pair': '#1c7ed6', [DURABLE]: '#f08c00', 'Centrifugo pair': '#2f9e44' };
  const charts: Chart[] = [
    {
      file: 'fanout-latency.svg',
      title: 'Fan-out send-to-receive latency (solid p99, dashed p50)',
      xLabel: 'offered messages/s',
      yLabel: 'ms (log)',
      logY: true,
      series: runs.flatMap((r) => [
        { name: `${r.target} p99`, color: colors[r.target] ?? '#555', points: r.steps.map((s) => [s.offered, s.latency.p99 ?? 0] as [number, number]) },
        { name: `${r.target} p50`, color: colors[r.target] ?? '#555', dashed: true, points: r.steps.map((s) => [s.offered, s.latency.p50 ?? 0] as [number, number]) },
      ]),
    },
    {
      file: 'fanout-delivered.svg',
      title: 'Fan-out delivered messages/s (each to 19 members)',
      xLabel: 'offered messages/s',
      yLabel: 'delivered messages/s',
      series: runs.map((r) => ({ name: r.target, color: colors[r.target] ?? '#555', points: r.steps.map((s) => [s.offered, s.delivered] as [number, number]) })),
    },
  ];
  return { name: 'fanout', title: 'Fan-out', params, tables, targets, cpu, charts, notes, raw: runs };
}
