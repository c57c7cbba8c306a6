import { describe, expect, it } from 'vitest';
import { computeLayout, rowAt, visibleRange } from './layout.ts';

describe('windowed layout', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `k${i}`);
  const layout = computeLayout(keys, (i) => (i % 10 === 0 ? 100 : 30));

  it('computes offsets as prefix sums', () => {
    expect(layout.offsets[0]).toBe(0);
    expect(layout.offsets[1]).toBe(100);
    expect(layout.offsets[2]).toBe(130);
    expect(layout.total).toBe(1000 * 100 + 9000 * 30);
  });

  it('finds the row at a y position by binary search', () => {
    expect(rowAt(layout, 0)).toBe(0);
    expect(rowAt(layout, 99)).toBe(0);
    expect(rowAt(layout, 100)).toBe(1);
    expect(rowAt(layout, layout.total + 50)).toBe(9999);
  });

  it('renders only a small window of 10,000 rows', () => {
    const [start, end] = visibleRange(layout, 200_000, 800, 600);
    expect(end - start).toBeLessThan(100);
    expect(layout.offsets[start]!).toBeLessThanOrEqual(200_000 - 600);
    expect(layout.offsets[end]!).toBeGreaterThanOrEqual(200_000 + 800 + 600);
  });
});
