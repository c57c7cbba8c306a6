import { describe, expect, it } from 'vitest';
import type { Message, ThreadSummary } from '@chat/shared/models/types';
import { makeMessage } from '../../../../test/fixtures.ts';
import { mergeFirstPage, mergeMessages, type ChatItem } from '../utils/messages.ts';
import {
  conversationOf,
  inChannel,
  listWithRead,
  listWithReply,
  listWithRoot,
  mayFollow,
  sortThreads,
  streamKey,
  streamsOf,
  summaryWithReply,
  threadHref,
  threadRootOf,
  unreadThreads,
  withLatestSummary,
  type ThreadEntry,
} from './threads.ts';

const at = (s: number) => `2026-01-01T10:00:${String(s).padStart(2, '0')}.000Z`;
const msg = (id: string, senderId: string, s: number, extra: Partial<Message> = {}): Message => makeMessage('c1', senderId, id, { id, createdAt: at(s), ...extra });
const reply = (id: string, senderId: string, s: number, extra: Partial<Message> = {}) => msg(id, senderId, s, { threadRootId: 'r1', ...extra });
const summary = (replyCount: number, s: number | null, participantIds: string[]): ThreadSummary => ({ replyCount, lastReplyAt: s === null ? null : at(s), participantIds });
const ids = (items: ChatItem[]) => items.map((it) => it.message.id);

describe('streams', () => {
  it('a thread is its own stream beside its channel, under the key the server uses', () => {
    expect(streamKey('c1')).toBe('c1');
    expect(streamKey('c1', null)).toBe('c1');
    expect(streamKey('c1', 'r1')).toBe('c1/r1');
    expect(conversationOf('c1/r1')).toBe('c1');
    expect(conversationOf('c1')).toBe('c1');
    expect(threadRootOf('c1/r1')).toBe('r1');
    expect(threadRootOf('c1')).toBeNull();
    expect(threadHref('c1', 'r1')).toBe('/c/c1?thread=r1');
  });

  it('a reply shows in its thread only; "also send to channel" puts it in the channel too', () => {
    expect(streamsOf(msg('m1', 'bob', 1))).toEqual(['c1']);
    expect(streamsOf(reply('m2', 'bob', 2))).toEqual(['c1/r1']);
    expect(inChannel(reply('m2', 'bob', 2))).toBe(false);
    const also = reply('m3', 'bob', 3, { alsoToChannel: true });
    expect(streamsOf(also)).toEqual(['c1/r1', 'c1']);
    expect(inChannel(also)).toBe(true);
  });

  it('live replies and pages merge per thread: a page of one thread never brings in another', () => {
    const histories = new Map<string, ChatItem[]>();
    const receive = (m: Message) => {
      for (const key of streamsOf(m)) histories.set(key, mergeMessages(histories.get(key) ?? [], [m]));
    };
    receive(reply('0005', 'bob', 5));
    receive(msg('0006', 'bob', 6));
    receive(reply('0007', 'bob', 7, { threadRootId: 'r2' }));
    // The thread's first page (the newest replies, more before them) meets the live one.
    const page = { messages: [reply('0003', 'ann', 3), reply('0004', 'bob', 4), reply('0005', 'bob', 5)], hasMore: true };
    histories.set('c1/r1', mergeFirstPage(histories.get('c1/r1') ?? [], page));
    expect(ids(histories.get('c1/r1')!)).toEqual(['0003', '0004', '0005']);
    expect(ids(histories.get('c1')!)).toEqual(['0006']);
    expect(ids(histories.get('c1/r2')!)).toEqual(['0007']);
    // An older page of the thread goes before, deduplicated.
    histories.set('c1/r1', mergeMessages(histories.get('c1/r1')!, [reply('0002', 'ann', 2), reply('0003', 'ann', 3)]));
    expect(ids(histories.get('c1/r1')!)).toEqual(['0002', '0003', '0004', '0005']);
  });
});

