import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { psql } from '../../scripts/stack/infra.ts';
import type { Stack } from '../../scripts/stack/stack.ts';
import { median } from './stats.ts';

/**
 * What PostgreSQL ran for a request made through FerretDB, each statement with its plan and actual
 * times: auto_explain with log_analyze on the stack's own database (EXPLAIN ANALYZE of every
 * statement as it runs), read back from the server's log. Settings of a database reach only the
 * sessions opened after them, so FerretDB is restarted to open its pool again. Timings are taken
 * before this: log_analyze slows every statement. Diagnostic only (why a target is missed).
 */
export interface Statement {
  /** The SQL as FerretDB sent it (parameters as $n). */
  sql: string;
  /** The plan with actual times, as auto_explain wrote it. */
  plan: string;
  ms: number;
}

export interface StatementShape {
  sql: string;
  /** The first plan of this shape, as an example. */
  plan: string;
  count: number;
  medianMs: number;
  totalMs: number;
}

export interface ExplainedRequest {
  name: string;
  wallMs: number;
  statements: number;
  /** Statement time summed (they run in parallel on FerretDB's connections, so more than wall time is possible). */
  sqlMs: number;
  shapes: StatementShape[];
}

/** Debian's pg_ctlcluster sends the server's stderr here (logging_collector is off by default). */
async function serverLog(database: string): Promise<string | null> {
  const current = (await psql('SELECT pg_current_logfile()', database)).trim();
  if (current) {
    const dir = (await psql('SHOW data_directory', database)).trim();
    const file = current.startsWith('/') ? current : `${dir}/${current}`;
    if (existsSync(file)) return file;
  }
  const major = (await psql('SHOW server_version_num', database)).trim().slice(0, 2);
  const debian = `/var/log/postgresql/postgresql-${major}-main.log`;
  return existsSync(debian) ? debian : null;
}

function readFrom(file: string, offset: number): string {
  const size = statSync(file).size;
  if (size <= offset) return '';
  const buf = Buffer.alloc(size - offset);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}

/** auto_explain's entries of one database: a prefixed "duration: … plan:" line, then tab-indented lines. */
function parsePlans(log: string, database: string): Statement[] {
  const out: Statement[] = [];
  let cur: Statement | null = null;
  for (const line of log.split('\n')) {
    if (line.startsWith('\t')) {
      if (!cur) continue;
      if (line.startsWith('\tQuery Text: ')) cur.sql = line.slice('\tQuery Text: '.length).trim();
      else cur.plan += `${line.slice(1)}\n`;
      continue;
    }
    cur = null;
    const m = /@(\S+) LOG:\s+duration: ([\d.]+) ms\s+plan:/.exec(line);
    if (m && m[1] === database) out.push((cur = { sql: '', plan: '', ms: Number(m[2]) }));
  }
  return out;
}

/** Statements grouped by their SQL and plan shape (numbers and literals masked), busiest first. */
function shapes(statements: Statement[]): StatementShape[] {
  const by = new Map<string, Statement[]>();
  const mask = (s: string) => s.replace(/'(?:[^']|'')*'/g, "'…'").replace(/\d+(\.\d+)?/g, 'N');
  for (const s of statements) {
    const key = `${s.sql}\n${mask(s.plan.split('\n')[0] ?? '')}`;
    by.set(key, [...(by.get(key) ?? []), s]);
  }
  return [...by.values()]
    .map((ss) => ({ sql: ss[0]!.sql, plan: ss[0]!.plan.trimEnd(), count: ss.length, medianMs: median(ss.map((s) => s.ms)) ?? 0, totalMs: ss.reduce((a, s) => a + s.ms, 0) }))
    .sort((a, b) => b.totalMs - a.totalMs);
}

/**
 * Turns auto_explain on for the stack's database, restarts FerretDB, and explains each request
 * (after one unexplained run of it, so caches are as warm as in the timings). Leaves the settings
 * on: the database is the run's own and is dropped with the stack.
 */
export async function explainRequests(stack: Stack, requests: Array<{ name: string; run: () => Promise<void> }>, log: (m: string) => void): Promise<ExplainedRequest[] | string> {
  const pg = stack.postgres;
  const ferret = stack.procs.get('ferretdb');
  if (!pg || !ferret) return 'not on FerretDB over PostgreSQL';
  const file = await serverLog(pg.database);
  if (!file) return "PostgreSQL's server log was not found";
  const db = `"${pg.database}"`;
  await psql(
    [
      `ALTER DATABASE ${db} SET session_preload_libraries = 'auto_explain'`,
      `ALTER DATABASE ${db} SET auto_explain.log_min_duration = 0`,
      `ALTER DATABASE ${db} SET auto_explain.log_analyze = on`,
      `ALTER DATABASE ${db} SET auto_explain.log_buffers = on`,
      `ALTER DATABASE ${db} SET auto_explain.log_timing = on`,
    ].join(';\n'),
  );
  log('explain: FerretDB restarted so that its connections load auto_explain');
  await ferret.stop();
  await ferret.start();
  const out: ExplainedRequest[] = [];
  for (const [i, r] of requests.entries()) {
    // The services' drivers find the restarted FerretDB on their next operation; the first may fail.
    await (i === 0 ? r.run().catch(() => r.run()) : r.run());
    const offset = statSync(file).size;
    const t = performance.now();
    await r.run();
    const wallMs = performance.now() - t;
    // The server writes its log lines as statements end; the last ones may trail the response.
    let statements: Statement[] = [];
    for (let i = 0; i < 20; i++) {
      const now = parsePlans(readFrom(file, offset), pg.database);
      if (now.length && now.length === statements.length) break;
      statements = now;
      await new Promise((res) => setTimeout(res, 100));
    }
    out.push({ name: r.name, wallMs, statements: statements.length, sqlMs: statements.reduce((a, s) => a + s.ms, 0), shapes: shapes(statements) });
  }
  return out;
}
