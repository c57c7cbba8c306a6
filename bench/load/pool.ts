import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientSpec, CollectReply, Command, ConnectReply, Kind, Reply, StatusReply, StepReply } from './protocol.ts';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.ts');

type Body<C> = C extends { id: number } ? Omit<C, 'id'> : never;

/** Load worker processes driven over IPC; each owns a slice of the sockets. */
export class LoadPool {
  private seq = 0;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly procs: ChildProcess[];

  constructor(readonly size: number) {
    this.procs = Array.from({ length: size }, (_, i) => {
      const child = fork(WORKER, [], {
        execArgv: ['--import', 'tsx', '--max-old-space-size=2048'],
        env: { ...process.env, BENCH_WORKER: String(i) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child.on('message', (m) => {
        const r = m as Reply;
        const p = this.pending.get(r.id);
        if (!p) return;
        this.pending.delete(r.id);
        if (r.ok) p.resolve(r.value);
        else p.reject(new Error(`load worker ${i}: ${r.error}`));
      });
      child.on('exit', (code, signal) => {
        if (code !== 0 && signal !== 'SIGTERM') for (const p of this.pending.values()) p.reject(new Error(`load worker ${i} exited (${signal ?? code})`));
      });
      return child;
    });
  }

  pids(): number[] {
    return this.procs.map((p) => p.pid!).filter(Boolean);
  }

  private call<T>(worker: number, body: Body<Command>): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.procs[worker]!.send({ ...body, id } as Command);
    });
  }

  private all<T>(body: Body<Command> | ((w: number) => Body<Command>)): Promise<T[]> {
    return Promise.all(this.procs.map((_, w) => this.call<T>(w, typeof body === 'function' ? body(w) : body)));
  }

  /** Deals the clients round-robin over the workers and connects them; returns the merged outcome. */
  async connect(kind: Kind, clients: ClientSpec[], opts: { concurrency?: number; reconnection?: boolean; timeoutMs?: number } = {}): Promise<ConnectReply> {
    const slices = this.procs.map((_, w) => clients.filter((_, i) => i % this.size === w));
    const t0 = performance.now();
    const replies = await this.all<ConnectReply>((w) => ({
      cmd: 'connect',
      kind,
      clients: slices[w]!,
      concurrency: opts.concurrency ?? 50,
      reconnection: opts.reconnection ?? false,
      timeoutMs: opts.timeoutMs ?? 30_000,
    }));
    return {
      connected: replies.reduce((a, r) => a + r.connected, 0),
      failed: replies.reduce((a, r) => a + r.failed, 0),
      ms: performance.now() - t0,
      errors: replies.flatMap((r) => r.errors).slice(0, 5),
    };
  }

  step(step: number, totalRate: number, durationMs: number): Promise<StepReply[]> {
    return this.all<StepReply>({ cmd: 'step', step, rate: totalRate / this.size, durationMs });
  }

  async progress(step: number): Promise<{ received: number; lastReceive: number }> {
    const r = await this.all<{ received: number; lastReceive: number }>({ cmd: 'progress', step });
    return { received: r.reduce((a, x) => a + x.received, 0), lastReceive: Math.max(0, ...r.map((x) => x.lastReceive)) };
  }

  collect(step: number): Promise<CollectReply[]> {
    return this.all<CollectReply>({ cmd: 'collect', step });
  }

  async status(): Promise<StatusReply> {
    const r = await this.all<StatusReply>({ cmd: 'status' });
    const groups: Record<string, number> = {};
    for (const x of r) for (const [g, n] of Object.entries(x.groups)) groups[g] = (groups[g] ?? 0) + n;
    return { connected: r.reduce((a, x) => a + x.connected, 0), total: r.reduce((a, x) => a + x.total, 0), groups };
  }

  async closeClients(): Promise<void> {
    await this.all({ cmd: 'close' });
  }

  async stop(): Promise<void> {
    await this.closeClients().catch(() => undefined);
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((r) => {
            if (p.exitCode !== null) return r();
            p.once('exit', () => r());
            p.kill('SIGTERM');
          }),
      ),
    );
  }
}
