import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FUNCTIONS_DIR, functionResource, renderFunctions } from './generate-functions.ts';
import { parseWatchdogInterval, shutdownTiming } from '../../shared/src/runtime/lifecycle.ts';
import { ROOT } from '../stack/paths.ts';
import { readStackFile } from './stack-file.ts';
import { validateAll } from './validate.ts';

const stack = readStackFile();

describe('stack.yml', () => {
  it('declares the four functions on the project template, copying shared/ into each build', () => {
    expect(Object.keys(stack.functions).sort()).toEqual(['auth', 'db', 'file', 'notification']);
    expect(stack.configuration?.templates?.map((t) => t.name)).toEqual(['hono-node']);
    expect(stack.configuration?.copy).toEqual(['./shared']);
    for (const fn of Object.values(stack.functions)) expect(fn.lang).toBe('hono-node');
  });

  it('names a source for its template (faas-cli template pull stack needs one)', () => {
    for (const t of stack.configuration?.templates ?? []) expect(t.source, t.name).toBeTruthy();
  });

  it('gives every function the template\'s watchdog timings: read < exec < write, and a drain longer than the health-check interval', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'template/hono-node/Dockerfile'), 'utf8');
    const keys = ['read_timeout', 'exec_timeout', 'write_timeout', 'healthcheck_interval'];
    const image = Object.fromEntries(keys.map((k) => [k, new RegExp(`\\b${k}=(\\S+)`).exec(dockerfile)?.[1]]));
    const ms = (v: string | undefined) => parseWatchdogInterval(v) ?? NaN;
    expect(ms(image.read_timeout)).toBeLessThan(ms(image.exec_timeout));
    expect(ms(image.exec_timeout)).toBeLessThan(ms(image.write_timeout));
    for (const [name, fn] of Object.entries(stack.functions)) {
      const env = Object.fromEntries(keys.map((k) => [k, String(fn.environment?.[k])]));
      expect(env, name).toEqual(image);
      expect(shutdownTiming(env).delayMs, name).toBe(ms(env.healthcheck_interval) + 1000);
    }
  });

  it('gives each function its secrets, and credentials only as secrets', () => {
    const secrets = (fn: string) => [...(stack.functions[fn]!.secrets ?? [])].sort();
    expect(secrets('auth')).toEqual(['amqp-url', 'jwt-signing-keys', 'mongo-url', 'redis-url']);
    expect(secrets('db')).toEqual(['amqp-url', 'connector-secret', 'mongo-url', 'redis-url']);
    expect(secrets('file')).toEqual(['amqp-url', 'minio-access-key', 'minio-secret-key', 'mongo-url']);
    expect(secrets('notification')).toEqual(['connector-secret', 'mongo-url', 'redis-url', 'vapid-keys']);
    for (const [name, fn] of Object.entries(stack.functions)) {
      for (const [k, v] of Object.entries(fn.environment ?? {})) {
        expect(['MONGO_URL', 'REDIS_URL', 'AMQP_URL'], `${name}: ${k} belongs in a secret`).not.toContain(k);
        expect(String(v), `${name}: ${k} looks like a credential`).not.toMatch(/:\/\/[^/\s]*:[^/\s]*@/);
      }
    }
  });

  it('subscribes db and notification to their routing keys through the topic annotation', () => {
    expect(stack.functions.db!.annotations?.topic).toBe('message.created,message.updated,message.deleted,message.read');
    expect(stack.functions.notification!.annotations?.topic).toBe('message.created');
    expect(stack.functions.auth!.annotations?.topic).toBeUndefined();
    expect(stack.functions.file!.annotations?.topic).toBeUndefined();
  });

  it('sets scaling labels, requests, limits and a read-only root filesystem on every function', () => {
    for (const [name, fn] of Object.entries(stack.functions)) {
      const min = Number(fn.labels?.['com.openfaas.scale.min']);
      const max = Number(fn.labels?.['com.openfaas.scale.max']);
      expect(min, name).toBeGreaterThanOrEqual(1);
      expect(max, name).toBeGreaterThanOrEqual(min);
      expect(Number(fn.labels?.['com.openfaas.scale.target']), name).toBeGreaterThan(0);
      expect(fn.requests?.cpu && fn.requests.memory && fn.limits?.cpu && fn.limits.memory, name).toBeTruthy();
      expect(fn.readonly_root_filesystem, name).toBe(true);
      expect(fn.image, name).toMatch(/^[a-z0-9./-]+:\d+\.\d+\.\d+$/);
    }
  });
});

describe('k8s/base/functions (faas-cli generate)', () => {
  it('is up to date with stack.yml (run: npx tsx scripts/k8s/generate-functions.ts)', () => {
    const expected = renderFunctions();
    const committed = Object.fromEntries(
      readdirSync(FUNCTIONS_DIR)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => [f, readFileSync(path.join(FUNCTIONS_DIR, f), 'utf8')]),
    );
    expect(committed).toEqual(expected);
  });

  it('maps the stack fields the way faas-cli does', () => {
    const cr = parse(renderFunctions()['notification.yaml']!) as ReturnType<typeof functionResource>;
    expect(cr).toMatchObject({ apiVersion: 'openfaas.com/v1', kind: 'Function', metadata: { name: 'notification', namespace: 'openfaas-fn' } });
    expect(Object.keys(cr.spec)).toEqual(['name', 'image', 'environment', 'labels', 'annotations', 'limits', 'requests', 'secrets', 'readOnlyRootFilesystem']);
    expect(cr.spec).toMatchObject({
      name: 'notification',
      image: 'chat/notification:0.1.0',
      annotations: { topic: 'message.created' },
      secrets: ['connector-secret', 'vapid-keys', 'mongo-url', 'redis-url'],
      readOnlyRootFilesystem: true,
      limits: { memory: '256Mi', cpu: '500m' },
    });
    // every environment value is a string, keys sorted like Go's YAML encoder does
    const env = cr.spec.environment as Record<string, unknown>;
    expect(Object.keys(env)).toEqual(Object.keys(env).sort());
    for (const v of Object.values(env)) expect(typeof v).toBe('string');
  });

  it('validates against the Function CRD schema, which rejects a misspelt field', async () => {
    const crs = Object.entries(renderFunctions())
      .filter(([f]) => f !== 'kustomization.yaml')
      .map(([, text]) => parse(text));
    expect(crs).toHaveLength(4);
    expect(await validateAll(crs)).toEqual([]);
    const typo = { ...crs[0], spec: { ...crs[0].spec, readOnlyRootFileSystem: true } };
    expect((await validateAll([typo])).join('\n')).toMatch(/additional properties/);
  });
});
