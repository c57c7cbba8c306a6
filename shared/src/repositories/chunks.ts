import type { Model } from 'mongoose';
import { isDuplicateKey } from '../infra/mongo.ts';
import type { ChunkDoc } from '../models/schemas.ts';

/** The key of chunk `no` of a stream: the chunk doc's _id, and each of its messages' chunkId. */
export const chunkId = (stream: string, no: number) => `${stream}:${no}`;

export interface ChunkRecord {
  no: number;
  start: string;
  base: number;
}

/**
 * History chunks: `{_id: "<stream>:<no>", stream, no, start, base}`, one per chunk from 1 on (chunk
 * 0 starts at ''), inserted when the chunk opens and never changed, so every process may keep
 * the starts it has read.
 */
export class ChunksRepository {
  private readonly starts = new Map<string, string>();

  constructor(private readonly model: Model<ChunkDoc>) {}

  /** Lowest id of chunk `no`. Throws if the chunk was never opened. */
  async startOf(stream: string, no: number): Promise<string> {
    if (no <= 0) return '';
    const key = chunkId(stream, no);
    const known = this.starts.get(key);
    if (known !== undefined) return known;
    const d = await this.model.findById(key).lean<ChunkDoc>();
    if (!d) throw new Error(`history chunk ${key} is not recorded`);
    this.remember(key, d.start);
    return d.start;
  }

  /**
   * Opens chunk `next.no` unless someone already did: an insert on a unique _id, the one write
   * FerretDB makes atomic. Returns the chunk as stored, ours or the one that won.
   */
  async open(stream: string, next: ChunkRecord): Promise<ChunkRecord> {
    const key = chunkId(stream, next.no);
    try {
      await this.model.create({ _id: key, stream, no: next.no, start: next.start, base: next.base });
      this.remember(key, next.start);
      return next;
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      const d = await this.model.findById(key).lean<ChunkDoc>();
      if (!d) throw e;
      this.remember(key, d.start);
      return { no: d.no, start: d.start, base: d.base };
    }
  }

  private remember(key: string, start: string): void {
    // Bounded: a long-running process forgets the oldest starts it read.
    if (this.starts.size > 100_000) this.starts.delete(this.starts.keys().next().value!);
    this.starts.set(key, start);
  }
}
