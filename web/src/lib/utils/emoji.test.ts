import { describe, expect, it } from 'vitest';
import { completeShortcode, SHORTCODES } from './emoji';

describe('completeShortcode', () => {
  it('replaces a known :name: as its closing colon is typed, and puts the caret after the emoji', () => {
    expect(completeShortcode('great :tada:', 12)).toEqual({ text: 'great 🎉', caret: 6 + '🎉'.length });
    expect(completeShortcode(':+1:', 4)).toEqual({ text: '👍', caret: 2 });
    // The caret in the middle of the text: only what is before it counts, the rest is kept.
    expect(completeShortcode('a :fire: b', 8)).toEqual({ text: 'a 🔥 b', caret: 2 + '🔥'.length });
    expect(completeShortcode('(:heart:', 8)?.text).toBe('(❤️');
  });

  it('leaves unknown names, times, URLs and unclosed names alone', () => {
    expect(completeShortcode('see :nosuchemoji:', 17)).toBeNull();
    expect(completeShortcode('at 10:30:', 9)).toBeNull();
    expect(completeShortcode('https://x.com/:smile:', 21)).toBeNull();
    expect(completeShortcode(':smile', 6)).toBeNull();
    expect(completeShortcode('::smile:', 8)).toBeNull();
    // Names from Object.prototype are not emoji.
    expect(completeShortcode(':constructor:', 13)).toBeNull();
    expect(completeShortcode(':__proto__:', 11)).toBeNull();
  });

  it('has only emoji in its table', () => {
    for (const [name, e] of Object.entries(SHORTCODES)) {
      expect(name).toMatch(/^[a-z0-9_+-]+$/);
      expect(e, name).toMatch(/^\p{Extended_Pictographic}/u);
    }
  });
});
