import type { Model } from 'mongoose';
import { isValidObjectId, Types } from 'mongoose';
import { KeyedQueue } from '../concurrency.ts';
import { isDuplicateKey } from '../infra/mongo.ts';
import type { ConversationDoc, ReadPositionDoc } from '../models/schemas.ts';
import type { Conversation, ConversationType, Message, NotificationLevel, ReadPosition, User } from '../models/types.ts';

export interface ConversationRecord {
  id: string;
  type: ConversationType;
  title: string | null;
  memberIds: string[];
  admins: string[];
  lastMessageId: string | null;
  /** The stored copy of the last message (lastMessageOf says whether it is still the last one). */
  lastMessage?: Message | null;
  createdAt: Date;
  updatedAt: Date;
  /** The open history chunk: number, lowest id, and msgCount when it opened (docs/storage.md). */
  chunk: { no: number; start: string; base: number };
  /** Messages stored in the conversation, in all and per sender. */
  msgCount: number;
  sent: Record<string, number>;
  /** Messages stored that mention each member (never counting their own). */
  mentioned: Record<string, number>;
  /** System messages among msgCount (never unread). */
  sysCount: number;
  /** Bumped by every membership or settings change (compare-and-set, and system message names). */
  rev: number;
  /** System messages stored with their change, not yet confirmed published (docs/groups.md). */
  outbox: Message[];
  /** Every read position lists the members in `audience` (ReadPositionsRepository.forAudience finds them all). */
  readsByAudience?: boolean;
}

/** A change to a group's settings or members, written in one update with its system messages. */
export interface ConversationChange {
  title?: string;
  memberIds?: string[];
  admins?: string[];
}

const parseMessage = (raw: string | null | undefined): Message | null => {
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Message;
  } catch {
    return null;
  }
};

/**
 * The record's copy of its last message when it is one (null: read lastMessageId by _id). A copy
 * whose id is not lastMessageId is stale: the id moved without it (a write that could not prove
 * it moved forward, see touchLastMessage), so it is never shown.
 */
export const lastMessageOf = (rec: Pick<ConversationRecord, 'lastMessageId' | 'lastMessage'>): Message | null =>
  rec.lastMessage && rec.lastMessageId !== null && rec.lastMessage.id === rec.lastMessageId ? rec.lastMessage : null;

/** What a refresh of the last message's copy found (refreshLastMessage). */
export type RefreshOutcome = 'set' | 'current' | 'not-last' | 'behind';

/**
 * Why a refresh did not match, from the record as it is: another message is last ('not-last'), the
 * message's batch has not moved lastMessageId to it yet ('behind': try again later), the copy is
 * already at this rev or newer ('current'), or null: it moved meanwhile, try the write again.
 */
export function refreshVerdict(rec: { lastMessageId: string | null; lastMessageRev: number | null }, messageId: string, rev: number): Exclude<RefreshOutcome, 'set'> | null {
  if (rec.lastMessageId === null || rec.lastMessageId < messageId) return 'behind';
  if (rec.lastMessageId > messageId) return 'not-last';
  return rec.lastMessageRev !== null && rec.lastMessageRev >= rev ? 'current' : null;
}

const parseOutbox = (raw: string[] | undefined): Message[] =>
  (raw ?? []).flatMap((s) => {
    try {
      return [JSON.parse(s) as Message];
    } catch {
      return [];
    }
  });

/** A conversation as search walks it: its open (newest) history chunk, its size and its newest message. */
export interface SearchScope {
  id: string;
  open: number;
  msgCount: number;
  lastMessageId: string | null;
}

/** Everything a member's view adds to the record. */
export interface ConversationView {
  members: User[];
  lastMessage: Message | null;
  unreadCount: number;
  unreadMentionCount: number;
  notificationLevel: NotificationLevel;
  readPositions: ReadPosition[];
}

type Lean = ConversationDoc;

