import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { waitFor } from './exec.ts';

export interface ProcSpec {
  name: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
}

const COLORS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];

/**
 * One supervised child process with prefixed log lines. Crashes are restarted (with backoff)
 * when `restartOnCrash` is set; an intentional stop() is never undone.
 */
export class Proc {
  child: ChildProcess | null = null;
  private stopping = false;
  private restarts = 0;

  constructor(
    readonly spec: ProcSpec,
    private readonly out: { stream: NodeJS.WritableStream | WriteStream; color: boolean; index: number },
    private readonly restartOnCrash: boolean,
    private readonly onSpawn: () => void = () => undefined,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private prefix(): string {
    const tag = `[${this.spec.name}]`.padEnd(14);
    return this.out.color ? `\x1b[${COLORS[this.out.index % COLORS.length]}m${tag}\x1b[0m ` : `${tag} `;
  }

  private pipe(src: NodeJS.ReadableStream) {
    let buf = '';
    src.setEncoding('utf8');
    src.on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) this.out.stream.write(this.prefix() + l + '\n');
    });
  }

  async start(): Promise<void> {
    this.stopping = false;
    const child = spawn(this.spec.cmd, this.spec.args, {
      cwd: this.spec.cwd,
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.onSpawn();
    this.pipe(child.stdout!);
    this.pipe(child.stderr!);
    let exited = false;
    child.on('exit', (code, signal) => {
      exited = true;
      if (this.child === child) this.child = null;
      if (this.stopping) return;
      this.out.stream.write(`${this.prefix()}exited (${signal ?? code})\n`);
      if (this.restartOnCrash && this.restarts < 20) {
        const delay = Math.min(30_000, 500 * 2 ** this.restarts++);
        setTimeout(() => !this.stopping && void this.start().catch(() => undefined), delay).unref();
      }
    });
    await waitFor(this.spec.name, async () => {
      if (exited) throw new Error(`${this.spec.name} exited during start`);
      return this.spec.ready();
    }, this.spec.readyTimeoutMs ?? 60_000).catch((e) => {
      if (exited) throw new Error(`${this.spec.name} exited during start; see its log lines above`);
      throw e;
    });
    this.restarts = 0;
  }

  /**
   * Graceful stop (SIGTERM, then SIGKILL after a grace period). A function drains for up to ~5 s
   * (its idle keep-alive connections close on the client's or Node's idle timeout), so the grace
   * leaves room for that.
   */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }

  /**
   * Freezes the process (SIGSTOP) or lets it go on (SIGCONT): a hung process, whose sockets
   * stay open and whose requests wait, as a stalled node or a long GC pause looks (failure tests).
   */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Sudden death, as a crash or an OOM kill would look (for failure tests). */
  async kill(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await gone;
  }
}

/** What a failure test may do to one of the stack's processes (test/stack.setup.ts's control endpoint). */
export const PROC_ACTIONS = ['kill', 'stop', 'start', 'pause', 'resume'] as const satisfies ReadonlyArray<keyof Proc>;
export type ProcAction = (typeof PROC_ACTIONS)[number];

export function logSink(file?: string): { stream: NodeJS.WritableStream; color: boolean } {
  if (!file) return { stream: process.stdout, color: process.stdout.isTTY ?? false };
  return { stream: createWriteStream(file, { flags: 'a' }), color: false };
}
