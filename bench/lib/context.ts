import type { Mongo } from '@chat/shared/infra/mongo';
import type { SigningKeys } from '../../functions/auth/src/keys.ts';
import { freePort, httpOk } from '../../scripts/stack/exec.ts';
import { Proc } from '../../scripts/stack/procs.ts';
import type { Stack } from '../../scripts/stack/stack.ts';
import { bundleBaseline } from './bundle.ts';
import { pidsByComm, withChildren, type CpuSample, type ProcGroup } from './procstat.ts';
import type { TargetResult } from './stats.ts';

export interface Table {
  title: string;
  columns: string[];
  rows: Array<Array<string | number | null>>;
}

export interface CpuPhase {
  phase: string;
  seconds: number;
  samples: CpuSample[];
}

export interface Chart {
  file: string;
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  series: Array<{ name: string; color: string; dashed?: boolean; points: Array<[number, number]> }>;
}

export interface ScenarioResult {
  name: string;
  title: string;
  params: Record<string, unknown>;
  tables: Table[];
  targets: TargetResult[];
  cpu: CpuPhase[];
  charts: Chart[];
  notes: string[];
  raw: unknown;
}

export interface BenchContext {
  quick: boolean;
  stack: Stack;
  mongo: Mongo;
  keys: SigningKeys;
  runDir: string;
  out: { stream: NodeJS.WritableStream; color: boolean };
  log(m: string): void;
  /** Named process groups of the product (by stack process name), for CPU accounting. */
  stackGroup(name: string, label?: string): ProcGroup;
  infraGroups(): ProcGroup[];
  /** The fan-out baseline; `durable` also publishes each message with a confirm before relaying it. */
  barePair(variant?: BareVariant): Promise<BarePair>;
  /** Waits until the product's processes are idle again (logs the wait when it is long). */
  settle(what: string): Promise<void>;
}

export type BareVariant = 'relay' | 'durable';

export interface BarePair {
  ports: number[];
  procs: Proc[];
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function stackGroup(stack: Stack, name: string, label = name): ProcGroup {
  return {
    name: label,
    side: 'system under test',
    pids: () => {
      const pid = stack.procs.get(name)?.pid;
      return pid ? withChildren(pid) : [];
    },
  };
}

/** Redis and RabbitMQ are the machine's shared servers (other stacks may use them too). */
export function infraGroups(): ProcGroup[] {
  return [
    { name: 'redis', side: 'infra (shared)', pids: () => pidsByComm(/^redis-server$/) },
    { name: 'rabbitmq', side: 'infra (shared)', pids: () => pidsByComm(/^beam\.smp$/) },
    // FerretDB keeps its data in PostgreSQL: without these backends its storage work would not show.
    { name: 'postgresql', side: 'infra (shared)', pids: () => pidsByComm(/^postgres$/) },
  ];
}

export async function startBarePair(ctx: { stack: Stack; out: BenchContext['out']; runTag: string; variant: BareVariant }): Promise<BarePair> {
  const bundle = await bundleBaseline('bench/baseline/bare-pair.ts', 'bare-pair');
  const durable = ctx.variant === 'durable';
  const ports = [await freePort(), await freePort()];
  const procs = ports.map(
    (port, i) =>
      new Proc(
        {
          name: `${durable ? 'durable' : 'bare'}-${i + 1}`,
          cmd: process.execPath,
          args: ['--enable-source-maps', bundle],
          env: {
            PORT: String(port),
            REDIS_URL: ctx.stack.env.REDIS_URL!,
            CHANNEL_PREFIX: `bench-${durable ? 'durable' : 'bare'}-${ctx.runTag}:`,
            ...(durable ? { AMQP_URL: ctx.stack.env.AMQP_URL!, DURABLE_EXCHANGE: `bench.durable-bare.${ctx.runTag}` } : {}),
          },
          ready: () => httpOk(`http://127.0.0.1:${port}/healthz`),
        },
        { ...ctx.out, index: (durable ? 32 : 30) + i },
        false,
      ),
  );
  await Promise.all(procs.map((p) => p.start()));
  return {
    ports,
    procs,
    restart: async () => {
      await Promise.all(procs.map((p) => p.stop()));
      await Promise.all(procs.map((p) => p.start()));
    },
    stop: async () => {
      await Promise.all(procs.map((p) => p.stop()));
    },
  };
}

export const procGroup = (name: string, side: ProcGroup['side'], procs: Array<{ pid?: number | undefined }>): ProcGroup => ({
  name,
  side,
  pids: () => procs.map((p) => p.pid).filter((p): p is number => typeof p === 'number'),
});

export const fmt = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

