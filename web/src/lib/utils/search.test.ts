import { describe, expect, it } from 'vitest';
import { dateRange, groupByConversation, highlight, localDay, parseSearchInput, resolveName, withOperator } from './search.ts';

const hits = (text: string, q: string) =>
  highlight(text, q)
    .filter((s) => s.hit)
    .map((s) => s.text);

describe('parseSearchInput', () => {
  it('takes the operators out of the text, in any order', () => {
    const p = parseSearchInput('from:alice budget in:general  plan');
    expect(p).toMatchObject({ text: 'budget plan', from: 'alice', in: 'general', on: null, invalid: [] });
  });

  it('reads quoted names, an @, dates, and is case-insensitive in the operator', () => {
    const p = parseSearchInput('IN:"team lunch" From:@bob after:2026-01-31 before:2026-03-01 on:2026-02-10 pizza');
    expect(p).toMatchObject({ text: 'pizza', in: 'team lunch', from: 'bob', after: '2026-01-31', before: '2026-03-01', on: '2026-02-10' });
  });

  it('reports a bad date or an empty operator, and keeps words that only contain a colon', () => {
    const p = parseSearchInput('on:2026-02-30 from: re:budget');
    expect(p.invalid).toEqual(['on:2026-02-30', 'from:']);
    expect(p.on).toBeNull();
    expect(p.text).toBe('re:budget');
  });
});

describe('dates', () => {
  it('reads only real calendar days', () => {
    expect(localDay('2026-02-28')?.getDate()).toBe(28);
    expect(localDay('2026-02-29')).toBeNull();
    expect(localDay('26-1-1')).toBeNull();
  });

  it('turns days into the narrowest [since, until) of local midnights', () => {
    const day = (y: number, m: number, d: number) => new Date(y, m - 1, d).toISOString();
    expect(dateRange({ on: '2026-02-10', after: null, before: null })).toEqual({ since: day(2026, 2, 10), until: day(2026, 2, 11) });
    expect(dateRange({ on: null, after: '2026-01-31', before: '2026-03-01' })).toEqual({ since: day(2026, 2, 1), until: day(2026, 3, 1) });
    expect(dateRange({ on: '2026-02-10', after: '2026-02-01', before: '2026-02-20' })).toEqual({ since: day(2026, 2, 10), until: day(2026, 2, 11) });
    expect(dateRange({ on: null, after: null, before: null })).toEqual({});
  });
});

describe('withOperator', () => {
  it('sets, replaces and clears one operator, quoting names with spaces', () => {
    expect(withOperator('budget', 'in', 'team lunch')).toBe('in:"team lunch" budget');
    expect(withOperator('in:general from:alice budget', 'from', 'bob')).toBe('from:bob in:general budget');
    expect(withOperator('in:general budget', 'in', null)).toBe('budget');
  });
});

describe('resolveName', () => {
  const list = [
    { id: 'g1', name: 'General', handles: [] },
    { id: 'g2', name: 'Generations', handles: [] },
    { id: 'd1', name: 'Bob Builder', handles: ['bob'] },
    { id: 'd2', name: 'Zoë', handles: ['zoe_z'] },
  ];
  it('prefers an exact name or handle, else a single prefix; accents and case ignored', () => {
    expect(resolveName(list, 'general')?.id).toBe('g1');
    expect(resolveName(list, 'BOB')?.id).toBe('d1');
    expect(resolveName(list, 'zoe')?.id).toBe('d2');
    expect(resolveName(list, 'bob bu')?.id).toBe('d1');
  });
  it('answers null when nothing or several could be meant', () => {
    expect(resolveName(list, 'gen')).toBeNull();
    expect(resolveName(list, 'nobody')).toBeNull();
    expect(resolveName(list, ' ')).toBeNull();
  });
});

describe('highlight', () => {
  it('marks the matched beginning of each word, case- and accent-insensitively', () => {
    expect(highlight('Héllo, World! hello', 'hel wor')).toEqual([
      { text: 'Hél', hit: true },
      { text: 'lo, ', hit: false },
      { text: 'Wor', hit: true },
      { text: 'ld! ', hit: false },
      { text: 'hel', hit: true },
      { text: 'lo', hit: false },
    ]);
    expect(hits('Café CAFÉ', 'cafe')).toEqual(['Café', 'CAFÉ']);
  });

  it('marks only word beginnings, like the server matches', () => {
    expect(hits('hello shell', 'hel')).toEqual(['hel']);
    expect(hits('nothing here', 'llo')).toEqual([]);
  });

  it('keeps the original characters where normalisation changes them', () => {
    // "ﬁ" is one character that folds to "fi"; a decomposed é keeps its mark with the letter.
    expect(hits('ﬁnal', 'fi')).toEqual(['ﬁ']);
    expect(hits('Cafe\u0301 au lait', 'cafe')).toEqual(['Cafe\u0301']);
    expect(highlight('Ｈｅｌｌｏ', 'hell').map((s) => s.text).join('')).toBe('Ｈｅｌｌｏ');
    expect(hits('Ｈｅｌｌｏ', 'hell')).toEqual(['Ｈｅｌｌ']);
  });

  it('marks each ideographic character on its own, and the longest of overlapping query words', () => {
    expect(hits('東京タワー', '東 京')).toEqual(['東京']);
    expect(hits('planning plan', 'plan planning')).toEqual(['planning', 'plan']);
  });

  it('returns the text whole when the query has no words', () => {
    expect(highlight('a.b', '.*')).toEqual([{ text: 'a.b', hit: false }]);
    expect(highlight('', 'x')).toEqual([]);
  });
});

describe('groupByConversation', () => {
  it('keeps the newest-first order, groups ordered by their newest result', () => {
    const r = (id: string, conversationId: string) => ({ id, conversationId });
    expect(groupByConversation([r('5', 'a'), r('4', 'b'), r('3', 'a'), r('2', 'c'), r('1', 'b')])).toEqual([
      { conversationId: 'a', results: [r('5', 'a'), r('3', 'a')] },
      { conversationId: 'b', results: [r('4', 'b'), r('1', 'b')] },
      { conversationId: 'c', results: [r('2', 'c')] },
    ]);
    expect(groupByConversation([])).toEqual([]);
  });
});
