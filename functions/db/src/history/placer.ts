import { CHUNK_SIZE, locateClosed, placeInOpen, type ClosedChunk, type OpenChunk } from './chunker.ts';

/** What the placer needs of a stream's record (a conversation today, a thread later). */
export interface StreamStore {
  /** The stream's open chunk as stored: count is what was stored since it opened; max its newest id. */
  load(stream: string): Promise<{ open: OpenChunk; base: number }>;
  /** Compare-and-set: opens `next` only if the stored open chunk is still `fromNo`. */
  openChunk(stream: string, fromNo: number, next: { no: number; start: string; base: number }): Promise<boolean>;
  startOf(stream: string, no: number): Promise<string>;
  record(stream: string, closed: readonly ClosedChunk[]): Promise<void>;
}

interface Cached {
  open: OpenChunk;
  base: number;
  loadedAt: number;
}

/**
 * Assigns chunks to messages before they are inserted. Per stream, placements run one at a time
 * in this process (a promise chain), on a cached copy of the open chunk; the stored state changes
 * only when a chunk closes (about once per CHUNK_SIZE messages), as a compare-and-set that
 * reloads and places again when another replica moved it first. The cache is reloaded after
 * `ttlMs`, which bounds how long a replica can place into a chunk another one already closed.
 */
export class ChunkPlacer {
  private readonly cache = new Map<string, Cached>();
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: StreamStore,
    private readonly opts: { size?: number; ttlMs?: number; now?: () => number } = {},
  ) {}

  /** Chunk numbers for the ids (in the order given), once the chunks they open are stored. */
  place(stream: string, ids: readonly string[]): Promise<number[]> {
    const prev = this.chains.get(stream) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => this.placeNow(stream, ids));
    const tail = run.finally(() => {
      if (this.chains.get(stream) === tail) this.chains.delete(stream);
    });
    this.chains.set(stream, tail);
    return run;
  }

  /** Forgets a stream's cached state (its record was changed by someone else, e.g. the migration). */
  forget(stream: string): void {
    this.cache.delete(stream);
  }

  private async placeNow(stream: string, ids: readonly string[]): Promise<number[]> {
    const size = this.opts.size ?? CHUNK_SIZE;
    for (let attempt = 0; attempt < 10; attempt++) {
      const state = await this.state(stream);
      const chunks = new Array<number>(ids.length);
      const current: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (ids[i]! >= state.open.start) current.push(i);
        else chunks[i] = await locateClosed(ids[i]!, state.open, (no) => this.store.startOf(stream, no));
      }
      const placed = placeInOpen(state.open, current.map((i) => ids[i]!), size);
      current.forEach((i, k) => (chunks[i] = placed.chunks[k]!));
      if (placed.closed.length) {
        // The closed chunks' starts first, so anyone who sees the new open chunk can walk back.
        await this.store.record(stream, placed.closed);
        const base = state.base + countBefore(state.open, placed, ids.length - current.length);
        if (!(await this.store.openChunk(stream, state.open.no, { no: placed.open.no, start: placed.open.start, base }))) {
          this.cache.delete(stream);
          continue;
        }
        state.base = base;
      }
      state.open = placed.open;
      return chunks;
    }
    throw new Error(`history chunks of ${stream} kept conflicting`);
  }

  private async state(stream: string): Promise<Cached> {
    const now = (this.opts.now ?? Date.now)();
    const cached = this.cache.get(stream);
    if (cached && now - cached.loadedAt < (this.opts.ttlMs ?? 2000)) return cached;
    const loaded = { ...(await this.store.load(stream)), loadedAt: now };
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
 * Messages counted in all chunks before the new open one: the old open chunk's count, the late
 * messages of this placement, and what it put in the chunks it closed. New chunk's base = old base + that, so that
 * msgCount - base is again the open chunk's count once the stored counters catch up.
 */
function countBefore(old: OpenChunk, placed: { chunks: number[]; open: OpenChunk }, late: number): number {
  const inNewOpen = placed.chunks.filter((no) => no === placed.open.no).length;
  return old.count + late + placed.chunks.length - inNewOpen;
}
