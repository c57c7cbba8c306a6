import { readFileSync } from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { loadSigningKeys, type SigningKeys } from '../../functions/auth/src/keys.ts';
import { messageId } from '@chat/shared/ids';
import type { Mongo } from '@chat/shared/infra/mongo';
import { plainMessageFields, type Message } from '@chat/shared/models/types';
import { toMessageDoc } from '@chat/shared/repositories/messages';

/**
 * Test data written straight into the database: registering thousands of users through the auth
 * function would spend minutes in scrypt, which is not what any scenario measures. Tokens are
 * minted with the stack's own signing key, so the services accept them as real ones.
 */
export interface SeededGroup {
  id: string;
  memberIds: string[];
}

export interface Seeded {
  userIds: string[];
  groups: SeededGroup[];
}

let serial = 0;

/** `users` users in groups of `groupSize` consecutive users (user i is in group floor(i / groupSize)). */
export async function seedUsersAndGroups(mongo: Mongo, tag: string, users: number, groupSize: number): Promise<Seeded> {
  const run = `${tag}${(serial++).toString(36)}${Date.now().toString(36)}`;
  const now = new Date();
  const userDocs = Array.from({ length: users }, (_, i) => ({
    _id: new mongoose.Types.ObjectId(),
    username: `b${run}_${i}`,
    displayName: `Bench ${i}`,
    // Not a hash of anything: these users never log in.
    passwordHash: 'bench:no-login',
    createdAt: now,
  }));
  for (let i = 0; i < userDocs.length; i += 1000) await mongo.models.User.insertMany(userDocs.slice(i, i + 1000), { lean: true });
  const userIds = userDocs.map((u) => u._id.toString());
  const groups: SeededGroup[] = [];
  const convDocs = [];
  for (let g = 0; g * groupSize < users; g++) {
    const memberIds = userIds.slice(g * groupSize, (g + 1) * groupSize);
    const _id = new mongoose.Types.ObjectId();
    groups.push({ id: _id.toString(), memberIds });
    convDocs.push({ _id, type: 'group', title: `bench ${run} ${g}`, memberIds, admins: [memberIds[0]], uniqueKey: `group:bench-${run}-${g}`, lastMessageId: null, createdAt: now, updatedAt: now });
  }
  for (let i = 0; i < convDocs.length; i += 500) await mongo.models.Conversation.insertMany(convDocs.slice(i, i + 500), { lean: true });
  return { userIds, groups };
}

export async function signingKeys(secretsDir: string): Promise<SigningKeys> {
  return loadSigningKeys(readFileSync(path.join(secretsDir, 'jwt-signing-keys'), 'utf8').trim());
}

export async function mintTokens(keys: SigningKeys, userIds: string[]): Promise<string[]> {
  return Promise.all(userIds.map((sub) => keys.sign({ sub, issuer: 'chat-auth', audience: 'chat', ttlSeconds: 900 })));
}

/** Messages as the gateway builds them: ids from createdAt, strictly increasing per conversation. */
export function buildMessages(groups: SeededGroup[], count: number, tag: string): Message[] {
  const base = Date.now();
  const out: Message[] = [];
  for (let i = 0; i < count; i++) {
    const g = groups[i % groups.length]!;
    const createdAtMs = base + Math.floor(i / groups.length);
    const senderId = g.memberIds[i % g.memberIds.length]!;
    out.push({
      id: messageId(createdAtMs),
      conversationId: g.id,
      senderId,
      clientMsgId: `${tag}-${i}`,
      body: `benchmark message ${i}: the quick brown fox jumps over the lazy dog`,
      attachments: [],
      replyToId: null,
      reactions: [],
      createdAt: new Date(createdAtMs).toISOString(),
      editedAt: null,
      deletedAt: null,
      ...plainMessageFields(),
    });
  }
  return out;
}

/** The stored document of a message, exactly as the db function's repository writes it. */
export const messageDoc = (m: Message) => toMessageDoc(m);
