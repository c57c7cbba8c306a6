import type { Model } from 'mongoose';
import { hasOnlyDuplicateErrors, isDuplicateKey } from '../infra/mongo.ts';
import type { MessageDoc } from '../models/schemas.ts';
import type { Message } from '../models/types.ts';
import { messageSearchKeys, termKey } from '../search/terms.ts';
import { chunkId } from './chunks.ts';

type Lean = MessageDoc & { _id: string };

/**
 * Reads that answer messages leave the search keys in the store: they are most of a stored
 * message's bytes (two keys per term), and a history page reads two or three chunks of ~100.
 */
const WIRE = { searchKeys: 0 } as const;

/** Both chunk fields: the number, and the key a page reads by equality (one GIN/btree index). */
export const chunkFields = (conversationId: string, no: number) => ({ chunk: no, chunkId: chunkId(conversationId, no) });

export const toMessage = (d: Lean): Message => ({
  id: d._id,
  conversationId: d.conversationId,
  senderId: d.senderId,
  clientMsgId: d.clientMsgId,
  body: d.deletedAt ? '' : (d.body ?? ''),
  attachments: d.deletedAt ? [] : (d.attachments ?? []).map((a) => ({ fileId: a.fileId!, name: a.name!, size: a.size!, contentType: a.contentType!, width: a.width ?? null, height: a.height ?? null })),
  replyToId: d.replyToId ?? null,
  reactions: (d.reactions ?? []).filter((r) => r.userIds.length > 0).map((r) => ({ emoji: r.emoji!, userIds: [...r.userIds] })),
  createdAt: new Date(d.createdAt).toISOString(),
  editedAt: d.editedAt ? new Date(d.editedAt).toISOString() : null,
  deletedAt: d.deletedAt ? new Date(d.deletedAt).toISOString() : null,
  // Documents stored before these fields existed read as plain top-level user messages.
  kind: d.kind === 'system' ? 'system' : 'user',
  system: (d.system as Message['system']) ?? null,
  mentions: [...(d.mentions ?? [])],
  threadRootId: d.threadRootId ?? null,
  alsoToChannel: d.alsoToChannel === true,
  thread: threadSummary(d),
});

/** A root's summary from its counters (participants: the first repliers, in order of first reply). */
function threadSummary(d: Lean): Message['thread'] {
  if (!d.replyCount) return (d.thread as Message['thread']) ?? null;
  const sent = plainCounts(d.replySent);
  return {
    replyCount: d.replyCount,
    lastReplyAt: d.lastReplyAt ? new Date(d.lastReplyAt).toISOString() : null,
    participantIds: Object.keys(sent).filter((u) => (sent[u] ?? 0) > 0).slice(0, 5),
  };
}

/**
 * The stored document of a message (what insertIdempotent writes), with its search keys, so a
 * message and its index entry are one insert; with its history chunk fields when placed. Not on
 * the wire: toMessage picks its fields.
 */
/** A stored message document as written: its id and search keys, the rest as the store takes it. */
export type StoredMessageDoc = Record<string, unknown> & { _id: string; searchKeys: string[] };

export function toMessageDoc(m: Message, placed: MessagePlacement = {}): StoredMessageDoc {
  const d: StoredMessageDoc = Object.assign(contentFields(m), { searchKeys: m.deletedAt ? [] : messageSearchKeys(m.conversationId, m.body) });
  if (placed.chunk !== undefined) Object.assign(d, chunkFields(m.conversationId, placed.chunk));
  if (placed.threadChunk !== undefined && m.threadRootId) {
    d.threadChunk = placed.threadChunk;
    d.threadChunkId = chunkId(threadStream(m.conversationId, m.threadRootId), placed.threadChunk);
  }
  return d;
}

/**
 * The fields of a stored message that the contract's Message is read from. A field at its default
 * (no attachments, no reply, not edited or deleted, a plain user message, no mentions, no thread)
 * is left out, as in documents stored before the field existed, which toMessage already reads as
 * the default; the filters that test one (`deletedAt: null`, `editedAt: null`) match a missing
 * field too. FerretDB encodes every field with a type entry and a key of its own: the ten
 * defaults of a plain message were a third of its insert cost (bench/FINDINGS.md). `reactions`
 * stays, since the reaction compare-and-set matches the array as read. Built field by field, not
 * with conditional spreads: this runs for every stored message, and each spread was an object
 * allocated and copied (a tenth of the db function's CPU per event, profiled).
 */
