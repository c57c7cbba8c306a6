import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Redis } from 'ioredis';
import { portOpen } from './exec.ts';
import { deleteVhost, dropDatabase } from './infra.ts';
import { confirmation, devNames, isYes, parseResetArgs } from './local-data.ts';
import { DATA, ROOT, RUN } from './paths.ts';
import { startStack } from './stack.ts';

/** `npm start` / `npm stop` / `npm run reset`: one stack per checkout, found through its pid file. */
const PIDFILE = path.join(RUN, 'stack.json');

function running(): { pid: number; url: string } | null {
  if (!existsSync(PIDFILE)) return null;
  try {
    const info = JSON.parse(readFileSync(PIDFILE, 'utf8')) as { pid: number; url: string };
    process.kill(info.pid, 0);
    return info;
  } catch {
    return null;
  }
}

async function start() {
  const other = running();
  if (other) {
    console.log(`The chat stack is already running at ${other.url} (pid ${other.pid}). Use \`npm stop\` to stop it.`);
    return;
  }
  const t0 = Date.now();
  const stack = await startStack({ mode: 'dev' });
  mkdirSync(RUN, { recursive: true });
  writeFileSync(PIDFILE, JSON.stringify({ pid: process.pid, url: stack.baseUrl }));
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\n[stack] stopping…');
    await stack.stop();
    rmSync(PIDFILE, { force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  console.log(`\n  Chat is up in ${((Date.now() - t0) / 1000).toFixed(1)} s:  ${stack.baseUrl}\n  (Ctrl-C or \`npm stop\` stops it)\n`);
}

async function stop() {
  const info = running();
  if (!info) {
    console.log('The chat stack is not running.');
    return;
  }
  process.kill(info.pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      process.kill(info.pid, 0);
      await new Promise((r) => setTimeout(r, 200));
    } catch {
      console.log('Stopped.');
      return;
    }
  }
  console.log(`The stack (pid ${info.pid}) did not stop within 20 s.`);
  process.exitCode = 1;
}

/**
 * `npm run reset [-- --yes]`: deletes this checkout's local data (never another clone's): its
 * PostgreSQL database, `.local/data/dev` (MinIO's files, FerretDB's state), its Redis keys and its
 * RabbitMQ vhost with every queue in it. Refuses while the stack runs; asks first unless --yes.
 */
async function reset(argv: string[]) {
  const args = parseResetArgs(argv);
  if ('error' in args) {
    console.error(args.error);
    process.exitCode = 2;
    return;
  }
  const info = running();
  if (info) {
    console.error(`The chat stack is running at ${info.url} (pid ${info.pid}); stop it first (\`npm stop\`).`);
    process.exitCode = 1;
    return;
  }
  const names = devNames(ROOT);
  const dataDir = path.join(DATA, 'dev');
  const what = [
    `PostgreSQL database ${names.database}`,
    `${path.relative(ROOT, dataDir)} (uploaded files, FerretDB state)`,
    `Redis keys ${names.redisPrefix}*`,
    `RabbitMQ vhost ${names.vhost} and its queues`,
  ];
  console.log(`This deletes the local data of ${ROOT}:\n${what.map((w) => `  - ${w}`).join('\n')}`);
  const decision = confirmation(args, Boolean(process.stdin.isTTY && process.stdout.isTTY));
  if (decision === 'refuse') {
    console.error('Nothing deleted: no terminal to ask on. Run `npm run reset -- --yes` to delete without asking.');
    process.exitCode = 1;
    return;
  }
  if (decision === 'ask') {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question('Delete all of it? [y/N] ');
    rl.close();
    if (!isYes(answer)) {
      console.log('Nothing deleted.');
      return;
    }
  }
  const left: string[] = [];
  if (await portOpen(5432)) await dropDatabase(names.database);
  else left.push(`${names.database} (PostgreSQL is not running)`);
  rmSync(dataDir, { recursive: true, force: true });
  if (await portOpen(6379)) {
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${names.redisPrefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    await redis.quit();
  } else left.push(`Redis keys ${names.redisPrefix}* (Redis is not running)`);
  if (await portOpen(5672)) await deleteVhost(names.vhost);
  else left.push(`vhost ${names.vhost} (RabbitMQ is not running)`);
  console.log(left.length ? `Deleted, except: ${left.join('; ')}.` : 'Deleted. The next `npm start` begins with empty local data.');
}

const cmd = process.argv[2];
if (cmd === 'start') await start().catch((e) => { console.error(`[stack] ${e instanceof Error ? e.message : e}`); process.exit(1); });
else if (cmd === 'stop') await stop();
else if (cmd === 'reset') await reset(process.argv.slice(3));
else {
  console.error('usage: cli.ts start|stop|reset [--yes]');
  process.exit(2);
}
