import { describe, expect, it } from 'vitest';
import type { ReadPositionDoc } from '../models/schemas.ts';
import type { Message } from '../models/types.ts';
import { readModifyWriteModel } from '../../../test/read-modify-write.ts';
import { lastMessageOf, ReadPositionsRepository, refreshVerdict } from './conversations.ts';

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

/** read_positions as FerretDB updates them, one document per (conversation, member). */
const readPositions = () => {
  const { model, docs } = readModifyWriteModel<ReadPositionDoc>(
    (f: { conversationId: string; userId: string }) => `${f.conversationId}/${f.userId}`,
    (f: { conversationId: string; userId: string }) => ({ ...f }),
  );
  return { model, doc: (conversationId: string, userId: string) => docs.get(`${conversationId}/${userId}`) };
};

describe('a read position (advance)', () => {
  const at = (messageId: string, count: number) => ({ messageId, count, sent: 0, mentioned: 0, sys: 0 });

  it('two moves at once on a read-modify-write store: the newer one stays, and only a real move says so', async () => {
    const store = readPositions();
    const reads = new ReadPositionsRepository(store.model);
    await reads.advance('c1', 'bob', at('m1', 1), ['alice', 'bob']);
    // The newer read's call comes first, the older one's (a slower event call) right behind it.
    const moved = await Promise.all([reads.advance('c1', 'bob', at('m3', 3), ['alice', 'bob']), reads.advance('c1', 'bob', at('m2', 2), ['alice', 'bob'])]);
    expect(moved).toEqual([true, false]);
    expect(store.doc('c1', 'bob')).toMatchObject({ messageId: 'm3', count: 3 });
  });

  it("other members' positions move at the same time", async () => {
    const store = readPositions();
    const reads = new ReadPositionsRepository(store.model);
    const moved = await Promise.all([reads.advance('c1', 'bob', at('m2', 2), ['bob']), reads.advance('c1', 'carol', at('m2', 2), ['carol'])]);
    expect(moved).toEqual([true, true]);
    expect(store.doc('c1', 'carol')).toMatchObject({ messageId: 'm2' });
  });
});