function contentFields(m: Message): Record<string, unknown> & { _id: string } {
  const d: Record<string, unknown> & { _id: string } = {
    _id: m.id,
    conversationId: m.conversationId,
    senderId: m.senderId,
    clientMsgId: m.clientMsgId,
    body: m.body,
    reactions: m.reactions,
    createdAt: new Date(m.createdAt),
  };
  if (m.attachments.length > 0) d.attachments = m.attachments;
  if (m.replyToId) d.replyToId = m.replyToId;
  if (m.editedAt) d.editedAt = new Date(m.editedAt);
  if (m.deletedAt) d.deletedAt = new Date(m.deletedAt);
  if (m.kind !== 'user') d.kind = m.kind;
  if (m.system) d.system = m.system;
  if (m.mentions.length > 0) d.mentions = m.mentions;
  if (m.threadRootId) d.threadRootId = m.threadRootId;
  if (m.alsoToChannel) d.alsoToChannel = true;
  if (m.thread) d.thread = m.thread;
  return d;
}

/** A message as a read of its stored document gives it (the shape a conversation keeps of its last message). */
export const asStored = (m: Message): Message => toMessage(contentFields(m) as unknown as Lean);

/** A message found by a search key, with its keys (to rule out a multi-word query's misses). */
export interface SearchHit {
  message: Message;
  keys: Set<string>;
}


/** A thread's stream key (docs/threads.md): its chunks are "<conversationId>/<rootId>:<no>". */
export const threadStream = (conversationId: string, rootId: string) => `${conversationId}/${rootId}`;

/** Where one message goes: its conversation chunk (absent for a reply kept out of the channel) and its thread chunk (replies only). */
export interface MessagePlacement {
  chunk?: number | undefined;
  threadChunk?: number | undefined;
}

/** A thread root's counters as stored (docs/threads.md), for unread counts and chunk placement. */
export interface ThreadState {
  replyCount: number;
  /** Replies stored per sender. */
  sent: Record<string, number>;
  lastReplyId: string | null;
  /** The thread's open history chunk. */
  chunk: { no: number; start: string; base: number };
}

/**
 * What one batch changes in a stream's record (a conversation, or a thread's root): its newest
 * message, the fresh inserts to count, and its open chunk (functions/db's TouchCoalescer merges them).
 */
export interface StreamTouch {
  messageId: string;
  at: Date;
  /** Messages newly stored, in all and per sender (added to the counters). */
  stored: number;
  sent: Record<string, number>;
  /** The open history chunk after the batch's placement, to record on the record. */
  open?: { no: number; start: string; base: number } | undefined;
}

const plainCounts = (m: unknown): Record<string, number> => (m instanceof Map ? Object.fromEntries(m) : ((m ?? {}) as Record<string, number>));

/** A chunk's documents as messages, oldest first (ids sort in creation order; FerretDB sorts nothing). */
const oldestFirst = (docs: Lean[]): Message[] => docs.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0)).map(toMessage);

const threadStateOf = (d: Lean): ThreadState => ({
  replyCount: d.replyCount ?? 0,
  sent: plainCounts(d.replySent),
  lastReplyId: d.lastReplyId ?? null,
  chunk: { no: d.threadChunkNo ?? 0, start: d.threadChunkStart ?? '', base: d.threadChunkBase ?? 0 },
});

/**
 * Message storage. Ids sort in createdAt order within a conversation; history is read in whole
 * chunks by equality (functions/db/src/history), never by an id range FerretDB would scan for.
 */
export class MessagesRepository {
  constructor(private readonly model: Model<MessageDoc>) {}

  /**
   * Stores messages idempotently: an id (or sender+clientMsgId) already stored is skipped, so a
   * redelivered event changes nothing. Returns the ids that were newly stored. FerretDB's
   * duplicate-key error names no index, so which of the two turned a message away is for the
   * caller to ask (exists, findBySenderAndClientMsgId).
   */
  async insertIdempotent(messages: Message[], placements?: readonly MessagePlacement[]): Promise<string[]> {
    if (messages.length === 0) return [];
    const docs = messages.map((m, i) => toMessageDoc(m, placements?.[i]));
    try {
      await this.model.insertMany(docs, { ordered: false, lean: true });
      return messages.map((m) => m.id);
    } catch (e) {
      if (!isDuplicateKey(e) && !hasOnlyDuplicateErrors(e)) throw e;
      const failed = new Set(((e as { writeErrors?: Array<{ index?: number; err?: { index?: number } }> }).writeErrors ?? []).map((w) => w.index ?? w.err?.index));
      return messages.filter((_, i) => !failed.has(i)).map((m) => m.id);
    }
  }

  async findById(id: string): Promise<Message | null> {
    const d = await this.model.findById(id, WIRE).lean<Lean>();
    return d ? toMessage(d) : null;
  }

