import http from 'node:http';
import { ConfigError, readSecret } from '@chat/shared/config';
import { createLogger } from '@chat/shared/log';
import { loadConnectorConfig } from './config.ts';
import { Connector } from './connector.ts';
import { httpInvoker } from './invoker.ts';
import { gatewaySource, stackFileSource } from './subscriptions.ts';

/**
 * The connector: delivers RabbitMQ events to the functions whose `topic` annotation names them,
 * OpenFaaS-connector style, with batching, backoff retries and a dead-letter queue.
 */
const log = createLogger('connector');
let config: ReturnType<typeof loadConnectorConfig>;
let secret: string;
try {
  config = loadConnectorConfig();
  secret = readSecret('connector-secret');
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`connector: ${e.message}\n`);
  process.exit(78);
}

const optionalSecret = (name: string) => {
  try {
    return readSecret(name);
  } catch {
    return undefined;
  }
};
const basicUser = optionalSecret('basic-auth-user');
const basicPassword = optionalSecret('basic-auth-password');

const connector = new Connector({
  amqpUrl: config.AMQP_URL,
  source:
    config.FUNCTION_SOURCE === 'gateway'
      ? gatewaySource({ gatewayUrl: config.GATEWAY_URL, basicAuth: basicUser && basicPassword ? { user: basicUser, password: basicPassword } : undefined })
      : stackFileSource(config.STACK_FILE),
  invoke: httpInvoker({ gatewayUrl: config.GATEWAY_URL, secret, timeoutMs: config.INVOKE_TIMEOUT_MS }),
  policy: {
    maxAttempts: config.MAX_ATTEMPTS,
    permanentMaxAttempts: config.PERMANENT_MAX_ATTEMPTS,
    baseMs: config.RETRY_BASE_MS,
    maxMs: config.RETRY_MAX_MS,
  },
  prefetch: config.PREFETCH,
  batch: { maxItems: config.BATCH_MAX, maxBytes: config.BATCH_MAX_BYTES, maxWaitMs: config.BATCH_WAIT_MS },
  maxInFlight: config.MAX_IN_FLIGHT,
  refreshIntervalMs: config.REFRESH_INTERVAL_MS,
  log,
});

const server = http.createServer((req, res) => {
  const path = (req.url ?? '').split('?')[0];
  const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  // Liveness is the process itself; readiness needs RabbitMQ.
  if (path === '/healthz') json(200, { status: 'ok', amqp: connector.connected });
  else if (path === '/readyz') json(connector.connected ? 200 : 503, { status: connector.connected ? 'ready' : 'unavailable' });
  else json(404, { error: { code: 'not_found', message: 'Route not found.' } });
});
server.listen(config.PORT, process.env.HOST ?? '127.0.0.1', () => log.info('listening', { port: config.PORT }));
connector.start();

let shuttingDown = false;
const shutdown = async (signal: string) => {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info('shutting down', { signal });
  server.close();
  await connector.stop().catch((e) => log.warn('stop failed', { err: e }));
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
