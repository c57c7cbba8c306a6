import http from 'node:http';
import https from 'node:https';
import { BATCH_HEADER, CONNECTOR_SECRET_HEADER, TOPIC_HEADER } from '@chat/shared/events/bus';

export interface InvokeRequest {
  /** The event body (single) or a JSON array of {topic, event} (batch). */
  body: string;
  topic?: string;
  batch: boolean;
}

export interface InvokeResult {
  /** HTTP status; 0 when there was no answer (connection refused, timeout). */
  status: number;
  /** A short reason for logs and dead-letter headers (never the request or the secret). */
  detail: string;
}

export type Invoke = (fn: string, req: InvokeRequest) => Promise<InvokeResult>;

/**
 * Calls functions the way OpenFaaS connectors do: POST <gateway>/function/<fn>.
 *
 * Plain node:http with a keep-alive agent rather than fetch: at a few hundred calls a second,
 * fetch's web streams cost ~0.6 ms of CPU per call more (measured: 0.84–1.3 ms against 0.22–0.28 ms
 * per call, server included), which made the connector one of the busiest processes at low rates.
 */
export function httpInvoker(opts: { gatewayUrl: string; secret: string; timeoutMs: number }): Invoke {
  const base = new URL(opts.gatewayUrl);
  const client = base.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true });
  const prefix = `${base.href.replace(/\/+$/, '')}/function/`;
  return async (fn, req) => {
    const url = prefix + encodeURIComponent(fn);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(req.body),
      [CONNECTOR_SECRET_HEADER]: opts.secret,
    };
    if (req.batch) headers[BATCH_HEADER] = '1';
    if (req.topic) headers[TOPIC_HEADER] = req.topic;
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      const r = await post(client, agent, url, headers, req.body, Math.max(1, deadline - Date.now()));
      // The gateway closed an idle keep-alive connection just as it was reused: the request never
      // reached it, so send it again on another connection (events are idempotent anyway). Each
      // retry uses up a pooled connection or opens a fresh one, so this ends.
      if (r.staleSocket && Date.now() < deadline) continue;
      return { status: r.status, detail: r.detail };
    }
  };
}

function post(
  client: typeof http | typeof https,
  agent: http.Agent,
  url: string,
  headers: Record<string, string | number>,
  body: string,
  timeoutMs: number,
): Promise<InvokeResult & { staleSocket?: boolean }> {
  return new Promise((resolve) => {
    const req = client.request(url, { method: 'POST', agent, headers }, (res) => {
      const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
      const chunks: Buffer[] = [];
      // Reading the body frees the keep-alive connection; the text is only kept on failure.
      res.on('data', (c: Buffer) => {
        if (!ok) chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        const text = ok ? '' : Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, detail: text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300) });
      });
      res.on('error', (e) => fail(e));
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' })), timeoutMs);
    const fail = (e: Error & { code?: string }) => {
      clearTimeout(timer);
      const stale = req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE');
      resolve({ status: 0, detail: `${e.name}: ${e.message}`.slice(0, 300), staleSocket: stale });
    };
    req.on('error', fail);
    req.end(body);
  });
}
