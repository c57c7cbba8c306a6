import { describe, expect, it } from 'vitest';
import { mentionNames, mentionSpans, resolveMentions } from './mentions.ts';

const members = [
  { id: 'a', username: 'ann' },
  { id: 'b', username: 'bob.smith' },
  { id: 'c', username: 'cy_3' },
];

describe('mentionNames', () => {
  it('reads @names case-insensitively, once each, in order of first mention', () => {
    expect(mentionNames('@Bob.Smith and @ann, then @ANN again')).toEqual(['bob.smith', 'ann']);
  });

  it('ends a name before trailing sentence punctuation', () => {
    expect(mentionNames('thanks @ann. ok @bob.smith-- and @cy_3!')).toEqual(['ann', 'bob.smith', 'cy_3']);
  });

  it('ignores e-mail addresses, a lone @ and @ inside words', () => {
    expect(mentionNames('mail ann@example.com or x.@ann or @ @. @@ann')).toEqual([]);
  });

  it('skips inline code and fenced code blocks', () => {
    expect(mentionNames('`@ann` and\n```\n@bob.smith\n```\n@cy_3')).toEqual(['cy_3']);
    expect(mentionNames('```\n@ann never closed')).toEqual([]);
  });

  it('gives the span of each mention for highlighting', () => {
    expect(mentionSpans('hi @Ann.')).toEqual([{ index: 3, length: 4, name: 'ann' }]);
  });
});

describe('resolveMentions', () => {
  it('resolves members only, in order', () => {
    expect(resolveMentions(['cy_3', 'mallory', 'ann'], members, { senderId: 'a' })).toEqual(['c', 'a']);
  });

  it('gives @here the online members except the sender, and nobody without presence', () => {
    expect(resolveMentions(['here'], members, { senderId: 'a', online: new Set(['a', 'c', 'zz']) })).toEqual(['c']);
    expect(resolveMentions(['here'], members, { senderId: 'a' })).toEqual([]);
  });

  it('lets a member named "here" be mentioned by name', () => {
    expect(resolveMentions(['here'], [...members, { id: 'h', username: 'here' }], { senderId: 'a', online: new Set(['b']) })).toEqual(['h']);
  });
});
