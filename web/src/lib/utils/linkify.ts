export type TextPart = { text: string; href?: undefined } | { text: string; href: string };

const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;

/**
 * Splits plain text into text and link parts. Only http(s) links become links, so `javascript:`
 * and friends stay text; the caller renders parts as text nodes and <a rel="noopener noreferrer">.
 */
export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    let raw = match[0];
    const start = match.index ?? 0;
    // Keep a closing parenthesis that belongs to the URL, drop trailing punctuation.
    const trail = raw.match(TRAILING)?.[0] ?? '';
    if (trail) {
      let keep = 0;
      if (trail.startsWith(')') && (raw.match(/\(/g)?.length ?? 0) > (raw.slice(0, -trail.length).match(/\)/g)?.length ?? 0)) keep = 1;
      raw = raw.slice(0, raw.length - trail.length + keep);
    }
    const href = /^www\./i.test(raw) ? `https://${raw}` : raw;
    let ok = false;
    try {
      const u = new URL(href);
      ok = u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) continue;
    if (start > last) parts.push({ text: text.slice(last, start) });
    parts.push({ text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}
