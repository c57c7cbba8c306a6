import { z } from 'zod';
import { commonConfig, env, loadConfig } from '@chat/shared/config';

export const connectorConfigShape = {
  AMQP_URL: commonConfig.AMQP_URL,
  /** Where functions are invoked: the OpenFaaS gateway, or the nginx ingress locally. */
  GATEWAY_URL: env.url('http://127.0.0.1:8080'),
  /** stack: the `topic` annotations of STACK_FILE. gateway: GET ${GATEWAY_URL}/system/functions. */
  FUNCTION_SOURCE: z.enum(['stack', 'gateway']).default('stack'),
  STACK_FILE: env.str('stack.yml'),
  PORT: env.port(8081),
  /** Unacknowledged deliveries per function; bounds memory and the batch size that can build up. */
  PREFETCH: env.int(2000, 1, 10_000),
  /**
   * Events per call, up to the functions' own limit (1,000). When a backlog builds, every call
   * costs the db function one conversation write per conversation in it, whatever its size, so
   * fuller calls store more per write: 50,000 queued events took 30.5 CPU-s of the whole stack at
   * 200 and 20.5 at 1,000 (2,957 → ~4,300 msg/s in the storage bench). At chat rates calls stay
   * small anyway: BATCH_WAIT_MS closes them first.
   */
  BATCH_MAX: env.int(1000, 1, 1000),
  /** The function's body limit is 1 MiB; a batch stays below this. */
  BATCH_MAX_BYTES: env.int(768 * 1024, 1024, 1024 * 1024),
  /**
   * How long the first event of a batch waits for company. Every call costs the function a request,
   * a database round trip and a conversation write whatever its size, so at chat rates (a few
   * hundred events/s, far below full batches) 5 ms sent nearly every event alone. In the fan-out
   * bench, 50 ms took the whole stack from 1.55 to 0.92 cores at 200 msg/s, and 200 ms took the
   * storage side (connector, functions, database) from 0.31–0.39 to 0.21–0.24 cores at 200 msg/s and
   * from 0.48–0.50 to 0.34 at 1,000, cores the gateways then have. Events are already delivered to
   * sockets by then: this only delays storage and pushes, by at most this long.
   */
  BATCH_WAIT_MS: env.int(200, 0, 1000),
  /** Concurrent invocations per function. */
  MAX_IN_FLIGHT: env.int(4, 1, 64),
  /** Tries for transient failures (5xx, timeouts, function down) before the DLQ. */
  MAX_ATTEMPTS: env.int(10, 1, 100),
  /** Tries for answers that will not change by retrying (400, 413, 415, 422), before the DLQ. */
  PERMANENT_MAX_ATTEMPTS: env.int(3, 1, 100),
  RETRY_BASE_MS: env.int(1000, 10, 3_600_000),
  RETRY_MAX_MS: env.int(60_000, 10, 86_400_000),
  INVOKE_TIMEOUT_MS: env.int(30_000, 100, 600_000),
  /** How often the function list is re-read (new functions, changed topics); 0 = only at connect. */
  REFRESH_INTERVAL_MS: env.int(30_000, 0),
};

export type ConnectorConfig = ReturnType<typeof loadConnectorConfig>;
export const loadConnectorConfig = (e: Record<string, string | undefined> = process.env) => loadConfig(connectorConfigShape, e);
