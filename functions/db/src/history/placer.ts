import { KeyedQueue } from '@chat/shared/concurrency';
import { messageId } from '@chat/shared/ids';
import { CHUNK_SIZE, locateClosed, placeInOpen, type LiveFloor, type OpenChunk, type Placement } from './chunker.ts';
import type { OpenFeed } from './open-feed.ts';

/** A chunk as opened: number, lowest id, and the stream's message count when it opened. */
export interface OpenedChunk {
  no: number;
  start: string;
  base: number;
}

/** What the placer needs of a stream's storage (a conversation today, a thread later). */
export interface StreamStore {
  /** The stream's open chunk as its record keeps it: count is what was stored since it opened; max its newest id. */
  load(stream: string): Promise<{ open: OpenChunk; base: number }>;
  /** Opens chunk `next.no` unless it exists (atomically); returns the chunk as stored. */
  open(stream: string, next: OpenedChunk): Promise<OpenedChunk>;
  /**
   * Makes an opened chunk the record's open one (forward only; every writer writes the same).
   * Used to adopt a chunk someone else opened; the placer's own chunks are recorded by its caller
   * with the counters. Until then a reader of the record sees the chunk before: a page misses
   * messages that are a few milliseconds old, as the conversation list already does.
   */
  setOpen(stream: string, chunk: OpenedChunk): Promise<void>;
  startOf(stream: string, no: number): Promise<string>;
  /** Chunk `no` if it was ever opened, else null. */
  find(stream: string, no: number): Promise<OpenedChunk | null>;
}

/** How far past its size the open chunk grows while its next opening cannot be announced. */
const OVERSHOOT = 4;
/** Ids older than this are a backlog replayed, not live traffic: their chunks open at the id. */
const RECENT_MS = 10_000;

interface Cached {
  open: OpenChunk;
  base: number;
  loadedAt: number;
  /** When (performance.now()) no chunk after `open` was known to exist: a load or a read of the store began then. */
  checkedAt: number;
}

/**
 * Assigns chunks to messages before they are inserted. Per stream, placements run one at a time
 * in this process (a promise chain), on a cached copy of the open chunk; storage changes only when
 * a chunk opens (about once per CHUNK_SIZE messages): the chunk's doc is inserted (atomic on its
 * unique _id), then the stream's record moves to it. Losing that insert to another replica means
 * our view was stale: we adopt the winner, reload and place again. Each placement first makes sure
 * no one opened a chunk after the cached one (stillOpen); the cache is reloaded after `ttlMs` in
 * any case.
 */
export class ChunkPlacer {
  private readonly cache = new Map<string, Cached>();
  /** Placements of one stream run one at a time (a failed one does not stop the next). */
  private readonly chains = new KeyedQueue();

  constructor(
    private readonly store: StreamStore,
    private readonly opts: {
      size?: number;
      ttlMs?: number;
      now?: () => number;
      feed?: OpenFeed;
      /** Live traffic: chunks open at a floor this far ahead of now (LiveFloor). */
      floorMs?: number;
    } = {},
  ) {}

  /**
   * Chunk numbers for the ids (in the order given), once the chunks they open exist, and the open
   * chunk after them, which the caller records on the stream's record in the write it makes
   * after inserting the messages anyway (see StreamStore.setOpen for why that may lag).
   */
  place(stream: string, ids: readonly string[]): Promise<{ chunks: number[]; open: OpenedChunk }> {
    return this.chains.run(stream, () => this.placeNow(stream, ids));
  }

  private liveFloor(): LiveFloor | undefined {
    if (this.opts.floorMs === undefined) return undefined;
    const now = (this.opts.now ?? Date.now)();
    return { floor: messageId(now + this.opts.floorMs, '0'.repeat(12)), recent: messageId(now - RECENT_MS, '0'.repeat(12)) };
  }

  /** Forgets a stream's cached state (its record was changed by someone else, e.g. the migration). */
  forget(stream: string): void {
    this.cache.delete(stream);
  }

