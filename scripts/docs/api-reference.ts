import path from 'node:path';
import { z } from 'zod';
import { EXCHANGE, DEAD_LETTER_QUEUE, ROUTING_KEYS } from '../../shared/src/events/bus.ts';
import { busEventSchemas } from '../../shared/src/events/schemas.ts';
import { clientEventSchemas, serverEventSchemas } from '../../shared/src/events/socket-schemas.ts';
import { buildOpenApi, type RouteDoc } from '../../shared/src/http/openapi.ts';
import * as auth from '../../functions/auth/src/routes.ts';
import * as db from '../../functions/db/src/routes.ts';
import * as file from '../../functions/file/src/routes.ts';
import * as notification from '../../functions/notification/src/routes.ts';
import { readStackFile } from '../k8s/stack-file.ts';
import { ROOT } from '../stack/paths.ts';

/**
 * The generated half of the API reference in docs/api/: each function's OpenAPI document (the
 * same one it serves at /openapi.json, from the same route docs and zod schemas) with a readable
 * Markdown page, and an AsyncAPI 3.0 document of the Socket.IO and RabbitMQ events with its page,
 * from the schemas the gateway and the functions validate with. Pure: nothing is booted, no
 * clock or environment is read, so the output depends on the source alone and
 * api-reference.test.ts can regenerate it in memory to tell whether docs/api/ is stale.
 * `npm run docs` writes it (generate.ts).
 */
export const API_DIR = path.join(ROOT, 'docs/api');

type Json = Record<string, any>;
type OpenApi = ReturnType<typeof buildOpenApi>;

const FUNCTIONS: Record<string, { docs: RouteDoc[]; openApiInfo: { title: string; version: string; serverUrl: string } }> = { auth, db, file, notification };

export function openApiDocuments(): Record<string, OpenApi> {
  return Object.fromEntries(Object.entries(FUNCTIONS).map(([fn, m]) => [fn, buildOpenApi(m.openApiInfo, m.docs)]));
}

// ---------------------------------------------------------------------------------------------
// JSON Schema → readable Markdown

const code = (s: unknown) => `\`${String(s).replace(/`/g, "'")}\``;

/** One line saying what a schema accepts: "string, 1–64 characters, matching …". */
function describeType(s: Json): string {
  if (s.const !== undefined) return `always ${code(JSON.stringify(s.const))}`;
  if (s.enum) return `one of ${s.enum.map((v: unknown) => code(JSON.stringify(v))).join(', ')}`;
  const variants: Json[] | undefined = s.anyOf ?? s.oneOf;
  if (variants) {
    const nonNull = variants.filter((v) => v.type !== 'null');
    const nullable = nonNull.length < variants.length;
    const inner = nonNull.length === 1 ? describeType(nonNull[0]!) : nonNull.map((v) => describeType(v)).join(' | ');
    return nullable ? `${inner}, or null` : inner;
  }
  if (s.type === 'string' && s.pattern === ID_PATTERN) return 'id';
  const parts: string[] = [];
  const type = Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? 'any');
  if (type === 'array') {
    const item = s.items ? describeType(s.items) : 'any';
    parts.push(item.includes(',') ? `array of (${item})` : `array of ${item}`);
  }
  else if (type === 'string' && s.format) parts.push(`string (${s.format})`);
  else parts.push(type);
  if (s.minLength !== undefined || s.maxLength !== undefined) parts.push(range(s.minLength, s.maxLength, 'characters'));
  if (s.minItems !== undefined || s.maxItems !== undefined) parts.push(range(s.minItems, s.maxItems, 'items'));
  // zod writes JavaScript's safe-integer bounds on every integer; they say nothing to a reader.
  const min = s.minimum === Number.MIN_SAFE_INTEGER ? undefined : s.minimum;
  const max = s.maximum === Number.MAX_SAFE_INTEGER ? undefined : s.maximum;
  if (min !== undefined || max !== undefined) parts.push(range(min, max, ''));
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.pattern && !s.format) parts.push(`matching ${code(s.pattern)}`);
  if (s.default !== undefined) parts.push(`default ${code(JSON.stringify(s.default))}`);
  return parts.join(', ');
}

