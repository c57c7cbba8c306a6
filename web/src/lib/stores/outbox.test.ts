import { describe, expect, it } from 'vitest';
import type { SendMessagePayload } from '@chat/shared/events/socket';
import { plainMessageFields, type Message } from '@chat/shared/models/types';
import { Outbox, type SendResult } from './outbox.ts';

const payload = (n: number): SendMessagePayload => ({ conversationId: 'c1', clientMsgId: `cm${n}`, body: `hello ${n}` });
const serverMessage = (p: SendMessagePayload, id: string): Message => ({
  id,
  conversationId: p.conversationId,
  senderId: 'me',
  clientMsgId: p.clientMsgId,
  body: p.body,
  attachments: [],
  replyToId: null,
  reactions: [],
  createdAt: new Date(2024, 0, 1, 0, 0, Number(id.slice(1))).toISOString(),
  editedAt: null,
  deletedAt: null,
  ...plainMessageFields(),
});

/** A fake server: idempotent on clientMsgId, can be switched offline. */
function fakeServer() {
  const stored = new Map<string, Message>();
  const calls: string[] = [];
  let online = false;
  let refuse: string | null = null;
  return {
    stored,
    calls,
    setOnline: (v: boolean) => (online = v),
    refuseNext: (msg: string) => (refuse = msg),
    async send(p: SendMessagePayload): Promise<SendResult> {
      calls.push(p.clientMsgId);
      if (!online) return { kind: 'retry' };
      if (refuse) {
        const error = refuse;
        refuse = null;
        return { kind: 'fail', error };
      }
      let m = stored.get(p.clientMsgId);
      if (!m) {
        m = serverMessage(p, `m${stored.size + 1}`);
        stored.set(p.clientMsgId, m);
      }
      return { kind: 'ok', message: m };
    },
  };
}

describe('Outbox', () => {
  it('keeps messages written offline and sends each once, in order, when the connection returns', async () => {
    const server = fakeServer();
    const sent: Message[] = [];
    const box = new Outbox((p) => server.send(p), { sent: (_e, m) => sent.push(m), failed: () => {} });

    box.add(payload(1));
    box.add(payload(2));
    await box.flush(); // offline: the first attempt is refused as retryable and the flush stops
    expect(box.size).toBe(2);
    expect(box.list().map((e) => e.state)).toEqual(['queued', 'queued']);
    expect(server.calls).toEqual(['cm1']);

    server.setOnline(true);
    await Promise.all([box.flush(), box.flush()]); // two reconnect signals share one flush
    expect(box.size).toBe(0);
    expect(sent.map((m) => m.body)).toEqual(['hello 1', 'hello 2']);
    expect(server.stored.size).toBe(2);

    await box.flush();
    expect(sent).toHaveLength(2); // nothing left to send twice
  });

  it('marks refused messages failed and retries them with the same clientMsgId', async () => {
    const server = fakeServer();
    server.setOnline(true);
    server.refuseNext('rate limited');
    const failed: string[] = [];
    const sent: Message[] = [];
    const box = new Outbox((p) => server.send(p), { sent: (_e, m) => sent.push(m), failed: (e, err) => failed.push(`${e.payload.clientMsgId}:${err}`) });

    box.add(payload(7));
    await box.flush();
    expect(failed).toEqual(['cm7:rate limited']);
    expect(box.get('cm7')?.state).toBe('failed');

    await box.flush(); // a failed entry is not resent on its own
    expect(server.calls).toEqual(['cm7']);

    expect(box.retry('cm7')).toBe(true);
    await box.flush();
    expect(server.calls).toEqual(['cm7', 'cm7']);
    expect(sent.map((m) => m.clientMsgId)).toEqual(['cm7']);
    expect(box.size).toBe(0);
  });

  it('treats a thrown send (ack timeout) as retryable and dedupes re-adds', async () => {
    let attempt = 0;
    const box = new Outbox(
      async () => {
        attempt++;
        if (attempt === 1) throw new Error('timeout');
        return { kind: 'ok', message: serverMessage(payload(1), 'm1') };
      },
      { sent: () => {}, failed: () => {} },
    );
    const a = box.add(payload(1));
    expect(box.add(payload(1))).toBe(a);
    await box.flush();
    expect(box.get('cm1')?.state).toBe('queued');
    await box.flush();
    expect(box.size).toBe(0);
    expect(a.attempts).toBe(2);
  });

  it('drops an entry the server already delivered through another path', () => {
    const box = new Outbox(async () => ({ kind: 'retry' }), { sent: () => {}, failed: () => {} });
    box.add(payload(1));
    box.acknowledge('cm1');
    expect(box.size).toBe(0);
  });
});
