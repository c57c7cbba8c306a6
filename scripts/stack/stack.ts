import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderNginxConf } from '../../ingress/nginx.conf.ts';
import { buildServices, ensureWebBuild, hasConnector, hasGateway, listFunctions } from './build.ts';
import { freePort, httpOk, portOpen } from './exec.ts';
import { DATABASE_MARKER, devNames } from './local-data.ts';
import { addPushdownIndexes, createDatabase, createVhost, deleteVhost, dropDatabase, ensurePostgres, ensureRabbit, ensureRedis, ensureRole } from './infra.ts';
import { DATA, ROOT, RUN, SECRETS } from './paths.ts';
import { logSink, Proc, type ProcSpec } from './procs.ts';
import { ensureSecrets } from './secrets.ts';
import { ensureTools, toolPath } from './tools.ts';

export const BUCKET = 'chat-files';
/** FerretDB keeps a MongoDB database as a PostgreSQL schema of the same name. */
const MONGO_DATABASE = 'chat';

export interface StackOptions {
  /** dev: fixed ports, data kept in .local/data. test: free ports, fresh data, private vhost and Redis prefix. */
  mode: 'dev' | 'test';
  port?: number;
  /** Where per-process logs go; the console when unset. */
  logFile?: string;
  /** Extra environment for every project process (e.g. tighter rate limits in tests). */
  env?: Record<string, string>;
  /** Extra node flags for the services (e.g. --cpu-prof, which NODE_OPTIONS does not allow). */
  nodeArgs?: string[];
  log?: (m: string) => void;
  browser?: boolean;
  /** Serve FerretDB's debug handler (per-command counters at /debug/metrics) on a free port. */
  ferretdbMetrics?: boolean;
  /**
   * Reach RabbitMQ through a proxy process (`broker-proxy`) that a test can stop to cut the broker
   * for this stack alone. On by default in test mode; the bench turns it off to measure the path a
   * deployment has.
   */
  brokerProxy?: boolean;
  /**
   * More instances of a function behind the ingress (`{ db: 2 }` adds `db-2`), as OpenFaaS runs
   * replicas. They are routed to but not started: a test starts them (controlProc) when it wants
   * a function with two instances, and stops them after.
   */
  replicas?: Record<string, number>;
  /** Write the ingress's access log (one line per request, with its status) to the run directory. */
  accessLog?: boolean;
}

export interface Stack {
  baseUrl: string;
  /** `functions` is each function's first instance; `replicas` every instance's port, the first included. */
  ports: { ingress: number; ferretdb: number; ferretdbMetrics: number | null; minio: number; functions: Record<string, number>; replicas: Record<string, number[]>; gateways: number[]; connector: number | null };
  /** The ingress's access log, when asked for. */
  accessLog: string | null;
  /** The environment every project process got (connection URLs, prefixes, secrets dir). */
  env: Record<string, string>;
  /** The PostgreSQL database FerretDB keeps this stack's data in (a schema per MongoDB database); null on sqlite or an external URL. */
  postgres: { database: string; schema: string } | null;
  procs: Map<string, Proc>;
  stop(): Promise<void>;
}

const DEV_PORTS = { ferretdb: 27017, minio: 9000, minioConsole: 9001, fnBase: 3101, gwBase: 3201, connector: 3301 };

