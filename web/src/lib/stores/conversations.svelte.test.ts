import { describe, expect, it } from 'vitest';
import type { Conversation } from '@chat/shared/models/types';
import { ConversationsStore } from './conversations.svelte.ts';

const listed = (readPositions: Conversation['readPositions']) => ({ id: 'c1', readPositions }) as Conversation;

describe('read positions (ConversationsStore.setRead)', () => {
  it('move forward only: a read event that comes after a newer one does not take Bob back', () => {
    const store = new ConversationsStore();
    store.setRead('c1', 'bob', '01a0000000000000000000a1');
    store.setRead('c1', 'bob', '01a0000000000000000000a3');
    // The older read's conversation.read, announced after the newer one's.
    store.setRead('c1', 'bob', '01a0000000000000000000a2');
    expect(store.reads.get('c1')).toEqual({ bob: '01a0000000000000000000a3' });
  });

  it('a list read before the newest move keeps the newer position; other members take theirs', () => {
    const store = new ConversationsStore();
    store.setRead('c1', 'bob', '01a0000000000000000000a3');
    store.replace(
      [
        listed([
          { userId: 'bob', messageId: '01a0000000000000000000a2' },
          { userId: 'carol', messageId: '01a0000000000000000000a1' },
        ]),
      ],
      1,
    );
    expect(store.reads.get('c1')).toEqual({ bob: '01a0000000000000000000a3', carol: '01a0000000000000000000a1' });
  });
});
