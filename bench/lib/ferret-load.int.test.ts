import { randomUUID } from 'node:crypto';
import { MongoClient, type Collection } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psql } from '../../scripts/stack/infra.ts';
import { stack } from '../../test/stack.ts';
import { bulkLoad, checkEncoding, tableOf, type PgTarget } from './ferret-load.ts';

/**
 * The bench's bulk loader against the test stack's real FerretDB and PostgreSQL, on a collection
 * of its own (its indexes are dropped during a load, which other files' collections must not see).
 */
type Doc = Record<string, unknown> & { _id: string };

const name = `bulk_load_${randomUUID().slice(0, 8)}`;
let client: MongoClient;
let coll: Collection<Doc>;
let pg: PgTarget;

const indexDefs = async () => {
  const table = await tableOf(pg, name);
  return (await psql(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '${pg.schema}' AND tablename = '${table}' ORDER BY 1`, pg.database)).trim();
};

async function* batchesOf(docs: Doc[], size: number) {
  for (let i = 0; i < docs.length; i += size) yield docs.slice(i, i + size);
}

// Every kind of value the loader encodes, the awkward ones included.
const docs: Doc[] = Array.from({ length: 2500 }, (_, i) => ({
  _id: `m${String(i).padStart(5, '0')}`,
  group: `g${i % 7}`,
  uniq: `u${i}`,
  n: i,
  big: 2 ** 31 + i,
  frac: i + 0.25,
  neg: -i - 1,
  at: new Date(1_796_000_000_000 + i),
  none: null,
  yes: i % 2 === 0,
  text: `line ${i}\twith a tab, a "quote", a backslash \\ and é`,
  tags: [`t${i % 3}`, i, null, { deep: [true, new Date(0)] }],
  nested: { a: { b: `x${i}` }, empty: {}, list: [] },
}));

beforeAll(async () => {
  const info = stack();
  if (!info.postgres) throw new Error('the bulk loader needs the PostgreSQL backend of the stack');
  pg = info.postgres;
  client = new MongoClient(info.env.MONGO_URL!, { retryWrites: false });
  await client.connect();
  coll = client.db().collection<Doc>(name);
  await coll.createIndex({ group: 1 });
  await coll.createIndex({ uniq: 1 }, { unique: true });
});

afterAll(async () => {
  await coll?.drop().catch(() => undefined);
  await client?.close();
});

describe('bench bulk load into FerretDB over PostgreSQL', () => {
  it('writes the rows FerretDB writes, and says so when they differ', async () => {
    await coll.insertMany(docs.slice(0, 3));
    await checkEncoding(pg, name, docs.slice(0, 3));
    await expect(checkEncoding(pg, name, [{ ...docs[0]!, n: 1.5 }])).rejects.toThrow(/otherwise than this loader/);
  });

  it('COPYs documents that read back through FerretDB as they were, with the indexes as before', async () => {
    const before = await indexDefs();
    const report = await bulkLoad(pg, name, batchesOf(docs.slice(3), 1000), () => undefined);
    expect(report.rows).toBe(docs.length - 3);
    // The non-unique index was dropped and built again; the unique one and _id stayed.
    expect(Object.keys(report.indexSeconds)).toHaveLength(1);
    expect(await indexDefs()).toBe(before);

    const stored = await coll.find().sort({ _id: 1 }).toArray();
    expect(stored).toEqual(docs);
    // Equality lookups, as the product makes them, find the loaded documents.
    expect((await coll.find({ group: 'g3' }).toArray()).map((d) => d._id)).toEqual(docs.filter((d) => d.group === 'g3').map((d) => d._id));
    expect(await coll.findOne({ _id: 'm02000' })).toEqual(docs[2000]);
    // Statistics were gathered for the planner.
    const analyzed = (await psql(`SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE schemaname = '${pg.schema}' AND relname = '${await tableOf(pg, name)}'`, pg.database)).trim();
    expect(analyzed).toBe('t');
  });

  it('fails a load that breaks a unique index, and builds the dropped indexes again anyway', async () => {
    const before = await indexDefs();
    const count = await coll.countDocuments();
    const dup = { ...docs[10]!, _id: 'dup-of-10' };
    await expect(bulkLoad(pg, name, batchesOf([dup], 1), () => undefined)).rejects.toThrow(/COPY into .* failed/);
    expect(await indexDefs()).toBe(before);
    expect(await coll.countDocuments()).toBe(count);
  });

  it('commits nothing of a load whose producer fails midway', async () => {
    const before = await indexDefs();
    const count = await coll.countDocuments();
    async function* failing() {
      yield [{ ...docs[0]!, _id: 'partial-1', uniq: 'partial-1' }];
      throw new Error('producer broke');
    }
    await expect(bulkLoad(pg, name, failing(), () => undefined)).rejects.toThrow(/producer broke/);
    expect(await coll.findOne({ _id: 'partial-1' })).toBeNull();
    expect(await coll.countDocuments()).toBe(count);
    expect(await indexDefs()).toBe(before);
  });
});