export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? ((m: string) => console.log(`[stack] ${m}`));
  const test = opts.mode === 'test';
  const runId = test ? `t${process.pid}${Date.now().toString(36)}` : 'dev';
  const dataDir = test ? path.join(DATA, 'test', runId) : path.join(DATA, 'dev');
  const runDir = path.join(RUN, runId);
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(runDir, { recursive: true });

  await Promise.all([ensureRedis(log), ensureRabbit(log), ensureTools(log, { browser: opts.browser })]);
  ensureSecrets(SECRETS);
  const [bundles, webRoot] = await Promise.all([buildServices(), ensureWebBuild(log)]);

  const pick = async (devPort: number) => (test ? freePort() : devPort);
  const fns = listFunctions();
  const ports = {
    ingress: opts.port ?? (test ? await freePort() : Number(process.env.PORT ?? 8080)),
    ferretdb: await pick(DEV_PORTS.ferretdb),
    ferretdbMetrics: opts.ferretdbMetrics ? await freePort() : null,
    minio: await pick(DEV_PORTS.minio),
    minioConsole: await pick(DEV_PORTS.minioConsole),
    functions: Object.fromEntries(await Promise.all(fns.map(async (f, i) => [f, await pick(DEV_PORTS.fnBase + i)] as const))),
    gateways: hasGateway() ? [await pick(DEV_PORTS.gwBase), await pick(DEV_PORTS.gwBase + 1)] : [],
    connector: hasConnector() ? await pick(DEV_PORTS.connector) : null,
  };
  // Extra instances get free ports, in dev mode too (the fixed ones are one per function).
  const replicas: Record<string, number[]> = {};
  for (const fn of fns) {
    replicas[fn] = [ports.functions[fn]!];
    for (let i = 1; i < (opts.replicas?.[fn] ?? 1); i++) replicas[fn].push(await freePort());
  }
  for (const [what, port] of [['ingress', ports.ingress], ['ferretdb', ports.ferretdb], ['minio', ports.minio]] as const) {
    if (await portOpen(port)) throw new Error(`Port ${port} (${what}) is already in use; set PORT or stop what holds it.`);
  }

  // FerretDB's postgresql backend evaluates equality filters in SQL; its sqlite backend filters
  // whole collections in Go (a history page took ~1 s at 20,000 messages), so sqlite is the
  // no-server fallback rather than the default.
  const nodeArgs = opts.nodeArgs ?? [];
  const backend = process.env.FERRETDB_BACKEND === 'sqlite' ? 'sqlite' : 'postgresql';
  // Dev data is this checkout's own (local-data.ts): its database, vhost and Redis prefix.
  const dev = devNames(ROOT);
  const pgDatabase = test ? `chat_${runId}` : dev.database;
  const pgPassword = readFileSync(path.join(SECRETS, 'postgres-password'), 'utf8').trim();
  const pgUrl = process.env.FERRETDB_POSTGRESQL_URL ?? `postgres://chat:${encodeURIComponent(pgPassword)}@127.0.0.1:5432/${pgDatabase}?pool_max_conns=80`;
  // pool_max_conns: FerretDB 1.24 can deadlock when more updates arrive at once than its pool
  // has connections (seen here: 40 parallel updateOne on a pool of 20 hung for good, all PostgreSQL
  // sessions idle), so the pool stays above what the services' drivers can have in flight
  // (maxPoolSize 20 each), and below PostgreSQL's default limit of 100.
  const managedPg = backend === 'postgresql' && !process.env.FERRETDB_POSTGRESQL_URL;
  if (managedPg) {
    await ensurePostgres(log);
    await ensureRole(pgPassword);
    await prepareDevDatabase(test, dataDir, pgDatabase, log);
    await createDatabase(pgDatabase);
  }
  const vhost = test ? `chat-${runId}` : dev.vhost;
  const brokerProxy = opts.brokerProxy ?? test;
  const amqpPort = brokerProxy ? await freePort() : 5672;
  await createVhost(vhost);
  const baseUrl = `http://localhost:${ports.ingress}`;
  const authPort = ports.functions.auth;
  const env: Record<string, string> = {
    NODE_ENV: test ? 'test' : 'development',
    MONGO_URL: `mongodb://127.0.0.1:${ports.ferretdb}/${MONGO_DATABASE}`,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: test ? `chat-${runId}:` : dev.redisPrefix,
    AMQP_URL: `amqp://guest:guest@127.0.0.1:${amqpPort}/${encodeURIComponent(vhost)}`,
    JWKS_URL: authPort ? `http://127.0.0.1:${authPort}/.well-known/jwks.json` : `${baseUrl}/api/auth/.well-known/jwks.json`,
    SECRETS_DIR: SECRETS,
    PUBLIC_URL: baseUrl,
    GATEWAY_URL: `http://127.0.0.1:${ports.ingress}`,
    S3_ENDPOINT: `http://127.0.0.1:${ports.minio}`,
    S3_BUCKET: BUCKET,
    STACK_FILE: path.join(ROOT, 'stack.yml'),
    ...(process.env.PUSH_ALLOWED_ORIGINS ? { PUSH_ALLOWED_ORIGINS: process.env.PUSH_ALLOWED_ORIGINS } : {}),
    ...opts.env,
  };

  reapLeftovers(runDir);
  const sink = logSink(opts.logFile);
  const procs = new Map<string, Proc>();
  let index = 0;
  const add = (spec: ProcSpec) => {
    const p = new Proc(spec, { ...sink, index: index++ }, !test, () => recordPids(runDir, procs));
    procs.set(spec.name, p);
    return p;
  };

  const ferretData = path.join(dataDir, 'ferretdb');
  mkdirSync(ferretData, { recursive: true });
  add({
    name: 'ferretdb',
    cmd: toolPath('ferretdb'),
    args: [
      ...(backend === 'sqlite'
        ? ['--handler=sqlite', `--sqlite-url=file:${ferretData}/`]
        : ['--handler=postgresql']),
      `--listen-addr=127.0.0.1:${ports.ferretdb}`,
      `--state-dir=${ferretData}`,
      `--debug-addr=${ports.ferretdbMetrics ? `127.0.0.1:${ports.ferretdbMetrics}` : '-'}`,
      '--telemetry=disable',
      '--log-level=warn',
    ],
    env: {
      // The URL carries the role's password: an environment variable, not an argument visible in ps.
      ...(backend === 'postgresql' ? { FERRETDB_POSTGRESQL_URL: pgUrl } : {}),
      // FerretDB spends most of a read turning rows into BSON, and a quarter of that in the
      // garbage collector: collecting at 5× the live heap instead of 2× makes every read about a
      // quarter faster (bench/FINDINGS.md, "FerretDB's garbage collector"), and the limit keeps
      // the heap that this lets grow bounded. Either can be set from the environment.
      GOGC: process.env.GOGC ?? '400',
      GOMEMLIMIT: process.env.GOMEMLIMIT ?? '512MiB',
    },
    ready: () => portOpen(ports.ferretdb),
  });
  const minioData = path.join(dataDir, 'minio');
  mkdirSync(minioData, { recursive: true });
  add({
    name: 'minio',
    cmd: toolPath('minio'),
    args: ['server', minioData, '--address', `127.0.0.1:${ports.minio}`, '--console-address', `127.0.0.1:${ports.minioConsole}`, '--quiet'],
    env: {
      MINIO_ROOT_USER: readFileSync(path.join(SECRETS, 'minio-access-key'), 'utf8').trim(),
      MINIO_ROOT_PASSWORD: readFileSync(path.join(SECRETS, 'minio-secret-key'), 'utf8').trim(),
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
    },
    ready: () => httpOk(`http://127.0.0.1:${ports.minio}/minio/health/live`),
  });

  if (brokerProxy)
    add({
      name: 'broker-proxy',
      cmd: process.execPath,
      args: [path.join(ROOT, 'scripts/stack/tcp-proxy.mjs'), String(amqpPort), '5672'],
      ready: () => portOpen(amqpPort),
    });

  const started: Proc[] = [];
  let accessLog: string | null = null;
  const stop = async () => {
    for (const p of [...procs.values()].reverse()) await p.stop().catch(() => undefined);
    if (test) await deleteVhost(vhost);
    if (test && managedPg) await dropDatabase(pgDatabase);
  };

  try {
    await Promise.all([...procs.values()].map(async (p) => { await p.start(); started.push(p); }));
    const fnProcs = fns.flatMap((fn) =>
      replicas[fn]!.map((port, i) =>
        add({
          name: i ? `${fn}-${i + 1}` : fn,
          cmd: process.execPath,
          args: [...nodeArgs, '--enable-source-maps', bundles[fn]!],
          env: { ...env, PORT: String(port), OPENFAAS_NAME: fn },
          // /healthz answers while a function is still loading; /readyz once it can serve.
          ready: () => httpOk(`http://127.0.0.1:${port}/readyz`),
        }),
      ),
    );
    // Extra instances are routed to but left for the test that wants them to start: every other
    // test keeps one instance per function, as before (a stopped one refuses, and nginx moves on).
    await Promise.all(fnProcs.filter((p) => !/-\d+$/.test(p.spec.name)).map((p) => p.start()));
    // Ready functions have created their collections and indexes; FerretDB's tables now exist.
    if (managedPg) await addPushdownIndexes(pgDatabase, MONGO_DATABASE);
    const gwProcs = ports.gateways.map((port, i) =>
      add({
        name: `gateway-${i + 1}`,
        cmd: process.execPath,
        args: [...nodeArgs, '--enable-source-maps', bundles['socket-gateway']!],
        env: { ...env, PORT: String(port), GATEWAY_ID: `gw${i + 1}` },
        ready: () => httpOk(`http://127.0.0.1:${port}/healthz`),
      }),
    );
    await Promise.all(gwProcs.map((p) => p.start()));

    const conf = path.join(runDir, 'nginx.conf');
    accessLog = opts.accessLog ? path.join(runDir, 'access.log') : null;
    writeFileSync(
      conf,
      renderNginxConf({
        port: ports.ingress,
        runDir,
        webRoot: webRoot ?? placeholderWeb(runDir),
        functions: replicas,
        gateways: ports.gateways.map((port, i) => ({ id: `gw${i + 1}`, port })),
        storage: { bucket: BUCKET, port: ports.minio },
        uploadMaxMiB: 25,
        ...(accessLog ? { accessLog } : {}),
      }),
    );
    await add({ name: 'nginx', cmd: 'nginx', args: ['-p', runDir, '-c', conf], ready: () => portOpen(ports.ingress) }).start();
    if (ports.connector) {
      const port = ports.connector;
      await add({
        name: 'connector',
        cmd: process.execPath,
        args: [...nodeArgs, '--enable-source-maps', bundles.connector!],
        env: { ...env, PORT: String(port) },
        ready: () => httpOk(`http://127.0.0.1:${port}/healthz`),
      }).start();
    }
  } catch (e) {
    await stop();
    throw e;
  }

  return { baseUrl, ports: { ...ports, replicas }, accessLog, env, postgres: managedPg ? { database: pgDatabase, schema: MONGO_DATABASE } : null, procs, stop };
}

