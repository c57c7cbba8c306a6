import { psql, psqlCopy } from '../../scripts/stack/infra.ts';

/**
 * Bulk loads straight into FerretDB's PostgreSQL tables, for seeding stores of a million
 * messages: through FerretDB's insertMany a document costs it a conversion and PostgreSQL an
 * index update per key (192,000 messages in five minutes), where COPY of the same rows into a
 * table without its non-unique indexes, then one bulk build per index, costs a fraction.
 *
 * FerretDB 1.24 (postgresql backend) keeps each collection as a table `<name>_<hash>` of one
 * `_jsonb` column, mapped in `<schema>._ferretdb_database_metadata` (`_id` → `table`, with the
 * PostgreSQL index behind each MongoDB index). A row is the document as JSON plus a `$s` schema
 * of its types and field order (its "sjson" encoding): `{"$s": {"$k": [fields in order], "p":
 * {field: type}}, field: value, …}`, a type being `{"t": "string"}`, `{"t": "array", "i": [one
 * type per element]}`, `{"t": "object", "$s": {…}}` and so on; dates are milliseconds. Learned
 * from rows FerretDB wrote (an insert through the driver, read back with psql), and checked
 * again on every load by `checkEncoding` below, so a FerretDB that encodes otherwise fails the
 * seed instead of serving documents it would not have written.
 */

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const T = { null: '{"t":"null"}', string: '{"t":"string"}', bool: '{"t":"bool"}', int: '{"t":"int"}', double: '{"t":"double"}', date: '{"t":"date"}' };

// Built as strings, not as objects for JSON.stringify: a million documents are seeded per run,
// and the objects' allocation made this encoding cost more than building the documents.
const keyJson = new Map<string, string>();
const jsonKey = (k: string) => {
  let j = keyJson.get(k);
  if (j === undefined) keyJson.set(k, (j = JSON.stringify(k)));
  return j;
};

/** A value's type and stored value, as JSON; undefined is stored as null, as the driver sends it. */
function encodeValue(v: unknown): [string, string] {
  if (v === null || v === undefined) return [T.null, 'null'];
  if (typeof v === 'string') return [T.string, JSON.stringify(v)];
  if (typeof v === 'boolean') return [T.bool, v ? 'true' : 'false'];
  if (typeof v === 'number') {
    // The driver sends an integer in int32 range as an int32 (-0 as 0), any other number as a double.
    if (Number.isInteger(v) && v >= INT32.min && v <= INT32.max) return [T.int, String(v)];
    if (!Number.isFinite(v)) throw new Error(`ferretJson: ${v} has a special encoding this loader does not write`);
    return [T.double, JSON.stringify(v)];
  }
  if (v instanceof Date) return [T.date, String(v.getTime())];
  if (Array.isArray(v)) {
    const types: string[] = [];
    const values: string[] = [];
    for (const x of v) {
      const [t, j] = encodeValue(x);
      types.push(t);
      values.push(j);
    }
    return [`{"t":"array","i":[${types.join(',')}]}`, `[${values.join(',')}]`];
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const [schema, fields] = encodeObject(v as Record<string, unknown>);
    return [`{"t":"object","$s":${schema}}`, `{${fields}}`];
  }
  throw new Error(`ferretJson: no encoding for ${Object.prototype.toString.call(v)} here (ObjectId, binary and the like go through the driver)`);
}

/** An object's `$s` schema and its fields (without braces), as JSON. */
function encodeObject(doc: Record<string, unknown>): [string, string] {
  const order: string[] = [];
  const types: string[] = [];
  const fields: string[] = [];
  for (const k in doc) {
    if (!Object.hasOwn(doc, k)) continue;
    const key = jsonKey(k);
    const [t, j] = encodeValue(doc[k]);
    order.push(key);
    types.push(`${key}:${t}`);
    fields.push(`${key}:${j}`);
  }
  // FerretDB writes an empty object's schema as {}, not as empty "$k" and "p" (seen in its rows).
  if (order.length === 0) return ['{}', ''];
  return [`{"$k":[${order.join(',')}],"p":{${types.join(',')}}}`, fields.join(',')];
}

/** The `_jsonb` FerretDB 1.24 stores for a document (plain objects, arrays, strings, numbers, booleans, dates, null). */
export function ferretJson(doc: Record<string, unknown>): string {
  if ('$s' in doc) throw new Error('ferretJson: a field named $s would collide with the schema');
  const [schema, fields] = encodeObject(doc);
  return fields ? `{"$s":${schema},${fields}}` : `{"$s":${schema}}`;
}

