import { describe, expect, it } from 'vitest';
import type { Message } from '@chat/shared/models/types';
import type { ThreadState } from '@chat/shared/repositories/messages';
import type { ThreadSubscription } from '@chat/shared/repositories/threads';
import { makeMessage } from '../../../test/fixtures.ts';
import { canRootThread, threadUnread } from './threads.service.ts';

const msg = (over: Partial<Message> = {}): Message => makeMessage('c1', 'a', 'hi', over);
const state = (replyCount: number, sent: Record<string, number>): ThreadState => ({ replyCount, sent, lastReplyId: null, chunk: { no: 0, start: '', base: 0 } });
const sub = (readCount: number, readSent: number): ThreadSubscription => ({ userId: 'b', conversationId: 'c1', rootId: 'm1', following: true, readId: 'r', readCount, readSent });

describe('canRootThread', () => {
  it('a top-level user message roots a thread, deleted or not; a reply and a system message do not', () => {
    expect(canRootThread(msg())).toBe(true);
    expect(canRootThread(msg({ deletedAt: new Date(0).toISOString(), body: '' }))).toBe(true);
    expect(canRootThread(msg({ threadRootId: 'm0' }))).toBe(false);
    expect(canRootThread(msg({ kind: 'system', system: { type: 'conversation_created', actorId: 'a' } }))).toBe(false);
  });
});

describe('threadUnread', () => {
  it('counts every reply from others when the user never read the thread', () => {
    expect(threadUnread(state(5, { b: 2, c: 3 }), 'b', null)).toBe(3);
  });
  it('counts only others’ replies after the position; own replies since never count', () => {
    // 4 replies at the position (1 of them b's); since then 3 more, 2 of them b's.
    expect(threadUnread(state(7, { b: 3, c: 4 }), 'b', sub(4, 1))).toBe(1);
    expect(threadUnread(state(7, { b: 3, c: 4 }), 'b', sub(7, 3))).toBe(0);
  });
  it('is never negative (a position counted before the counters caught up)', () => {
    expect(threadUnread(state(2, { b: 0 }), 'b', sub(3, 0))).toBe(0);
  });
});
