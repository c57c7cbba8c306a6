/**
 * Latency histograms and target checks. Workers record into histograms (exact to 0.1 ms below
 * 100 ms, 1 ms below 10 s, 10 ms above) and ship them to the orchestrator as plain objects, which
 * keeps IPC small at a million samples per step and still merges exactly.
 */
export type HistogramData = Record<string, number>;

export function bucketOf(ms: number): number {
  if (ms < 0) ms = 0;
  if (ms < 100) return Math.round(ms * 10) / 10;
  if (ms < 10_000) return Math.round(ms);
  return Math.round(ms / 10) * 10;
}

export class Histogram {
  readonly counts = new Map<number, number>();
  total = 0;

  record(ms: number): void {
    const b = bucketOf(ms);
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
    this.total++;
  }

  merge(data: HistogramData): this {
    for (const [k, n] of Object.entries(data)) {
      const b = Number(k);
      this.counts.set(b, (this.counts.get(b) ?? 0) + n);
      this.total += n;
    }
    return this;
  }

  toJSON(): HistogramData {
    return Object.fromEntries(this.counts);
  }

  /** The smallest recorded value v such that at least p% of samples are <= v (nearest rank). */
  percentile(p: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (const b of [...this.counts.keys()].sort((a, c) => a - c)) {
      seen += this.counts.get(b)!;
      if (seen >= rank) return b;
    }
    return null;
  }

  summary(): { count: number; p50: number | null; p95: number | null; p99: number | null; max: number | null } {
    return { count: this.total, p50: this.percentile(50), p95: this.percentile(95), p99: this.percentile(99), max: this.percentile(100) };
  }
}

/** Nearest-rank percentile of a plain array (small samples: cold starts, reconnect times). */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const median = (values: number[]) => percentile(values, 50);

/**
 * One target line of the report. `higher`: the product should be at least `target`× the
 * baseline (rates); `lower`: at most (latency, memory); `abs-min`/`abs-max`: an absolute bound.
 */
export interface TargetSpec {
  name: string;
  kind: 'higher' | 'lower' | 'abs-min' | 'abs-max';
  target: number;
  unit?: string;
}

export interface TargetResult extends TargetSpec {
  value: number | null;
  baseline: number | null;
  /** value/baseline for ratio kinds, the value itself for absolute ones. */
  ratio: number | null;
  status: 'met' | 'missed' | 'not measured';
}

export function evaluate(spec: TargetSpec, value: number | null | undefined, baseline?: number | null): TargetResult {
  const v = value ?? null;
  const b = baseline ?? null;
  if (v === null || !Number.isFinite(v)) return { ...spec, value: null, baseline: b, ratio: null, status: 'not measured' };
  if (spec.kind === 'abs-min' || spec.kind === 'abs-max') {
    const ok = spec.kind === 'abs-min' ? v >= spec.target : v <= spec.target;
    return { ...spec, value: v, baseline: b, ratio: v, status: ok ? 'met' : 'missed' };
  }
  if (b === null || !Number.isFinite(b) || b <= 0) return { ...spec, value: v, baseline: b, ratio: null, status: 'not measured' };
  const ratio = v / b;
  const ok = spec.kind === 'higher' ? ratio >= spec.target : ratio <= spec.target;
  return { ...spec, value: v, baseline: b, ratio, status: ok ? 'met' : 'missed' };
}

/**
 * The highest step before the baseline stops keeping up: its delivered rate falls below `keepUp`
 * of the offered rate, or grows less than 5% over the previous step. Targets apply up to here.
 */
export function saturationIndex(steps: Array<{ offered: number; delivered: number }>, keepUp = 0.9): number {
  let last = -1;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (s.delivered < keepUp * s.offered) break;
    if (i > 0 && s.delivered < steps[i - 1]!.delivered * 1.05) break;
    last = i;
  }
  return Math.max(0, last);
}

export const round = (v: number | null | undefined, digits = 1): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 10 ** digits) / 10 ** digits;
