import { connectMongo, type Mongo } from '@chat/shared/infra/mongo';
import { ConversationsRepository } from '@chat/shared/repositories/conversations';
import { stack } from './stack.ts';

let mongo: Promise<Mongo> | null = null;

/** Direct access to the test stack's database, for arranging state and checking what is stored. */
export function testDb(): Promise<Mongo> {
  mongo ??= connectMongo(stack().env.MONGO_URL!);
  return mongo;
}

export async function closeTestDb(): Promise<void> {
  if (mongo) await (await mongo).close();
  mongo = null;
}

/** Arranges a conversation directly in the store (for tests that exercise other services). */
export async function createConversation(type: 'direct' | 'group', memberIds: string[], title = 'Test group') {
  const repo = new ConversationsRepository((await testDb()).models.Conversation);
  return type === 'direct' ? (await repo.createDirect(memberIds[0]!, memberIds[1]!)).conversation : repo.createGroup(memberIds[0]!, title, memberIds.slice(1));
}
