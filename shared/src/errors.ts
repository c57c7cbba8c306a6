/**
 * The contract's error vocabulary. Every service throws AppError and lets the shared
 * HTTP/socket layers render it, so a code always travels with its status.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Seconds, rendered as Retry-After for rate_limited/unavailable. */
  readonly retryAfter?: number;

  constructor(code: ErrorCode, message: string, options: { retryAfter?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** Anything that is not an AppError becomes a bare `internal`: a 500 never carries details. */
export function toAppError(e: unknown): AppError {
  return isAppError(e) ? e : new AppError('internal', 'Something went wrong on our side.');
}

export const errors = {
  invalid: (message: string) => new AppError('invalid_request', message),
  unauthorized: (message = 'Authentication required.') => new AppError('unauthorized', message),
  forbidden: (message = 'Not allowed.') => new AppError('forbidden', message),
  notFound: (what = 'Resource') => new AppError('not_found', `${what} not found.`),
  conflict: (message: string) => new AppError('conflict', message),
  tooLarge: (message: string) => new AppError('payload_too_large', message),
  rateLimited: (retryAfter: number) =>
    new AppError('rate_limited', `Too many requests; retry in ${retryAfter} s.`, { retryAfter }),
  unavailable: (message = 'Service temporarily unavailable.', cause?: unknown) =>
    new AppError('unavailable', message, { cause }),
};
