import { describe, expect, it } from 'vitest';
import { linkify } from './linkify.ts';

describe('linkify', () => {
  it('makes http(s) and www links, leaving punctuation out', () => {
    expect(linkify('see https://example.com/a?b=1. and www.test.org!')).toEqual([
      { text: 'see ' },
      { text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { text: '. and ' },
      { text: 'www.test.org', href: 'https://www.test.org' },
      { text: '!' },
    ]);
  });
  it('keeps balanced parentheses in URLs', () => {
    expect(linkify('(https://en.wikipedia.org/wiki/Foo_(bar))')[1]).toEqual({
      text: 'https://en.wikipedia.org/wiki/Foo_(bar)',
      href: 'https://en.wikipedia.org/wiki/Foo_(bar)',
    });
  });
  it('never links other schemes and keeps markup as text', () => {
    const parts = linkify('javascript:alert(1) <img src=x onerror=alert(1)> data:text/html,hi');
    expect(parts.every((p) => !p.href)).toBe(true);
    expect(parts.map((p) => p.text).join('')).toBe('javascript:alert(1) <img src=x onerror=alert(1)> data:text/html,hi');
  });
});
