import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RUN } from './paths.ts';
import { startStack } from './stack.ts';

/** `npm start` / `npm stop`: one stack per checkout, found through its pid file. */
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

const cmd = process.argv[2];
if (cmd === 'start') await start().catch((e) => { console.error(`[stack] ${e instanceof Error ? e.message : e}`); process.exit(1); });
else if (cmd === 'stop') await stop();
else {
  console.error('usage: cli.ts start|stop');
  process.exit(2);
}
