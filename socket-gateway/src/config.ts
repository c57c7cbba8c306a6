import os from 'node:os';
import { z } from 'zod';
import { commonConfig, env, loadConfig } from '@chat/shared/config';

export const gatewayConfigShape = {
  ...commonConfig,
  PORT: env.port(3000),
  HOST: env.str('127.0.0.1'),
  /** Names this instance in presence records and in the sticky-routing cookie. */
  GATEWAY_ID: env.str(os.hostname()),
  SEND_RATE_LIMIT: env.int(30, 1),
  SEND_RATE_WINDOW_MS: env.int(10_000, 100),
  PUBLISH_CONFIRM_TIMEOUT_MS: env.int(5000, 100),
  /** How long a (sender, clientMsgId) is remembered for idempotent resends. */
  IDEMPOTENCY_TTL_SECONDS: env.int(86_400, 60),
  /**
   * After Redis loses the send ledger (it keeps nothing on disk), unknown sends are checked
   * against the store for this long, so the resend of a message acked before the loss gets the
   * same message back instead of a second broadcast. Longer windows catch later resends at the
   * cost of one store lookup per new send during the window.
   */
  LEDGER_RECOVERY_SECONDS: env.int(900, 0),
  MEMBERSHIP_CACHE_TTL_MS: env.int(60_000, 0),
  /**
   * static: one Redis channel per instance set; every instance sees every broadcast and keeps
   * what concerns its sockets. dynamic: a channel per room, which pays a SSUBSCRIBE per user
   * and conversation room on connect; worth it only with many instances and mostly idle rooms.
   */
  ADAPTER_SUBSCRIPTION_MODE: z.enum(['static', 'dynamic', 'dynamic-private']).default('static'),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
export const loadGatewayConfig = (e: Record<string, string | undefined> = process.env) => loadConfig(gatewayConfigShape, e);
