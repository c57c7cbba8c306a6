import http from 'node:http';
import { ConfigError, readSecret } from '@chat/shared/config';
import { createLogger } from '@chat/shared/log';
import { answerHealth, onShutdown, shutdownTiming, type ShutdownTiming } from '@chat/shared/runtime/lifecycle';
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
let timing: ShutdownTiming;
try {
  config = loadConnectorConfig();
  secret = readSecret('connector-secret');
  timing = shutdownTiming();
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

// Liveness is the process itself; readiness needs RabbitMQ and every function's consumer.
const ready = async () => connector.ready();
// GET /stats: deliveries per function (docs/faults.md), on this internal port only.
const server = http.createServer((req, res) => {
  if (answerHealth(req, res, ready)) return;
  if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/stats') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ functions: connector.stats() }));
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"Route not found."}}');
});
server.listen(config.PORT, process.env.HOST ?? '127.0.0.1', () => log.info('listening', { port: config.PORT }));
connector.start();

// SIGTERM: readiness fails at once; after SHUTDOWN_DELAY_MS the consumers are cancelled and
// every delivery in flight is settled (acked, or handed back) before the connection closes.
onShutdown(log, async () => {
  await connector.stop();
  server.close();
}, timing);
