/**
 * The quick switcher's matching: every word typed must start a word of the title (case and
 * accents ignored); titles where the whole query starts the title come first, then the list's
 * own order (newest activity first). An empty query keeps the list as it is.
 */
export function matchConversations<T extends { title: string }>(list: readonly T[], query: string): T[] {
  const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  const q = fold(query).trim();
  if (!q) return [...list];
  const words = q.split(/\s+/);
  const scored: { item: T; score: number; i: number }[] = [];
  list.forEach((item, i) => {
    const title = fold(item.title);
    const starts = title.split(/[\s,.\-_@]+/);
    if (!words.every((w) => starts.some((s) => s.startsWith(w)) || title.includes(w))) return;
    scored.push({ item, score: title.startsWith(q) ? 0 : 1, i });
  });
  return scored.sort((a, b) => a.score - b.score || a.i - b.i).map((s) => s.item);
}
