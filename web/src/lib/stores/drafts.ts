/** Unsent text per conversation; kept for the tab's lifetime (sessionStorage), never a secret. */
const memory = new Map<string, string>();
const key = (id: string) => `chat:draft:${id}`;

function storage(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}

export function loadDraft(conversationId: string): string {
  return memory.get(conversationId) ?? storage()?.getItem(key(conversationId)) ?? '';
}

export function saveDraft(conversationId: string, text: string): void {
  if (text) memory.set(conversationId, text);
  else memory.delete(conversationId);
  const s = storage();
  if (!s) return;
  if (text) s.setItem(key(conversationId), text);
  else s.removeItem(key(conversationId));
}
