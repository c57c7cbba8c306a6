import type { Model } from 'mongoose';
import { hasOnlyDuplicateErrors, isDuplicateKey } from '../infra/mongo.ts';
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

  /** Chunk `no` as stored, or null when it was never opened (chunk 0 always exists). */
  async find(stream: string, no: number): Promise<ChunkRecord | null> {
    if (no <= 0) return { no: 0, start: '', base: 0 };
    const d = await this.model.findById(chunkId(stream, no)).lean<ChunkDoc>();
    if (!d) return null;
    this.remember(chunkId(stream, no), d.start);
    return { no: d.no, start: d.start, base: d.base };
  }

  /**
   * Opens chunk `next.no` unless someone already did: an insert on a unique _id, the one write
   * FerretDB makes atomic. Returns the chunk as stored, ours or the one that won. Calls made in
   * the same turn of the event loop (one batch's conversations) share one insertMany: on
   * FerretDB a command costs milliseconds, a document in it a few microseconds.
   */
  open(stream: string, next: ChunkRecord): Promise<ChunkRecord> {
    return new Promise((resolve, reject) => {
      this.pending.push({ doc: { _id: chunkId(stream, next.no), stream, no: next.no, start: next.start, base: next.base }, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  private pending: Array<{ doc: ChunkDoc; resolve: (c: ChunkRecord) => void; reject: (e: unknown) => void }> = [];

  private async flush(): Promise<void> {
    const calls = this.pending;
    this.pending = [];
    let failed = new Set<number>();
    try {
      await this.model.insertMany(
        calls.map((c) => c.doc),
        { ordered: false, lean: true },
      );
    } catch (e) {
      if (!isDuplicateKey(e) && !hasOnlyDuplicateErrors(e)) {
        for (const c of calls) c.reject(e);
        return;
      }
      const errs = (e as { writeErrors?: Array<{ index?: number; err?: { index?: number } }> }).writeErrors;
      failed = errs ? new Set(errs.map((w) => w.index ?? w.err?.index ?? -1)) : new Set(calls.map((_, i) => i));
    }
    await Promise.all(
      calls.map(async (c, i) => {
        try {
          // A duplicate: someone opened it first, and theirs stands.
          const d = failed.has(i) ? await this.model.findById(c.doc._id).lean<ChunkDoc>() : c.doc;
          if (!d) throw new Error(`history chunk ${c.doc._id} vanished`);
          this.remember(c.doc._id, d.start);
          c.resolve({ no: d.no, start: d.start, base: d.base });
        } catch (e) {
          c.reject(e);
        }
      }),
    );
  }

  private remember(key: string, start: string): void {
    // Bounded: a long-running process forgets the oldest starts it read.
    if (this.starts.size > 100_000) this.starts.delete(this.starts.keys().next().value!);
    this.starts.set(key, start);
  }
}