describe('root summaries', () => {
  it('a live reply counts once, moves the last reply time and adds its sender', () => {
    const s1 = summaryWithReply(null, reply('m1', 'bob', 1));
    expect(s1).toEqual(summary(1, 1, ['bob']));
    const s2 = summaryWithReply(s1, reply('m2', 'ann', 2));
    expect(s2).toEqual(summary(2, 2, ['bob', 'ann']));
    expect(summaryWithReply(s2, reply('m3', 'bob', 3))).toEqual(summary(3, 3, ['bob', 'ann']));
  });

  it('a reply the summary already counts (the root update came first) changes nothing', () => {
    const s = summary(2, 5, ['bob']);
    expect(summaryWithReply(s, reply('m5', 'ann', 5))).toBe(s);
    expect(summaryWithReply(s, reply('m4', 'ann', 4))).toBe(s);
  });

  it('keeps at most 5 participants, the first ones', () => {
    const s = summary(5, 5, ['a', 'b', 'c', 'd', 'e']);
    expect(summaryWithReply(s, reply('m6', 'f', 6)).participantIds).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it("the server's copy of a root wins, unless the held one counts later replies", () => {
    const held = msg('r1', 'ann', 0, { thread: summary(3, 9, ['bob']) });
    const stale = msg('r1', 'ann', 0, { thread: summary(2, 8, ['bob']), body: 'edited', editedAt: at(10) });
    const kept = withLatestSummary(held, stale);
    expect(kept.thread).toEqual(summary(3, 9, ['bob']));
    expect(kept.body).toBe('edited');
    const fresh = msg('r1', 'ann', 0, { thread: summary(4, 11, ['bob', 'cat']) });
    expect(withLatestSummary(held, fresh)).toBe(fresh);
    const same = msg('r1', 'ann', 0, { thread: summary(3, 9, ['bob']) });
    expect(withLatestSummary(held, same)).toBe(same);
    expect(withLatestSummary(undefined, stale)).toBe(stale);
    // A copy without a summary (an edit read before the first reply) keeps the held one.
    expect(withLatestSummary(held, msg('r1', 'ann', 0)).thread).toEqual(held.thread);
  });
});

describe('the threads list', () => {
  const entry = (rootId: string, s: number, unreadCount: number, extra: Partial<Message> = {}): ThreadEntry => ({
    conversationId: 'c1',
    root: msg(rootId, 'ann', 0, { thread: summary(1, s, ['bob']), ...extra }),
    unreadCount,
  });

  it('newest reply first', () => {
    expect(sortThreads([entry('r1', 1, 1), entry('r2', 3, 1), entry('r3', 2, 1)]).map((e) => e.root.id)).toEqual(['r2', 'r3', 'r1']);
  });

  it('a reply from someone else adds one unread to its thread and moves it first', () => {
    const list = [entry('r2', 3, 1), entry('r1', 1, 2)];
    const { list: next, known } = listWithReply(list, reply('m9', 'bob', 9), { me: 'me', isNew: true, watching: false });
    expect(known).toBe(true);
    expect(next.map((e) => [e.root.id, e.unreadCount, e.root.thread?.replyCount])).toEqual([
      ['r1', 3, 2],
      ['r2', 1, 1],
    ]);
    expect(unreadThreads(next)).toBe(2);
  });

  it('my own reply, a redelivered one or one I am watching adds no unread', () => {
    const list = [entry('r1', 1, 0)];
    expect(listWithReply(list, reply('m9', 'me', 9), { me: 'me', isNew: true, watching: false }).list[0]!.unreadCount).toBe(0);
    expect(listWithReply(list, reply('m9', 'bob', 9), { me: 'me', isNew: false, watching: false }).list[0]!.unreadCount).toBe(0);
    expect(listWithReply(list, reply('m9', 'bob', 9), { me: 'me', isNew: true, watching: true }).list[0]!.unreadCount).toBe(0);
  });

  it('a reply in a thread it does not list is left to the server (known: false)', () => {
    const list = [entry('r2', 1, 1)];
    const res = listWithReply(list, reply('m9', 'bob', 9), { me: 'me', isNew: true, watching: false });
    expect(res.known).toBe(false);
    expect(res.list).toEqual(list);
  });

  it('reading a thread takes it off the unread list', () => {
    const list = [entry('r1', 1, 2), entry('r2', 2, 1)];
    expect(listWithRead(list, 'c1/r1').map((e) => e.root.id)).toEqual(['r2']);
    expect(listWithRead(list, 'c1/zz')).toEqual(list);
  });

  it("a root's new copy replaces it in the list (deleted, edited), keeping the later summary", () => {
    const list = [entry('r1', 5, 1)];
    const deleted = msg('r1', 'ann', 0, { body: '', deletedAt: at(20), thread: summary(1, 5, ['bob']) });
    const next = listWithRoot(list, deleted);
    expect(next[0]!.root.deletedAt).toBe(at(20));
    expect(next[0]!.unreadCount).toBe(1);
  });

  it('who may start following with a reply: the root author, a participant, the mentioned', () => {
    const root = msg('r1', 'ann', 0, { thread: summary(1, 1, ['bob']) });
    expect(mayFollow(reply('m1', 'cat', 2), root, 'ann')).toBe(true);
    expect(mayFollow(reply('m1', 'cat', 2), root, 'bob')).toBe(true);
    expect(mayFollow(reply('m1', 'cat', 2, { mentions: ['dan'] }), root, 'dan')).toBe(true);
    expect(mayFollow(reply('m1', 'cat', 2), root, 'dan')).toBe(false);
    expect(mayFollow(reply('m1', 'ann', 2), root, 'ann')).toBe(false);
    expect(mayFollow(reply('m1', 'cat', 2), undefined, null)).toBe(false);
  });
});
