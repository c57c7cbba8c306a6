import mongoose, { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * Mongoose schemas and their indexes: the one definition of what is stored. Services reach them
 * through repositories, never directly from routes. Only the subset of MongoDB that FerretDB
 * also supports is used (no transactions, no $text, no collations, no sparse indexes).
 */
const opts = { versionKey: false as const };

export const userSchema = new Schema(
  {
    username: { type: String, required: true, unique: true },
    displayName: { type: String, required: true },
    passwordHash: { type: String, required: true },
    createdAt: { type: Date, required: true, default: () => new Date() },
    /** Normalised prefixes of the username and display-name words (shared/src/search/terms.ts): `GET /users?q=` by equality. */
    searchKeys: { type: [String], default: [] },
    /** `<userId>/<uuid>` of the current avatar object (functions/file, avatars/ prefix); null without one. */
    avatarKey: { type: String, default: null },
  },
  opts,
);
userSchema.index({ searchKeys: 1 });

export const refreshTokenSchema = new Schema(
  {
    tokenHash: { type: String, required: true, unique: true },
    userId: { type: String, required: true, index: true },
    familyId: { type: String, required: true, index: true },
    expiresAt: { type: Date, required: true },
    spentAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
    createdAt: { type: Date, required: true, default: () => new Date() },
  },
  opts,
);

export const conversationSchema = new Schema(
  {
    type: { type: String, enum: ['direct', 'group'], required: true },
    title: { type: String, default: null },
    memberIds: { type: [String], required: true, index: true },
    admins: { type: [String], default: [] },
    /** "direct:<a>:<b>" with sorted ids, so one pair has one direct conversation. */
    uniqueKey: { type: String, required: true, unique: true },
    lastMessageId: { type: String, default: null },
    /**
     * The last message as the contract's Message (JSON), so the list needs no read per
     * conversation, and the message's `rev` it shows. Valid only while its id is lastMessageId;
     * absent on records written before it existed, which read the message by _id instead.
     */
    lastMessage: { type: String, default: undefined },
    lastMessageRev: { type: Number, default: undefined },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    /** The open history chunk (docs/storage.md): its number, lowest id, and msgCount when it opened. */
    chunkNo: { type: Number, default: 0 },
    chunkStart: { type: String, default: '' },
    chunkBase: { type: Number, default: 0 },
    /** Messages stored (fresh inserts only), and per sender, for unread counts without counting rows. */
    msgCount: { type: Number, default: 0 },
    sent: { type: Map, of: Number, default: {} },
    /** Messages stored that mention each member (others' messages only), for the mention badge. */
    mentioned: { type: Map, of: Number, default: {} },
    /** System messages among msgCount: they never count as unread (docs/groups.md). */
    sysCount: { type: Number, default: 0 },
    /** Settings/membership revision: every change bumps it, and its system messages are named after it. */
    rev: { type: Number, default: 0 },
    /**
     * System messages written with their change and not yet confirmed published (JSON of each
     * Message): the change and its record cannot diverge if a process dies in between.
     */
    outbox: { type: [String], default: [] },
    /**
     * True while every read position of the conversation lists the members in `audience` (since its
     * creation, with no member added since), so a member's list reads them with one `{audience}`
     * read. Absent or false: its positions are read by `{conversationId}` (docs/storage.md).
     */
    readsByAudience: { type: Boolean, default: undefined },
  },
  opts,
);
conversationSchema.index({ memberIds: 1, updatedAt: -1 });

const attachmentSchema = new Schema(
  { fileId: String, name: String, size: Number, contentType: String, width: { type: Number, default: null }, height: { type: Number, default: null } },
  { _id: false },
);
const reactionSchema = new Schema({ emoji: String, userIds: [String] }, { _id: false });

export const messageSchema = new Schema(
  {
    /** Assigned by the gateway; sorts in createdAt order within a conversation. */
    _id: { type: String, required: true },
    conversationId: { type: String, required: true },
    senderId: { type: String, required: true },
    clientMsgId: { type: String, required: true },
    body: { type: String, default: '' },
    attachments: { type: [attachmentSchema], default: [] },
    replyToId: { type: String, default: null },
    reactions: { type: [reactionSchema], default: [] },
    createdAt: { type: Date, required: true },
    editedAt: { type: Date, default: null },
    deletedAt: { type: Date, default: null },
    kind: { type: String, default: 'user' },
    system: { type: Schema.Types.Mixed, default: null },
    mentions: { type: [String], default: [] },
    threadRootId: { type: String, default: null },
    alsoToChannel: { type: Boolean, default: false },
    thread: { type: Schema.Types.Mixed, default: null },
    /**
     * On a thread root, its summary as counters the db function adds to (fresh inserts only, so a
     * redelivered reply counts once), and its thread's open history chunk (docs/threads.md).
     * participantIds are the first keys of replySent. Absent on messages without replies.
     */
    replyCount: { type: Number },
    lastReplyId: { type: String },
    lastReplyAt: { type: Date },
    replySent: { type: Map, of: Number, default: undefined },
    threadChunkNo: { type: Number },
    threadChunkStart: { type: String },
    threadChunkBase: { type: Number },
    /** On a reply: its chunk of the thread's stream, and "<conversationId>/<rootId>:<chunk>" to read it by equality. */
    threadChunk: { type: Number },
    threadChunkId: { type: String },
    /** History chunk number, and "<conversationId>:<chunk>": a page reads whole chunks by equality. */
    chunk: { type: Number },
    chunkId: { type: String },
    /**
     * Search keys: termKey(conversationId, term) of each term of the body (shared/src/search/terms.ts),
     * empty once deleted, so a term in one conversation is one equality lookup on this field.
     * No default: a message stored before search has none until the search-keys migration runs.
     */
    searchKeys: { type: [String], default: undefined },
    /**
     * Bumped by every change a reader sees after the insert (edit, reaction, delete, thread
     * summary), in the same update: the conversation's copy of its last message moves only to a
     * higher rev. Absent means 0.
     */
    rev: { type: Number, default: undefined },
  },
  opts,
);
messageSchema.index({ conversationId: 1, _id: 1 });
messageSchema.index({ chunkId: 1 });
messageSchema.index({ threadChunkId: 1 });
messageSchema.index({ searchKeys: 1 });
// Storage idempotency's last line: the same (sender, clientMsgId) can never be stored twice.
messageSchema.index({ senderId: 1, clientMsgId: 1 }, { unique: true });

export const readPositionSchema = new Schema(
  {
    conversationId: { type: String, required: true },
    userId: { type: String, required: true },
    messageId: { type: String, required: true },
    /** The conversation's msgCount, and the reader's own sent count, at or before messageId. */
    count: { type: Number, default: 0 },
    sent: { type: Number, default: 0 },
    /** The conversation's mentioned count of the reader at or before messageId. */
    mentioned: { type: Number, default: 0 },
    /** The conversation's sysCount at or before messageId. */
    sys: { type: Number, default: 0 },
    /** The conversation's members when the position was last written: who reads it with `{audience: me}`. */
    audience: { type: [String], default: undefined },
  },
  opts,
);
readPositionSchema.index({ conversationId: 1, userId: 1 }, { unique: true });
readPositionSchema.index({ audience: 1 });

/**
 * One user's relation to one thread: whether they follow it and their read position in it (the
 * thread's replyCount and their own replies at or before it, as for conversations). `_id` is
 * "<userId>|<conversationId>/<rootId>", so each pair has one document and an upsert is atomic.
 */
export const threadSubscriptionSchema = new Schema(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    conversationId: { type: String, required: true },
    rootId: { type: String, required: true },
    /** null until the user follows or unfollows (the root author follows on the first reply unless they decided). */
    following: { type: Boolean, default: null },
    readId: { type: String, default: null },
    readCount: { type: Number, default: 0 },
    readSent: { type: Number, default: 0 },
  },
  opts,
);
threadSubscriptionSchema.index({ userId: 1 });
threadSubscriptionSchema.index({ rootId: 1 });

