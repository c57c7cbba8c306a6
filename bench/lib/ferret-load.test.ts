import { describe, expect, it } from 'vitest';
import { plainMessageFields } from '@chat/shared/models/types';
import { copyLine, ferretJson } from './ferret-load.ts';

/**
 * The row FerretDB 1.24 wrote for a message with a reaction (inserted through the driver, read
 * back with psql), its searchKeys cut to two: the encoding is per element, so this is the row it
 * writes for the same message with two keys. The bench checks the live FerretDB the same way.
 */
const stored = {
  $s: {
    p: {
      _id: { t: 'string' },
      body: { t: 'string' },
      kind: { t: 'string' },
      chunk: { t: 'int' },
      system: { t: 'null' },
      thread: { t: 'null' },
      chunkId: { t: 'string' },
      editedAt: { t: 'date' },
      mentions: { i: [], t: 'array' },
      senderId: { t: 'string' },
      createdAt: { t: 'date' },
      deletedAt: { t: 'null' },
      reactions: { i: [{ t: 'object', $s: { p: { emoji: { t: 'string' }, userIds: { i: [{ t: 'string' }], t: 'array' } }, $k: ['emoji', 'userIds'] } }], t: 'array' },
      replyToId: { t: 'null' },
      searchKeys: { i: [{ t: 'string' }, { t: 'string' }], t: 'array' },
      attachments: { i: [], t: 'array' },
      clientMsgId: { t: 'string' },
      threadRootId: { t: 'null' },
      alsoToChannel: { t: 'bool' },
      conversationId: { t: 'string' },
    },
    $k: ['_id', 'conversationId', 'senderId', 'clientMsgId', 'body', 'attachments', 'replyToId', 'reactions', 'createdAt', 'editedAt', 'deletedAt', 'kind', 'system', 'mentions', 'threadRootId', 'alsoToChannel', 'thread', 'chunk', 'chunkId', 'searchKeys'],
  },
  _id: '01a233568109ee79abfc4ccd',
  body: 'benchmark message 1: the quick brown fox jumps over the lazy dog',
  kind: 'user',
  chunk: 1,
  system: null,
  thread: null,
  chunkId: '6b0f30c483b7f32584f352c8:1',
  editedAt: 1796157636872,
  mentions: [],
  senderId: '6b0f30c483b7f32584f352c6',
  createdAt: 1796157636873,
  deletedAt: null,
  reactions: [{ emoji: 'x', userIds: ['a'] }],
  replyToId: null,
  searchKeys: ['d2Lf7uejjmF', 'CLvfLHUe5fI'],
  attachments: [],
  clientMsgId: 'pr-1',
  threadRootId: null,
  alsoToChannel: false,
  conversationId: '6b0f30c483b7f32584f352c8',
};

const doc = {
  _id: '01a233568109ee79abfc4ccd',
  conversationId: '6b0f30c483b7f32584f352c8',
  senderId: '6b0f30c483b7f32584f352c6',
  clientMsgId: 'pr-1',
  body: 'benchmark message 1: the quick brown fox jumps over the lazy dog',
  attachments: [],
  replyToId: null,
  reactions: [{ emoji: 'x', userIds: ['a'] }],
  createdAt: new Date(1796157636873),
  editedAt: new Date(1796157636872),
  deletedAt: null,
  ...plainMessageFields(),
  chunk: 1,
  chunkId: '6b0f30c483b7f32584f352c8:1',
  searchKeys: ['d2Lf7uejjmF', 'CLvfLHUe5fI'],
};

describe('ferretJson (FerretDB 1.24 postgresql encoding)', () => {
  it('writes the row FerretDB wrote for the same message: types, values and field order', () => {
    expect(JSON.parse(ferretJson(doc))).toEqual(stored);
  });

  it('types numbers as the driver sends them: int32 range as int (-0 as 0), the rest as double', () => {
    const row = JSON.parse(ferretJson({ a: 7, b: 2 ** 31, c: 0.5, d: undefined, e: -0 }));
    expect(row.$s.p).toEqual({ a: { t: 'int' }, b: { t: 'double' }, c: { t: 'double' }, d: { t: 'null' }, e: { t: 'int' } });
    expect([row.a, row.b, row.c, row.d, row.e]).toEqual([7, 2 ** 31, 0.5, null, 0]);
  });

  it('writes an empty object as FerretDB does (its schema {}), and nested ones with theirs', () => {
    const row = JSON.parse(ferretJson({ _id: 'a', o: {}, p: { q: [1] } }));
    expect(row.$s.p).toEqual({ _id: { t: 'string' }, o: { t: 'object', $s: {} }, p: { t: 'object', $s: { $k: ['q'], p: { q: { t: 'array', i: [{ t: 'int' }] } } } } });
    expect([row.o, row.p]).toEqual([{}, { q: [1] }]);
  });

  it('refuses what it cannot encode rather than writing a row FerretDB would not have', () => {
    expect(() => ferretJson({ x: new Uint8Array(1) })).toThrow(/no encoding/);
    expect(() => ferretJson({ x: Number.NaN })).toThrow(/special encoding/);
    expect(() => ferretJson({ $s: 1 })).toThrow(/collide/);
  });

  it('escapes a COPY text row: one line, backslashes doubled, so the row parses back to the value', () => {
    const line = copyLine({ _id: 'a', body: 'tab\there \\ "quoted"\nnext' });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(/[\n\t]/);
    // COPY's text format turns \\ back into \ before PostgreSQL parses the JSON.
    expect(JSON.parse(line.slice(0, -1).replace(/\\\\/g, '\\')).body).toBe('tab\there \\ "quoted"\nnext');
  });
});
