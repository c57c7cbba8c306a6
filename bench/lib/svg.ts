import type { Chart } from './context.ts';

/** A small line chart as standalone SVG: axes with ticks, one polyline per series, a legend. */
export function lineChart(c: Chart): string {
  const W = 640;
  const H = 360;
  const m = { l: 60, r: 200, t: 34, b: 46 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const pts = c.series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y) && (!c.logY || y > 0));
  const xs = pts.map(([x]) => x);
  const ys = pts.map(([, y]) => y);
  const xMin = Math.min(0, ...xs);
  const xMax = Math.max(1, ...xs);
  let yMin = c.logY ? Math.max(0.1, Math.min(...ys, 1)) : 0;
  let yMax = Math.max(...ys, c.logY ? 10 : 1);
  if (c.logY) {
    yMin = 10 ** Math.floor(Math.log10(yMin));
    yMax = 10 ** Math.ceil(Math.log10(yMax));
  } else yMax = niceCeil(yMax);
  const sx = (x: number) => m.l + ((x - xMin) / (xMax - xMin)) * pw;
  const sy = (y: number) =>
    c.logY ? m.t + ph - ((Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph : m.t + ph - ((y - yMin) / (yMax - yMin)) * ph;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${m.l}" y="20" font-size="13" font-weight="600">${esc(c.title)}</text>`);
  const yTicks = c.logY ? range(Math.log10(yMin), Math.log10(yMax)).map((e) => 10 ** e) : range(0, 5).map((i) => (yMax / 5) * i);
  for (const y of yTicks) {
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${f(sy(y))}" y2="${f(sy(y))}" stroke="#e9ecef"/>`);
    out.push(`<text x="${m.l - 6}" y="${f(sy(y) + 4)}" text-anchor="end" fill="#495057">${label(y)}</text>`);
  }
  const xTicks = [...new Set(xs)].sort((a, b) => a - b);
  for (const x of xTicks) out.push(`<text x="${f(sx(x))}" y="${m.t + ph + 16}" text-anchor="middle" fill="#495057">${label(x)}</text>`);
  out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}" stroke="#868e96"/>`);
  out.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}" stroke="#868e96"/>`);
  out.push(`<text x="${m.l + pw / 2}" y="${H - 10}" text-anchor="middle" fill="#212529">${esc(c.xLabel)}</text>`);
  out.push(`<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" fill="#212529">${esc(c.yLabel)}</text>`);
  c.series.forEach((s, i) => {
    const p = s.points.filter(([, y]) => Number.isFinite(y) && (!c.logY || y > 0));
    const dash = s.dashed ? ' stroke-dasharray="5 4"' : '';
    if (p.length) {
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${p.map(([x, y]) => `${f(sx(x))},${f(sy(y))}`).join(' ')}"/>`);
      for (const [x, y] of p) out.push(`<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="2.5" fill="${s.color}"/>`);
    }
    const ly = m.t + 8 + i * 18;
    out.push(`<line x1="${W - m.r + 14}" x2="${W - m.r + 38}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${W - m.r + 44}" y="${ly + 4}" fill="#212529">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

const f = (n: number) => n.toFixed(1);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const range = (a: number, b: number) => Array.from({ length: Math.round(b - a) + 1 }, (_, i) => a + i);
const label = (v: number) => (v >= 1000 ? `${Number((v / 1000).toFixed(1))}k` : String(Number(v.toFixed(v < 1 ? 1 : 0))));
function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const k of [1, 2, 2.5, 5, 10]) if (k * p >= v) return k * p;
  return 10 * p;
}