const toRecord = (d: Lean): ConversationRecord => ({
  id: d._id.toString(),
  type: d.type as ConversationType,
  title: d.title ?? null,
  memberIds: [...d.memberIds],
  admins: [...(d.admins ?? [])],
  lastMessageId: d.lastMessageId ?? null,
  lastMessage: parseMessage(d.lastMessage),
  createdAt: new Date(d.createdAt),
  updatedAt: new Date(d.updatedAt),
  chunk: { no: d.chunkNo ?? 0, start: d.chunkStart ?? '', base: d.chunkBase ?? 0 },
  msgCount: d.msgCount ?? 0,
  // Lean reads give the Map as a plain object.
  sent: { ...((d.sent as unknown as Record<string, number> | undefined) ?? {}) },
  mentioned: { ...((d.mentioned as unknown as Record<string, number> | undefined) ?? {}) },
  sysCount: d.sysCount ?? 0,
  rev: d.rev ?? 0,
  outbox: parseOutbox(d.outbox),
  readsByAudience: d.readsByAudience === true,
});

/** The contract's Conversation for one member: the record plus what is specific to the reader. */
export function toConversation(rec: ConversationRecord, view: ConversationView): Conversation {
  return {
    id: rec.id,
    type: rec.type,
    title: rec.title,
    members: view.members,
    admins: rec.admins,
    lastMessage: view.lastMessage,
    unreadCount: view.unreadCount,
    unreadMentionCount: view.unreadMentionCount,
    createdAt: rec.createdAt.toISOString(),
    updatedAt: rec.updatedAt.toISOString(),
    notificationLevel: view.notificationLevel,
    readPositions: view.readPositions,
  };
}

/** How often a refresh of the last message's copy is tried while the record moves under it. */
const CHANGE_ATTEMPTS = 5;

export const directKey = (a: string, b: string) => `direct:${[a, b].sort().join(':')}`;

/** Conversations and their members. Membership checks take the caller's id, so no query leaks others'. */
export class ConversationsRepository {
  /**
   * Updates of one conversation from this process run one at a time: FerretDB applies an update
   * as read-modify-write of the whole document, so a membership change racing a counter write
   * (a system message stored while the next change is made) could otherwise be lost. Writers in
   * other processes can still race there (docs/groups.md); MongoDB's updates are atomic.
   */
  private readonly writes = new KeyedQueue();

  /** The newest last message this process wrote per conversation (bounded; a hint only, never trusted for correctness). */
  private readonly lastWritten = new Map<string, string>();

  constructor(private readonly model: Model<ConversationDoc>) {}

  private noteWritten(id: string, messageId: string): void {
    if (this.lastWritten.size >= 10_000) this.lastWritten.clear();
    this.lastWritten.set(id, messageId);
  }

  async findById(id: string): Promise<ConversationRecord | null> {
    if (!isValidObjectId(id)) return null;
    const d = await this.model.findById(id).lean<Lean>();
    return d ? toRecord(d) : null;
  }

  /** The conversation only if userId is a member; null otherwise (callers answer 404). */
  async findForMember(id: string, userId: string): Promise<ConversationRecord | null> {
    if (!isValidObjectId(id)) return null;
    const d = await this.model.findOne({ _id: id, memberIds: userId }).lean<Lean>();
    return d ? toRecord(d) : null;
  }

  async listForMember(userId: string): Promise<ConversationRecord[]> {
    const docs = await this.model.find({ memberIds: userId }).sort({ updatedAt: -1 }).limit(1000).lean<Lean[]>();
    return docs.map(toRecord);
  }

  /** What search needs of each of a member's conversations: its open chunk and its size (one equality read). */
  async searchScopesForMember(userId: string): Promise<SearchScope[]> {
    const docs = await this.model
      .find({ memberIds: userId }, { _id: 1, chunkNo: 1, msgCount: 1, lastMessageId: 1 })
      .lean<Array<{ _id: { toString(): string }; chunkNo?: number; msgCount?: number; lastMessageId?: string | null }>>();
    return docs.map((d) => ({ id: d._id.toString(), open: d.chunkNo ?? 0, msgCount: d.msgCount ?? 0, lastMessageId: d.lastMessageId ?? null }));
  }