/**
 * The dev database belongs with `.local/data/dev`: a marker there records that it was created with
 * that directory. A data directory without the marker was deleted (or never existed), so a
 * database of this checkout's name is what is left of the old data, and goes, as the README says.
 */
async function prepareDevDatabase(test: boolean, dataDir: string, database: string, log: (m: string) => void): Promise<void> {
  if (test) return;
  const marker = path.join(dataDir, DATABASE_MARKER);
  if (existsSync(marker)) return;
  log(`new local data in ${path.relative(ROOT, dataDir)}: PostgreSQL database ${database} starts empty`);
  await dropDatabase(database);
  writeFileSync(marker, `${database}\n`);
}

/**
 * Child pids are written down as they start, so a stack whose launcher died without cleaning up
 * (kill -9, a closed terminal) is reaped by the next start instead of holding its ports.
 */
function recordPids(runDir: string, procs: Map<string, Proc>): void {
  const pids = [...procs.values()].map((p) => p.pid).filter((p): p is number => typeof p === 'number');
  writeFileSync(path.join(runDir, 'pids.json'), JSON.stringify({ owner: process.pid, pids }));
}

function reapLeftovers(runDir: string): void {
  const file = path.join(runDir, 'pids.json');
  if (!existsSync(file)) return;
  const { owner, pids } = JSON.parse(readFileSync(file, 'utf8')) as { owner: number; pids: number[] };
  if (owner !== process.pid && alive(owner)) return;
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(ROOT)) process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function placeholderWeb(runDir: string): string {
  const dir = path.join(runDir, 'www');
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Chat</title><p>The web app is not built yet.</p>');
  }
  return dir;
}
