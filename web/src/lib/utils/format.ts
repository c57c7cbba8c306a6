// One formatter per format, made on first use: toLocale*String(…, options) builds a new
// Intl.DateTimeFormat on every call, which is most of a message row's render cost (two per
// row, one per sidebar item: hundreds on a cold load).
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = JSON.stringify(options);
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = new Intl.DateTimeFormat(undefined, options)));
  return f;
}

/** A date in the browser's locale, with a formatter reused across calls. */
export const formatDate = (d: Date | string, options: Intl.DateTimeFormatOptions): string => formatter(options).format(typeof d === 'string' ? new Date(d) : d);

export const formatTime = (iso: string): string => formatDate(iso, { hour: 'numeric', minute: '2-digit' });

export const formatDateTime = (iso: string): string => formatDate(iso, { dateStyle: 'medium', timeStyle: 'short' });

/** Sidebar style: time today, weekday this week, else a short date. */
export function formatShort(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const diff = now.getTime() - d.getTime();
  if (d.toDateString() === now.toDateString()) return formatTime(iso);
  if (diff < 6 * 86_400_000) return formatDate(d, { weekday: 'short' });
  return formatDate(d, { month: 'short', day: 'numeric' });
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const s = parts.length > 1 ? parts[0]![0]! + parts[parts.length - 1]![0]! : (parts[0] ?? '?').slice(0, 2);
  return s.toUpperCase();
}

/** A stable hue per id for avatars. */
export function hue(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h % 360;
}

export function newClientMsgId(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}
