import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUILD, ROOT } from '../../scripts/stack/paths.ts';
import { freePort } from '../../scripts/stack/exec.ts';
import { bundleBaseline } from '../lib/bundle.ts';
import { procGroup, type BenchContext, type CpuPhase, type ScenarioResult } from '../lib/context.ts';
import { cpuSeconds, cpuWindow, rssBytes } from '../lib/procstat.ts';
import { buildMessages, messageDoc, mintTokens, seedUsersAndGroups } from '../lib/seed.ts';
import { evaluate, median, round, type TargetResult } from '../lib/stats.ts';

/**
 * Functions: cold start of every function bundle, twice: spawn to the first 200 on /healthz
 * (liveness: the runtime answers it as soon as it listens, before the function's code has
 * loaded) and spawn to the first 200 on /readyz (the handler is loaded, Mongo and the other
 * dependencies connected, indexes ensured: what the first real request waits for). Then
 * autocannon throughput with p99 for GET /me (auth) and GET /conversations/:id/messages (db),
 * straight at the function ports; baseline a bare Hono app with the same route shapes.
 */
async function coldStart(file: string, env: Record<string, string>, probe: '/healthz' | '/readyz'): Promise<number | null> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--enable-source-maps', file], { env: { ...process.env, ...env, PORT: String(port) }, stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  let took: number | null = null;
  while (!exited && performance.now() - t0 < 30_000) {
    const ok = await fetch(`http://127.0.0.1:${port}${probe}`).then((r) => r.status === 200, () => false);
    if (ok) {
      took = performance.now() - t0;
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  if (!exited) {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }
  return took;
}

interface Cannon {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/**
 * autocannon in its own process, so it never shares an event loop with what it measures. Its CPU
 * is sampled while it runs (it is gone from /proc by the time its result arrives).
 */
function autocannon(url: string, headers: Record<string, string>, seconds: number): Promise<Cannon & { cpuSeconds: number; rssMiB: number }> {
  const args = ['-c', '50', '-d', String(seconds), '-j', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]), url];
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, 'node_modules/.bin/autocannon'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let cpu = 0;
    let rss = 0;
    const sampler = setInterval(() => {
      if (!child.pid) return;
      cpu = Math.max(cpu, cpuSeconds(child.pid));
      rss = Math.max(rss, rssBytes(child.pid));
    }, 100);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) => {
      clearInterval(sampler);
      try {
        const r = JSON.parse(out) as { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number };
        resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, cpuSeconds: cpu, rssMiB: Math.round(rss / 1048576) });
      } catch {
        reject(new Error(`autocannon exited ${code}: ${err.slice(-500)}`));
      }
    });
  });
}

