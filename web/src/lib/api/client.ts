import { ApiError, toApiError } from './errors.ts';

export interface TokenSource {
  /** The current access token, or null when signed out. */
  token(): string | null;
  /** Gets a fresh access token after a 401 (null when the session is gone). */
  renew(): Promise<string | null>;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  /** Send without the bearer token (login, register, refresh). */
  anonymous?: boolean;
  signal?: AbortSignal;
}

type Fetch = typeof fetch;

/**
 * A small typed fetch wrapper for `/api/<fn>/...`: JSON in and out, bearer auth, one transparent
 * retry after renewing the token on 401, and the contract's error shape rendered as ApiError.
 */
export class ApiClient {
  constructor(
    private readonly tokens: TokenSource,
    private readonly base = '/api',
    private readonly fetchImpl: Fetch = (...a) => fetch(...a),
  ) {}

  url(path: string, query?: RequestOptions['query']): string {
    let url = `${this.base}${path}`;
    if (query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
      const s = qs.toString();
      if (s) url += `?${s}`;
    }
    return url;
  }

  async request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const send = async (token: string | null) => {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      if (token && !opts.anonymous) headers.authorization = `Bearer ${token}`;
      try {
        return await this.fetchImpl(this.url(path, opts.query), {
          method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
          headers,
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          credentials: 'same-origin',
          signal: opts.signal,
        });
      } catch (e) {
        if ((e as Error)?.name === 'AbortError') throw e;
        throw new ApiError('network', 'Cannot reach the server. Check your connection.', 0);
      }
    };

    let res = await send(this.tokens.token());
    if (res.status === 401 && !opts.anonymous) {
      const fresh = await this.tokens.renew();
      if (fresh) res = await send(fresh);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
    }
    if (!res.ok) throw toApiError(res.status, body, res.headers.get('retry-after'));
    return body as T;
  }

  get<T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal) {
    return this.request<T>(path, { query, signal });
  }
  post<T>(path: string, body: unknown = {}, opts: Omit<RequestOptions, 'body' | 'method'> = {}) {
    return this.request<T>(path, { ...opts, method: 'POST', body });
  }
  put<T>(path: string, body: unknown) {
    return this.request<T>(path, { method: 'PUT', body });
  }
  patch<T>(path: string, body: unknown) {
    return this.request<T>(path, { method: 'PATCH', body });
  }
  del<T>(path: string, body?: unknown) {
    return this.request<T>(path, { method: 'DELETE', body });
  }
}
