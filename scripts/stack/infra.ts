import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureApt } from './tools.ts';
import { portOpen, run, waitFor } from './exec.ts';

/**
 * Redis and RabbitMQ: used where they already run (6379/5672), otherwise installed from Debian
 * and started the way this machine kind starts them.
 */
export async function ensureRedis(log: (m: string) => void, port = 6379): Promise<void> {
  if (await portOpen(port)) return;
  await ensureApt([{ bin: 'redis-server', pkg: 'redis-server' }], log);
  log(`starting Redis on ${port}`);
  await run('sh', ['-c', 'mkdir -p /var/lib/redis /var/log/redis'], { quiet: true });
  await run('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/chat.log'], { quiet: true });
  await waitFor('Redis', () => portOpen(port), 20_000);
}

export async function ensureRabbit(log: (m: string) => void, port = 5672): Promise<void> {
  if (await portOpen(port)) return;
  await ensureApt([{ bin: 'rabbitmq-server', pkg: 'rabbitmq-server' }], log);
  log(`starting RabbitMQ on ${port}`);
  await run('rabbitmq-server', ['-detached'], { quiet: true }).catch(() => undefined);
  await waitFor('RabbitMQ', () => portOpen(port), 90_000, 500);
}

/** A private vhost keeps a test run's exchanges and queues apart from `npm start`'s. */
export async function createVhost(name: string): Promise<void> {
  await run('rabbitmqctl', ['add_vhost', name], { quiet: true });
  await run('rabbitmqctl', ['set_permissions', '-p', name, 'guest', '.*', '.*', '.*'], { quiet: true });
}

export async function deleteVhost(name: string): Promise<void> {
  await run('rabbitmqctl', ['delete_vhost', name], { quiet: true }).catch(() => undefined);
}

/**
 * PostgreSQL for FerretDB's postgresql backend: used where it already runs on 5432, otherwise
 * installed from Debian and its cluster started. Each stack gets its own database.
 */
export async function ensurePostgres(log: (m: string) => void, port = 5432): Promise<void> {
  if (await portOpen(port)) return;
  await ensureApt([{ bin: 'pg_ctlcluster', pkg: 'postgresql' }], log);
  log(`starting PostgreSQL on ${port}`);
  await run('sh', ['-c', 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | sort -V | tail -n 1) main start'], { quiet: true });
  await waitFor('PostgreSQL', () => portOpen(port), 60_000, 250);
}

/**
 * Runs SQL as the postgres superuser: over TCP where trust auth allows (this machine kind), else
 * through the local socket with peer auth (Debian's default). SQL goes through a private file so
 * a password in it never appears on a command line. Returns what psql printed: rows unaligned,
 * tab-separated, without headers.
 */
export async function psql(sql: string, database?: string): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-sql-'));
  const file = path.join(dir, 'q.sql');
  writeFileSync(file, sql, { mode: 0o644 });
  chmodSync(dir, 0o755);
  const args = ['-X', '-q', '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1', ...(database ? ['-d', database] : []), '-f', file];
  try {
    return await run('psql', ['-h', '127.0.0.1', '-U', 'postgres', ...args], { quiet: true, env: { ...process.env, PGCONNECT_TIMEOUT: '5', PGPASSWORD: '' } });
  } catch {
    return await run('runuser', ['-u', 'postgres', '--', 'psql', ...args], { quiet: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Streams `lines` into `COPY ... FROM STDIN` (text format: each line one row, already escaped) as
 * the superuser, the way psql() connects. Backpressure from psql paces the producer, so a bulk
 * load holds one batch in memory, not the whole load. Resolves when psql has committed the COPY.
 */
export async function psqlCopy(database: string, copySql: string, lines: AsyncIterable<string>): Promise<void> {
  const tcp = await run('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-X', '-Atc', 'SELECT 1', database], { quiet: true, env: { ...process.env, PGCONNECT_TIMEOUT: '5', PGPASSWORD: '' } }).then(
    () => true,
    () => false,
  );
  const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', database, '-c', copySql];
  const child = tcp
    ? spawn('psql', ['-h', '127.0.0.1', '-U', 'postgres', ...args], { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, PGPASSWORD: '' } })
    : spawn('runuser', ['-u', 'postgres', '--', 'psql', ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`COPY into ${database} failed (psql exited ${code}): ${err.slice(-2000)}`))));
  });
  // A psql that died early (bad SQL) must fail the load, not leave the writer waiting for 'drain'.
  const died = exited.then(() => new Error('psql exited before the rows were written'), (e: unknown) => e);
  try {
    for await (const chunk of lines) {
      if (!child.stdin!.write(chunk)) {
        const r = await Promise.race([once(child.stdin!, 'drain').then(() => null), died]);
        if (r) throw r;
      }
    }
  } catch (e) {
    // Ending stdin would commit the rows sent so far; a killed psql's COPY is rolled back.
    child.kill('SIGTERM');
    await exited.catch(() => undefined);
    throw e;
  }
  child.stdin!.end();
  await exited;
}

