import type { FileLink } from '../api/endpoints.ts';
import { api } from './auth.svelte.ts';

const cache = new Map<string, { at: number; link: Promise<FileLink> }>();

/** Short-lived download URLs, cached until shortly before they expire. */
export function fileLink(fileId: string): Promise<FileLink> {
  const hit = cache.get(fileId);
  if (hit) return hit.link;
  const link = api.file.link(fileId);
  cache.set(fileId, { at: Date.now(), link });
  link.then(
    (l) => {
      const ttl = Math.max(10_000, Date.parse(l.expiresAt) - Date.now() - 30_000);
      setTimeout(() => cache.delete(fileId), Number.isFinite(ttl) ? ttl : 60_000);
    },
    () => cache.delete(fileId),
  );
  return link;
}
