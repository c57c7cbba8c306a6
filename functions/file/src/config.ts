import { z } from 'zod';
import { commonConfig, env, loadConfig } from '@chat/shared/config';

export const fileConfigShape = {
  MONGO_URL: commonConfig.MONGO_URL,
  JWKS_URL: commonConfig.JWKS_URL,
  JWT_ISSUER: commonConfig.JWT_ISSUER,
  JWT_AUDIENCE: commonConfig.JWT_AUDIENCE,
  /** MinIO as this function reaches it (bucket and object operations). */
  S3_ENDPOINT: env.url('http://127.0.0.1:9000'),
  S3_BUCKET: env.str('chat-files'),
  S3_REGION: env.str('us-east-1'),
  /**
   * The origin browsers use. URLs are signed for it; the ingress proxies /<bucket>/ to MinIO with
   * the Host unchanged, so the signature still verifies there.
   */
  PUBLIC_URL: z
    .string()
    .url()
    // Presigned URLs are path-style under the origin root, which is where the ingress routes the bucket.
    .refine((u) => new URL(u).pathname === '/' && !new URL(u).search, 'must be an origin without a path')
    .default('http://localhost:8080'),
  MAX_UPLOAD_BYTES: env.int(25 * 1024 * 1024, 1),
  UPLOAD_URL_TTL_SECONDS: env.int(15 * 60, 60, 7 * 86_400),
  DOWNLOAD_URL_TTL_SECONDS: env.int(5 * 60, 10, 86_400),
  /** Uploads not completed within this time are deleted, record and object. */
  PENDING_UPLOAD_TTL_SECONDS: env.int(86_400, 60),
  PENDING_SWEEP_INTERVAL_SECONDS: env.int(3600, 10),
  PREVIEW_MAX_PX: env.int(320, 16, 2048),
  /** Images above this many pixels get no preview (decompression bombs stay cheap). */
  PREVIEW_MAX_INPUT_PIXELS: env.int(50_000_000, 1),
  /** Side of the square WebP an uploaded avatar becomes. */
  AVATAR_PX: env.int(256, 32, 1024),
  AVATAR_MAX_BYTES: env.int(10 * 1024 * 1024, 1024),
  /** user.updated events (a new avatar) go to the gateways through RabbitMQ. */
  AMQP_URL: commonConfig.AMQP_URL,
  LOG_LEVEL: commonConfig.LOG_LEVEL,
};

export type FileConfig = ReturnType<typeof loadFileConfig>;
export const loadFileConfig = (e: Record<string, string | undefined> = process.env) => loadConfig(fileConfigShape, e);
