import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

/** A function and the routing keys it wants, from its OpenFaaS `topic` annotation. */
export interface Subscription {
  fn: string;
  topics: string[];
}

/**
 * Where the connector learns its subscriptions: the stack file locally, the OpenFaaS gateway's
 * function list in a cluster. Both read the same `topic` annotation.
 */
export interface SubscriptionSource {
  readonly name: string;
  list(): Promise<Subscription[]>;
}

const ROUTING_KEY = /^[A-Za-z0-9_.*#-]+$/;

/** "a.b, c.d" → ["a.b", "c.d"]; blanks dropped, duplicates removed, nonsense refused. */
export function parseTopics(annotation: unknown): string[] {
  if (typeof annotation !== 'string') return [];
  const topics = [...new Set(annotation.split(',').map((t) => t.trim()).filter(Boolean))];
  const bad = topics.find((t) => !ROUTING_KEY.test(t));
  if (bad) throw new Error(`invalid routing key in topic annotation: ${JSON.stringify(bad)}`);
  return topics;
}

const fromAnnotated = (entries: Array<[string, unknown]>): Subscription[] =>
  entries
    .map(([fn, annotations]) => ({ fn, topics: parseTopics((annotations as { topic?: unknown } | null | undefined)?.topic) }))
    .filter((s) => s.topics.length > 0)
    .sort((a, b) => a.fn.localeCompare(b.fn));

/** Subscriptions declared in an OpenFaaS stack.yml. */
export function parseStackFile(text: string): Subscription[] {
  const doc = parse(text) as { functions?: Record<string, { annotations?: Record<string, unknown> } | null> } | null;
  const fns = doc?.functions ?? {};
  return fromAnnotated(Object.entries(fns).map(([fn, spec]) => [fn, spec?.annotations]));
}

export function stackFileSource(file: string): SubscriptionSource {
  return { name: `stack file ${file}`, list: async () => parseStackFile(await readFile(file, 'utf8')) };
}

/** The deployed functions, as the OpenFaaS gateway lists them (GET /system/functions). */
export function gatewaySource(opts: {
  gatewayUrl: string;
  basicAuth?: { user: string; password: string } | undefined;
  fetch?: typeof fetch;
}): SubscriptionSource {
  const doFetch = opts.fetch ?? fetch;
  return {
    name: `gateway ${opts.gatewayUrl}`,
    async list() {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (opts.basicAuth) headers.authorization = `Basic ${Buffer.from(`${opts.basicAuth.user}:${opts.basicAuth.password}`).toString('base64')}`;
      const res = await doFetch(new URL('/system/functions', opts.gatewayUrl), { headers, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`GET /system/functions answered ${res.status}`);
      const fns = (await res.json()) as Array<{ name: string; annotations?: Record<string, unknown> | null }>;
      return fromAnnotated(fns.map((f) => [f.name, f.annotations]));
    },
  };
}
