import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectMongo } from '@chat/shared/infra/mongo';
import { LOCAL, ROOT } from '../scripts/stack/paths.ts';
import { logSink } from '../scripts/stack/procs.ts';
import { startStack } from '../scripts/stack/stack.ts';
import { infraGroups, stackGroup, startBarePair, type BarePair, type BareVariant, type BenchContext, type ScenarioResult } from './lib/context.ts';
import { machine } from './lib/machine.ts';
import { busyCores, quiesce } from './lib/procstat.ts';
import { isReported, renderMarkdown } from './lib/report.ts';
import { signingKeys } from './lib/seed.ts';
import { lineChart } from './lib/svg.ts';
import { connections } from './scenarios/connections.ts';
import { fanout } from './scenarios/fanout.ts';
import { functions } from './scenarios/functions.ts';
import { history } from './scenarios/history.ts';
import { storage } from './scenarios/storage.ts';

/**
 * `npm run bench [-- --quick] [-- --only a,b]`: starts a private stack (free ports, own vhost and
 * Redis prefix), runs the scenarios against it and their baselines, and writes
 * bench/results/<date>.json, the SVG charts and BENCHMARKS.md.
 */
const SCENARIOS = { connections, fanout, storage, functions, history } as const;
type Name = keyof typeof SCENARIOS;
// Connections first: it kills and restarts a gateway, so every later scenario sees fresh instances.
// History last: it seeds up to a million messages, which would slow every scenario after it.
const ORDER: Name[] = ['connections', 'fanout', 'storage', 'functions', 'history'];

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });
const quick = values.quick!;
const only = values.only ? (values.only.split(',').map((s) => s.trim()) as Name[]) : ORDER;
for (const n of only) if (!(n in SCENARIOS)) throw new Error(`Unknown scenario "${n}"; choose from ${ORDER.join(', ')}`);

const started = new Date();
const stamp = started.toISOString().replace(/[:.]/g, '-');
const resultsDir = path.join(ROOT, 'bench/results');
const runDir = path.join(LOCAL, 'bench', stamp);
mkdirSync(resultsDir, { recursive: true });
mkdirSync(runDir, { recursive: true });
const logFile = path.join(runDir, 'stack.log');
const log = (m: string) => console.log(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${m}`);
const t0 = performance.now();
// The code that runs is the code at the start. The bench's own output (BENCHMARKS.md, its charts)
// changes with every run, so it does not count as an uncommitted change.
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!BENCHMARKS.md', ':!bench/results'], { cwd: ROOT }).toString().trim();
  if (dirty) commit += ' (with uncommitted changes)';
} catch {
  /* not a git checkout */
}
const command = ['npm run bench', ...(quick || values.only ? ['--', ...(quick ? ['--quick'] : []), ...(values.only ? ['--only', values.only] : [])] : [])].join(' ');
const host = machine();

log(`${quick ? 'quick' : 'full'} run; stack logs in ${path.relative(ROOT, logFile)}`);
const stack = await startStack({
  mode: 'test',
  logFile,
  log: (m) => log(`stack: ${m}`),
  env: {
    // The load sends far above a person's rate from each socket; the limit itself is tested elsewhere.
    SEND_RATE_LIMIT: '1000000',
    REGISTER_MAX_PER_IP: '100000',
  },
  nodeArgs: process.env.BENCH_NODE_ARGS?.split(/\s+/).filter(Boolean),
  ferretdbMetrics: true,
  brokerProxy: false,
});
log(`stack up: ingress ${stack.baseUrl}, gateways ${stack.ports.gateways.join(', ')}`);

const mongo = await connectMongo(stack.env.MONGO_URL!);
const settleNames = ['gateway-1', 'gateway-2', 'connector', 'ferretdb', ...Object.keys(stack.ports.functions)];
// What the product uses with nothing to do, as the floor "idle again" is measured from: the least
// of a few windows, since the stack may still be finishing its start. Profiling (BENCH_NODE_ARGS
// with --cpu-prof) raises it, and a fixed threshold then waited out the whole timeout every time.
let idleCores = Infinity;
for (let i = 0; i < 3; i++) idleCores = Math.min(idleCores, await busyCores(settleNames.map((n) => stackGroup(stack, n))));
log(`product idle: ${idleCores.toFixed(2)} cores`);
const bare = new Map<BareVariant, BarePair>();
const ctx: BenchContext = {
  quick,
  stack,
  mongo,
  keys: await signingKeys(stack.env.SECRETS_DIR!),
  runDir,
  out: logSink(logFile),
  log,
  stackGroup: (name, label) => stackGroup(stack, name, label),
  infraGroups,
  barePair: async (variant = 'relay') => {
    let pair = bare.get(variant);
    if (!pair) bare.set(variant, (pair = await startBarePair({ stack, out: logSink(logFile), runTag: `${process.pid}`, variant })));
    return pair;
  },
  settle: async (what) => {
    const waited = await quiesce(settleNames.map((n) => stackGroup(stack, n)), { idleCores });
    if (waited > 2500) log(`waited ${(waited / 1000).toFixed(1)} s for the product to go idle before ${what}`);
  },
};

const results: ScenarioResult[] = [];
let failed = false;
try {
  for (const name of ORDER.filter((n) => only.includes(n))) {
    log(`scenario ${name}`);
    try {
      await ctx.settle(name);
      results.push(await SCENARIOS[name](ctx));
    } catch (e) {
      failed = true;
      log(`scenario ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      results.push({ name, title: name, params: {}, tables: [], targets: [], cpu: [], charts: [], notes: [`Failed: ${e instanceof Error ? e.message : String(e)}`], raw: null });
    }
  }
} finally {
  await Promise.all([...bare.values()].map((p) => p.stop().catch(() => undefined)));
  await mongo.close().catch(() => undefined);
  await stack.stop();
}

const resultsFile = `bench/results/${stamp}${quick ? '-quick' : ''}.json`;
const info = { mode: quick ? ('quick' as const) : ('full' as const), command, startedAt: started.toISOString(), durationS: (performance.now() - t0) / 1000, commit, machine: host, resultsFile };
writeFileSync(path.join(ROOT, resultsFile), JSON.stringify({ ...info, results }, null, 2));
for (const r of results) for (const c of r.charts) writeFileSync(path.join(resultsDir, c.file), lineChart(c));
writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), renderMarkdown(info, results, 'bench/results'));
log(`wrote ${resultsFile} and BENCHMARKS.md`);
for (const r of results) for (const t of r.targets) log(`  ${r.title}: ${t.name}: ${isReported(t) ? 'reported' : t.status}${t.ratio !== null ? ` (${t.ratio.toFixed(2)})` : ''}`);
process.exit(failed ? 1 : 0);
