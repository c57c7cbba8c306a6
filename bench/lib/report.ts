import type { CpuPhase, ScenarioResult, Table } from './context.ts';
import type { Machine } from './machine.ts';
import type { TargetResult } from './stats.ts';

export interface RunInfo {
  mode: 'quick' | 'full';
  command: string;
  startedAt: string;
  durationS: number;
  commit: string;
  machine: Machine;
  resultsFile: string;
}

const cell = (v: string | number | null | undefined) => (v === null || v === undefined ? '–' : typeof v === 'number' ? num(v) : v.replace(/\|/g, '\\|'));
const num = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 2 }));

export function mdTable(t: Pick<Table, 'columns' | 'rows'>): string {
  return [`| ${t.columns.join(' | ')} |`, `| ${t.columns.map(() => '---').join(' | ')} |`, ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

export function goal(t: TargetResult): string {
  switch (t.kind) {
    case 'higher':
      return t.target > 0 ? `≥ ${t.target}× baseline` : 'reported';
    case 'lower':
      return `≤ ${t.target}× baseline`;
    case 'abs-min':
      return `≥ ${num(t.target)}${t.unit ? ` ${t.unit}` : ''}`;
    case 'abs-max':
      return `≤ ${num(t.target)}${t.unit ? ` ${t.unit}` : ''}`;
  }
}

const shown = (t: TargetResult) => (t.kind === 'higher' || t.kind === 'lower' ? (t.ratio === null ? '–' : `${t.ratio.toFixed(2)}×`) : t.value === null ? '–' : num(t.value));
/** A ratio shown for information, with no target to meet or miss. */
export const isReported = (t: TargetResult) => t.kind === 'higher' && t.target === 0;
const mark = (t: TargetResult) => (isReported(t) ? 'info' : t.status === 'met' ? '✅ met' : t.status === 'missed' ? '❌ missed' : '⚪ not measured');

export function targetsTable(rows: Array<{ scenario: string; t: TargetResult }>): string {
  return mdTable({
    columns: ['scenario', 'measure', 'product', 'baseline', 'ratio / value', 'target', 'status'],
    rows: rows.map(({ scenario, t }) => [scenario, t.name, t.value === null ? null : round2(t.value), t.baseline === null ? null : round2(t.baseline), shown(t), goal(t), mark(t)]),
  });
}

const round2 = (v: number) => Math.round(v * 100) / 100;

export function cpuTable(phases: CpuPhase[], nproc: number): string {
  const rows = phases.map((p) => {
    const by = (side: string) =>
      p.samples
        .filter((s) => s.side === side && (s.cores > 0.005 || s.rssMiB > 0))
        .map((s) => `${s.name} ${s.cores.toFixed(2)}`)
        .join(', ') || '–';
    const total = p.samples.reduce((a, s) => a + s.cores, 0);
    const server = ['system under test', 'baseline', 'peer'].map((s) => (by(s) === '–' ? '' : by(s))).filter(Boolean).join(', ') || '–';
    return [p.phase, p.seconds, server, by('infra (shared)'), by('load'), `${total.toFixed(2)} of ${nproc}`];
  });
  return mdTable({ columns: ['phase', 'window s', 'server under test (cores busy)', 'infra (shared)', 'load generators', 'total cores'], rows });
}

export function renderMarkdown(run: RunInfo, results: ScenarioResult[], chartDir: string): string {
  const out: string[] = [];
  out.push('# Benchmarks');
  out.push('');
  if (run.mode === 'quick')
    out.push(
      '> **Quick run (`--quick`): smaller loads and short steps, taken while other work shared this 2-core machine, so the numbers are noisy.** They validate the harness; the full run (`npm run bench`) on a quiet machine is the one to quote.',
    );
  else out.push('> Full run (`npm run bench`).');
  out.push('');
  out.push(`- Command: \`${run.command}\``);
  out.push(`- Started: ${run.startedAt}, took ${Math.round(run.durationS)} s; commit \`${run.commit}\``);
  out.push(`- Machine: ${run.machine.nproc} CPUs (${run.machine.cpu}), ${run.machine.memoryGiB} GiB RAM, Node ${run.machine.node}, ${run.machine.kernel}; load average at start ${run.machine.loadAverageAtStart.join(' / ')}`);
  out.push(`- Raw results: [\`${run.resultsFile}\`](${run.resultsFile})`);
  out.push('');
  out.push('Everything runs on this one machine: the product (a private stack started like `npm start`, on free ports), the baselines, the peer and the load generators share its cores. Each "CPU" table shows how many cores each side kept busy during a phase, so a reader can tell whether the server or the load ran out first.');
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push('Where the cost is for the missed ones (profiling and `explain` notes): [bench/FINDINGS.md](bench/FINDINGS.md).');
  out.push('');
  out.push(targetsTable(results.flatMap((r) => r.targets.map((t) => ({ scenario: r.title, t })))));
  for (const r of results) {
    out.push('');
    out.push(`## ${r.title}`);
    out.push('');
    out.push(`Parameters: ${Object.entries(r.params).map(([k, v]) => `${k} = ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('; ')}`);
    for (const t of r.tables) {
      out.push('');
      out.push(`**${t.title}**`);
      out.push('');
      out.push(mdTable(t));
    }
    for (const c of r.charts) {
      out.push('');
      out.push(`![${c.title}](${chartDir}/${c.file})`);
    }
    if (r.notes.length) {
      out.push('');
      for (const n of r.notes) out.push(`- ${n}`);
    }
    if (r.cpu.length) {
      out.push('');
      out.push('**CPU**');
      out.push('');
      out.push(cpuTable(r.cpu, run.machine.nproc));
    }
  }
  out.push('');
  out.push('## Method');
  out.push('');
  out.push(METHOD);
  return out.join('\n') + '\n';
}

const METHOD = `- \`npm run bench\` (full, under 15 minutes) or \`npm run bench -- --quick\` (under 3 minutes); \`--only fanout,connections,storage,functions\` runs a subset. Results go to \`bench/results/<date>.json\`, the charts to \`bench/results/*.svg\` and this file.
- Test data is written straight into the database and access tokens are minted with the stack's signing key (registering thousands of users through scrypt would take minutes and measure nothing here).
- Load generators are separate Node processes (\`bench/load/worker.ts\`), each owning a slice of the sockets, driven over IPC. Clients use \`socket.io-client\` (websocket transport) or \`centrifuge\` with \`ws\`.
- **Fan-out**: groups of 20, half of each group on each instance; every member sends in turn at the step's total rate (open loop, without waiting for acks). The send time travels in the body; latency is receive time minus send time on the same machine clock. *Delivered msg/s* = receptions ÷ 19 over the time from the first send to the last reception of the step (so a backlog lowers it). *Lost* = acked messages that did not reach every other member within the drain (until all arrived, or nothing new for 3 s, at most 20 s). *Dup* = a socket receiving the same message twice. The bare pair is \`bench/baseline/bare-pair.ts\`: Socket.IO v4 with the gateway's sharded Redis adapter and engine settings, relaying \`msg\` to the room and acking, nothing else. In full runs a reference pair from the same file (\`DURABLE_EXCHANGE\`) first publishes each message persistently and waits for RabbitMQ's confirm, into two durable queues it drains itself, as the contract requires before a message reaches anyone; its p99 against the plain pair's and the gateways' against it are in the notes (reported, not a target). Centrifugo v6 runs two nodes on the Redis engine; clients publish into their group channel. The ratio targets apply at each step up to the bare pair's saturation (the last step where it delivered ≥ 90% of the offered rate and still grew).
- **Connections**: product clients come through nginx with reconnection on; memory per socket = RSS growth of both gateway processes ÷ sockets, 3 s after the last connect (the target applies to it); beside it, the same from the lowest reading in the following 70 s (20 s in a quick run), once V8's idle collection has freed the connects' garbage (reported). Reconnect = from SIGKILL of gateway-1 until every socket is connected again. The bare pair is restarted fresh and connected directly.
- **Storage pipeline**: \`message.created\` events (persistent, confirm channel) into \`chat.events\`; time from the first publish until a count of the messages collection finds them all, read as that count starts (FerretDB scans for a count, which took over 2 s at 50,000 messages and had been billed to the pipeline). Baseline: delete them, then \`insertMany\` the same documents (in the connector's batch size and calls in flight, which the table names) into the same collection. Reference row: the same publishes into two durable queues, like the db and notification functions' queues, drained by consumers that only ack: the ceiling for any pipeline through the broker on this machine.
- The bench's stack connects its services to RabbitMQ directly, as a deployment does; only the failure tests' stacks go through the TCP proxy that lets them cut the broker (\`scripts/stack/tcp-proxy.mjs\`).
- Between phases the harness waits until the product's processes are idle again, so one phase's aftermath (e.g. presence work after thousands of disconnects) is not billed to the next.
- Profiling: \`BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=$PWD/.local/prof" npm run bench -- --quick --only fanout\` passes those node flags to every product service (NODE_OPTIONS refuses --cpu-prof); the profiles are written when the stack stops (open them in Chrome DevTools or speedscope).
- **Functions**: cold start = spawn of the bundle (\`.local/build/fn-<name>.mjs\` and its chunks, the stack's own build) to the first 200, median of several, on two paths. \`/healthz\` is liveness: the function runtime answers it as soon as it listens, while the function's code is still loading (the target applies to it). \`/readyz\` answers once the handler is loaded, its dependencies are connected and indexes ensured, which is what the first real request waits for (reported; the bare app answers it as soon as it listens). Throughput with autocannon (50 connections) in its own process straight at the function port; the bare Hono app (\`bench/baseline/bare-hono.ts\`, bundled the same way) serves the same paths with the real responses' bodies captured at the start.`;
