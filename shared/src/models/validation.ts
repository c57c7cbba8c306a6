import { z } from 'zod';
import { LIMITS } from './limits.ts';

/**
 * Request schemas, used by the HTTP handlers, the socket gateway and the OpenAPI document alike.
 * Objects are strict: an unexpected key (say, `$where`) is an error rather than silently dropped.
 */
const trimmed = (min: number, max: number) => z.string().trim().min(min).max(max);

export const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'must be an id');

export const username = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .pipe(
    z
      .string()
      .min(LIMITS.usernameMin)
      .max(LIMITS.usernameMax)
      .regex(/^[a-z0-9_.-]+$/, 'may contain only a-z, 0-9, "_", "." and "-"'),
  );

export const password = z.string().min(LIMITS.passwordMin).max(LIMITS.passwordMax);
export const displayName = trimmed(1, LIMITS.displayNameMax);

export const registerRequest = z.strictObject({ username, password, displayName: displayName.optional() });
export const loginRequest = z.strictObject({ username: z.string().max(256), password: z.string().max(LIMITS.passwordMax) });
export const updateMeRequest = z.strictObject({ displayName: displayName.optional() });
/** The current password is only compared, so any string up to the limit is accepted for it. */
export const changePasswordRequest = z.strictObject({ currentPassword: z.string().min(1).max(LIMITS.passwordMax), newPassword: password });
export const refreshRequest = z.strictObject({ refreshToken: z.string().min(1).max(512).optional() });

export const createConversationRequest = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('direct'), memberIds: z.array(id).length(1) }),
  z.strictObject({
    type: z.literal('group'),
    title: trimmed(1, LIMITS.titleMax),
    memberIds: z.array(id).max(LIMITS.groupMembersMax),
  }),
]);
/** PATCH /conversations/:id: a group's new title, 1..titleMax characters after trimming. */
export const renameConversationRequest = z.strictObject({ title: trimmed(1, LIMITS.titleMax) });
export const addMembersRequest = z.strictObject({ userIds: z.array(id).min(1).max(LIMITS.groupMembersMax) });
export const readRequest = z.strictObject({ messageId: id });

const limit = z.coerce.number().int().min(1).max(LIMITS.historyPageMax).default(LIMITS.historyPageDefault);
export const historyQuery = z
  .strictObject({ before: id.optional(), after: id.optional(), around: id.optional(), limit })
  .refine((q) => [q.before, q.after, q.around].filter(Boolean).length <= 1, 'use only one of before, after and around');
export const userSearchQuery = z.strictObject({ q: z.string().max(LIMITS.usernameMax).default('') });
/** A point in time: a full ISO 8601 date-time with an offset, or a UTC date; read as an instant. */
const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .transform((s) => new Date(s).toISOString());
export const messageSearchQuery = z
  .strictObject({
    q: z.string().trim().min(1).max(LIMITS.searchQueryMax),
    conversationId: id.optional(),
    /** Only messages this user sent. */
    from: id.optional(),
    /** Only messages sent at or after this instant. */
    since: instant.optional(),
    /** Only messages sent before this instant. */
    until: instant.optional(),
    /** The next page: only matches older than this message id (the last one of the page before). */
    before: id.optional(),
  })
  .refine((q) => !q.since || !q.until || q.since < q.until, { message: 'since must be before until', path: ['since'] });

/** Body text: trimmed, 1..4000 chars; may be empty only when attachments carry the message. */
export const messageBody = z.string().max(LIMITS.bodyMax * 2).transform((s) => s.trim());

export const sendMessagePayload = z
  .strictObject({
    conversationId: id,
    clientMsgId: z.string().min(1).max(LIMITS.clientMsgIdMax),
    body: messageBody,
    attachments: z.array(id).max(LIMITS.attachmentsMax).optional(),
    replyToId: id.nullish(),
    threadRootId: id.nullish(),
    alsoToChannel: z.boolean().optional(),
  })
  .superRefine((m, ctx) => {
    if (m.alsoToChannel && !m.threadRootId) ctx.addIssue({ code: 'custom', path: ['alsoToChannel'], message: 'only with threadRootId' });
    if (m.body.length > LIMITS.bodyMax) ctx.addIssue({ code: 'custom', path: ['body'], message: `at most ${LIMITS.bodyMax} characters` });
    if (m.body.length === 0 && !(m.attachments && m.attachments.length > 0))
      ctx.addIssue({ code: 'custom', path: ['body'], message: 'must not be empty' });
  });
export const editMessagePayload = z.strictObject({
  messageId: id,
  body: messageBody.pipe(z.string().min(1).max(LIMITS.bodyMax)),
});
export const deleteMessagePayload = z.strictObject({ messageId: id });
export const reactionPayload = z.strictObject({ messageId: id, emoji: z.string().trim().min(1).max(LIMITS.emojiMax) });
export const typingPayload = z.strictObject({ conversationId: id, isTyping: z.boolean(), threadRootId: id.nullish() });
export const readPayload = z.strictObject({ conversationId: id, messageId: id, threadRootId: id.nullish() });
/** GET /threads: the caller's followed threads; unread=true keeps those with unread replies. */
export const threadsQuery = z.strictObject({ unread: z.enum(['true', 'false']).default('false').transform((v) => v === 'true') });

/** Zod's first issue as a short human sentence: "body: must not be empty". */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'Invalid request.';
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}
