import { describe, expect, it } from 'vitest';
import { formatDate, formatDateTime, formatShort, formatTime } from './format.ts';

describe('date formatting with reused formatters', () => {
  const iso = '2026-03-04T15:07:00.000Z';

  it('formats as the browser would with the same options', () => {
    expect(formatTime(iso)).toBe(new Date(iso).toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' }));
    expect(formatDateTime(iso)).toBe(new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }));
    expect(formatDate(iso, { weekday: 'long' })).toBe(new Date(iso).toLocaleDateString(undefined, { weekday: 'long' }));
  });

  it('keeps one formatter per set of options (a second set never reuses the first)', () => {
    expect(formatDate(iso, { month: 'short' })).not.toBe(formatDate(iso, { year: 'numeric' }));
    expect(formatDate(new Date(iso), { month: 'short' })).toBe(formatDate(iso, { month: 'short' }));
  });

  it('sidebar style: time today, weekday this week, else month and day', () => {
    const now = new Date('2026-03-10T12:00:00.000Z');
    expect(formatShort('2026-03-10T09:00:00.000Z', now)).toBe(formatTime('2026-03-10T09:00:00.000Z'));
    expect(formatShort('2026-03-07T09:00:00.000Z', now)).toBe(new Date('2026-03-07T09:00:00.000Z').toLocaleDateString(undefined, { weekday: 'short' }));
    expect(formatShort('2026-01-02T09:00:00.000Z', now)).toBe(new Date('2026-01-02T09:00:00.000Z').toLocaleDateString(undefined, { month: 'short', day: 'numeric' }));
  });
});
