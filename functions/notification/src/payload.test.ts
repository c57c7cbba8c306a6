import { describe, expect, it } from 'vitest';
import type { Message } from '@chat/shared/models/types';
import { makeMessage } from '../../../test/fixtures.ts';
import { messagePayload, truncate } from './payload.ts';

const msg = (over: Partial<Message> = {}): Message => makeMessage('c1', 'u1', 'hello', { id: 'm1', clientMsgId: 'x', ...over });

describe('messagePayload', () => {
  it('titles a direct message with the sender and a group message with sender and group', () => {
    expect(messagePayload(msg(), { displayName: 'Alice' }, { type: 'direct', title: null })).toEqual({
      type: 'message',
      conversationId: 'c1',
      messageId: 'm1',
      title: 'Alice',
      body: 'hello',
    });
    expect(messagePayload(msg(), { displayName: 'Alice' }, { type: 'group', title: 'Team' }).title).toBe('Alice in Team');
  });

  it('keeps the body to 200 characters without splitting an emoji', () => {
    const body = messagePayload(msg({ body: '😀'.repeat(300) }), null, { type: 'direct', title: null }).body;
    expect(body.length).toBeLessThanOrEqual(200);
    expect(body.endsWith('😀…')).toBe(true);
    expect(body).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    expect(messagePayload(msg({ body: 'x'.repeat(201) }), null, { type: 'direct', title: null }).body).toBe(`${'x'.repeat(199)}…`);
  });

  it('shows the text without Markdown, on one line', () => {
    const body = '**Deploy** is _done_:\n\n- see [the log](https://ci.example.com/1)\n- `npm test` ~~fails~~ passes';
    expect(messagePayload(msg({ body }), null, { type: 'direct', title: null }).body).toBe('Deploy is done: see the log npm test fails passes');
    // Markup-like text that is not Markdown stays as written.
    expect(messagePayload(msg({ body: '<b>2 < 3</b> & 5 * 4' }), null, { type: 'direct', title: null }).body).toBe('<b>2 < 3</b> & 5 * 4');
  });

  it('describes an attachments-only message by its first file', () => {
    const a = (name: string) => ({ fileId: 'f', name, size: 1, contentType: 'application/pdf', width: null, height: null });
    expect(messagePayload(msg({ body: '', attachments: [a('file.pdf')] }), null, { type: 'direct', title: null }).body).toBe('📎 file.pdf');
    expect(messagePayload(msg({ body: '', attachments: [a('a.pdf'), a('b.pdf'), a('c.pdf')] }), null, { type: 'direct', title: null }).body).toBe('📎 a.pdf (+2 more)');
  });

  it('truncate leaves short text alone', () => {
    expect(truncate('short', 200)).toBe('short');
  });
});
