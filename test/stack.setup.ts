import { mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startStack, type Stack } from '../scripts/stack/stack.ts';
import { LOCAL } from '../scripts/stack/paths.ts';
import { PROC_ACTIONS, type ProcAction } from '../scripts/stack/procs.ts';
import type { StackInfo } from './stack.ts';

/**
 * Starts a private stack for one test project and hands its addresses to the test files. Test
 * files run in other processes, so process control (PROC_ACTIONS, for failure tests) goes
 * through a small HTTP endpoint on loopback.
 */
export default async function setup(project: TestProject) {
  const logs = path.join(LOCAL, 'logs');
  mkdirSync(logs, { recursive: true });
  const logFile = path.join(logs, `${project.name}-${Date.now()}.log`);
  const stack: Stack = await startStack({
    mode: 'test',
    logFile,
    log: () => undefined,
    // The chaos suite's rolling restart starts a second db instance (db-2) and stops each in turn
    // under load while the other serves, counting the ingress's 5xx from its access log.
    ...(project.name === 'chaos' ? { replicas: { db: 2 }, accessLog: true } : {}),
    env: {
      // Tests create many users from one address; the limits themselves are tested with their own keys.
      REGISTER_MAX_PER_IP: '100000',
      LOGIN_MAX_FAILURES_PER_IP: '100000',
      LOGIN_MAX_FAILURES_PER_USER: '5',
      PUSH_ALLOWED_ORIGINS: process.env.PUSH_ALLOWED_ORIGINS ?? 'http://127.0.0.1:9555',
      // Failure tests stream hundreds of messages from one sender; the limit has its own test.
      ...(project.name === 'chaos' ? { SEND_RATE_LIMIT: '100000' } : {}),
    },
  });

  const control = http.createServer(async (req, res) => {
    const m = /^\/procs\/([\w-]+)\/(\w+)$/.exec(req.url ?? '');
    const proc = m && stack.procs.get(m[1]!);
    const action = m?.[2] as ProcAction | undefined;
    if (!proc || !action || !PROC_ACTIONS.includes(action) || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    try {
      await proc[action]();
      res.writeHead(204).end();
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
  const controlPort = (control.address() as { port: number }).port;

  const info: StackInfo = {
    baseUrl: stack.baseUrl,
    ports: stack.ports,
    env: stack.env,
    postgres: stack.postgres,
    controlUrl: `http://127.0.0.1:${controlPort}`,
    logFile,
    accessLog: stack.accessLog,
  };
  project.provide('stack', info);

  return async () => {
    control.close();
    await stack.stop();
  };
}
