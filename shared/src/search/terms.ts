/**
 * The words of a text as search sees them, shared by what indexes (the db function, the migration)
 * and what queries, so both sides always agree on one normal form.
 *
 * - Normal form: NFKD, combining marks removed, lower case (then NFC). "Éclair", "ÉCLAIR" and "eclair" are one
 *   word; compatibility forms fold too ("ﬁ" → "fi", full-width "Ａ" → "a").
 * - A word is a run of letters and digits (`\p{L}\p{N}`); anything else separates words
 *   (punctuation, spaces, emoji, symbols). Han, Hiragana and Katakana are written without spaces,
 *   so each of their characters is a word of its own: "東京" is found by "東" and by "東京".
 * - Prefixes: a word is indexed under its prefixes of PREFIX_LENGTHS characters (3, 5, 8 and 12;
 *   a word shorter than 3 under itself), so a prefix is an equality lookup: "hel" and "hell" are
 *   both looked up as "hel" and find "hello"; the text of every candidate is then checked, so
 *   "hell" does not return "help". Indexing every length instead cost 39 keys for the storage
 *   bench's message against 17 (docs/search.md).
 */
export const SEARCH_TERMS = {
  /** Prefix lengths indexed; a query word is looked up by the longest of them it reaches. */
  prefixLengths: [3, 5, 8, 12] as readonly number[],
  /** Shortest indexed prefix; shorter words are indexed (and looked up) whole. */
  prefixMin: 3,
  /** Longest indexed prefix. */
  prefixMax: 12,
  /**
   * At most this many distinct terms per text, in reading order. FerretDB keeps a btree index on
   * the whole `searchKeys` array of a message, whose rows PostgreSQL caps at 2,704 bytes (a
   * 600-key array failed its insert, measured). A term is one key of 11 characters (15 bytes in
   * jsonb), so 96 terms are at most 1,444 bytes; the cap leaves room for the per-chunk keys of
   * messages stored before they were dropped (two keys per term then, at most 2,596 bytes).
   */
  termsMax: 96,
} as const;

// Scripts written without spaces between words: every character is a word.
const IDEOGRAPHIC = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const WORD = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}/gu;
const ASCII_WORD = /[a-z0-9]+/g;

/** Whether every code unit of a string is ASCII (below 128). */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

/** The normal form of a text: compatibility-decomposed, without combining marks, lower case. */
export function normalize(text: string): string {
  // ASCII has nothing to decompose and no marks: lower case is the whole normal form (most chat
  // text, and this runs for every stored message).
  if (isAscii(text)) return text.toLowerCase();
  // Lower-casing can add marks (e.g. "İ" → "i̇"), so marks are stripped after it too; NFC at the
  // end puts back what decomposition split without a mark (Hangul syllables from their jamo).
  return text.normalize('NFKD').replace(MARKS, '').toLowerCase().normalize('NFKD').replace(MARKS, '').normalize('NFC');
}

/** The words of a text in reading order, normalised (duplicates kept). */
export function words(text: string): string[] {
  const normal = normalize(text);
  // The same words as below for ASCII (no ideographs; letters and digits are [a-z0-9] once lower case), faster.
  if (isAscii(normal)) return normal.match(ASCII_WORD) ?? [];
  const out: string[] = [];
  for (const [run] of normal.matchAll(WORD)) {
    if (!IDEOGRAPHIC.test(run)) {
      out.push(run);
      continue;
    }
    // Split a mixed run: ideographic characters alone, other letters/digits stay together.
    let rest = '';
    for (const ch of run) {
      if (IDEOGRAPHIC.test(ch)) {
        if (rest) out.push(rest);
        rest = '';
        out.push(ch);
      } else rest += ch;
    }
    if (rest) out.push(rest);
  }
  return out;
}

/** Characters of a word (code points, so a surrogate pair is never cut in half). */
const chars = (w: string) => Array.from(w);

/** The terms a word is indexed under: its prefixes of prefixLengths characters, or itself when shorter. */
export function wordTerms(word: string): string[] {
  if (isAscii(word)) {
    // One character per code unit: plain slices.
    if (word.length < SEARCH_TERMS.prefixMin) return word.length ? [word] : [];
    const out: string[] = [];
    for (const n of SEARCH_TERMS.prefixLengths) if (n <= word.length) out.push(word.slice(0, n));
    return out;
  }
  const c = chars(word);
  if (c.length < SEARCH_TERMS.prefixMin) return c.length ? [word] : [];
  return SEARCH_TERMS.prefixLengths.filter((n) => n <= c.length).map((n) => c.slice(0, n).join(''));
}

