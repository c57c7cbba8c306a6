import type { Model } from 'mongoose';
import { hasOnlyDuplicateErrors, isDuplicateKey } from '../infra/mongo.ts';
import type { ChunkDoc } from '../models/schemas.ts';

/** The key of chunk `no` of a stream: the closed chunk's _id, and each of its messages' chunkId. */
export const chunkId = (stream: string, no: number) => `${stream}:${no}`;

/**
 * Closed history chunks: `{_id: "<stream>:<no>", stream, no, start}`. A chunk's start never
 * changes once it is recorded, so every process may keep what it has read.
 */
export class ChunksRepository {
  private readonly starts = new Map<string, string>();

  constructor(private readonly model: Model<ChunkDoc>) {}

  /** Lowest id of chunk `no` (≥ 1; chunk 0 starts at ''). Throws if the chunk was never recorded. */
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

  /** Records closed chunks; recording one twice is harmless (its start is the same). */
  async record(stream: string, closed: ReadonlyArray<{ no: number; start: string }>): Promise<void> {
    const docs = closed.filter((c) => c.no > 0).map((c) => ({ _id: chunkId(stream, c.no), stream, no: c.no, start: c.start }));
    if (docs.length === 0) return;
    try {
      await this.model.insertMany(docs, { ordered: false, lean: true });
    } catch (e) {
      if (!isDuplicateKey(e) && !hasOnlyDuplicateErrors(e)) throw e;
    }
    for (const d of docs) this.remember(d._id, d.start);
  }

  private remember(key: string, start: string): void {
    // Bounded: a long-running process forgets the oldest starts it read.
    if (this.starts.size > 100_000) this.starts.delete(this.starts.keys().next().value!);
    this.starts.set(key, start);
  }
}
