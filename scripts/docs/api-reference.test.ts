import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../shared/src/errors.ts';
import { makeMessage } from '../../test/fixtures.ts';
import { API_DIR, asyncApiDocument, renderApiReference } from './api-reference.ts';

const rendered = renderApiReference();
const asyncapi = asyncApiDocument();

/** Resolves a local JSON pointer (#/a/b) in the document, or undefined. */
function resolve(doc: unknown, ref: string): any {
  expect(ref.startsWith('#/'), ref).toBe(true);
  return ref
    .slice(2)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<any>((node, key) => (node && typeof node === 'object' ? node[key] : undefined), doc);
}

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refs(n, out));
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  return out;
}

describe('docs/api', () => {
  it('is up to date with the route docs and event schemas (run `npm run docs` if not)', () => {
    for (const [rel, content] of Object.entries(rendered)) {
      const file = path.join(API_DIR, rel);
      expect(existsSync(file), `docs/api/${rel} is missing: run \`npm run docs\``).toBe(true);
      expect(readFileSync(file, 'utf8') === content, `docs/api/${rel} is stale: run \`npm run docs\``).toBe(true);
    }
    for (const f of readdirSync(path.join(API_DIR, 'openapi'))) expect(rendered, `docs/api/openapi/${f} is no longer generated: run \`npm run docs\``).toHaveProperty([`openapi/${f}`]);
  });

  it('has an index that lists every error code with its status and links every generated page', () => {
    const index = readFileSync(path.join(API_DIR, 'README.md'), 'utf8');
    for (const [code, status] of Object.entries(ERROR_STATUS)) expect(index, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
    for (const rel of Object.keys(rendered)) expect(index, rel).toContain(`](${rel})`);
  });

  it('generates the same bytes every time (no clock, no environment)', () => {
    expect(renderApiReference()).toEqual(rendered);
  });

  it('documents every function route the OpenAPI way, each with its error shape', () => {
    for (const fn of ['auth', 'db', 'file', 'notification']) {
      const doc = JSON.parse(rendered[`openapi/${fn}.json`]!);
      expect(doc.openapi).toBe('3.1.0');
      expect(doc.servers[0].url).toBe(`/api/${fn}`);
      for (const [p, ops] of Object.entries<any>(doc.paths))
        for (const op of Object.values<any>(ops)) {
          for (const [status, r] of Object.entries<any>(op.responses)) if (Number(status) >= 400) expect(r.content['application/json'].schema.required, `${fn} ${p} ${status}`).toEqual(['error']);
          // Every {param} of the path template is declared, as OpenAPI requires.
          const declared = (op.parameters ?? []).filter((x: any) => x.in === 'path').map((x: any) => x.name);
          expect(declared, `${fn} ${p}`).toEqual([...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
          expect(p, `${fn} ${p}: a Hono-style :param left in an OpenAPI path`).not.toMatch(/:/);
        }
      expect(rendered[`${fn}.md`]).toContain(`(\`/api/${fn}\`)`);
    }
  });
});

describe('docs/api/asyncapi.json', () => {
  it('is a valid AsyncAPI 3.0.0 document (the official JSON schema)', () => {
    const require = createRequire(import.meta.url);
    const schema = require('@asyncapi/specs/schemas/3.0.0-without-$id.json');
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    const ok = validate(asyncapi);
    expect(validate.errors?.slice(0, 5) ?? [], 'AsyncAPI schema errors').toEqual([]);
    expect(ok).toBe(true);
    expect(asyncapi.asyncapi).toBe('3.0.0');
  });

  it('has channels, operations and messages that refer to each other', () => {
    for (const ref of refs(asyncapi)) expect(resolve(asyncapi, ref), ref).toBeDefined();
    for (const [id, op] of Object.entries<any>(asyncapi.operations)) {
      // An operation's messages are messages of its own channel (AsyncAPI 3), and so are its reply's.
      const channel = op.channel.$ref as string;
      for (const m of op.messages) expect(m.$ref.startsWith(`${channel}/messages/`), `${id}: ${m.$ref}`).toBe(true);
      if (op.reply) for (const m of op.reply.messages) expect(m.$ref.startsWith(`${op.reply.channel.$ref}/messages/`), `${id} reply`).toBe(true);
    }
    for (const [id, ch] of Object.entries<any>(asyncapi.channels))
      for (const m of Object.values<any>(ch.messages)) expect(m.$ref.startsWith('#/components/messages/'), id).toBe(true);
    // Every message is used by an operation.
    const used = new Set(Object.values<any>(asyncapi.operations).flatMap((op) => [...op.messages, ...(op.reply?.messages ?? [])].map((m: any) => resolve(asyncapi, m.$ref).$ref)));
    for (const id of Object.keys(asyncapi.components.messages)) expect(used.has(`#/components/messages/${id}`), id).toBe(true);
  });

  it('covers every socket event and routing key, with payload schemas that validate real payloads', () => {
    const names = Object.values<any>(asyncapi.components.messages).map((m) => m.name);
    for (const e of ['message:send', 'message:edit', 'message:delete', 'reaction:toggle', 'typing', 'read', 'auth:renew', 'message:new', 'presence', 'conversation:new', 'auth:expiring'])
      expect(names, e).toContain(e);
    for (const k of ['message.created', 'message.updated', 'message.deleted', 'conversation.created', 'conversation.members.changed']) expect(names, k).toContain(k);

    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    const payload = (id: string) => ajv.compile(asyncapi.components.messages[id].payload);
    for (const [id, m] of Object.entries<any>(asyncapi.components.messages)) expect(() => ajv.compile(m.payload), id).not.toThrow();

    const message = makeMessage('c1', 'u1', 'hello');
    const newMessage = payload('server.message_new');
    expect(newMessage({ message })).toBe(true);
    expect(newMessage({ message: { ...message, id: undefined } })).toBe(false);
    expect(payload('bus.message.created')({ message, memberIds: ['u1', 'u2'] })).toBe(true);
    const send = payload('message_send');
    expect(send({ conversationId: 'c1', clientMsgId: 'x', body: 'hi' })).toBe(true);
    // Strict on input: an unknown key is refused, as the gateway refuses it.
    expect(send({ conversationId: 'c1', clientMsgId: 'x', body: 'hi', $where: '1' })).toBe(false);
    const ack = payload('message_send.ack');
    expect(ack({ ok: true, message })).toBe(true);
    expect(ack({ ok: false, error: { code: 'rate_limited', message: 'slow down' } })).toBe(true);
    expect(ack({ ok: false, error: { code: 'teapot', message: '?' } })).toBe(false);
  });
});
