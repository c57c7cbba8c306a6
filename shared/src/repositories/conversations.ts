import type { Model } from 'mongoose';
import { isValidObjectId } from 'mongoose';
import { isDuplicateKey } from '../infra/mongo.ts';
import type { ConversationDoc, ReadPositionDoc } from '../models/schemas.ts';
import type { Conversation, ConversationType, Message, User } from '../models/types.ts';

export interface ConversationRecord {
  id: string;
  type: ConversationType;
  title: string | null;
  memberIds: string[];
  admins: string[];
  lastMessageId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

type Lean = ConversationDoc;

const toRecord = (d: Lean): ConversationRecord => ({
  id: d._id.toString(),
  type: d.type as ConversationType,
  title: d.title ?? null,
  memberIds: [...d.memberIds],
  admins: [...(d.admins ?? [])],
  lastMessageId: d.lastMessageId ?? null,
  createdAt: new Date(d.createdAt),
  updatedAt: new Date(d.updatedAt),
});

/** The contract's Conversation for one member: the record plus what is specific to the reader. */
export function toConversation(rec: ConversationRecord, view: { members: User[]; lastMessage: Message | null; unreadCount: number }): Conversation {
  return {
    id: rec.id,
    type: rec.type,
    title: rec.title,
    members: view.members,
    admins: rec.admins,
    lastMessage: view.lastMessage,
    unreadCount: view.unreadCount,
    createdAt: rec.createdAt.toISOString(),
    updatedAt: rec.updatedAt.toISOString(),
  };
}

export const directKey = (a: string, b: string) => `direct:${[a, b].sort().join(':')}`;

/** Conversations and their members. Membership checks take the caller's id, so no query leaks others'. */
export class ConversationsRepository {
  constructor(private readonly model: Model<ConversationDoc>) {}

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

  async idsForMember(userId: string): Promise<string[]> {
    const docs = await this.model.find({ memberIds: userId }, { _id: 1 }).lean<Array<{ _id: { toString(): string } }>>();
    return docs.map((d) => d._id.toString());
  }

  /** Creates the pair's direct conversation, or returns the existing one (created: false). */
  async createDirect(a: string, b: string): Promise<{ conversation: ConversationRecord; created: boolean }> {
    const key = directKey(a, b);
    const now = new Date();
    try {
      const d = await this.model.create({ type: 'direct', title: null, memberIds: [a, b], admins: [], uniqueKey: key, createdAt: now, updatedAt: now });
      return { conversation: toRecord(d.toObject() as Lean), created: true };
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      const d = await this.model.findOne({ uniqueKey: key }).lean<Lean>();
      return { conversation: toRecord(d!), created: false };
    }
  }

  async createGroup(creatorId: string, title: string, memberIds: string[]): Promise<ConversationRecord> {
    const now = new Date();
    const members = [...new Set([creatorId, ...memberIds])];
    const d = await this.model.create({
      type: 'group',
      title,
      memberIds: members,
      admins: [creatorId],
      uniqueKey: `group:${crypto.randomUUID()}`,
      createdAt: now,
      updatedAt: now,
    });
    return toRecord(d.toObject() as Lean);
  }

  async addMembers(id: string, userIds: string[]): Promise<ConversationRecord | null> {
    const d = await this.model.findOneAndUpdate({ _id: id }, { $addToSet: { memberIds: { $each: userIds } } }, { new: true }).lean<Lean>();
    return d ? toRecord(d) : null;
  }

  async removeMember(id: string, userId: string): Promise<ConversationRecord | null> {
    const d = await this.model.findOneAndUpdate({ _id: id }, { $pull: { memberIds: userId, admins: userId } }, { new: true }).lean<Lean>();
    return d ? toRecord(d) : null;
  }

  /** Makes userId an admin only if the group has none left (its last admin just left). */
  async promoteIfNoAdmin(id: string, userId: string): Promise<ConversationRecord | null> {
    if (!isValidObjectId(id)) return null;
    const d = await this.model
      .findOneAndUpdate({ _id: id, type: 'group', admins: { $size: 0 }, memberIds: userId }, { $set: { admins: [userId] } }, { new: true })
      .lean<Lean>();
    return d ? toRecord(d) : null;
  }

  /** Records a newer last message; never moves backwards when events arrive out of order. */
  async touchLastMessage(id: string, messageId: string, at: Date): Promise<void> {
    if (!isValidObjectId(id)) return;
    await this.model.updateOne(
      { _id: id, $or: [{ lastMessageId: null }, { lastMessageId: { $lt: messageId } }] },
      { $set: { lastMessageId: messageId, updatedAt: at } },
    );
  }
}

/** Per-member read positions (the newest message id a member has read). */
export class ReadPositionsRepository {
  constructor(private readonly model: Model<ReadPositionDoc>) {}

  /** Moves the position forward only; returns false when it was already at or past messageId. */
  async advance(conversationId: string, userId: string, messageId: string): Promise<boolean> {
    const res = await this.model.updateOne(
      { conversationId: { $eq: conversationId }, userId: { $eq: userId }, messageId: { $lt: messageId } },
      { $set: { messageId } },
    );
    if (res.matchedCount === 1) return true;
    try {
      await this.model.create({ conversationId, userId, messageId });
      return true;
    } catch (e) {
      if (isDuplicateKey(e)) return false;
      throw e;
    }
  }

  async forUser(userId: string, conversationIds: string[]): Promise<Map<string, string>> {
    const docs = await this.model.find({ userId: { $eq: userId }, conversationId: { $in: conversationIds } }).lean<ReadPositionDoc[]>();
    return new Map(docs.map((d) => [d.conversationId, d.messageId]));
  }

  async forConversation(conversationId: string): Promise<Map<string, string>> {
    const docs = await this.model.find({ conversationId: { $eq: conversationId } }).lean<ReadPositionDoc[]>();
    return new Map(docs.map((d) => [d.userId, d.messageId]));
  }
}
