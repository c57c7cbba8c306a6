import { describe, expect, it } from 'vitest';
import { evaluate, Histogram, percentile, saturationIndex } from './stats.ts';

describe('Histogram', () => {
  it('gives nearest-rank percentiles and merges exactly', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 1; i <= 50; i++) a.record(i);
    for (let i = 51; i <= 100; i++) b.record(i);
    const h = new Histogram().merge(a.toJSON()).merge(JSON.parse(JSON.stringify(b.toJSON())));
    expect(h.total).toBe(100);
    expect(h.percentile(50)).toBe(50);
    expect(h.percentile(99)).toBe(99);
    expect(h.percentile(100)).toBe(100);
    expect(new Histogram().percentile(50)).toBeNull();
  });

  it('keeps 0.1 ms resolution for small latencies', () => {
    const h = new Histogram();
    h.record(1.23);
    h.record(1.27);
    expect(h.summary()).toMatchObject({ count: 2, p50: 1.2, max: 1.3 });
  });
});

describe('percentile', () => {
  it('uses nearest rank on unsorted input', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('evaluate', () => {
  it('checks ratios in the right direction', () => {
    expect(evaluate({ name: 'rate', kind: 'higher', target: 0.8 }, 90, 100)).toMatchObject({ ratio: 0.9, status: 'met' });
    expect(evaluate({ name: 'rate', kind: 'higher', target: 0.8 }, 70, 100).status).toBe('missed');
    expect(evaluate({ name: 'p99', kind: 'lower', target: 1.5 }, 20, 10)).toMatchObject({ ratio: 2, status: 'missed' });
    expect(evaluate({ name: 'p99', kind: 'lower', target: 1.5 }, 12, 10).status).toBe('met');
  });

  it('checks absolute bounds and reports missing values as not measured', () => {
    expect(evaluate({ name: 'lost', kind: 'abs-max', target: 0 }, 0).status).toBe('met');
    expect(evaluate({ name: 'lost', kind: 'abs-max', target: 0 }, 1).status).toBe('missed');
    expect(evaluate({ name: 'rps', kind: 'abs-min', target: 5000 }, 6000).status).toBe('met');
    expect(evaluate({ name: 'rate', kind: 'higher', target: 0.8 }, null, 100).status).toBe('not measured');
    expect(evaluate({ name: 'rate', kind: 'higher', target: 0.8 }, 100, 0).status).toBe('not measured');
  });
});

describe('saturationIndex', () => {
  it('stops at the last step the baseline kept up with', () => {
    const steps = [
      { offered: 200, delivered: 200 },
      { offered: 500, delivered: 498 },
      { offered: 1000, delivered: 700 },
      { offered: 1500, delivered: 720 },
    ];
    expect(saturationIndex(steps)).toBe(1);
    expect(saturationIndex(steps.slice(0, 2))).toBe(1);
    expect(saturationIndex([{ offered: 200, delivered: 10 }])).toBe(0);
  });
});
