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