/**
 * A history chunk (≥ 1) of a stream, written once when it opens: its unique _id is what makes
 * opening a chunk atomic on FerretDB, whose updates are no compare-and-set (functions/db/src/history).
 */
export const chunkSchema = new Schema(
  {
    _id: { type: String, required: true },
    stream: { type: String, required: true },
    no: { type: Number, required: true },
    start: { type: String, required: true },
    /** The stream's message count when it opened. */
    base: { type: Number, required: true },
  },
  opts,
);

/** Data migrations: one doc per step once done, and a lock doc with a lease while one runs. */
export const migrationSchema = new Schema(
  {
    _id: { type: String, required: true },
    doneAt: { type: Date, default: null },
    owner: { type: String, default: null },
    leaseUntil: { type: Date, default: null },
    progress: { type: Schema.Types.Mixed, default: null },
  },
  opts,
);

/**
 * Revisions that processes check their caches against, one doc per concern, read by `_id`:
 * `profiles` changes after every change to a user's public fields (name, avatar), so a process may
 * keep the users it has read for as long as it stays put (shared/src/repositories/profile-cache.ts).
 * `rev` is a fresh random token each time, not a counter: FerretDB applies an update as a
 * read-modify-write of the whole document, so two racing `$inc`s could leave the same number twice.
 */
export const revisionSchema = new Schema(
  {
    _id: { type: String, required: true },
    rev: { type: String, required: true },
  },
  opts,
);

