import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time and resident memory of processes from /proc, so the report can say whether the
 * system under test or the load generators ran out of CPU. Groups include child processes
 * (nginx workers live under their master).
 */
const TICK = 100; // USER_HZ is 100 on Linux/x86 and arm64

export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses; fields resume after the last ')'
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK; // utime, stime (fields 14 and 15)
  } catch {
    return 0;
  }
}

export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

function allPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

/** The pid and every descendant. */
export function withChildren(pid: number): number[] {
  const all = allPids();
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const p of all) if (parentOf(p) === out[i]) out.push(p);
  return out;
}

/** Pids whose command name (comm) matches, e.g. the machine's shared redis-server and beam.smp. */
export function pidsByComm(re: RegExp): number[] {
  return allPids().filter((p) => {
    try {
      return re.test(readFileSync(`/proc/${p}/comm`, 'utf8').trim());
    } catch {
      return false;
    }
  });
}

export type Side = 'system under test' | 'baseline' | 'peer' | 'infra (shared)' | 'load';

export interface ProcGroup {
  name: string;
  side: Side;
  pids: () => number[];
}

export interface CpuSample {
  name: string;
  side: Side;
  /** CPU seconds used in the window. */
  cpuSeconds: number;
  /** Average cores busy over the window (1.0 = one core fully used). */
  cores: number;
  rssMiB: number;
}

/** Starts a measurement window; the returned function ends it. */
export function cpuWindow(groups: ProcGroup[]): () => CpuSample[] {
  const t0 = performance.now();
  const start = groups.map((g) => {
    const pids = g.pids();
    return new Map(pids.map((p) => [p, cpuSeconds(p)]));
  });
  return () => {
    const secs = (performance.now() - t0) / 1000;
    return groups.map((g, i) => {
      const pids = g.pids();
      let cpu = 0;
      let rss = 0;
      for (const p of pids) {
        // a process that appeared mid-window counts from zero (its whole life is inside the window)
        cpu += cpuSeconds(p) - (start[i]!.get(p) ?? 0);
        rss += rssBytes(p);
      }
      return { name: g.name, side: g.side, cpuSeconds: round2(cpu), cores: round2(cpu / Math.max(secs, 0.001)), rssMiB: Math.round(rss / 1048576) };
    });
  };
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/** Cores the groups use together over one window of `ms`. */
export async function busyCores(groups: ProcGroup[], ms = 1000): Promise<number> {
  const end = cpuWindow(groups);
  await new Promise((r) => setTimeout(r, ms));
  return end().reduce((a, s) => a + s.cores, 0);
}

/**
 * Waits until the given processes are (nearly) idle, so one phase's aftermath (e.g. thousands of
 * disconnects being processed) is not billed to the next. "Idle" is `idleCores` (what they use
 * when nothing happens: the stack's timers, and a CPU profiler's sampling when profiling) plus a
 * margin. Returns how long it waited.
 */
export async function quiesce(groups: ProcGroup[], opts: { idleCores?: number; timeoutMs?: number } = {}): Promise<number> {
  const t0 = performance.now();
  const deadline = t0 + (opts.timeoutMs ?? 90_000);
  const limit = (opts.idleCores ?? 0) + 0.15;
  while (performance.now() < deadline) if ((await busyCores(groups)) <= limit) break;
  return performance.now() - t0;
}
