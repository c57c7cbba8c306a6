import { describe, expect, it, vi } from 'vitest';

// The upload requests themselves are not what is tested here: they never settle.
vi.mock('./auth.svelte.ts', () => ({ api: { file: { start: () => new Promise(() => {}) } } }));
const { UploadsStore } = await import('./uploads.svelte.ts');

const file = (name: string) => new File(['x'], name, { type: 'text/plain' });

describe('UploadsStore', () => {
  it('empties only the composer that sent: a thread’s tray, or the channel’s, not the other', () => {
    const uploads = new UploadsStore();
    uploads.add('c1', [file('channel.txt')]);
    uploads.add('c1/r1', [file('thread.txt')]);
    uploads.clearStream('c1/r1');
    expect(uploads.for('c1/r1')).toEqual([]);
    expect(uploads.for('c1').map((u) => u.file.name)).toEqual(['channel.txt']);
    uploads.clearStream('c1');
    expect(uploads.for('c1')).toEqual([]);
  });

  it('forgets a conversation with its threads’ files, and no other conversation’s', () => {
    const uploads = new UploadsStore();
    uploads.add('c1', [file('a.txt')]);
    uploads.add('c1/r1', [file('b.txt')]);
    uploads.add('c2', [file('c.txt')]);
    uploads.forget('c1');
    expect([uploads.for('c1'), uploads.for('c1/r1')]).toEqual([[], []]);
    expect(uploads.for('c2')).toHaveLength(1);
    uploads.forget();
    expect(uploads.for('c2')).toEqual([]);
  });
});
