import type { ErrorCode } from '@chat/shared/errors';

/** The contract's error shape `{error:{code,message}}` as a throwable, plus the HTTP status. */
export class ApiError extends Error {
  readonly code: ErrorCode | 'network';
  readonly status: number;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode | 'network', message: string, status: number, retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

const FALLBACK: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/** Turns a non-2xx response body (parsed JSON or not) into an ApiError. */
export function toApiError(status: number, body: unknown, retryAfterHeader?: string | null): ApiError {
  const retryAfter = retryAfterHeader ? Number(retryAfterHeader) || undefined : undefined;
  const err = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (err && typeof err.code === 'string') {
    const message = typeof err.message === 'string' && err.message ? err.message : err.code;
    return new ApiError(err.code as ErrorCode, message, status, retryAfter);
  }
  const code = FALLBACK[status] ?? 'internal';
  return new ApiError(code, status >= 500 ? 'The server had a problem. Try again.' : `Request failed (${status}).`, status, retryAfter);
}

export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return 'Something went wrong.';
}