/** The id pattern of models/validation.ts: shown as "id" rather than as a regular expression. */
const ID_PATTERN = '^[A-Za-z0-9_-]+$';

function range(min: number | undefined, max: number | undefined, unit: string): string {
  const u = unit ? ` ${max === 1 && (min === undefined || min === 1) ? unit.replace(/s$/, '') : unit}` : '';
  if (min !== undefined && max !== undefined) return min === max ? `exactly ${min}${u}` : `${min}–${max}${u}`;
  if (min !== undefined) return `at least ${min}${u}`;
  return `at most ${max}${u}`;
}

/** A nested bullet list of an object's fields; variants of a union each get their own list. */
export function describeSchema(s: Json, indent = ''): string {
  const variants: Json[] | undefined = s.anyOf ?? s.oneOf;
  if (variants && variants.some((v) => v.properties)) {
    return variants.map((v, i) => `${indent}- variant ${i + 1}:\n${describeSchema(v, `${indent}  `)}`).join('\n');
  }
  if (!s.properties) return `${indent}- ${describeType(s)}`;
  const required = new Set<string>(s.required ?? []);
  return Object.entries(s.properties as Record<string, Json>)
    .map(([name, p]) => {
      const head = `${indent}- ${code(name)}${required.has(name) ? '' : ' (optional)'}: ${describeType(p)}`;
      const object = p.properties ? p : p.type === 'array' && p.items?.properties ? p.items : (p.anyOf ?? []).find((v: Json) => v.properties);
      return object ? `${head}\n${describeSchema(object, `${indent}  `)}` : head;
    })
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// A function's page

export function functionMarkdown(fn: string, doc: OpenApi): string {
  const base = doc.servers[0]!.url;
  const lines = [
    `# ${doc.info.title} (\`${base}\`)`,
    '',
    `<!-- Generated by \`npm run docs\` from functions/${fn}/src/routes.ts; do not edit. -->`,
    '',
    `The function serves these routes from its own root; at the ingress they are under \`${base}\` (and \`/function/${fn}\`, the OpenFaaS URL scheme). ` +
      `The OpenAPI 3.1 document is [openapi/${fn}.json](openapi/${fn}.json), the same one the function serves at \`GET ${base}/openapi.json\`. ` +
      'Errors have the shape and codes in [the index](README.md#errors). Every function also answers `GET /healthz` and `GET /readyz`.',
    '',
    '| method | path | what | auth |',
    '| --- | --- | --- | --- |',
  ];
  const ops: Array<{ method: string; path: string; op: Json }> = [];
  for (const [p, methods] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(methods as Json)) ops.push({ method, path: p, op });
  for (const { method, path: p, op } of ops) lines.push(`| ${method.toUpperCase()} | \`${p}\` | ${op.summary} | ${op.security ? 'bearer' : '—'} |`);
  for (const { method, path: p, op } of ops) {
    lines.push('', `## ${method.toUpperCase()} \`${p}\``, '', `${op.summary}.${op.security ? ' Needs `Authorization: Bearer <accessToken>`.' : ''}`);
    const params: Json[] = op.parameters ?? [];
    const pathParams = params.filter((x) => x.in === 'path');
    const query = params.filter((x) => x.in === 'query');
    if (pathParams.length) lines.push('', `Path: ${pathParams.map((x) => code(x.name)).join(', ')}.`);
    if (query.length) {
      lines.push('', 'Query:', '');
      for (const q of query) lines.push(`- ${code(q.name)}${q.required ? '' : ' (optional)'}: ${describeType(q.schema)}`);
    }
    const body = op.requestBody?.content?.['application/json']?.schema;
    if (body) lines.push('', 'Body (JSON; unknown fields are refused):', '', describeSchema(body));
    lines.push('', 'Answers:', '');
    for (const [status, r] of Object.entries(op.responses as Record<string, Json>)) lines.push(`- ${status}: ${r.description}${Number(status) >= 400 ? ' (error body)' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// AsyncAPI 3.0

/** JSON Schema draft-07, the dialect AsyncAPI's default schema format is built on. */
const schemaOf = (s: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, target: 'draft-7', unrepresentable: 'any' }) as Json;
  return rest;
};

/** Keys in AsyncAPI's components must match ^[\w.-]+$, and channel/message ids become JSON pointers. */
const idOf = (event: string) => event.replace(/[^A-Za-z0-9._-]/g, '_');

export function asyncApiDocument(): Json {
  const consumers: Record<string, string[]> = {};
  for (const [fn, f] of Object.entries(readStackFile().functions))
    for (const key of (f.annotations?.topic ?? '').split(',').map((s) => s.trim()).filter(Boolean)) (consumers[key] ??= []).push(fn);

  const messages: Json = {};
  const socketMessages: Json = {};
  const operations: Json = {};
  const channels: Json = {};

  for (const [event, e] of Object.entries(clientEventSchemas)) {
    const id = idOf(event);
    messages[id] = { name: event, title: event, summary: e.summary, contentType: 'application/json', payload: schemaOf(e.payload, 'input') };
    messages[`${id}.ack`] = {
      name: `${event} (ack)`,
      title: `${event} acknowledgement`,
      summary: 'The acknowledgement callback: {ok: true, …} or {ok: false, error}',
      contentType: 'application/json',
      payload: schemaOf(e.ack, 'output'),
    };
    socketMessages[id] = { $ref: `#/components/messages/${id}` };
    socketMessages[`${id}.ack`] = { $ref: `#/components/messages/${id}.ack` };
    operations[`client.${id}`] = {
      action: 'receive',
      title: `Client emits ${event}`,
      summary: e.summary,
      channel: { $ref: '#/channels/socket' },
      messages: [{ $ref: `#/channels/socket/messages/${id}` }],
      reply: { channel: { $ref: '#/channels/socket' }, messages: [{ $ref: `#/channels/socket/messages/${id}.ack` }] },
    };
  }
  for (const [event, e] of Object.entries(serverEventSchemas)) {
    const id = `server.${idOf(event)}`;
    messages[id] = { name: event, title: event, summary: e.summary, contentType: 'application/json', payload: schemaOf(e.payload, 'output') };
    socketMessages[id] = { $ref: `#/components/messages/${id}` };
    operations[id] = {
      action: 'send',
      title: `Gateway emits ${event}`,
      summary: e.summary,
      channel: { $ref: '#/channels/socket' },
      messages: [{ $ref: `#/channels/socket/messages/${id}` }],
    };
  }
  channels.socket = {
    address: '/socket.io/',
    title: 'Socket.IO v4 connection',
    description:
      'One Socket.IO v4 connection per client (WebSocket, with long-polling as fallback), opened with `auth: {token: <accessToken>}`; a missing, invalid or expired token fails with `connect_error` "unauthorized". ' +
      'Every client event takes an acknowledgement callback; its messages are the `.ack` ones. The operations are described from the gateway: it receives what clients emit and sends the rest.',
    servers: [{ $ref: '#/servers/gateway' }],
    messages: socketMessages,
  };

  for (const [name, key] of Object.entries(ROUTING_KEYS)) {
    const id = `bus.${key}`;
    messages[id] = {
      name: key,
      title: key,
      summary: `${name} on ${EXCHANGE}`,
      contentType: 'application/json',
      payload: schemaOf(busEventSchemas[key], 'input'),
    };
    channels[id] = {
      address: key,
      title: `${EXCHANGE} / ${key}`,
      description: `Routing key ${code(key)} on the topic exchange ${code(EXCHANGE)}; persistent JSON messages. Delivered by the connector to: ${(consumers[key] ?? []).map(code).join(', ') || 'no function'} (the \`topic\` annotations of stack.yml). Failed deliveries are retried with backoff, then dead-lettered to ${code(DEAD_LETTER_QUEUE)}.`,
      servers: [{ $ref: '#/servers/broker' }],
      messages: { [key]: { $ref: `#/components/messages/${id}` } },
      bindings: { amqp: { is: 'routingKey', exchange: { name: EXCHANGE, type: 'topic', durable: true, autoDelete: false, vhost: '/' }, bindingVersion: '0.3.0' } },
    };
    operations[`publish.${key}`] = { action: 'send', title: `Publish ${key}`, channel: { $ref: `#/channels/${id}` }, messages: [{ $ref: `#/channels/${id}/messages/${key}` }] };
    operations[`consume.${key}`] = { action: 'receive', title: `Consume ${key}`, channel: { $ref: `#/channels/${id}` }, messages: [{ $ref: `#/channels/${id}/messages/${key}` }] };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Chat events',
      version: '1.0.0',
      description: 'The Socket.IO events between browsers and the socket gateway, and the events on RabbitMQ between the gateway, the functions and the connector. Generated by `npm run docs` from shared/src/events; see docs/api/README.md for the delivery rules.',
    },
    defaultContentType: 'application/json',
    servers: {
      gateway: { host: 'localhost:8080', pathname: '/socket.io/', protocol: 'ws', description: 'The ingress origin; Socket.IO v4 (Engine.IO 4) over WebSocket or long-polling.' },
      broker: { host: 'localhost:5672', protocol: 'amqp', protocolVersion: '0-9-1', description: `RabbitMQ; topic exchange ${EXCHANGE}.` },
    },
    channels,
    operations,
    components: { messages },
  };
}

export function eventsMarkdown(doc: Json): string {
  const lines = [
    '# Events',
    '',
    '<!-- Generated by `npm run docs` from shared/src/events; do not edit. -->',
    '',
    'The machine-readable form is [asyncapi.json](asyncapi.json) (AsyncAPI 3.0). Delivery rules (acks, exactly-once sends, ordering) are in [the index](README.md#delivery-rules).',
    '',
    '## Socket.IO: client to gateway',
    '',
    doc.channels.socket.description,
  ];
  const msg = (ref: string) => doc.components.messages[ref.split('/').pop()!];
  for (const [id, op] of Object.entries(doc.operations as Record<string, Json>)) {
    if (!id.startsWith('client.')) continue;
    const m = msg(op.messages[0].$ref);
    lines.push('', `### \`${m.name}\``, '', `${m.summary}.`, '', 'Payload:', '', describeSchema(m.payload), '', 'Ack:', '', describeSchema(msg(op.reply.messages[0].$ref).payload));
  }
  lines.push('', '## Socket.IO: gateway to client');
  for (const [id, op] of Object.entries(doc.operations as Record<string, Json>)) {
    if (!id.startsWith('server.')) continue;
    const m = msg(op.messages[0].$ref);
    lines.push('', `### \`${m.name}\``, '', `${m.summary}.`, '', describeSchema(m.payload));
  }
  lines.push('', '## RabbitMQ');
  for (const [id, ch] of Object.entries(doc.channels as Record<string, Json>)) {
    if (!id.startsWith('bus.')) continue;
    const m = msg(ch.messages[ch.address].$ref);
    lines.push('', `### \`${ch.address}\``, '', ch.description, '', describeSchema(m.payload));
  }
  return `${lines.join('\n')}\n`;
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** Every generated file, by path relative to docs/api/. */
export function renderApiReference(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [fn, doc] of Object.entries(openApiDocuments())) {
    out[`openapi/${fn}.json`] = json(doc);
    out[`${fn}.md`] = functionMarkdown(fn, doc);
  }
  const asyncapi = asyncApiDocument();
  out['asyncapi.json'] = json(asyncapi);
  out['events.md'] = eventsMarkdown(asyncapi);
  return out;
}
