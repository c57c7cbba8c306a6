import { describe, expect, it } from 'vitest';
import { AppError, errors, toAppError } from './errors.ts';

describe('AppError', () => {
  it('renders the contract error shape with the matching status', () => {
    const e = errors.rateLimited(7);
    expect(e.status).toBe(429);
    expect(e.retryAfter).toBe(7);
    expect(e.toBody()).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('7') } });
  });

  it('turns unknown failures into a bare internal error without details', () => {
    const e = toAppError(new Error('ECONNREFUSED mongodb://secret@host'));
    expect(e).toBeInstanceOf(AppError);
    expect(e.status).toBe(500);
    expect(JSON.stringify(e.toBody())).not.toContain('secret');
  });
});
