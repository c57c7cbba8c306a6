import { describe, expect, it } from 'vitest';
import { matchConversations } from './switcher.ts';

const list = [{ title: 'Design team' }, { title: 'Zoë Adams' }, { title: 'Bob Builder' }, { title: 'Team lunch' }];
const titles = (q: string) => matchConversations(list, q).map((c) => c.title);

describe('matchConversations', () => {
  it('keeps the list order for an empty query', () => {
    expect(titles('  ')).toEqual(['Design team', 'Zoë Adams', 'Bob Builder', 'Team lunch']);
  });

  it('matches words in any case and without accents, the title start first', () => {
    expect(titles('team')).toEqual(['Team lunch', 'Design team']);
    expect(titles('zoe')).toEqual(['Zoë Adams']);
    expect(titles('bo bu')).toEqual(['Bob Builder']);
  });

  it('finds nothing for a word no title has', () => {
    expect(titles('xyz')).toEqual([]);
  });
});