  async idsForMember(userId: string): Promise<string[]> {
    const docs = await this.model.find({ memberIds: userId }, { _id: 1 }).lean<Array<{ _id: { toString(): string } }>>();
    return docs.map((d) => d._id.toString());
  }

  /** Creates the pair's direct conversation, or returns the existing one (created: false). */
  async createDirect(a: string, b: string): Promise<{ conversation: ConversationRecord; created: boolean }> {
    const key = directKey(a, b);
    const now = new Date();
    try {
      const d = await this.model.create({ type: 'direct', title: null, memberIds: [a, b], admins: [], uniqueKey: key, createdAt: now, updatedAt: now, readsByAudience: true });
      return { conversation: toRecord(d.toObject() as Lean), created: true };
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      const d = await this.model.findOne({ uniqueKey: key }).lean<Lean>();
      return { conversation: toRecord(d!), created: false };
    }
  }

  /** Creates a group; `outbox(id)` gives the system messages stored with it (its record of creation). */
  async createGroup(creatorId: string, title: string, memberIds: string[], outbox: (id: string) => Message[] = () => []): Promise<ConversationRecord> {
    const now = new Date();
    const members = [...new Set([creatorId, ...memberIds])];
    const _id = new Types.ObjectId();
    const d = await this.model.create({
      _id,
      outbox: outbox(_id.toString()).map((m) => JSON.stringify(m)),
      type: 'group',
      title,
      memberIds: members,
      admins: [creatorId],
      uniqueKey: `group:${crypto.randomUUID()}`,
      readsByAudience: true,
      createdAt: now,
      updatedAt: now,
    });
    return toRecord(d.toObject() as Lean);
  }

  /**
   * Applies a change computed from revision `rev`, with its system messages queued in the
   * outbox, in one update that bumps the revision: null when the record moved on meanwhile (the
   * caller reads again and recomputes). On FerretDB two writers can still both match (its
   * updates are no compare-and-set); the system messages' names (revision-based clientMsgIds)
   * keep a retried request from storing its record twice even then.
   */
  async applyChange(id: string, rev: number, change: ConversationChange, messages: Message[], added = false): Promise<ConversationRecord | null> {
    if (!isValidObjectId(id)) return null;
    // Documents written before revisions existed have none: revision 0.
    const filter = rev === 0 ? { _id: id, $or: [{ rev: 0 }, { rev: null }] } : { _id: id, rev };
    // Positions written before a member joined do not list them: from now on the conversation's
    // positions are read by conversationId (rewriting them would race their writers).
    const grows = added ? { readsByAudience: false } : {};
    const d = await this.writes.run(id, () =>
      this.model
        .findOneAndUpdate(filter, { $set: { ...change, ...grows, rev: rev + 1 }, $push: { outbox: { $each: messages.map((m) => JSON.stringify(m)) } } }, { new: true })
        .lean<Lean>(),
    );
    return d ? toRecord(d) : null;
  }

  /** Drops system messages from the outbox once their events are confirmed published. */
  async clearOutbox(id: string, messages: Message[]): Promise<void> {
    if (!isValidObjectId(id) || messages.length === 0) return;
    // The outbox holds the JSON that applyChange wrote; a parsed entry stringifies back to it.
    await this.writes.run(id, () => this.model.updateOne({ _id: id }, { $pullAll: { outbox: messages.map((m) => JSON.stringify(m)) } }));
  }

