import { describe, expect, it } from 'vitest';
import { messageSchema } from '@chat/shared/events/schemas';
import { systemMessage } from './system-messages.ts';

const conv = '65f000000000000000000000';
const actor = '65f000000000000000000001';

describe('systemMessage', () => {
  it('is a valid message of kind system, sent by the actor, without a body', () => {
    const m = systemMessage(conv, 3, 0, { type: 'renamed', actorId: actor, title: 'X', previousTitle: 'Y' }, Date.UTC(2026, 0, 1));
    expect(messageSchema.parse(m)).toEqual(m);
    expect(m).toMatchObject({ kind: 'system', senderId: actor, body: '', conversationId: conv, createdAt: '2026-01-01T00:00:00.000Z' });
  });

  it('the same change always names the same message (id and clientMsgId), another change another one', () => {
    const e = { type: 'member_left' as const, actorId: actor };
    const a = systemMessage(conv, 3, 0, e, 1000);
    expect(systemMessage(conv, 3, 0, e, 1000)).toEqual(a);
    expect(systemMessage(conv, 4, 0, e, 1000).clientMsgId).not.toBe(a.clientMsgId);
    expect(systemMessage(conv, 3, 1, e, 1000).clientMsgId).not.toBe(a.clientMsgId);
  });

  it('later events of one change sort after earlier ones', () => {
    const e = { type: 'member_left' as const, actorId: actor };
    expect(systemMessage(conv, 1, 1, e, 1000).id > systemMessage(conv, 1, 0, e, 1000).id).toBe(true);
  });
});
