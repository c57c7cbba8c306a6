import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONNECTOR_SECRET_HEADER } from '@chat/shared/events/bus';
import type { AuthSession, Message } from '@chat/shared/models/types';
import { eventually } from './bus.ts';
import { stack } from './stack.ts';

/** A small JSON client for integration tests: every call goes through the ingress. */
export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function api<T = any>(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string>; base?: string } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${opts.base ?? stack().baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export const uniqueName = (prefix = 'u') => `${prefix}${randomBytes(5).toString('hex')}`;

/** Registers a fresh user and returns its session. */
export async function registerUser(name = uniqueName(), password = 'correct horse battery'): Promise<AuthSession & { password: string }> {
  const res = await api<AuthSession>('POST', '/api/auth/register', { body: { username: name, password, displayName: `User ${name}` } });
  if (res.status !== 201) throw new Error(`register ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...res.body, password };
}

/**
 * Every stored user message of a conversation (what people sent: the tests that count sends);
 * allHistory has the system messages of group changes too.
 */
export async function allMessages(token: string, conversationId: string, after = '0'.repeat(24)): Promise<Message[]> {
  return (await allHistory(token, conversationId, after)).filter((m) => m.kind !== 'system');
}

/** A conversation's stored messages (system messages left out), polled until `done` holds for them. */
export const storedWhen = (token: string, conversationId: string, done: (all: Message[]) => boolean, what: string, timeoutMs?: number, everyMs?: number) =>
  eventually(async () => {
    const all = await allMessages(token, conversationId);
    return done(all) ? all : undefined;
  }, what, timeoutMs, everyMs);

/** Every stored message of a conversation, paging forward with after= (the catch-up path). */
export async function allHistory(token: string, conversationId: string, after = '0'.repeat(24)): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const res = await api('GET', `/api/db/conversations/${conversationId}/messages?after=${after}&limit=100`, { token });
    if (res.status !== 200) throw new Error(`history: ${res.status} ${JSON.stringify(res.body)}`);
    out.push(...res.body.messages);
    if (!res.body.hasMore) return out;
    after = out.at(-1)!.id;
  }
}

/** The secret only the connector holds, which a function's event entry point requires. */
export const connectorSecret = () => readFileSync(path.join(stack().env.SECRETS_DIR!, 'connector-secret'), 'utf8').trim();

/**
 * Delivers bus events straight to the db function, the way the connector invokes it (a batch,
 * with the connector's secret): each write is applied when the call returns, so tests can seed
 * many messages at once, with any createdAt or replyToId, without a socket or the rate limit.
 */
export async function deliverToDb(items: { topic: string; event: unknown }[]): Promise<void> {
  const res = await api('POST', '/function/db', { body: items, headers: { 'x-batch': '1', [CONNECTOR_SECRET_HEADER]: connectorSecret() } });
  if (res.status !== 200) throw new Error(`deliver to db: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Stores messages as if the gateway had accepted them (see deliverToDb). */
export const storeMessages = (messages: Message[]) => deliverToDb(messages.map((message) => ({ topic: 'message.created', event: { message } })));
