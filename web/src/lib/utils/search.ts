import { normalize, parseQuery, words } from '@chat/shared/search/terms';

/**
 * The search box's language, as Slack and Mattermost users type it:
 * `from:alice in:general after:2026-01-31 budget`. Operators may come in any order; everything
 * else is the text searched (matched by the server with shared/src/search/terms.ts).
 * - `from:<username>` (or `from:@alice`, `from:me`): messages that user sent.
 * - `in:<conversation>`: a group's title or a direct conversation's other member (`in:@bob`).
 *   A name with spaces is quoted: `in:"team lunch"`.
 * - `on:<date>`, `after:<date>` (the days after it), `before:<date>` (the days before it);
 *   dates are `YYYY-MM-DD`, days are the reader's local days.
 */
export interface SearchInput {
  text: string;
  from: string | null;
  in: string | null;
  /** Local calendar days, `YYYY-MM-DD`; `after`/`before` exclude the day itself. */
  on: string | null;
  after: string | null;
  before: string | null;
  /** Operators that could not be read (a bad date), to tell the reader. */
  invalid: string[];
}

const TOKEN = /(?:^|\s)(from|in|on|after|before):(?:"([^"]*)"?|(\S*))/gi;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function parseSearchInput(input: string): SearchInput {
  const out: SearchInput = { text: '', from: null, in: null, on: null, after: null, before: null, invalid: [] };
  const text = input.replace(TOKEN, (whole, op: string, quoted: string | undefined, bare: string | undefined) => {
    const value = (quoted ?? bare ?? '').trim();
    const key = op.toLowerCase() as 'from' | 'in' | 'on' | 'after' | 'before';
    if (!value) {
      out.invalid.push(`${key}:`);
      return ' ';
    }
    if (key === 'from' || key === 'in') out[key] = value.replace(/^@/, '');
    else if (localDay(value)) out[key] = value;
    else out.invalid.push(`${key}:${value}`);
    return ' ';
  });
  out.text = text.replace(/\s+/g, ' ').trim();
  return out;
}

/** The start of a local calendar day `YYYY-MM-DD`, or null when it is no real date. */
export function localDay(day: string): Date | null {
  const m = DATE.exec(day);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  const date = new Date(y, mo, d);
  return date.getFullYear() === y && date.getMonth() === mo && date.getDate() === d ? date : null;
}

const nextDay = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1);

/** The query's days as the API's `[since, until)` instants (the narrowest of what was typed). */
export function dateRange(input: Pick<SearchInput, 'on' | 'after' | 'before'>): { since?: string; until?: string } {
  const starts: Date[] = [];
  const ends: Date[] = [];
  const on = input.on ? localDay(input.on) : null;
  if (on) {
    starts.push(on);
    ends.push(nextDay(on));
  }
  const after = input.after ? localDay(input.after) : null;
  if (after) starts.push(nextDay(after));
  const before = input.before ? localDay(input.before) : null;
  if (before) ends.push(before);
  const since = starts.length ? new Date(Math.max(...starts.map(Number))) : null;
  const until = ends.length ? new Date(Math.min(...ends.map(Number))) : null;
  return { ...(since ? { since: since.toISOString() } : {}), ...(until ? { until: until.toISOString() } : {}) };
}

/** Writes the operators back into a query string (the UI controls edit the same query). */
export function withOperator(input: string, op: 'from' | 'in' | 'on' | 'after' | 'before', value: string | null): string {
  const parsed = parseSearchInput(input);
  const next = { ...parsed, [op]: value };
  const quote = (v: string) => (/\s/.test(v) ? `"${v}"` : v);
  const ops = (['from', 'in', 'on', 'after', 'before'] as const).filter((k) => next[k]).map((k) => `${k}:${quote(next[k]!)}`);
  return [...ops, parsed.text].filter(Boolean).join(' ');
}

export interface Named {
  id: string;
  name: string;
  /** Other names it answers to (a username, the other member of a direct conversation). */
  handles: string[];
}