export async function functions(ctx: BenchContext): Promise<ScenarioResult> {
  const { stack } = ctx;
  const reps = ctx.quick ? 2 : 5;
  const seconds = ctx.quick ? 3 : 10;
  const notes: string[] = [];
  const cpu: CpuPhase[] = [];
  const targets: TargetResult[] = [];
  const fns = Object.keys(stack.ports.functions);

  // A user with a conversation of 100 messages, so GET …/messages returns a full default page.
  const seeded = await seedUsersAndGroups(ctx.mongo, 'fn', 2, 2);
  const [token] = await mintTokens(ctx.keys, seeded.userIds.slice(0, 1));
  const conv = seeded.groups[0]!;
  await ctx.mongo.models.Message.insertMany(buildMessages([conv], 100, `fn${Date.now().toString(36)}`).map(messageDoc), { lean: true });
  const auth = { authorization: `Bearer ${token}` };
  const routes = {
    me: { fn: 'auth', path: '/me' },
    messages: { fn: 'db', path: `/conversations/${conv.id}/messages` },
  };

  // The bare app answers with the real bodies, captured once.
  const fixture: Record<string, unknown> = {};
  for (const [name, r] of Object.entries(routes)) {
    const port = stack.ports.functions[r.fn];
    if (!port) continue;
    const res = await fetch(`http://127.0.0.1:${port}${r.path}`, { headers: auth });
    if (res.status !== 200) notes.push(`${r.fn} ${r.path} answered ${res.status}; its throughput row is not comparable.`);
    fixture[name] = await res.json();
  }
  const fixtureFile = path.join(ctx.runDir, 'bare-hono-fixture.json');
  writeFileSync(fixtureFile, JSON.stringify(fixture));
  const bareBundle = await bundleBaseline('bench/baseline/bare-hono.ts', 'bare-hono');

  // Cold starts, one process at a time.
  ctx.log(`functions: cold starts (${reps} each)`);
  const cold: Record<string, number | null> = {};
  const ready: Record<string, number | null> = {};
  const coldRows: Array<Array<string | number | null>> = [];
  const measure = async (name: string, file: string, env: Record<string, string>) => {
    const runs: Record<'/healthz' | '/readyz', number[]> = { '/healthz': [], '/readyz': [] };
    for (let i = 0; i < reps; i++) {
      for (const probe of ['/healthz', '/readyz'] as const) {
        const t = await coldStart(file, env, probe);
        if (t !== null) runs[probe].push(t);
      }
    }
    cold[name] = runs['/healthz'].length ? median(runs['/healthz']) : null;
    ready[name] = runs['/readyz'].length ? median(runs['/readyz']) : null;
    const ms = (v: number | null) => (v === null ? 'did not start' : round(v, 0));
    const list = (ts: number[]) => ts.map((t) => Math.round(t)).join(', ');
    coldRows.push([name, ms(cold[name]), list(runs['/healthz']), ms(ready[name]), list(runs['/readyz'])]);
  };
  await measure('bare Hono', bareBundle, { BARE_FIXTURE: fixtureFile });
  for (const fn of fns) await measure(fn, path.join(BUILD, `fn-${fn}.mjs`), { ...stack.env, OPENFAAS_NAME: fn });
  for (const fn of fns) targets.push(evaluate({ name: `cold start ${fn} vs bare Hono (to /healthz, liveness)`, kind: 'lower', target: 1.5, unit: 'ms' }, cold[fn], cold['bare Hono']));
  for (const fn of fns)
    targets.push(evaluate({ name: `cold start ${fn} vs bare Hono to /readyz (dependencies ready; reported, no target)`, kind: 'higher', target: 0, unit: 'ms' }, ready[fn], ready['bare Hono']));

  // Throughput
  const barePort = await freePort();
  const bare = spawn(process.execPath, ['--enable-source-maps', bareBundle], { env: { ...process.env, PORT: String(barePort), BARE_FIXTURE: fixtureFile }, stdio: 'ignore' });
  const rpsRows: Array<Array<string | number | null>> = [];
  const results: Record<string, Cannon> = {};
  try {
    for (let i = 0; i < 200; i++) {
      if (await fetch(`http://127.0.0.1:${barePort}/healthz`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    for (const [name, r] of Object.entries(routes)) {
      const port = stack.ports.functions[r.fn];
      if (!port) {
        notes.push(`${r.fn} function not in this checkout: ${r.path} not measured.`);
        continue;
      }
      for (const [who, url, pid] of [
        [r.fn, `http://127.0.0.1:${port}${r.path}`, () => stack.procs.get(r.fn)?.pid],
        ['bare Hono', `http://127.0.0.1:${barePort}${r.path}`, () => bare.pid],
      ] as const) {
        ctx.log(`functions: autocannon ${who} GET ${r.path.replace(conv.id, ':id')} for ${seconds} s`);
        // A short warm-up run first, discarded, so both servers are measured with a warm JIT.
        await autocannon(url, auth, 1);
        const groups = [procGroup(who, who === 'bare Hono' ? 'baseline' : 'system under test', [{ pid: pid() }]), ...(who === 'bare Hono' ? [] : [ctx.stackGroup('ferretdb'), ...ctx.infraGroups()])];
        const end = cpuWindow(groups);
        const t0 = performance.now();
        const res = await autocannon(url, auth, seconds);
        const secs = (performance.now() - t0) / 1000;
        const samples = end();
        samples.push({ name: 'autocannon', side: 'load', cpuSeconds: res.cpuSeconds, cores: round(res.cpuSeconds / secs, 2)!, rssMiB: res.rssMiB });
        cpu.push({ phase: `${who} GET ${r.path.replace(conv.id, ':id')}`, seconds: round(secs)!, samples });
        results[`${name}:${who}`] = res;
        if (res.rps === 0) notes.push(`${who} GET ${r.path.replace(conv.id, ':id')}: no request completed within the ${seconds} s run (50 concurrent).`);
        rpsRows.push([`GET ${r.path.replace(conv.id, ':id')}`, who, round(res.rps, 0), res.p50, res.p99, res.non2xx, res.errors]);
      }
    }
  } finally {
    bare.kill('SIGTERM');
  }
  const me = results['me:auth'];
  const meBare = results['me:bare Hono'];
  targets.push(evaluate({ name: '/me requests/s vs bare Hono', kind: 'higher', target: 0.7 }, me && !me.non2xx ? me.rps : null, meBare?.rps));
  const msgs = results['messages:db'];
  const msgsBare = results['messages:bare Hono'];
  targets.push(evaluate({ name: 'GET …/messages requests/s vs bare Hono (reported, no target)', kind: 'higher', target: 0 }, msgs && !msgs.non2xx ? msgs.rps : null, msgsBare?.rps));

  return {
    name: 'functions',
    title: 'Functions',
    params: { coldStartRepetitions: reps, autocannon: { connections: 50, seconds } },
    tables: [
      {
        title: 'Cold start: spawn to first 200 on /healthz (liveness) and on /readyz (handler loaded, dependencies connected; median)',
        columns: ['bundle', '/healthz median ms', '/healthz runs ms', '/readyz median ms', '/readyz runs ms'],
        rows: coldRows,
      },
      { title: 'Throughput (autocannon, 50 connections)', columns: ['route', 'server', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'], rows: rpsRows },
    ],
    targets,
    cpu,
    charts: [],
    notes,
    raw: { cold, ready, results },
  };
}