/** An uploaded file: pending until its object is confirmed in storage, then complete. */
export const fileSchema = new Schema(
  {
    conversationId: { type: String, required: true },
    uploaderId: { type: String, required: true },
    name: { type: String, required: true },
    size: { type: Number, required: true },
    contentType: { type: String, required: true },
    status: { type: String, enum: ['pending', 'complete'], required: true },
    objectKey: { type: String, required: true },
    previewKey: { type: String, default: null },
    /** Of an image, read when its preview is made; null otherwise. */
    width: { type: Number, default: null },
    height: { type: Number, default: null },
    createdAt: { type: Date, required: true },
    completedAt: { type: Date, default: null },
  },
  opts,
);
fileSchema.index({ conversationId: 1 });
// The pending-upload sweep looks for old pending records.
fileSchema.index({ status: 1, createdAt: 1 });

/** A browser's Web Push subscription; the endpoint is the device, so it is unique. */
export const pushSubscriptionSchema = new Schema(
  {
    endpoint: { type: String, required: true, unique: true },
    userId: { type: String, required: true, index: true },
    p256dh: { type: String, required: true },
    auth: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  opts,
);

/** Per-member notification settings of one conversation. */
export const notificationPreferenceSchema = new Schema(
  {
    conversationId: { type: String, required: true },
    userId: { type: String, required: true },
    muted: { type: Boolean, required: true },
    /** all | mentions | none, once the member chose one; null: the default (notification-level.ts). */
    level: { type: String, default: null },
    updatedAt: { type: Date, required: true },
  },
  opts,
);
notificationPreferenceSchema.index({ conversationId: 1, userId: 1 }, { unique: true });
// The conversation list reads all of a caller's settings in one equality read.
notificationPreferenceSchema.index({ userId: 1 });

export type UserDoc = InferSchemaType<typeof userSchema> & { _id: mongoose.Types.ObjectId };
export type RefreshTokenDoc = InferSchemaType<typeof refreshTokenSchema> & { _id: mongoose.Types.ObjectId };
export type ConversationDoc = InferSchemaType<typeof conversationSchema> & { _id: mongoose.Types.ObjectId };
export type MessageDoc = InferSchemaType<typeof messageSchema> & { _id: string };
export type ReadPositionDoc = InferSchemaType<typeof readPositionSchema>;
export type FileDoc = InferSchemaType<typeof fileSchema> & { _id: mongoose.Types.ObjectId };
export type PushSubscriptionDoc = InferSchemaType<typeof pushSubscriptionSchema> & { _id: mongoose.Types.ObjectId };
export type NotificationPreferenceDoc = InferSchemaType<typeof notificationPreferenceSchema>;
export type ChunkDoc = InferSchemaType<typeof chunkSchema>;
export type ThreadSubscriptionDoc = InferSchemaType<typeof threadSubscriptionSchema>;
export type MigrationDoc = InferSchemaType<typeof migrationSchema>;
export type RevisionDoc = InferSchemaType<typeof revisionSchema>;

const definitions = {
  User: [userSchema, 'users'],
  RefreshToken: [refreshTokenSchema, 'refresh_tokens'],
  Conversation: [conversationSchema, 'conversations'],
  Message: [messageSchema, 'messages'],
  ReadPosition: [readPositionSchema, 'read_positions'],
  File: [fileSchema, 'files'],
  PushSubscription: [pushSubscriptionSchema, 'push_subscriptions'],
  NotificationPreference: [notificationPreferenceSchema, 'notification_preferences'],
  Chunk: [chunkSchema, 'chunks'],
  ThreadSubscription: [threadSubscriptionSchema, 'thread_subscriptions'],
  Migration: [migrationSchema, 'migrations'],
  Revision: [revisionSchema, 'revisions'],
} as const;

export interface Models {
  User: Model<UserDoc>;
  RefreshToken: Model<RefreshTokenDoc>;
  Conversation: Model<ConversationDoc>;
  Message: Model<MessageDoc>;
  ReadPosition: Model<ReadPositionDoc>;
  File: Model<FileDoc>;
  PushSubscription: Model<PushSubscriptionDoc>;
  NotificationPreference: Model<NotificationPreferenceDoc>;
  Chunk: Model<ChunkDoc>;
  ThreadSubscription: Model<ThreadSubscriptionDoc>;
  Migration: Model<MigrationDoc>;
  Revision: Model<RevisionDoc>;
}

/** Binds the schemas to one connection (idempotent per connection). */
export function bindModels(conn: Connection): Models {
  const out: Record<string, Model<unknown>> = {};
  for (const [name, [schema, collection]] of Object.entries(definitions)) {
    out[name] = (conn.models[name] as Model<unknown>) ?? conn.model(name, schema as Schema, collection);
  }
  return out as unknown as Models;
}
