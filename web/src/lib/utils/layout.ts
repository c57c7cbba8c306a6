/** Prefix-sum layout for a windowed list of variable-height rows. */
export interface Layout {
  offsets: Float64Array; // offsets[i] = top of row i; offsets[n] = total height
  total: number;
}

export function computeLayout(keys: readonly string[], height: (i: number, key: string) => number): Layout {
  const n = keys.length;
  const offsets = new Float64Array(n + 1);
  let y = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = y;
    y += height(i, keys[i]!);
  }
  offsets[n] = y;
  return { offsets, total: y };
}

/** Index of the row containing y (the last row whose top is <= y). */
export function rowAt(layout: Layout, y: number): number {
  const { offsets } = layout;
  const n = offsets.length - 1;
  if (n <= 0) return 0;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid]! <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The rows to render for a viewport, with `overscan` pixels above and below. */
export function visibleRange(layout: Layout, scrollTop: number, viewport: number, overscan = 600): [number, number] {
  const n = layout.offsets.length - 1;
  if (n <= 0) return [0, 0];
  const start = rowAt(layout, Math.max(0, scrollTop - overscan));
  const end = rowAt(layout, scrollTop + viewport + overscan) + 1;
  return [start, Math.min(n, end)];
}
