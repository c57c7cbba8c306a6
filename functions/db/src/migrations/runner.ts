import { randomUUID } from 'node:crypto';
import type { Logger } from '@chat/shared/log';
import type { Models } from '@chat/shared/models/schemas';
import { isDuplicateKey } from '@chat/shared/infra/mongo';

/** One data migration. `run` must be idempotent and resumable: a kill may stop it anywhere. */
export interface MigrationStep {
  id: string;
  run(ctx: { models: Models; log: Logger }): Promise<void>;
}

const LOCK = 'lock';

/**
 * Runs the steps not done yet, in order, with one runner at a time across every instance: a lock
 * doc in `migrations` with a lease the holder renews, so a killed holder's lock expires and the
 * next instance resumes. Each finished step is recorded as its own doc and never runs again.
 * The lock is taken by inserting it (a unique _id: the one atomic write FerretDB offers; its
 * conditional updates are no compare-and-set). Taking over an expired lock has a narrow race
 * between two waiters; steps are idempotent, so the worst case is a step running twice at once.
 */
export async function runMigrations(
  ctx: { models: Models; log: Logger },
  steps: readonly MigrationStep[],
  opts: { leaseMs?: number; pollMs?: number; owner?: string } = {},
): Promise<void> {
  const { Migration } = ctx.models;
  const pending = async () => {
    const done = await Promise.all(steps.map((s) => Migration.findById(s.id).lean()));
    return steps.filter((_, i) => !done[i]?.doneAt);
  };
  if ((await pending()).length === 0) return;
  const owner = opts.owner ?? randomUUID();
  const leaseMs = opts.leaseMs ?? 30_000;
  await acquire(ctx, owner, leaseMs, opts.pollMs ?? 1000);
  const renew = setInterval(() => {
    void Migration.updateOne({ _id: LOCK, owner }, { $set: { leaseUntil: new Date(Date.now() + leaseMs) } }).catch((e: unknown) => ctx.log.warn('migration lease renewal failed', { err: e }));
  }, Math.max(50, leaseMs / 3));
  try {
    // Another instance may have finished some while this one waited for the lock.
    for (const step of await pending()) {
      const t0 = Date.now();
      ctx.log.info('migration starting', { step: step.id });
      await step.run(ctx);
      await Migration.updateOne({ _id: step.id }, { $set: { doneAt: new Date(), progress: null } }, { upsert: true });
      ctx.log.info('migration done', { step: step.id, ms: Date.now() - t0 });
    }
  } finally {
    clearInterval(renew);
    await Migration.deleteOne({ _id: LOCK, owner }).catch(() => undefined);
  }
}

/** Takes the lock when it is free, expired or already ours; otherwise waits for it. */
async function acquire(ctx: { models: Models; log: Logger }, owner: string, leaseMs: number, pollMs: number): Promise<void> {
  const { Migration } = ctx.models;
  for (let waited = false; ; ) {
    try {
      await Migration.create({ _id: LOCK, owner, leaseUntil: new Date(Date.now() + leaseMs) });
      return;
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
    const held = await Migration.findById(LOCK).lean();
    if (!held) continue;
    if (held.owner === owner) return;
    if (!held.leaseUntil || held.leaseUntil.getTime() < Date.now()) {
      // Its holder stopped renewing (killed): remove exactly that lock, then race for a new one.
      ctx.log.warn('taking over an expired migration lock', { from: held.owner });
      await Migration.deleteOne({ _id: LOCK, owner: held.owner, leaseUntil: held.leaseUntil });
      continue;
    }
    if (!waited) ctx.log.info('waiting for another instance to finish migrating');
    waited = true;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Where a step got to, so a resumed run skips what is done (kept on the step's own doc). */
export const progress = {
  async read<T>(models: Models, stepId: string): Promise<T | null> {
    return ((await models.Migration.findById(stepId).lean())?.progress as T | undefined) ?? null;
  },
  async write(models: Models, stepId: string, value: unknown): Promise<void> {
    await models.Migration.updateOne({ _id: stepId }, { $set: { progress: value } }, { upsert: true });
  },
};

/** The progress of a step that migrates one conversation at a time, in _id order. */
export interface ConversationProgress {
  /** Everything up to this conversation is done. */
  after: string | null;
  conversations: number;
  messages: number;
}

/** Options of a per-conversation step. */
export interface ConversationStepOptions {
  /** Only these conversations (tests, which share a store with a running stack). */
  only?: readonly string[];
  /** Called after each bulk write of messages (tests kill the run there). */
  checkpoint?: () => void | Promise<void>;
  batch?: number;
}

/**
 * The loop of a per-conversation step: `migrate` each conversation in _id order (it answers how
 * many messages it wrote or read), recording progress after each so a killed run resumes after
 * the last one done (not with `only`: those tests share a store with a running stack). `report`
 * says when to log the progress so far.
 */
export async function forEachConversation(
  ctx: { models: Models; log: Logger },
  stepId: string,
  opts: ConversationStepOptions,
  migrate: (conversationId: string) => Promise<number>,
  report: (at: ConversationProgress, messages: number) => boolean,
): Promise<void> {
  const at = (!opts.only && (await progress.read<ConversationProgress>(ctx.models, stepId))) || { after: null, conversations: 0, messages: 0 };
  if (at.after) ctx.log.info('migration resuming', { step: stepId, ...at });
  // Start-up, not a request path: reading every conversation id once is the job.
  const ids = (opts.only ? [...opts.only] : (await ctx.models.Conversation.find({}, { _id: 1 }).lean()).map((c) => c._id.toString())).sort();
  for (const convId of ids) {
    if (at.after && convId <= at.after) continue;
    const messages = await migrate(convId);
    at.after = convId;
    at.conversations++;
    at.messages += messages;
    if (!opts.only) await progress.write(ctx.models, stepId, at);
    if (report(at, messages)) ctx.log.info('migration progress', { step: stepId, ...at, of: ids.length });
  }
  ctx.log.info('migration finished its conversations', { step: stepId, ...at });
}
