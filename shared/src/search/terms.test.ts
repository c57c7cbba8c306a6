import { describe, expect, it } from 'vitest';
import { indexTerms, lookupTerm, matches, messageSearchKeys, normalize, parseQuery, SEARCH_TERMS, termKey, termsCover, wordTerms, words } from './terms.ts';

describe('normalize', () => {
  it('folds case, accents and compatibility forms', () => {
    expect(normalize('Éclair CRÈME brûlée')).toBe('eclair creme brulee');
    expect(normalize('ﬁne Ａｂｃ ½')).toBe('fine abc 1⁄2');
    expect(normalize('İstanbul Straße')).toBe('istanbul straße');
    expect(normalize('Ångström ñandú Çà')).toBe('angstrom nandu ca');
  });
});

describe('words', () => {
  it('splits on anything that is not a letter or a digit', () => {
    expect(words("Hello, world! It's 2026-01-01 (re: v2.5)")).toEqual(['hello', 'world', 'it', 's', '2026', '01', '01', 're', 'v2', '5']);
    expect(words('.* ( [ \\ ^ $where')).toEqual(['where']);
    expect(words('   ')).toEqual([]);
  });
  it('treats emoji and symbols as separators', () => {
    expect(words('party🎉time 👍🏽 ok ✓ done')).toEqual(['party', 'time', 'ok', 'done']);
  });
  it('makes each Han, Hiragana and Katakana character a word, and keeps other scripts whole', () => {
    expect(words('東京タワーへ行く')).toEqual(['東', '京', 'タ', 'ワ', 'ー', 'へ', '行', 'く']);
    expect(words('iPhone用ケース')).toEqual(['iphone', '用', 'ケ', 'ー', 'ス']);
    expect(words('Привет мир, Γειά σου, 안녕하세요 세계, مرحبا')).toEqual(['привет', 'мир', 'γεια', 'σου', '안녕하세요', '세계', 'مرحبا']);
  });
});

describe('index terms', () => {
  it('indexes prefixes of 3, 5, 8 and 12 characters, and shorter words as themselves', () => {
    expect(wordTerms('hello')).toEqual(['hel', 'hello']);
    expect(wordTerms('benchmarking')).toEqual(['ben', 'bench', 'benchmar', 'benchmarking']);
    expect(wordTerms('a')).toEqual(['a']);
    expect(wordTerms('to')).toEqual(['to']);
    expect(wordTerms('東')).toEqual(['東']);
  });
  it('caps prefixes of very long words at prefixMax characters', () => {
    const long = 'x'.repeat(4000);
    const terms = wordTerms(long);
    expect(terms).toHaveLength(SEARCH_TERMS.prefixLengths.length);
    expect(terms.at(-1)).toBe('x'.repeat(SEARCH_TERMS.prefixMax));
  });
  it('counts characters, not UTF-16 units, so a prefix never splits a surrogate pair', () => {
    const word = '𐐨'.repeat(20); // a Deseret letter: outside the BMP (two UTF-16 units), kept by NFKD
    expect(words(word)).toEqual([word]);
    expect(Array.from(wordTerms(word).at(-1)!)).toHaveLength(SEARCH_TERMS.prefixMax);
  });
  it('deduplicates across words and bounds the total', () => {
    expect(indexTerms('Hello hello HELP')).toEqual(['hel', 'hello']);
    expect(indexTerms('benchmark message 1: the quick brown fox jumps over the lazy dog')).toHaveLength(17);
    const salad = Array.from({ length: 2000 }, (_, i) => `w${i.toString(36)}zzzzzzzzzzzz`).join(' ');
    expect(indexTerms(salad)).toHaveLength(SEARCH_TERMS.termsMax);
  });
});

