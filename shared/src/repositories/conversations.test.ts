import { describe, expect, it } from 'vitest';
import type { Message } from '../models/types.ts';
import { lastMessageOf, refreshVerdict } from './conversations.ts';

const copy = (id: string) => ({ id, body: `body of ${id}` }) as unknown as Message;

describe('the record’s copy of its last message', () => {
  it('is shown only while its id is the record’s lastMessageId', () => {
    expect(lastMessageOf({ lastMessageId: 'm2', lastMessage: copy('m2') })?.body).toBe('body of m2');
    // The id moved on without the copy (a write that could not prove it moved forward): read by _id.
    expect(lastMessageOf({ lastMessageId: 'm3', lastMessage: copy('m2') })).toBeNull();
    // Records written before the copy existed.
    expect(lastMessageOf({ lastMessageId: 'm2', lastMessage: null })).toBeNull();
    expect(lastMessageOf({ lastMessageId: 'm2' } as never)).toBeNull();
    expect(lastMessageOf({ lastMessageId: null, lastMessage: copy('m2') })).toBeNull();
  });

  it('a refresh that matched nothing: another message is last, the batch is behind, or the copy is as new', () => {
    expect(refreshVerdict({ lastMessageId: 'm5', lastMessageRev: 0 }, 'm4', 3)).toBe('not-last');
    // The message's batch has not moved the record to it yet: the change is delivered again later.
    expect(refreshVerdict({ lastMessageId: 'm3', lastMessageRev: 0 }, 'm4', 1)).toBe('behind');
    expect(refreshVerdict({ lastMessageId: null, lastMessageRev: null }, 'm4', 1)).toBe('behind');
    // A refresh from a later change landed first: the copy never goes back to an older rev.
    expect(refreshVerdict({ lastMessageId: 'm4', lastMessageRev: 3 }, 'm4', 2)).toBe('current');
    expect(refreshVerdict({ lastMessageId: 'm4', lastMessageRev: 2 }, 'm4', 2)).toBe('current');
    // It moved between the write and this read: write again.
    expect(refreshVerdict({ lastMessageId: 'm4', lastMessageRev: 1 }, 'm4', 2)).toBeNull();
    expect(refreshVerdict({ lastMessageId: 'm4', lastMessageRev: null }, 'm4', 1)).toBeNull();
  });
});