/** One row of COPY's text format: JSON escapes control characters, so only backslashes need doubling. */
export const copyLine = (doc: Record<string, unknown>) => {
  const j = ferretJson(doc);
  return `${j.includes('\\') ? j.replace(/\\/g, '\\\\') : j}\n`;
};

export interface PgTarget {
  database: string;
  /** FerretDB's schema for the MongoDB database. */
  schema: string;
}

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

export async function tableOf(pg: PgTarget, collection: string): Promise<string> {
  const t = (await psql(`SELECT _jsonb->>'table' FROM ${q(pg.schema)}._ferretdb_database_metadata WHERE _jsonb->>'_id' = ${lit(collection)}`, pg.database)).trim();
  if (!t) throw new Error(`FerretDB has no table for collection ${collection} in ${pg.database}.${pg.schema}`);
  return t;
}

/**
 * Fails unless FerretDB stored these documents (already inserted through the driver) exactly as
 * ferretJson encodes them: jsonb equality, so key order inside the JSON does not matter but every
 * type, value and field order (`$k`) does.
 */
export async function checkEncoding(pg: PgTarget, collection: string, docs: Array<Record<string, unknown> & { _id: string }>): Promise<void> {
  const table = await tableOf(pg, collection);
  for (const d of docs) {
    const mine = ferretJson(d);
    const out = (await psql(`SELECT _jsonb = ${lit(mine)}::jsonb, _jsonb::text FROM ${q(pg.schema)}.${q(table)} WHERE _jsonb->'_id' = ${lit(JSON.stringify(d._id))}::jsonb`, pg.database)).trim();
    const [same, stored] = out.split('\t');
    if (same !== 't') throw new Error(`FerretDB stores ${collection} documents otherwise than this loader writes them:\n stored: ${stored ?? '(no row)'}\n loader: ${mine}`);
  }
}

export interface LoadReport {
  rows: number;
  copySeconds: number;
  /** Each non-unique index's bulk build, in seconds. */
  indexSeconds: Record<string, number>;
  analyzeSeconds: number;
}

/**
 * COPYs the batches' documents into the collection's table. Its non-unique indexes (FerretDB's
 * and the GIN ones the stack adds) are dropped for the load and built again after it, each from
 * its own definition; the unique ones stay, so a duplicate still fails the load. Then ANALYZE:
 * the planner must know the table's new size, or a fresh million rows may read as a few pages
 * worth scanning. Nothing else may write the collection meanwhile (the bench's seed phase).
 */
export async function bulkLoad(pg: PgTarget, collection: string, batches: AsyncIterable<Array<Record<string, unknown>>>, log: (m: string) => void): Promise<LoadReport> {
  const table = await tableOf(pg, collection);
  const rel = `${q(pg.schema)}.${q(table)}`;
  const defs = (
    await psql(
      `SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE i.indrelid = ${lit(rel)}::regclass AND NOT i.indisunique ORDER BY c.relname`,
      pg.database,
    )
  )
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name, def] = l.split('\t') as [string, string];
      return { name, def };
    });
  await psql(defs.map((d) => `DROP INDEX ${q(pg.schema)}.${q(d.name)};`).join('\n') || 'SELECT 1', pg.database);
  let rows = 0;
  const t0 = performance.now();
  const report: LoadReport = { rows: 0, copySeconds: 0, indexSeconds: {}, analyzeSeconds: 0 };
  try {
    await psqlCopy(
      pg.database,
      `COPY ${rel} (_jsonb) FROM STDIN`,
      (async function* () {
        for await (const batch of batches) {
          rows += batch.length;
          yield batch.map(copyLine).join('');
        }
      })(),
    );
    report.copySeconds = (performance.now() - t0) / 1000;
    log(`bulk load: ${rows} ${collection} copied in ${report.copySeconds.toFixed(1)} s; building ${defs.length} indexes`);
  } finally {
    // Built again even when the load failed: the stack must keep serving with its indexes.
    for (const d of defs) {
      const t = performance.now();
      // A build's sort and GIN accumulator get memory for this session only (the server's default is 64 MB).
      await psql(`SET maintenance_work_mem = '512MB';\n${d.def.replace(/^CREATE INDEX /, 'CREATE INDEX IF NOT EXISTS ')};`, pg.database);
      report.indexSeconds[d.name] = (performance.now() - t) / 1000;
    }
    log(`bulk load: indexes built in ${Object.entries(report.indexSeconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
  }
  const t1 = performance.now();
  await psql(`ANALYZE ${rel}`, pg.database);
  report.analyzeSeconds = (performance.now() - t1) / 1000;
  report.rows = rows;
  return report;
}