/**
 * The entry a typed name means: one whose handle or name is the name (case and accents ignored),
 * else the only one it begins; null when none or several could be meant.
 */
export function resolveName<T extends Named>(list: readonly T[], typed: string): T | null {
  const q = normalize(typed).trim();
  if (!q) return null;
  const names = (e: T) => [e.name, ...e.handles].map((n) => normalize(n));
  const exact = list.filter((e) => names(e).some((n) => n === q));
  if (exact.length === 1) return exact[0]!;
  if (exact.length > 1) return null;
  const prefix = list.filter((e) => names(e).some((n) => n.startsWith(q)));
  return prefix.length === 1 ? prefix[0]! : null;
}

/** A piece of a result's text: `hit` when it is the matched beginning of a word. */
export interface Segment {
  text: string;
  hit: boolean;
}

// The words of the original text, marks kept with their letters, so an original slice maps back.
const RAW_WORD = /[\p{L}\p{N}\p{M}]+/gu;
const IDEOGRAPHIC = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

/**
 * The text split into pieces, with the beginning of each word that a query word begins marked,
 * by the same normal form the server matches with (`É` is hit by `e`, `ﬁ` by `fi`): the
 * original characters are shown, never the normalised ones.
 */
export function highlight(text: string, query: string): Segment[] {
  const qs = parseQuery(query).words;
  if (!qs.length || !text) return text ? [{ text, hit: false }] : [];
  const out: Segment[] = [];
  let at = 0;
  const push = (s: string, hit: boolean) => {
    if (!s) return;
    const last = out[out.length - 1];
    if (last && last.hit === hit) last.text += s;
    else out.push({ text: s, hit });
  };
  for (const m of text.matchAll(RAW_WORD)) {
    for (const [start, word] of splitIdeographic(m[0], m.index)) {
      const hitLen = matchedPrefix(word, qs);
      if (!hitLen) continue;
      push(text.slice(at, start), false);
      push(text.slice(start, start + hitLen), true);
      at = start + hitLen;
    }
  }
  push(text.slice(at), false);
  return out;
}

/** A raw run as the server's words: each ideographic character alone, other letters together. */
function splitIdeographic(run: string, offset: number): [number, string][] {
  if (!IDEOGRAPHIC.test(run)) return [[offset, run]];
  const out: [number, string][] = [];
  let rest = '';
  let restAt = offset;
  let i = offset;
  for (const ch of run) {
    if (IDEOGRAPHIC.test(ch)) {
      if (rest) out.push([restAt, rest]);
      rest = '';
      out.push([i, ch]);
    } else {
      if (!rest) restAt = i;
      rest += ch;
    }
    i += ch.length;
  }
  if (rest) out.push([restAt, rest]);
  return out;
}

/** How many UTF-16 units of the raw word the longest matching query word covers (0: none). */
function matchedPrefix(raw: string, qs: string[]): number {
  const norm = words(raw).join('');
  let best = 0;
  for (const q of qs) {
    if (!norm.startsWith(q)) continue;
    // The shortest original prefix whose normal form covers the query word.
    let len = 0;
    for (const ch of raw) {
      len += ch.length;
      if (normalize(raw.slice(0, len)).length >= q.length) break;
    }
    // Marks that follow belong to the last letter shown.
    while (len < raw.length && /\p{M}/u.test(raw[len]!)) len++;
    best = Math.max(best, len);
  }
  return best;
}

/**
 * Results grouped by conversation, for the results list: groups in the order of their newest
 * result (the server answers newest first), each group's results newest first.
 */
export function groupByConversation<T extends { conversationId: string }>(results: readonly T[]): { conversationId: string; results: T[] }[] {
  const groups = new Map<string, T[]>();
  for (const r of results) {
    const g = groups.get(r.conversationId);
    if (g) g.push(r);
    else groups.set(r.conversationId, [r]);
  }
  return [...groups].map(([conversationId, rs]) => ({ conversationId, results: rs }));
}
