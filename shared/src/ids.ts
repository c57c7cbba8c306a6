import { randomBytes } from 'node:crypto';

/**
 * Message ids: 12 hex digits of the createdAt milliseconds, then 12 random hex digits. They sort
 * (as strings) in createdAt order, which is what history paging by id relies on.
 */
export const messageId = (createdAtMs: number, suffix = randomBytes(6).toString('hex')): string =>
  createdAtMs.toString(16).padStart(12, '0') + suffix;