  /**
   * After storing messages: moves the last message and activity time forward (never back, as
   * events arrive out of order), adds the fresh inserts to the counters and records the open
   * history chunk, in one write. The chunk moves forward only: if the record is already past it
   * (another replica), the write is made again without it, so the counters are never lost.
   */
  async touchLastMessage(
    id: string,
    t: {
      messageId: string;
      at: Date;
      stored: number;
      sent: Record<string, number>;
      mentioned?: Record<string, number> | undefined;
      system?: number;
      open?: { no: number; start: string; base: number } | undefined;
      /** The message of messageId, as stored: kept on the record when this write moves the last message forward. */
      last?: Message | undefined;
    },
  ): Promise<void> {
    if (!isValidObjectId(id)) return;
    const inc: Record<string, number> = {};
    if (t.stored) inc.msgCount = t.stored;
    if (t.system) inc.sysCount = t.system;
    for (const [u, n] of Object.entries(t.sent)) if (n && isValidObjectId(u)) inc[`sent.${u}`] = n;
    for (const [u, n] of Object.entries(t.mentioned ?? {})) if (n && isValidObjectId(u)) inc[`mentioned.${u}`] = n;
    const update = { $max: { lastMessageId: t.messageId, updatedAt: t.at }, ...(Object.keys(inc).length ? { $inc: inc } : {}) };
    const open = t.open;
    await this.writes.run(id, async () => {
      if (t.last?.id === t.messageId && !(t.messageId <= (this.lastWritten.get(id) ?? ''))) {
        // The copy is written only by a write that moves the id forward, so a late or redelivered
        // batch never puts an older message (or an unedited one) over it. The usual case: one write
        // (a batch this process knows to be behind skips it: it would match nothing).
        const forward = [{ $or: [{ lastMessageId: { $lt: t.messageId } }, { lastMessageId: null }] }, ...(open ? [{ $or: [{ chunkNo: { $lte: open.no } }, { chunkNo: null }] }] : [])];
        const res = await this.model.updateOne(
          { _id: id, $and: forward },
          { ...update, $set: { ...(open ? { chunkNo: open.no, chunkStart: open.start, chunkBase: open.base } : {}), lastMessage: JSON.stringify(t.last), lastMessageRev: 0 } },
        );
        if (res.matchedCount === 1) {
          this.noteWritten(id, t.messageId);
          return;
        }
      }
      if (open) {
        const res = await this.model.updateOne(
          { _id: id, $or: [{ chunkNo: { $lte: open.no } }, { chunkNo: null }] },
          { ...update, $set: { chunkNo: open.no, chunkStart: open.start, chunkBase: open.base } },
        );
        if (res.matchedCount === 1) return;
      }
      await this.model.updateOne({ _id: id }, update);
    });
  }

  /**
   * After a change of a message (edit, reaction, delete, thread summary): puts it, at `rev`, in the
   * record's copy if it is the last message and the copy shows an older rev. The copy only moves to
   * higher revs, so refreshes landing out of order (two replicas) keep the newest.
   */
  async refreshLastMessage(id: string, message: Message, rev: number): Promise<RefreshOutcome> {
    if (!isValidObjectId(id)) return 'not-last';
    // The record first: most changes (a reaction on an older message) are not of the last
    // message, and one read says so; the conditional write then guards against a record that
    // moved in between, and a miss reads it again.
    for (let attempt = 0; attempt < CHANGE_ATTEMPTS; attempt++) {
      const d = await this.model.findById(id, { lastMessageId: 1, lastMessageRev: 1 }).lean<{ lastMessageId?: string | null; lastMessageRev?: number | null }>();
      if (!d) return 'not-last';
      const verdict = refreshVerdict({ lastMessageId: d.lastMessageId ?? null, lastMessageRev: d.lastMessageRev ?? null }, message.id, rev);
      if (verdict) return verdict;
      const res = await this.writes.run(id, () =>
        this.model.updateOne(
          { _id: id, lastMessageId: message.id, $or: [{ lastMessageRev: { $lt: rev } }, { lastMessageRev: null }] },
          { $set: { lastMessage: JSON.stringify(message), lastMessageRev: rev } },
        ),
      );
      if (res.matchedCount === 1) return 'set';
    }
    return 'behind';
  }