/** The "chat" role FerretDB logs in as (password auth works under trust and scram alike). */
export async function ensureRole(password: string): Promise<void> {
  const quoted = password.replace(/'/g, "''");
  await psql(`DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'chat') THEN CREATE ROLE chat LOGIN PASSWORD '${quoted}';
  ELSE ALTER ROLE chat LOGIN PASSWORD '${quoted}'; END IF;
END $$;`);
}

export async function createDatabase(name: string): Promise<void> {
  await psql(`CREATE DATABASE "${name}" OWNER chat`).catch((e) => {
    if (!/already exists/.test(String(e))) throw e;
  });
  // FerretDB prepares its statements once per connection, with the field name as a parameter
  // (`_jsonb->$1 @> $2`), and a generic plan cannot match an expression index. The services query
  // before the indexes below exist; a statement that ran five times by then, all scans, is switched
  // to its generic plan for good and would never use them. Planning every run with its values
  // avoids that. Applies to connections opened afterwards: FerretDB starts after this.
  await psql(`ALTER DATABASE "${name}" SET plan_cache_mode = force_custom_plan`);
}

/**
 * Lets FerretDB's equality pushdown use an index. FerretDB 1.24 turns `{f: v}` into
 * `(_jsonb->'f') @> v`, which its own btree indexes (one per MongoDB index) cannot serve, so
 * every lookup scanned its whole table. For each of those btree indexes this adds a GIN index on
 * its leading field, which serves `@>`: the same lookups MongoDB answers from the index.
 * A GIN index gathers new entries in a pending list (4 MB by default) that every lookup reads
 * whole until VACUUM merges it, and the planner counts it: after a few thousand inserts of
 * search entries (tens of terms each) it chose to scan the table instead (measured with EXPLAIN
 * on FerretDB's SQL). A 128 kB list is merged by the inserts themselves, so lookups stay on the
 * index between vacuums. Idempotent; run once the services have created their collections and indexes.
 */
export async function addPushdownIndexes(database: string, schema: string): Promise<void> {
  await psql(`\\connect "${database}"
DO $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT DISTINCT c.relname AS tbl, pg_get_indexdef(i.indexrelid, 1, true) AS expr
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ic.relam
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = '${schema}' AND am.amname = 'btree' AND c.relname NOT LIKE '\\_ferretdb\\_%'
  LOOP
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((%s) jsonb_path_ops)',
      left(r.tbl, 40) || '_eq_' || left(md5(r.expr), 12), '${schema}', r.tbl, r.expr);
    EXECUTE format('ALTER INDEX %I.%I SET (gin_pending_list_limit = 128)', '${schema}', left(r.tbl, 40) || '_eq_' || left(md5(r.expr), 12));
  END LOOP;
  -- FerretDB's non-unique btrees serve no query: every lookup it sends is @>, served by the GIN
  -- above (its only btree use is the _id of an update, and _id is unique). Each still costs every
  -- insert and every update an entry (an update rewrites the row, so all its indexes): on a
  -- search-keys array up to 2.6 kB, on a conversation row four of its seven indexes. That holds
  -- for a compound one too ((conversationId, _id) on messages, (memberIds, updatedAt) on
  -- conversations): @> on one field cannot use it either. Unique ones stay: they are the
  -- (sender, clientMsgId) and direct-pair guarantees.
  FOR r IN
    SELECT ic.relname AS idx
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ic.relam
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = '${schema}' AND am.amname = 'btree' AND NOT i.indisunique
      AND c.relname NOT LIKE '\\_ferretdb\\_%'
  LOOP
    EXECUTE format('DROP INDEX %I.%I', '${schema}', r.idx);
  END LOOP;
END $$;`);
}

export async function dropDatabase(name: string): Promise<void> {
  await psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
}
