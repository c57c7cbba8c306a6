import { describe, expect, it } from 'vitest';
import type { User } from '@chat/shared/models/types';
import { applyMention, mentionHighlights, mentionOptions, mentionQuery, optionName } from './mentions.ts';

const u = (id: string, username: string, displayName: string): User => ({ id, username, displayName, avatarUrl: null });
const members = [u('me', 'mia', 'Mia Me'), u('b', 'bob', 'Bob Stone'), u('c', 'carla', 'Carla Bobbins'), u('h', 'hank', 'Hank Hill')];

describe('mentionQuery', () => {
  it('finds the @partial the caret is in, at the start or after a space', () => {
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQuery('hi @Bo', 6)).toEqual({ start: 3, query: 'bo' });
    expect(mentionQuery('hi @bo there', 6)).toEqual({ start: 3, query: 'bo' });
    expect(mentionQuery('(@ca', 4)).toEqual({ start: 1, query: 'ca' });
  });

  it('offers nothing in an e-mail address, after a space, or with the caret elsewhere', () => {
    expect(mentionQuery('ann@ex', 6)).toBeNull();
    expect(mentionQuery('@bob ', 5)).toBeNull();
    expect(mentionQuery('hi @bob', 2)).toBeNull();
  });
});

describe('mentionOptions', () => {
  it('matches username, display name and its words, never me, names starting with it first', () => {
    expect(mentionOptions(members, 'bo', 'me', true).map(optionName)).toEqual(['bob', 'carla']);
    expect(mentionOptions(members, 'mi', 'me', true)).toEqual([]);
  });

  it('offers @here in groups only, after the people', () => {
    expect(mentionOptions(members, 'h', 'me', true).map(optionName)).toEqual(['hank', 'here']);
    expect(mentionOptions(members, 'h', 'me', false).map(optionName)).toEqual(['hank']);
    expect(mentionOptions(members, '', 'me', true).map(optionName)).toEqual(['bob', 'carla', 'hank', 'here']);
  });
});

describe('applyMention', () => {
  it('replaces the partial with the whole name and a space, keeping the rest', () => {
    const text = 'hi @bo and more';
    expect(applyMention(text, { start: 3, query: 'bo' }, 6, 'bob')).toEqual({ text: 'hi @bob and more', caret: 8 });
    expect(applyMention('@ca', { start: 0, query: 'ca' }, 3, 'carla')).toEqual({ text: '@carla ', caret: 7 });
    // The caret inside a word: the rest of that word is the name's too.
    expect(applyMention('@cax!', { start: 0, query: 'c' }, 2, 'carla')).toEqual({ text: '@carla !', caret: 7 });
  });
});

describe('mentionHighlights', () => {
  const userOf = (id: string) => members.find((m) => m.id === id);
  it('marks my name as me and other resolved members as other; unknown ids are skipped', () => {
    expect([...mentionHighlights(['b', 'me', 'zz'], userOf, 'me')]).toEqual([
      ['bob', 'other'],
      ['mia', 'me'],
      ['here', 'me'],
    ]);
    expect(mentionHighlights([], userOf, 'me').size).toBe(0);
    expect(mentionHighlights(['b'], userOf, 'me').get('here')).toBe('other');
  });
});
