import { randomUUID } from 'node:crypto';
import type { Logger } from '@chat/shared/log';

/** What the placer asks of a feed of other replicas' chunk openings (see ChunkOpenFeed). */
export interface OpenFeed {
  /**
   * Whether a stream's cached open chunk `no`, known good at `since` (performance.now()), still
   * is: 'trust' when the feed has been listening since then and heard of no later chunk, 'stale'
   * when it heard of one, 'unknown' when the store must tell (the feed was not listening, or an
   * opening is under way).
   */
  status(stream: string, no: number, since: number): 'trust' | 'stale' | 'unknown';
  /**
   * Before inserting chunk `no` (and any after it in the same placement): every other replica
   * stops trusting its copy of the stream. False if they could not be told: then no chunk opens.
   */
  intend(stream: string, no: number): Promise<boolean>;
  /** After: chunk `no` exists (this replica's or the one that won). */
  opened(stream: string, no: number): void;
}

/** The Redis side: publish on one connection, listen on another (shared/src/infra/redis.ts, adapterClients). */
export interface PubSub {
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  on(event: 'message', fn: (channel: string, message: string) => void): unknown;
  on(event: 'close', fn: () => void): unknown;
}

export interface OpenFeedOptions {
  /** How often this replica publishes a beat to itself, to know its subscription delivers. */
  beatMs?: number;
  /** Trust nothing when the newest own beat heard was sent longer ago than this. */
  beatStaleMs?: number;
  /**
   * After (re)subscribing, states checked before then plus this long are not trusted: an
   * intent published while we were not listening is missed, and its insert must have landed
   * (so a read of the store sees it) before we trust a state checked without it.
   */
  graceMs?: number;
  /** How long an intent without its "opened" keeps the stream to be checked in the store. */
  pendingMs?: number;
  /**
   * How long an opening is remembered. Longer than the placer's cache lifetime (10 s): a copy
   * older than an opening it has not seen is reloaded by then anyway.
   */
  forgetMs?: number;
  clock?: () => number;
}

/**
 * Chunk openings told to every db replica over Redis pub/sub, so a replica can place by its cached
 * copy of a stream's open chunk without reading the store before every placement (placer.ts).
 * A replica publishes an intent before it inserts a chunk (if that fails, it does not insert), and
 * the chunk's number once it exists. Every replica hears the others': an intent makes the stream
 * "ask the store" until its opening is heard of (or for pendingMs, if the opener died), an opening
 * makes copies of older chunks stale. Whether the feed can be trusted at all is known from the
 * replica's own beats: Redis delivers a channel's messages in the order it took them, so hearing
 * our beat sent at time s means every intent published before s has reached us. A subscription
 * that dropped may have missed some: states checked before it was back (and graceMs more) are not
 * trusted. Whenever the feed cannot vouch, the placer reads the store, as it would without one.
 */
export class ChunkOpenFeed implements OpenFeed {
  /** This replica on the channel (its own beats are the ones that count). */
  readonly id = randomUUID();
  /** States checked from this time on may be trusted; null while not known to be listening. */
  private trustedFrom: number | null = null;
  /** When the newest own beat heard was sent. */
  private beatSent = -Infinity;
  /** Streams with an opening under way: the chunk intended, when it was heard, and until when to wait for it. */
  private readonly pending = new Map<string, { no: number; at: number; until: number }>();
  /** Streams whose intent expired unopened (its opener died?): copies checked before the intent must be read again. */
  private readonly recheck = new Map<string, number>();
  /** The newest chunk heard opened per stream, and when (oldest first). */
  private readonly newest = new Map<string, { no: number; at: number }>();
  private timer: NodeJS.Timeout | null = null;
  private readonly o: Required<Omit<OpenFeedOptions, 'clock'>>;
  private readonly clock: () => number;