/** Every distinct term of a text, at most termsMax, in reading order. */
export function indexTerms(text: string): string[] {
  const seen = new Set<string>();
  for (const w of words(text)) {
    for (const t of wordTerms(w)) {
      if (seen.size >= SEARCH_TERMS.termsMax) return [...seen];
      seen.add(t);
    }
  }
  return [...seen];
}

/** The term a query word is looked up by: its longest indexed prefix (itself when shorter than prefixMin). */
export function lookupTerm(word: string): string {
  const c = chars(word);
  if (c.length < SEARCH_TERMS.prefixMin) return word;
  const n = Math.max(...SEARCH_TERMS.prefixLengths.filter((l) => l <= c.length));
  return c.slice(0, n).join('');
}

export interface ParsedQuery {
  /** Distinct normalised words of the query; empty when it has no letters or digits. */
  words: string[];
  /** The term to look up in the index: that of the longest word (the most selective). */
  lookup: string | null;
}

export function parseQuery(q: string): ParsedQuery {
  const ws = [...new Set(words(q))];
  if (ws.length === 0) return { words: [], lookup: null };
  const longest = ws.reduce((a, w) => (chars(w).length > chars(a).length ? w : a));
  return { words: ws, lookup: lookupTerm(longest) };
}

/** Whether a text matches a query: every query word is a prefix of one of the text's words. */
export function matches(text: string, query: ParsedQuery): boolean {
  if (query.words.length === 0) return false;
  const ws = words(text);
  return query.words.every((q) => ws.some((w) => w.startsWith(q)));
}

/**
 * Whether an index entry can match every query word, before the text is read: a word of
 * prefixMin characters or more must have its lookup term among the entry's; `has` answers for one
 * term. Shorter words are left to `matches` on the text, since their prefixes are not indexed.
 */
export function termsCover(has: (term: string) => boolean, query: ParsedQuery): boolean {
  return query.words.every((w) => chars(w).length < SEARCH_TERMS.prefixMin || has(lookupTerm(w)));
}

/** The 64 digits of a key (URL-safe base64), as char codes. */
const DIGITS = Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', (c) => c.charCodeAt(0));

/** FNV-1a over a string, continuing from state `h` (before the finaliser, so a prefix's state can be kept). */
function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** The murmur3 finaliser of an FNV-1a state: the 32-bit hash. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const SEED_A = 0x811c9dc5;
const SEED_B = 0x9747b28c;

/**
 * termKey for the terms of one scope: the scope's share of both hashes is computed once, since
 * FNV-1a is a running state (a message's terms all share its conversation).
 */
export function scopeKeys(scope: string): (term: string) => string {
  const a0 = fnv(SEED_A, `${scope} `);
  const b0 = fnv(SEED_B, `${scope} `);
  return (term) => {
    const a = finish(fnv(a0, term));
    const b = finish(fnv(b0, term));
    // 64 bits as 11 six-bit digits: 5 from a (30 bits), 5 from b (30 bits), 1 from the 4 left.
    // One flat string at once: appending digit by digit built a rope the driver then flattened
    // for every key of every stored message (3× slower, measured).
    const d = (x: number, shift: number) => DIGITS[(x >>> shift) & 63]!;
    return String.fromCharCode(d(a, 0), d(a, 6), d(a, 12), d(a, 18), d(a, 24), d(b, 0), d(b, 6), d(b, 12), d(b, 18), d(b, 24), DIGITS[((a >>> 30) << 2) | (b >>> 30)]!);
  };
}

/**
 * The index key of a term within a scope (a conversation): 64 bits of hash in 11 URL-safe
 * characters (two seeded 32-bit hashes of "<scope> <term>", FNV-1a with a murmur3 finaliser),
 * short enough that an entry's keys fit FerretDB's btree row limit. Two terms sharing a key are
 * possible in principle (about 1 in 10^19 per pair); search reads every candidate's text and
 * keeps only real matches, so a collision costs one read, never a wrong result. Stored keys
 * depend on this exact function: changing it needs a migration of every message.
 */
export const termKey = (scope: string, term: string): string => scopeKeys(scope)(term);

/**
 * The search keys of a message's text: termKey(conversation, term) of each of its terms. A message
 * carries them in its own document (`searchKeys`), written in the same insert or update as its
 * body, so indexing costs the storage path no extra write. A conversation-wide lookup answers a
 * rare word at once; a common word is read newest chunk first by the same key together with the
 * chunk (`{chunkId, searchKeys}`, two equalities FerretDB pushes down as one AND), so a message
 * needs no key per chunk (docs/search.md).
 */
export function messageSearchKeys(conversationId: string, body: string): string[] {
  return indexTerms(body).map(scopeKeys(conversationId));
}
