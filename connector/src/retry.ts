/**
 * What happens to a delivery the function did not accept: back into a delay queue with an
 * exponential backoff, or, after a bounded number of tries, into the dead-letter queue.
 */
export interface RetryPolicy {
  maxAttempts: number;
  permanentMaxAttempts: number;
  baseMs: number;
  maxMs: number;
}

export type Step = { kind: 'retry'; attempts: number; delayMs: number } | { kind: 'dead-letter'; attempts: number };

/** Answers retrying will not change (the event itself is bad); they get fewer tries. */
const PERMANENT = new Set([400, 413, 415, 422]);

export const isSuccess = (status: number) => status >= 200 && status < 300;
export const isPermanent = (status: number) => PERMANENT.has(status);

/** Delay before try n+1 after n failed tries: base, 2·base, 4·base, … capped at maxMs. */
export function backoffMs(failedAttempts: number, p: Pick<RetryPolicy, 'baseMs' | 'maxMs'>): number {
  return Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, Math.min(failedAttempts - 1, 30)));
}

/** `previousAttempts` failed before this one; status 0 means no answer (network, timeout). */
export function nextStep(status: number, previousAttempts: number, p: RetryPolicy): Step {
  const attempts = previousAttempts + 1;
  const limit = isPermanent(status) ? Math.min(p.permanentMaxAttempts, p.maxAttempts) : p.maxAttempts;
  if (attempts >= limit) return { kind: 'dead-letter', attempts };
  return { kind: 'retry', attempts, delayMs: backoffMs(attempts, p) };
}

export const functionQueue = (fn: string) => `chat.fn.${fn}`;
/**
 * One delay queue per backoff step: a queue-wide TTL expires messages in order, whereas mixed
 * per-message TTLs in one queue would hold a short delay behind a long one at the head.
 */
export const retryQueue = (fn: string, delayMs: number) => `chat.fn.${fn}.retry.${delayMs}`;

/** Headers the connector keeps on a message across retries and in the DLQ. */
export const HEADERS = {
  topic: 'x-chat-topic',
  attempts: 'x-chat-attempts',
  lastStatus: 'x-chat-last-status',
  lastError: 'x-chat-last-error',
  fn: 'x-chat-function',
  failedAt: 'x-chat-failed-at',
} as const;
