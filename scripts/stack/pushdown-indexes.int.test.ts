import { afterAll, describe, expect, it } from 'vitest';
import { closeTestDb, createConversation, testDb } from '../../test/db.ts';

afterAll(() => closeTestDb());

/** The plan FerretDB reports for a query: the PostgreSQL plan of the SQL it ran. */
const planText = (explained: unknown) => JSON.stringify(explained);

// FerretDB's explain runs PostgreSQL's EXPLAIN on the SQL it would run. Why the database also
// plans every execution with its values (plan_cache_mode) is in scripts/stack/infra.ts.
describe('FerretDB equality lookups in the local stack', () => {
  it('use an index instead of scanning the collection', async () => {
    const db = await testDb();
    const conv = await createConversation('group', ['pushdown-a', 'pushdown-b']);
    const Conversation = db.models.Conversation;
    expect(await Conversation.findById(conv.id).lean()).not.toBeNull();
    const byId = planText(await Conversation.find({ _id: conv.id }).explain());
    const byMember = planText(await Conversation.find({ memberIds: 'pushdown-a' }).explain());
    const byConversation = planText(await db.models.Message.find({ conversationId: conv.id }).explain());
    for (const plan of [byId, byMember, byConversation]) {
      expect(plan).toMatch(/Bitmap Index Scan/);
      expect(plan).not.toMatch(/Seq Scan/);
    }
  });
});
