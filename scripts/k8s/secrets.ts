/**
 * Generates every secret a cluster install needs into a folder outside git (mode 0700), with
 * the passwords embedded in the connection URLs consistent between namespaces, and prints the
 * `kubectl create secret` commands that load them. Nothing is sent anywhere.
 *
 * Usage: tsx scripts/k8s/secrets.ts <dir> [--prod|--dev]   (prod: 3-member MongoDB URLs)
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SECRET_GENERATORS } from '../stack/secrets.ts';

const pw = (n = 24) => randomBytes(n).toString('base64url');
const svc = (name: string) => `${name}.chat.svc.cluster.local`;

export function clusterSecrets(opts: { members: number }): Record<string, Record<string, string>> {
  const redis = pw();
  const rabbit = pw();
  const app = pw();
  const mongoHosts = Array.from({ length: opts.members }, (_, i) => `mongodb-${i}.mongodb-headless.chat.svc.cluster.local:27017`).join(',');
  const mongoUrl = `mongodb://chat:${app}@${mongoHosts}/chat?replicaSet=rs0&authSource=admin`;
  const redisUrl = `redis://:${redis}@${svc('redis')}:6379`;
  const amqpUrl = `amqp://chat:${rabbit}@${svc('rabbitmq')}:5672`;
  const connector = SECRET_GENERATORS['connector-secret']!();
  const minioUser = SECRET_GENERATORS['minio-access-key']!();
  const minioPassword = SECRET_GENERATORS['minio-secret-key']!();
  return {
    'chat/chat-connections': { 'mongo-url': mongoUrl, 'redis-url': redisUrl, 'amqp-url': amqpUrl },
    // basic-auth-password: fill in from `kubectl -n openfaas get secret basic-auth`.
    'chat/connector-secrets': { 'connector-secret': connector, 'basic-auth-user': 'admin', 'basic-auth-password': 'REPLACE_ME' },
    'chat/redis-auth': { password: redis },
    'chat/rabbitmq-auth': { username: 'chat', password: rabbit, 'erlang-cookie': pw(32) },
    'chat/mongodb-auth': { 'root-username': 'root', 'root-password': pw(), 'app-password': app, keyfile: randomBytes(512).toString('base64') },
    'chat/minio-auth': { 'root-user': minioUser, 'root-password': minioPassword },
    'openfaas-fn/jwt-signing-keys': { 'jwt-signing-keys': SECRET_GENERATORS['jwt-signing-keys']!() },
    'openfaas-fn/connector-secret': { 'connector-secret': connector },
    'openfaas-fn/minio-access-key': { 'minio-access-key': minioUser },
    'openfaas-fn/minio-secret-key': { 'minio-secret-key': minioPassword },
    'openfaas-fn/vapid-keys': { 'vapid-keys': SECRET_GENERATORS['vapid-keys']!() },
    'openfaas-fn/mongo-url': { 'mongo-url': mongoUrl },
    'openfaas-fn/redis-url': { 'redis-url': redisUrl },
    'openfaas-fn/amqp-url': { 'amqp-url': amqpUrl },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: tsx scripts/k8s/secrets.ts <dir> [--dev]');
  const secrets = clusterSecrets({ members: process.argv.includes('--dev') ? 1 : 3 });
  for (const [id, keys] of Object.entries(secrets)) {
    const [ns, name] = id.split('/') as [string, string];
    const folder = path.join(dir, ns, name);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    for (const [k, v] of Object.entries(keys)) writeFileSync(path.join(folder, k), v, { mode: 0o600 });
    const from = Object.keys(keys).map((k) => `--from-file=${k}=${path.join(folder, k)}`).join(' ');
    console.log(`kubectl -n ${ns} create secret generic ${name} ${from}`);
  }
}