  /** The message and how many changes it has had since its insert (its `rev`), read together. */
  async findWithRev(id: string): Promise<{ message: Message; rev: number } | null> {
    const d = await this.model.findById(id, WIRE).lean<Lean>();
    return d ? { message: toMessage(d), rev: d.rev ?? 0 } : null;
  }

  /** The message and its history chunk (null chunk: stored before chunks existed, not migrated yet). */
  async findWithChunk(id: string): Promise<{ message: Message; chunk: number | null } | null> {
    const d = await this.model.findById(id, WIRE).lean<Lean>();
    return d ? { message: toMessage(d), chunk: typeof d.chunk === 'number' ? d.chunk : null } : null;
  }

  /** One history chunk of a conversation, oldest first: one equality read. */
  async readChunk(conversationId: string, no: number): Promise<Message[]> {
    const docs = await this.model.find({ chunkId: { $eq: chunkId(conversationId, no) } }, WIRE).lean<Lean[]>();
    return oldestFirst(docs.filter((d) => d.conversationId === conversationId));
  }

  /** A thread root with its counters; null when no such message is stored. */
  async findThreadRoot(id: string): Promise<{ message: Message; state: ThreadState } | null> {
    const d = await this.model.findById(id, WIRE).lean<Lean>();
    return d ? { message: toMessage(d), state: threadStateOf(d) } : null;
  }

  /** A reply and its thread chunk (null: not a stored reply). */
  async findWithThreadChunk(id: string): Promise<{ message: Message; chunk: number | null } | null> {
    const d = await this.model.findById(id, WIRE).lean<Lean>();
    return d ? { message: toMessage(d), chunk: typeof d.threadChunk === 'number' ? d.threadChunk : null } : null;
  }

  /** One history chunk of a thread, oldest first: one equality read. */
  async readThreadChunk(conversationId: string, rootId: string, no: number): Promise<Message[]> {
    const docs = await this.model.find({ threadChunkId: { $eq: chunkId(threadStream(conversationId, rootId), no) } }, WIRE).lean<Lean[]>();
    return oldestFirst(docs.filter((d) => d.conversationId === conversationId && d.threadRootId === rootId));
  }

  /**
   * Adds a batch's fresh replies to a root's counters and moves its last reply, in one update
   * ($inc and $max, so concurrent batches from several db replicas add up), recording the thread's
   * open chunk forward only, as touchLastMessage does for a conversation.
   */
  async touchThread(rootId: string, t: StreamTouch): Promise<void> {
    const inc: Record<string, number> = {};
    if (t.stored) inc.replyCount = t.stored;
    for (const [u, n] of Object.entries(t.sent)) if (n) inc[`replySent.${u}`] = n;
    // The root's summary moves: a new rev, so the conversation's copy of it (as last message) follows.
    const update = { $max: { lastReplyId: t.messageId, lastReplyAt: t.at }, $inc: { ...inc, rev: 1 } };
    if (t.open) {
      const res = await this.model.updateOne(
        { _id: { $eq: rootId }, $or: [{ threadChunkNo: { $lte: t.open.no } }, { threadChunkNo: null }] },
        { ...update, $set: { threadChunkNo: t.open.no, threadChunkStart: t.open.start, threadChunkBase: t.open.base } },
      );
      if (res.matchedCount === 1) return;
    }
    await this.model.updateOne({ _id: { $eq: rootId } }, update);
  }

  /** Records an opened thread chunk as the open one, forward only (see ChunkPlacer). */
  async setThreadOpenChunk(rootId: string, open: { no: number; start: string; base: number }): Promise<void> {
    await this.model.updateOne(
      { _id: { $eq: rootId }, $or: [{ threadChunkNo: { $lt: open.no } }, { threadChunkNo: null }] },
      { $set: { threadChunkNo: open.no, threadChunkStart: open.start, threadChunkBase: open.base } },
    );
  }

  /** Records messages' chunks (the migration of messages stored before chunks existed). */
  async setChunks(conversationId: string, placed: Array<{ id: string; chunk: number }>): Promise<void> {
    await Promise.all(placed.map((p) => this.model.updateOne({ _id: { $eq: p.id } }, { $set: chunkFields(conversationId, p.chunk) })));
  }

  /** Whether a message with this id is stored (one _id read). */
  async exists(id: string): Promise<boolean> {
    return (await this.model.exists({ _id: { $eq: id } })) !== null;
  }

  /** Whether any message is stored at all (one document read). */
  async any(): Promise<boolean> {
    return (await this.model.exists({})) !== null;
  }

