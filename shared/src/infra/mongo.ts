import mongoose, { type Connection } from 'mongoose';
import { bindModels, type Models } from '../models/schemas.ts';

export interface Mongo {
  conn: Connection;
  models: Models;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** One connection per process; indexes are ensured before the service reports ready. */
export async function connectMongo(url: string): Promise<Mongo> {
  const conn = mongoose.createConnection(url, {
    serverSelectionTimeoutMS: 5000,
    maxPoolSize: 20,
    // FerretDB does not implement retryable writes; idempotent writes make retries ours to do.
    retryWrites: false,
  });
  await conn.asPromise();
  const models = bindModels(conn);
  await Promise.all(Object.values(models).map((m) => m.init()));
  return {
    conn,
    models,
    ping: async () => {
      await conn.db!.command({ ping: 1 });
    },
    close: () => conn.close(),
  };
}

/** Mongo's duplicate-key error, which idempotent inserts treat as "already done". */
export const isDuplicateKey = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && 'code' in e && (e as { code: unknown }).code === 11000;
