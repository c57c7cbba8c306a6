/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />

// Push notifications only: no caching, so a deploy is never hidden behind a stale worker.
const sw = self as unknown as ServiceWorkerGlobalScope;

interface PushPayload {
  type?: string;
  conversationId?: string;
  messageId?: string;
  title?: string;
  body?: string;
}

sw.addEventListener('install', () => void sw.skipWaiting());
sw.addEventListener('activate', (event) => event.waitUntil(sw.clients.claim()));

sw.addEventListener('push', (event) => {
  let data: PushPayload = {};
  try {
    data = (event.data?.json() ?? {}) as PushPayload;
  } catch {
    data = { body: event.data?.text() ?? '' };
  }
  const title = data.title || 'New message';
  event.waitUntil(
    sw.registration.showNotification(title, {
      body: (data.body ?? '').slice(0, 200),
      tag: data.conversationId ? `conversation-${data.conversationId}` : undefined,
      icon: '/favicon.svg',
      data: { conversationId: data.conversationId ?? null },
    }),
  );
});

sw.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const id = (event.notification.data as { conversationId?: string | null } | null)?.conversationId;
  const path = id ? `/c/${encodeURIComponent(id)}` : '/';
  const url = new URL(path, sw.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const existing = windows.find((w) => new URL(w.url).origin === sw.location.origin);
      if (existing) {
        await existing.focus();
        existing.postMessage({ type: 'open-conversation', path });
        return;
      }
      await sw.clients.openWindow(url);
    })(),
  );
});
