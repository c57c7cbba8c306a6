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

/** Calls functions the way OpenFaaS connectors do: POST <gateway>/function/<fn>. */
export function httpInvoker(opts: { gatewayUrl: string; secret: string; timeoutMs: number; fetch?: typeof fetch }): Invoke {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.gatewayUrl.replace(/\/+$/, '');
  return async (fn, req) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', [CONNECTOR_SECRET_HEADER]: opts.secret };
    if (req.batch) headers[BATCH_HEADER] = '1';
    if (req.topic) headers[TOPIC_HEADER] = req.topic;
    try {
      const res = await doFetch(`${base}/function/${encodeURIComponent(fn)}`, {
        method: 'POST',
        headers,
        body: req.body,
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      // Reading the body frees the keep-alive connection; the text is only kept on failure.
      const text = await res.text().catch(() => '');
      return { status: res.status, detail: res.ok ? '' : text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300) };
    } catch (e) {
      return { status: 0, detail: e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) : 'no answer' };
    }
  };
}