describe('queries', () => {
  const text = 'Let’s meet at the Café Müller tomorrow, 10:30';
  it('match by word prefix, case- and accent-insensitively', () => {
    expect(matches(text, parseQuery('CAFE'))).toBe(true);
    expect(matches(text, parseQuery('caf'))).toBe(true);
    expect(matches(text, parseQuery('muller'))).toBe(true);
    expect(matches(text, parseQuery('afé'))).toBe(false);
  });
  it('need every word of a multi-word query, in any order', () => {
    expect(matches(text, parseQuery('tomorrow café'))).toBe(true);
    expect(matches(text, parseQuery('meet tom'))).toBe(true);
    expect(matches(text, parseQuery('meet yesterday'))).toBe(false);
  });
  it('look up the longest word by its longest indexed prefix', () => {
    expect(parseQuery('at tomorrow caf')).toEqual({ words: ['at', 'tomorrow', 'caf'], lookup: 'tomorrow' });
    expect(parseQuery('x'.repeat(40)).lookup).toBe('x'.repeat(SEARCH_TERMS.prefixMax));
    expect(lookupTerm('hell')).toBe('hel');
    expect(lookupTerm('tomorro')).toBe('tomor');
    expect(lookupTerm('ab')).toBe('ab');
  });
  it('check candidates found by a shorter prefix against the text', () => {
    expect(matches('help me', parseQuery('hell'))).toBe(false);
    expect(matches('hello there', parseQuery('hell'))).toBe(true);
  });
  it('have no words when the query has no letters or digits, and then match nothing', () => {
    expect(parseQuery('.* 🎉 !!')).toEqual({ words: [], lookup: null });
    expect(matches('.* 🎉 !!', parseQuery('.*'))).toBe(false);
  });
  it('check the other words against the index entry before the text is read', () => {
    const terms = new Set(indexTerms(text));
    const has = (t: string) => terms.has(t);
    expect(termsCover(has, parseQuery('tomorrow caf'))).toBe(true);
    expect(termsCover(has, parseQuery('tomorrow zebra'))).toBe(false);
    // One-letter words are not looked up; the text decides.
    expect(termsCover(has, parseQuery('tomorrow q'))).toBe(true);
    expect(matches(text, parseQuery('tomorrow q'))).toBe(false);
  });
  it('find CJK text by one of its characters or several', () => {
    expect(matches('明日東京で会いましょう', parseQuery('東京'))).toBe(true);
    expect(matches('明日東京で会いましょう', parseQuery('大阪'))).toBe(false);
  });
});

describe('termKey', () => {
  it('is 11 URL-safe characters, stable, and differs by scope and by term', () => {
    const k = termKey('65f000000000000000000000', 'hello');
    expect(k).toMatch(/^[A-Za-z0-9_-]{11}$/);
    expect(termKey('65f000000000000000000000', 'hello')).toBe(k);
    expect(termKey('65f000000000000000000001', 'hello')).not.toBe(k);
    expect(termKey('65f000000000000000000000', 'hellp')).not.toBe(k);
  });
  it('keeps the keys already stored: the values below were written by the function before it was sped up', () => {
    expect(messageSearchKeys('65f000000000000000000000', 'Benchmark message 123: the quick brown fox, Éclair 東京 İstanbul ﬁne')).toEqual(
      ['COt3jz82dQO', 'ivUT-dHHalP', 'Z9XpTKp1DkB', '7fmg8SkHEPG', 'nhygDYw0YBK', 't9grBHRhrTF', 'U7ArAepuEgI', '7KJzWS7RBFO', 'MysgYUMhXKI', 'iVTPcbKu3AD', 'kqvDqPJzL0D', 'lIdr3liDxmP', '-YZW7TCVSfP', 'Fgvp-4WMrtB', 'sYYy92e29OF', 'XOmpE0MynhM', 'DkEYhSr9SSA', 'KT2LlYKeMXO', 'RuT77yFp9oO', 'pV0VA0w-VDP'],
    );
    expect([termKey('65f000000000000000000000', 'hello'), termKey('x', ''), termKey('65f000000000000000000000', '東')]).toEqual(['ShiPBzdgPyL', 'd-1HalorHNJ', 'sYYy92e29OF']);
  });
  it('spreads a conversation’s terms without collisions in practice', () => {
    const keys = new Set(Array.from({ length: 200_000 }, (_, i) => termKey('65f000000000000000000000', `t${i}`)));
    expect(keys.size).toBe(200_000);
  });
});

describe('messageSearchKeys', () => {
  const conv = '65f000000000000000000000';
  it('keys every term by its conversation only (a chunk is a second equality at lookup, not a key)', () => {
    const terms = indexTerms('benchmark message 1');
    expect(messageSearchKeys(conv, 'benchmark message 1')).toEqual(terms.map((t) => termKey(conv, t)));
    expect(messageSearchKeys(conv, 'benchmark message 1')).toHaveLength(6);
  });
  it('stays under the 2,704-byte btree row FerretDB keeps for the whole array, for the longest text', () => {
    const salad = Array.from({ length: 2000 }, (_, i) => `w${i.toString(36)}zzzzzzzzzzzz`).join(' ');
    const keys = messageSearchKeys(conv, salad);
    // jsonb: a 4-byte header, then a 4-byte entry and the characters per string.
    expect(4 + keys.reduce((n, k) => n + 4 + k.length, 0)).toBeLessThanOrEqual(2600);
  });
});