  /**
   * Records an opened history chunk as the open one, forward only. Every writer of chunk n writes
   * the same values (the chunk doc decided them), so concurrent writers cannot disagree.
   */
  async setOpenChunk(id: string, open: { no: number; start: string; base: number }): Promise<void> {
    if (!isValidObjectId(id)) return;
    // A record written without the chunk fields (seeded directly, say) has chunk 0 open.
    await this.writes.run(id, () => this.model.updateOne(
      { _id: id, $or: [{ chunkNo: { $lt: open.no } }, { chunkNo: null }] },
      { $set: { chunkNo: open.no, chunkStart: open.start, chunkBase: open.base } },
    ));
  }
}

export interface ReadPositionRecord {
  userId: string;
  messageId: string;
  /** The conversation's msgCount and the reader's own sent count at or before messageId. */
  count: number;
  sent: number;
  /** The reader's mentioned count at or before messageId. */
  mentioned: number;
  /** The conversation's system messages at or before messageId. */
  sys: number;
}

const toPosition = (d: ReadPositionDoc): ReadPositionRecord => ({ userId: d.userId, messageId: d.messageId, count: d.count ?? 0, sent: d.sent ?? 0, mentioned: d.mentioned ?? 0, sys: d.sys ?? 0 });

/** Per-member read positions (the newest message id a member has read, with its counters). */
export class ReadPositionsRepository {
  /**
   * Moves of one member's position from this process run one at a time. FerretDB applies the
   * upsert as read-modify-write of the whole document: two moves at once (two event calls, each
   * with one of the member's reads, resuming together after their conversation's coalesced touch)
   * both read the old position, both answer "moved", and the one written last wins, so the
   * position could go back to the older message and its announcement reach the room after the
   * newer one's. Moves in other processes can still race there; MongoDB's updates are atomic.
   */
  private readonly writes = new KeyedQueue();

  constructor(private readonly model: Model<ReadPositionDoc>) {}

  /**
   * Moves the position forward only: the id and each counter move only up, in one upsert.
   * `audience` (the conversation's members now) is rewritten each time, so forAudience finds it.
   * True when the id moved (someone else's view of this member changed).
   */
  advance(conversationId: string, userId: string, at: { messageId: string; count: number; sent: number; mentioned: number; sys: number }, audience: readonly string[]): Promise<boolean> {
    return this.writes.run(`${conversationId}:${userId}`, async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const prev = await this.model
            .findOneAndUpdate(
              // Plain values (ids validated by the callers), so an upsert copies them into the new doc.
              { conversationId, userId },
              { $max: { messageId: at.messageId, count: at.count, sent: at.sent, mentioned: at.mentioned, sys: at.sys }, $set: { audience: [...audience] } },
              { upsert: true, new: false },
            )
            .lean<ReadPositionDoc>();
          return !prev || prev.messageId < at.messageId;
        } catch (e) {
          // Two first reads at once: one upsert inserts, the other retries as an update.
          if (!isDuplicateKey(e) || attempt > 0) throw e;
        }
      }
    });
  }

  /** Every member's position in one equality read. */
  async forConversation(conversationId: string): Promise<ReadPositionRecord[]> {
    const docs = await this.model.find({ conversationId: { $eq: conversationId } }).lean<ReadPositionDoc[]>();
    return docs.map(toPosition);
  }

  /**
   * The positions that list userId in their audience, by conversation, in one equality read: every
   * position of each conversation whose record says readsByAudience (others' may be missing).
   */
  async forAudience(userId: string): Promise<Map<string, ReadPositionRecord[]>> {
    const docs = await this.model.find({ audience: userId }).lean<ReadPositionDoc[]>();
    const out = new Map<string, ReadPositionRecord[]>();
    for (const d of docs) {
      const list = out.get(d.conversationId);
      if (list) list.push(toPosition(d));
      else out.set(d.conversationId, [toPosition(d)]);
    }
    return out;
  }
}
