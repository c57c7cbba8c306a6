import { MongoClient } from 'mongodb';
import { psql } from '../scripts/stack/infra.ts';
import { stack } from './stack.ts';

/**
 * Counts the sequential scans FerretDB's SQL makes on each collection's table, from PostgreSQL's
 * `pg_stat_user_tables.seq_scan`, so a test can tell which requests read a whole table.
 *
 * FerretDB keeps a MongoDB database as a PostgreSQL schema, each collection as a table named
 * `<collection>_<hash>`; its `_ferretdb_database_metadata` table maps them (`_id` → `table`).
 *
 * A backend publishes its counters when it goes idle, but at most once a second: counters of a
 * query that ran within a second of the last publication wait until that backend runs again, or
 * for up to 10 s. `settle` makes them visible: a second after the request it sends a few cheap
 * lookups through FerretDB on a collection of its own, until every backend that ran anything since
 * the request has run one of them (and so published), or has been idle for over 10 s. FerretDB's
 * pool hands out the most recently used connection first, so a few lookups at once reach the
 * request's backends; more would open connections, and PostgreSQL's 100 are shared by every
 * stack on the machine.
 */
const NUDGES_AT_ONCE = 12;
export class ScanCounter {
  private readonly nudgeClient: MongoClient;
  private readonly schema: string;
  private readonly database: string;

  constructor() {
    const pg = stack().postgres;
    if (!pg) throw new Error('The scan guard needs the PostgreSQL backend of the stack (FERRETDB_BACKEND=postgresql, no FERRETDB_POSTGRESQL_URL).');
    this.database = pg.database;
    this.schema = pg.schema;
    this.nudgeClient = new MongoClient(stack().env.MONGO_URL!, { maxPoolSize: NUDGES_AT_ONCE, retryWrites: false });
  }

  static readonly NUDGE_COLLECTION = 'scan_guard_nudge';

  /**
   * Collections that hold a fixed handful of docs by design, each read by `_id` (the profiles
   * revision, shared/src/models/schemas.ts): PostgreSQL rightly reads their one page instead of
   * an index. Left out of the counts; the guard's test checks they stay that small.
   */
  static readonly FIXED_SIZE = ['revisions'];

  private sql(query: string): Promise<string> {
    return psql(query, this.database);
  }

  /** ANALYZE, so the planner knows the seeded sizes (as autovacuum would, later). */
  async analyze(): Promise<void> {
    await this.sql('ANALYZE');
  }

  /** Sequential scans so far per collection (FerretDB's own tables, the nudge collection and FIXED_SIZE left out). */
  async counts(): Promise<Map<string, number>> {
    const out = await this.sql(`SELECT m._jsonb->>'_id', s.seq_scan
      FROM pg_stat_user_tables s JOIN "${this.schema}"._ferretdb_database_metadata m ON m._jsonb->>'table' = s.relname
      WHERE s.schemaname = '${this.schema}' AND m._jsonb->>'_id' NOT IN (${[ScanCounter.NUDGE_COLLECTION, ...ScanCounter.FIXED_SIZE].map((c) => `'${c}'`).join(', ')})`);
    return new Map(
      out
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [collection, n] = line.split('\t');
          return [collection!, Number(n)] as const;
        }),
    );
  }

  /** The database clock, which pg_stat_activity's times are on. */
  async now(): Promise<string> {
    return (await this.sql('SELECT clock_timestamp()')).trim();
  }

  async open(): Promise<void> {
    await this.nudgeClient.connect();
    await this.nudgeClient.db().collection(ScanCounter.NUDGE_COLLECTION).updateOne({ _id: 'nudge' as never }, { $set: { at: new Date() } }, { upsert: true });
  }

  async close(): Promise<void> {
    await this.nudgeClient.close();
  }

  /** Waits until the counters of everything that ran since `since` are published (see the class comment). */
  async settle(since: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    // PostgreSQL publishes a backend's counters at most once a second (PGSTAT_MIN_INTERVAL): a
    // timer, not an event anything could await.
    await new Promise((r) => setTimeout(r, 1100));
    const nudges = this.nudgeClient.db().collection(ScanCounter.NUDGE_COLLECTION);
    while (Date.now() < deadline) {
      const nudgedFrom = await this.now();
      await Promise.all(Array.from({ length: NUDGES_AT_ONCE }, () => nudges.findOne({ _id: 'nudge' as never })));
      const pending = await this.sql(`SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
          AND (state <> 'idle' OR (state_change >= '${since}' AND state_change < '${nudgedFrom}' AND clock_timestamp() - state_change < interval '10.5 seconds'))`);
      if (Number(pending.trim()) === 0) return;
    }
  }

  /** Runs `request` and returns the collections whose tables it scanned, with how many scans. */
  async scansOf(request: () => Promise<void>): Promise<Record<string, number>> {
    const before = await this.counts();
    const since = await this.now();
    await request();
    await this.settle(since);
    const after = await this.counts();
    const scanned: Record<string, number> = {};
    for (const [collection, n] of after) {
      const d = n - (before.get(collection) ?? 0);
      if (d > 0) scanned[collection] = d;
    }
    return scanned;
  }
}
