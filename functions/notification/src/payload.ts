import { stripMarkdown } from '@chat/shared/markdown/markdown';
import type { Message } from '@chat/shared/models/types';

export const PUSH_BODY_MAX = 200;

export interface PushPayload {
  type: 'message';
  conversationId: string;
  messageId: string;
  title: string;
  body: string;
  /** Set for a thread reply, so the notification opens the thread. */
  threadRootId?: string;
}

/**
 * Cuts to at most max characters, counted as JavaScript does (UTF-16 units, the strictest reading),
 * never splitting an emoji's surrogate pair, and marks the cut.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

/** What a notification says about a message: who wrote it, where, and the start of its text
 * without Markdown (a notification shows no markup). */
export function messagePayload(message: Message, sender: { displayName: string } | null, conversation: { type: string; title: string | null }): PushPayload {
  const who = sender?.displayName ?? 'Someone';
  const title = conversation.type === 'group' && conversation.title ? `${who} in ${conversation.title}` : who;
  let text = stripMarkdown(message.body).replace(/\s+/g, ' ').trim();
  if (!text && message.attachments.length > 0) {
    const [first] = message.attachments;
    const more = message.attachments.length - 1;
    text = `📎 ${first!.name}${more > 0 ? ` (+${more} more)` : ''}`;
  }
  return {
    type: 'message',
    conversationId: message.conversationId,
    messageId: message.id,
    title: truncate(title, 100),
    body: truncate(text, PUSH_BODY_MAX),
    ...(message.threadRootId ? { threadRootId: message.threadRootId } : {}),
  };
}