  private async placeNow(stream: string, ids: readonly string[]): Promise<{ chunks: number[]; open: OpenedChunk }> {
    const size = this.opts.size ?? CHUNK_SIZE;
    for (let attempt = 0; attempt < 10; attempt++) {
      const state = await this.state(stream);
      const chunks = new Array<number>(ids.length);
      const current: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (ids[i]! >= state.open.start) current.push(i);
        else chunks[i] = await locateClosed(ids[i]!, state.open, (no) => this.store.startOf(stream, no));
      }
      const inOpen = current.map((i) => ids[i]!);
      let placed = placeInOpen(state.open, inOpen, size, this.liveFloor());
      // Other replicas trust the feed to tell them of every opening, so this one opens none it
      // could not announce: the open chunk takes the messages instead, past its size (readers
      // only read a larger chunk), up to OVERSHOOT times its size. Beyond that, Redis is likelier
      // down for everyone (and then nobody trusts the feed) than unreachable from here alone.
      if (placed.closed.length && this.opts.feed && !(await this.opts.feed.intend(stream, placed.closed[0]!.no + 1)) && state.open.count + inOpen.length < OVERSHOOT * size)
        placed = placeInOpen(state.open, inOpen, Infinity);
      current.forEach((i, k) => (chunks[i] = placed.chunks[k]!));
      if (placed.closed.length) {
        const opened = openedChunks(state, placed, ids.length - current.length);
        let lost = false;
        for (const mine of opened) {
          const stored = await this.store.open(stream, mine);
          this.opts.feed?.opened(stream, stored.no);
          if (stored.start !== mine.start || stored.base !== mine.base) {
            // Someone opened it first (or opened it and stopped before moving the record): theirs stands.
            await this.store.setOpen(stream, stored);
            lost = true;
            break;
          }
        }
        if (lost) {
          this.cache.delete(stream);
          continue;
        }
        state.base = opened.at(-1)!.base;
      }
      state.open = placed.open;
      return { chunks, open: { no: state.open.no, start: state.open.start, base: state.base } };
    }
    throw new Error(`history chunks of ${stream} kept conflicting`);
  }

  /**
   * The stream's record, moved to its newest opened chunk first. A process that dies after
   * opening a chunk and storing messages in it, but before its counter write records that chunk,
   * leaves the record one chunk behind, with counters that miss what it stored; placing by that
   * record would fill the old chunk with ids of the new one's range, and the pager, which reads up
   * to the record's chunk, would not list the new chunk's messages until it filled up again. One
   * equality read per reload (about every ttlMs per busy stream) rules that out.
   */
  private async loadNewest(stream: string): Promise<{ open: OpenChunk; base: number }> {
    let loaded = await this.store.load(stream);
    for (let next = await this.store.find(stream, loaded.open.no + 1); next; next = await this.store.find(stream, loaded.open.no + 1)) {
      await this.store.setOpen(stream, next);
      loaded = await this.store.load(stream);
      // A record that did not move (its write failed, or FerretDB is behind) must not loop forever.
      if (loaded.open.no < next.no) return { open: { no: next.no, start: next.start, count: 0, max: loaded.open.max }, base: next.base };
    }
    return loaded;
  }

  /**
   * Whether the cached open chunk is still the newest. Another replica may have opened the next
   * one since: placing by our copy would fill the old chunk with ids of the new one's range
   * (history read out of order, measured with two db instances). The feed of openings answers
   * when it can vouch for the stream; otherwise one _id read of the next chunk does. Either way
   * the answer comes before the insert it guards: an opening in the milliseconds between the two
   * (or still on its way to us) can be missed (docs/storage.md, "A race between replicas").
   */
  private async stillOpen(stream: string, cached: Cached): Promise<boolean> {
    const heard = this.opts.feed?.status(stream, cached.open.no, cached.checkedAt) ?? 'unknown';
    if (heard !== 'unknown') return heard === 'trust';
    const checkedAt = performance.now();
    if (await this.store.find(stream, cached.open.no + 1)) return false;
    cached.checkedAt = Math.max(cached.checkedAt, checkedAt);
    return true;
  }

  private async state(stream: string): Promise<Cached> {
    const now = (this.opts.now ?? Date.now)();
    const cached = this.cache.get(stream);
    if (cached && now - cached.loadedAt < (this.opts.ttlMs ?? 10_000) && (await this.stillOpen(stream, cached))) return cached;
    const checkedAt = performance.now();
    const loaded = { ...(await this.loadNewest(stream)), loadedAt: now, checkedAt };
    // Keep the local view of the open chunk if it is ahead of the stored one (our own placements).
    if (cached && cached.open.no === loaded.open.no && cached.open.start === loaded.open.start) {
      loaded.open.count = Math.max(loaded.open.count, cached.open.count);
      if (cached.open.max > loaded.open.max) loaded.open.max = cached.open.max;
    }
    if (this.cache.size > 50_000) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(stream, loaded);
    return loaded;
  }
}

/**
 * The chunks a placement opens, each with its base: the stream's message count when it opened,
 * i.e. the previous chunk's base plus what that chunk holds (for the old open chunk: its count
 * and this placement's late messages, which the stored counters will include too).
 */
function openedChunks(state: { open: OpenChunk; base: number }, placed: Placement, late: number): OpenedChunk[] {
  const inChunk = new Map<number, number>();
  for (const no of placed.chunks) inChunk.set(no, (inChunk.get(no) ?? 0) + 1);
  let base = state.base + state.open.count + late;
  return placed.closed.map((c, k) => {
    base += inChunk.get(c.no) ?? 0;
    return { no: c.no + 1, start: placed.closed[k + 1]?.start ?? placed.open.start, base };
  });
}
