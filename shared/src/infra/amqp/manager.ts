import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from '../../log.ts';

/**
 * Socket options for every AMQP connection: amqplib leaves Nagle's algorithm on by default, which
 * held small frames (a publish, its confirm) back by several milliseconds on every message.
 */
export const AMQP_SOCKET_OPTIONS = { noDelay: true } as const;

/** The slice of amqplib the manager uses, so a unit test can stand in for the broker. */
export type Connect = (url: string, socketOptions: Record<string, unknown>) => Promise<ChannelModel>;

export interface Backoff {
  /** First wait after a failure. */
  baseMs: number;
  /** No wait is ever longer than this, however long the broker stays away. */
  maxMs: number;
}

/**
 * Capped exponential backoff with jitter: the n-th wait lies between half and all of
 * min(max, base·2ⁿ). The jitter spreads the reconnects of many processes that lost the same
 * broker at the same moment, so a restarted broker is not hit by all of them at once.
 */
export function backoffDelay(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface ChannelSpec<C extends Channel = Channel> {
  /** Names the channel in logs and in the reported state. */
  name: string;
  /** A confirm channel (publishes resolve on the broker's confirm). */
  confirm?: boolean;
  /** Readiness needs this channel up (a consumer the process cannot work without). */
  required?: boolean;
  /** Runs on every fresh channel: declares what it uses, sets prefetch, starts consuming. */
  setup(ch: C): Promise<void>;
  /** The channel is gone (connection lost, or the broker closed it): drop what belongs to it. */
  lost?(): void;
}

export interface ChannelHandle<C extends Channel = Channel> {
  /** The open channel, or null while it is being (re)opened. */
  readonly channel: C | null;
  readonly up: boolean;
  /** Stops reopening it and closes it. */
  close(): Promise<void>;
}

export type ConnectionStatus = 'connecting' | 'connected' | 'waiting' | 'closed';

export interface AmqpState {
  status: ConnectionStatus;
  /** Failed connects since the last success. */
  failures: number;
  lastError: string | null;
  channels: Record<string, { up: boolean; required: boolean }>;
}

export interface AmqpManagerOptions {
  url: string;
  log: Logger;
  /** Shown in RabbitMQ's management UI. */
  connectionName?: string;
  backoff?: Backoff;
  connectTimeoutMs?: number;
  /** Declared on a short-lived channel after every connect, before any channel spec is opened. */
  topology?: (ch: Channel) => Promise<void>;
  connect?: Connect;
  random?: () => number;
}

interface Part {
  spec: ChannelSpec<any>;
  channel: Channel | null;
  /** Bumped each time the part is (re)opened, so a stale close event is ignored. */
  generation: number;
  failures: number;
  timer: NodeJS.Timeout | null;
  closed: boolean;
}

const DEFAULT_BACKOFF: Backoff = { baseMs: 250, maxMs: 10_000 };

/**
 * One AMQP connection per process and everything that lives on it. It connects in the
 * background and reconnects forever (capped, jittered backoff); after every connect it
 * re-declares the topology and reopens every registered channel, which re-runs its setup
 * (re-subscribing consumers, re-arming confirms on a fresh confirm channel). A channel the broker
 * closes while the connection stays up is reopened on its own backoff. `ready()` tells readiness
 * whether the connection and every required channel are up.
 */
export class AmqpManager {
  private conn: ChannelModel | null = null;
  private status: ConnectionStatus = 'waiting';
  private failures = 0;
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly parts = new Set<Part>();
  private readonly onUp = new Set<() => void>();
  private readonly backoff: Backoff;
  private readonly connectFn: Connect;
  private readonly random: () => number;
  private started = false;

  constructor(private readonly o: AmqpManagerOptions) {
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.connectFn = o.connect ?? ((url, socketOptions) => amqp.connect(url, socketOptions));
    this.random = o.random ?? Math.random;
  }

  /** Starts connecting (idempotent); opening a channel starts it too. */
  start(): this {
    if (!this.started && this.status !== 'closed') {
      this.started = true;
      void this.connect();
    }
    return this;
  }

  connected(): boolean {
    return this.conn !== null;
  }

  state(): AmqpState {
    const channels: AmqpState['channels'] = {};
    for (const p of this.parts) channels[p.spec.name] = { up: p.channel !== null, required: p.spec.required ?? false };
    return { status: this.status, failures: this.failures, lastError: this.lastError, channels };
  }

  /** Throws (for /readyz) while the connection or a required channel is down. */
  ready(): void {
    if (!this.conn) throw new Error(`amqp ${this.status}${this.lastError ? `: ${this.lastError}` : ''}`);
    const down = [...this.parts].filter((p) => p.spec.required && !p.channel).map((p) => p.spec.name);
    if (down.length) throw new Error(`amqp channels down: ${down.join(', ')}`);
  }

  /** Called after every successful connect, once the registered channels have been opened. */
  onConnected(fn: () => void): () => void {
    this.onUp.add(fn);
    return () => this.onUp.delete(fn);
  }

  /** Resolves once connected, or after `timeoutMs` (the caller checks `connected()`). */
  whenConnected(timeoutMs: number): Promise<void> {
    if (this.conn || this.status === 'closed') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        off();
        resolve();
      };
      const t = setTimeout(done, timeoutMs);
      const off = this.onConnected(done);
    });
  }

  /** Registers a channel that lives as long as the handle: opened now if connected, and after every reconnect. */
  open<C extends Channel = Channel>(spec: ChannelSpec<C> & (C extends ConfirmChannel ? { confirm: true } : unknown)): ChannelHandle<C> {
    const part: Part = { spec, channel: null, generation: 0, failures: 0, timer: null, closed: false };
    this.parts.add(part);
    this.start();
    if (this.conn) void this.openPart(part, this.conn);
    return {
      get channel() {
        return part.channel as C | null;
      },
      get up() {
        return part.channel !== null;
      },
      close: () => this.closePart(part),
    };
  }

  /** Stops a channel for good: no reopening, a pending open made stale; resolves on the broker's close-ok. */
  private async closePart(part: Part): Promise<void> {
    part.closed = true;
    this.parts.delete(part);
    if (part.timer) clearTimeout(part.timer);
    const ch = part.channel;
    part.channel = null;
    part.generation++;
    await ch?.close().catch(() => undefined);
  }

  /**
   * Closes every channel, then the connection. The channels go first because closing one waits
   * for the broker's close-ok, which comes after every frame sent before it on that channel:
   * amqplib interleaves channels' frames with the connection's own, so a connection closed at
   * once can reach the broker ahead of the last acks, and the broker then redelivers what a
   * drained consumer had already settled (seen in the connector's rolling-restart test).
   */
  async close(): Promise<void> {
    this.status = 'closed';
    if (this.timer) clearTimeout(this.timer);
    await Promise.all([...this.parts].map((p) => this.closePart(p)));
    const conn = this.conn;
    this.conn = null;
    await conn?.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.status === 'closed') return;
    this.status = 'connecting';
    let conn: ChannelModel | null = null;
    try {
      conn = await this.connectFn(this.o.url, {
        ...AMQP_SOCKET_OPTIONS,
        timeout: this.o.connectTimeoutMs ?? 5000,
        ...(this.o.connectionName ? { clientProperties: { connection_name: this.o.connectionName } } : {}),
      });
      const c = conn;
      c.on('error', (e: Error) => this.o.log.warn('amqp connection error', { err: e }));
      c.on('close', () => this.lost(c));
      if (this.o.topology) {
        const ch = await c.createChannel();
        await this.o.topology(ch);
        await ch.close();
      }
      // close() may have run while this connect was under way.
      if ((this.status as ConnectionStatus) === 'closed') {
        await c.close().catch(() => undefined);
        return;
      }
      this.conn = c;
      this.status = 'connected';
      if (this.failures) this.o.log.info('amqp reconnected', { after: this.failures });
      this.failures = 0;
      this.lastError = null;
      await Promise.all([...this.parts].map((p) => this.openPart(p, c)));
      if (this.conn === c) for (const fn of this.onUp) fn();
    } catch (e) {
      this.lastError = e instanceof Error ? e.message : String(e);
      if (conn && this.conn !== conn) await conn.close().catch(() => undefined);
      if (this.conn === null) this.retry();
    }
  }

  private retry(): void {
    if (this.status === 'closed' || this.timer) return;
    this.status = 'waiting';
    const delay = backoffDelay(this.failures++, this.backoff, this.random);
    if (this.failures === 1 || this.failures % 10 === 0) this.o.log.warn('amqp unreachable; retrying', { inMs: delay, failures: this.failures, err: this.lastError });
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
    this.timer.unref();
  }

  private lost(c: ChannelModel): void {
    if (this.conn !== c) return; // a connection that never finished its set-up, or an old one
    this.conn = null;
    for (const p of this.parts) this.dropPart(p);
    if (this.status === 'closed') return;
    this.o.log.warn('amqp connection lost; reconnecting');
    this.lastError = 'connection lost';
    this.retry();
  }

  private dropPart(p: Part): void {
    p.generation++;
    if (p.timer) clearTimeout(p.timer);
    p.timer = null;
    if (p.channel) {
      p.channel = null;
      p.spec.lost?.();
    }
  }

  private async openPart(p: Part, conn: ChannelModel): Promise<void> {
    if (p.closed || this.conn !== conn) return;
    const generation = ++p.generation;
    let ch: Channel | null = null;
    try {
      ch = p.spec.confirm ? await conn.createConfirmChannel() : await conn.createChannel();
      const opened = ch;
      opened.on('error', (e: Error) => this.o.log.warn('amqp channel error', { channel: p.spec.name, err: e }));
      opened.on('close', () => {
        if (p.generation !== generation) return;
        const wasUp = p.channel === opened;
        p.channel = null;
        p.generation++;
        if (wasUp) p.spec.lost?.();
        // Closed by the broker while the connection stays: reopen on this channel's own backoff.
        if (this.conn === conn && !p.closed) this.reopenLater(p, conn);
      });
      await p.spec.setup(opened);
      if (p.generation !== generation) return;
      p.channel = opened;
      p.failures = 0;
    } catch (e) {
      if (p.generation !== generation) return;
      this.o.log.warn('amqp channel setup failed', { channel: p.spec.name, err: e });
      p.generation++;
      await ch?.close().catch(() => undefined);
      if (this.conn === conn && !p.closed) this.reopenLater(p, conn);
    }
  }

  private reopenLater(p: Part, conn: ChannelModel): void {
    if (p.timer) return;
    p.timer = setTimeout(() => {
      p.timer = null;
      void this.openPart(p, conn);
    }, backoffDelay(p.failures++, this.backoff, this.random));
    p.timer.unref();
  }
}
