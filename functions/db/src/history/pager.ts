import type { Message } from '@chat/shared/models/types';

/** How the pager reads one stream's history: whole chunks by equality, oldest first. */
export interface ChunkSource {
  /** The open (newest) chunk's number. */
  openNo: number;
  read(no: number): Promise<Message[]>;
  /** The chunk an anchor id falls in (for an id that is not one of the stream's messages, by range). */
  locate(anchorId: string): Promise<number>;
}

export interface Page {
  messages: Message[];
  hasMore: boolean;
}

/** Each chunk is read at most once per request, even when before and after both need it. */
export function memoized(src: ChunkSource): ChunkSource {
  const reads = new Map<number, Promise<Message[]>>();
  return {
    openNo: src.openNo,
    locate: (id) => src.locate(id),
    read: (no) => {
      let r = reads.get(no);
      if (!r) reads.set(no, (r = src.read(no)));
      return r;
    },
  };
}

/**
 * Up to `limit` messages below `before` (or the newest), oldest first. Reads chunks downwards
 * from the anchor's until one more message than asked is known, so hasMore is exact; chunks are
 * never empty, and all but the newest hold about CHUNK_SIZE, so that is two or three reads.
 */
export async function pageBefore(src: ChunkSource, before: string | undefined, limit: number, from?: number): Promise<Page> {
  let no = from ?? (before === undefined ? src.openNo : await src.locate(before));
  const found: Message[][] = [];
  let n = 0;
  // The first step reads two chunks at once: the anchor's alone rarely fills a page.
  if (no > 0) void src.read(no - 1).catch(() => undefined);
  for (; no >= 0 && n <= limit; no--) {
    const chunk = (await src.read(no)).filter((m) => before === undefined || m.id < before);
    found.unshift(chunk);
    n += chunk.length;
  }
  const all = found.flat();
  return { messages: all.slice(Math.max(0, all.length - limit)), hasMore: all.length > limit };
}

/** Up to `limit` messages above `after`, oldest first (catch-up after a reconnect). */
export async function pageAfter(src: ChunkSource, after: string, limit: number, from?: number): Promise<Page> {
  let no = from ?? (await src.locate(after));
  const found: Message[] = [];
  for (; no <= src.openNo && found.length <= limit; no++) found.push(...(await src.read(no)).filter((m) => m.id > after));
  return { messages: found.slice(0, limit), hasMore: found.length > limit };
}

/**
 * The page centred on a message of chunk `at`: about half before it and half after it, oldest
 * first; a side that runs out leaves its share to the other, so the page is `limit` long when
 * the history is. hasMoreBefore / hasMoreAfter are exact, as for the other pages.
 */
export async function pageAround(
  src: ChunkSource,
  anchor: Message,
  at: number,
  limit: number,
): Promise<{ messages: Message[]; hasMoreBefore: boolean; hasMoreAfter: boolean }> {
  const room = limit - 1;
  const [before, after] = await Promise.all([pageBefore(src, anchor.id, room, at), pageAfter(src, anchor.id, room, at)]);
  const half = Math.floor(room / 2);
  const nBefore = Math.min(before.messages.length, Math.max(half, room - after.messages.length));
  const nAfter = Math.min(after.messages.length, room - nBefore);
  return {
    messages: [...before.messages.slice(before.messages.length - nBefore), anchor, ...after.messages.slice(0, nAfter)],
    hasMoreBefore: before.hasMore || before.messages.length > nBefore,
    hasMoreAfter: after.hasMore || after.messages.length > nAfter,
  };
}