  /** The stored message a sender sent with this clientMsgId (the unique index's pair), if any. */
  async findBySenderAndClientMsgId(senderId: string, clientMsgId: string): Promise<Message | null> {
    const d = await this.model.findOne({ senderId: { $eq: senderId }, clientMsgId: { $eq: clientMsgId } }, WIRE).lean<Lean>();
    return d ? toMessage(d) : null;
  }

  /**
   * Applies an edit unless a later edit is already stored, so edits redelivered out of order
   * settle on the newest. 'missing' means the message is not stored (yet). The search keys are
   * replaced in the same update, so they always belong to the body stored.
   */
  async applyEditIfNewer(messageId: string, conversationId: string, body: string, editedAt: Date, mentions?: string[]): Promise<'applied' | 'stale' | 'missing'> {
    const res = await this.model.updateOne(
      { _id: { $eq: messageId }, deletedAt: null, $or: [{ editedAt: null }, { editedAt: { $lte: editedAt } }] },
      { $set: { body, editedAt, searchKeys: messageSearchKeys(conversationId, body), ...(mentions ? { mentions } : {}) }, $inc: { rev: 1 } },
    );
    if (res.matchedCount === 1) return 'applied';
    return (await this.model.exists({ _id: { $eq: messageId } })) ? 'stale' : 'missing';
  }

  /**
   * Adds or removes one user's reaction as a compare-and-set on the reactions array, so two
   * concurrent reactions on one message never overwrite each other. False if the message is missing.
   */
  async applyReactionAtomic(messageId: string, emoji: string, userId: string, op: 'add' | 'remove'): Promise<boolean> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const doc = await this.model.findById(messageId, { reactions: 1 }).lean<Lean>();
      if (!doc) return false;
      const before = (doc.reactions ?? []).map((r) => ({ emoji: r.emoji!, userIds: [...r.userIds] }));
      const after = before.map((r) => ({ emoji: r.emoji, userIds: [...r.userIds] }));
      let entry = after.find((r) => r.emoji === emoji);
      if (op === 'add') {
        if (!entry) after.push((entry = { emoji, userIds: [] }));
        if (!entry.userIds.includes(userId)) entry.userIds.push(userId);
      } else if (entry) entry.userIds = entry.userIds.filter((u) => u !== userId);
      const next = after.filter((r) => r.userIds.length > 0);
      if (JSON.stringify(next) === JSON.stringify(before)) return true;
      const res = await this.model.updateOne({ _id: { $eq: messageId }, reactions: { $eq: before } }, { $set: { reactions: next }, $inc: { rev: 1 } });
      if (res.matchedCount === 1) return true;
    }
    throw new Error(`reaction on ${messageId} kept conflicting`);
  }

  /** Deletes a message's content; its search keys go in the same update, so search never finds it. */
  async applyDelete(messageId: string, deletedAt: Date): Promise<boolean> {
    const res = await this.model.updateOne({ _id: { $eq: messageId } }, { $set: { deletedAt, body: '', attachments: [], searchKeys: [] }, $inc: { rev: 1 } });
    return res.matchedCount === 1;
  }

  /**
   * The messages of one conversation holding a search term, or of one of its history chunks when
   * `chunk` is given: one equality lookup on `searchKeys`, with the chunk's `chunkId` as a second
   * equality (FerretDB pushes both down as one AND, which PostgreSQL answers from either index),
   * so its cost is the number of matches, never the size of the store; whole documents, so
   * search needs no second read. Deleted messages hold no keys; one of another conversation is a
   * hash collision and left out (the chunkId names the conversation, so a chunk's answer is its own).
   */
  async findBySearchTerm(conversationId: string, term: string, chunk?: number): Promise<SearchHit[]> {
    const key = termKey(conversationId, term);
    const filter = chunk === undefined ? { searchKeys: { $eq: key } } : { chunkId: { $eq: chunkId(conversationId, chunk) }, searchKeys: { $eq: key } };
    const docs = await this.model.find(filter).lean<Lean[]>();
    return docs
      .filter((d) => d.conversationId === conversationId && !d.deletedAt)
      .map((d) => ({ message: toMessage(d), keys: new Set(d.searchKeys ?? []) }));
  }

  /**
   * Sets the search keys of messages stored without them (the search-keys migration), unless an
   * edit or delete gave them keys meanwhile. One bulk write of updates by `_id`.
   */
  async setMissingSearchKeys(messages: Array<{ id: string; keys: string[] }>): Promise<void> {
    if (messages.length === 0) return;
    await this.model.bulkWrite(
      messages.map((m) => ({ updateOne: { filter: { _id: { $eq: m.id }, searchKeys: { $exists: false } }, update: { $set: { searchKeys: m.keys } } } })),
      { ordered: false },
    );
  }
}
