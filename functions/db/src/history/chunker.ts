/**
 * Where a message of a stream goes (a stream is what one history pages: today a conversation,
 * later a thread). Messages of a stream are grouped in numbered chunks; chunk n holds the ids in
 * [start_n, start_{n+1}), so chunk order is id order even when messages are stored out of order,
 * and a page is a few equality reads of whole chunks (FerretDB pushes down nothing but equality).
 *
 * The open chunk is the newest one, [start, ∞). When it holds CHUNK_SIZE messages, the next
 * message with an id above everything in it opens chunk no+1 starting at that id (for live
 * traffic, at a floor a moment ahead: LiveFloor). A late message (below the open chunk's start)
 * goes to the closed chunk whose range holds it. Only the open chunk can be empty (until ids
 * reach its floor): one opens only with the message that needs it. This module is pure.
 */
export const CHUNK_SIZE = 100;

/** The newest chunk of a stream, as the stream's record keeps it. */
export interface OpenChunk {
  no: number;
  /** Lowest id the chunk covers; '' for chunk 0, which covers everything below chunk 1. */
  start: string;
  /** Messages placed in it (may overshoot with a redelivered duplicate: that closes it early). */
  count: number;
  /** Highest id placed in it (or the stream's last message); '' when none. */
  max: string;
}

/** A chunk that stopped being the newest; its start never changes again. */
export interface ClosedChunk {
  no: number;
  start: string;
}

export interface Placement {
  /** Chunk number of each id, in the order given. */
  chunks: number[];
  open: OpenChunk;
  /** Chunks this placement closed, oldest first (each one's start, to record it). */
  closed: ClosedChunk[];
}

/**
 * Where a chunk opened now by live traffic starts: `floor` is the lowest id it may start at (an
 * id of a few hundred ms from now), for ids at or above `recent` (sent in the last seconds).
 * Messages in flight when a chunk opens were sent before now, so their ids are all below the
 * floor: whichever replica places them, and whether or not it has heard of the new chunk yet,
 * they belong to the chunk before. Only ids sent after the floor's time go to the new chunk, and
 * they reach a placer after every replica has heard of it (docs/storage.md, "A race between
 * replicas"). Without it (seeding, migrations, a backlog replayed), a chunk starts at the id that
 * opens it.
 */
export interface LiveFloor {
  floor: string;
  recent: string;
}

/**
 * Places ids that are at or above the open chunk's start (callers route late ones through
 * locateClosed). Ids may come in any order; they are placed in id order, which is what lets one
 * batch roll over to a new chunk and keep every chunk's range intact.
 */
export function placeInOpen(open: OpenChunk, ids: readonly string[], size = CHUNK_SIZE, live?: LiveFloor): Placement {
  const order = ids.map((id, i) => ({ id, i })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const chunks = new Array<number>(ids.length);
  const closed: ClosedChunk[] = [];
  let cur = { ...open };
  for (const { id, i } of order) {
    // A new chunk must start above every id of the one it closes, or chunk order would no longer be id order.
    if (cur.count >= size && id > cur.max) {
      closed.push({ no: cur.no, start: cur.start });
      cur = { no: cur.no + 1, start: live && id >= live.recent && id < live.floor ? live.floor : id, count: 0, max: '' };
    }
    if (id < cur.start) {
      // Below a floor this call opened at (ids come sorted): the chunk it closed holds them.
      if (!closed.length) throw new Error(`placeInOpen: ${id} is below the open chunk's start ${cur.start}`);
      chunks[i] = cur.no - 1;
      continue;
    }
    chunks[i] = cur.no;
    cur.count++;
    if (id > cur.max) cur.max = id;
  }
  return { chunks, open: cur, closed };
}

/**
 * The closed chunk holding a late id: walks back from the chunk before the open one, one start at
 * a time (usually one step, since a late message is late by the few batches in flight).
 */
export async function locateClosed(id: string, open: Pick<OpenChunk, 'no' | 'start'>, startOf: (no: number) => Promise<string>): Promise<number> {
  if (id >= open.start) return open.no;
  for (let no = open.no - 1; no > 0; no--) if (id >= (await startOf(no))) return no;
  return 0;
}