  constructor(
    private readonly pub: Pick<PubSub, 'publish'>,
    private readonly sub: PubSub,
    private readonly channel: string,
    private readonly log: Logger,
    opts: OpenFeedOptions = {},
  ) {
    this.o = { beatMs: opts.beatMs ?? 250, beatStaleMs: opts.beatStaleMs ?? 1000, graceMs: opts.graceMs ?? 5000, pendingMs: opts.pendingMs ?? 5000, forgetMs: opts.forgetMs ?? 30_000 };
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** Starts listening and beating. Never throws: until Redis answers, the placer reads the store. */
  start(): void {
    this.sub.on('message', (channel, message) => {
      if (channel === this.channel) this.hear(message);
    });
    this.sub.on('close', () => {
      this.trustedFrom = null;
    });
    this.sub.subscribe(this.channel).catch((e: unknown) => this.log.warn('chunk open feed: subscribe failed; placements read the store', { err: e }));
    this.timer = setInterval(() => this.beat(), this.o.beatMs);
    this.timer.unref();
    this.beat();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.trustedFrom = null;
  }

  /** On every placement: looks at this stream's entries only (the beats sweep the rest). */
  status(stream: string, no: number, since: number): 'trust' | 'stale' | 'unknown' {
    const now = this.clock();
    if (!this.listening(now) || since < this.trustedFrom!) return 'unknown';
    const heard = this.newest.get(stream);
    if (heard && heard.at > now - this.o.forgetMs && heard.no > no) return 'stale';
    const pending = this.pending.get(stream);
    if (pending && pending.until > now) return 'unknown';
    if (pending) this.expire(stream, pending);
    // The chunk may have been inserted before its opener died: a copy from before must be read again.
    if ((this.recheck.get(stream) ?? -Infinity) >= since) return 'unknown';
    return 'trust';
  }

  async intend(stream: string, no: number): Promise<boolean> {
    // Not hearing itself, it cannot know the others hear it either: answer at once, not after a timeout.
    if (!this.listening(this.clock())) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      // Published means Redis took it: every subscriber hears it before anything published later.
      return await Promise.race([
        this.pub.publish(this.channel, `i ${this.id} ${stream} ${no}`).then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.o.beatStaleMs))),
      ]);
    } catch (e) {
      this.log.warn('chunk open feed: intent not published; the open chunk grows past its size meanwhile', { stream, err: e });
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  opened(stream: string, no: number): void {
    // Best effort: unheard, the intent keeps the others reading the store for pendingMs.
    this.pub.publish(this.channel, `o ${this.id} ${stream} ${no}`).catch(() => undefined);
  }

  /** Subscribed, and hearing its own beats: what it has not heard of was not published. */
  private listening(now: number): boolean {
    return this.trustedFrom !== null && now - this.beatSent <= this.o.beatStaleMs;
  }

  /** Beats, and sweeps what has gone out of date (status reads past it; this bounds the memory). */
  private beat(): void {
    const now = this.clock();
    this.pub.publish(this.channel, `h ${this.id} ${now}`).catch(() => undefined);
    for (const [stream, p] of this.pending) if (p.until <= now) this.expire(stream, p);
    for (const [stream, heard] of this.newest) {
      if (heard.at > now - this.o.forgetMs) break;
      this.newest.delete(stream);
    }
    for (const [stream, at] of this.recheck) if (at <= now - this.o.forgetMs) this.recheck.delete(stream);
  }

  /** An intent past pendingMs without its opening becomes a recheck. */
  private expire(stream: string, p: { at: number }): void {
    this.pending.delete(stream);
    this.bounded(this.recheck).set(stream, p.at);
  }

  private hear(message: string): void {
    const [kind, from, a, b] = message.split(' ');
    if (kind === 'h') {
      if (from !== this.id) return;
      const sent = Number(a);
      if (sent > this.beatSent) this.beatSent = sent;
      if (this.trustedFrom === null) this.trustedFrom = sent + this.o.graceMs;
      return;
    }
    if (from === this.id || !a || b === undefined) return;
    const no = Number(b);
    if (kind === 'i') {
      const p = this.pending.get(a);
      const now = this.clock();
      this.bounded(this.pending).set(a, { no: Math.max(no, p?.no ?? -1), at: p?.at ?? now, until: now + this.o.pendingMs });
    } else if (kind === 'o') {
      // Another replica may be opening a later chunk of the stream meanwhile: that one stays pending.
      if ((this.pending.get(a)?.no ?? Infinity) <= no) this.pending.delete(a);
      if (no > (this.newest.get(a)?.no ?? -1)) {
        this.newest.delete(a);
        this.bounded(this.newest).set(a, { no, at: this.clock() });
      }
    }
  }

  /**
   * Keeps a per-stream map to a bounded size (forgetMs keeps it far below, short of a flood of
   * openings). What the oldest entry said is lost with it, so no state checked before now is
   * trusted any more: each stream is read from the store once again.
   */
  private bounded<V>(m: Map<string, V>): Map<string, V> {
    if (m.size >= 100_000) {
      m.delete(m.keys().next().value!);
      if (this.trustedFrom !== null) this.trustedFrom = Math.max(this.trustedFrom, this.clock());
    }
    return m;
  }
}
