import { describe, expect, it } from 'vitest';
import { locateClosed, placeInOpen, type OpenChunk } from './chunker.ts';

const id = (n: number) => n.toString().padStart(6, '0');
const fresh: OpenChunk = { no: 0, start: '', count: 0, max: '' };

describe('placeInOpen', () => {
  it('a single message of an empty stream goes to chunk 0, which stays open', () => {
    const p = placeInOpen(fresh, [id(1)], 3);
    expect(p.chunks).toEqual([0]);
    expect(p.closed).toEqual([]);
    expect(p.open).toEqual({ no: 0, start: '', count: 1, max: id(1) });
  });

  it('in-order messages fill a chunk to the size, then the next opens a chunk starting at its id', () => {
    const p = placeInOpen(fresh, [1, 2, 3, 4, 5].map(id), 3);
    expect(p.chunks).toEqual([0, 0, 0, 1, 1]);
    expect(p.closed).toEqual([{ no: 0, start: '' }]);
    expect(p.open).toEqual({ no: 1, start: id(4), count: 2, max: id(5) });
  });

  it('live traffic: a full chunk closes at the floor; the id that closed it and every id below the floor stay in it', () => {
    const full: OpenChunk = { no: 0, start: '', count: 3, max: id(3) };
    const p = placeInOpen(full, [id(61), id(4), id(60), id(5)], 3, { floor: id(50), recent: id(0) });
    expect(p.chunks).toEqual([1, 0, 1, 0]);
    expect(p.closed).toEqual([{ no: 0, start: '' }]);
    expect(p.open).toEqual({ no: 1, start: id(50), count: 2, max: id(61) });
    // Until ids reach the floor, the new chunk stays open and empty; it closes at its size as usual.
    const q = placeInOpen(full, [id(4)], 3, { floor: id(50), recent: id(0) });
    expect(q.open).toEqual({ no: 1, start: id(50), count: 0, max: '' });
  });

  it('a backlog (ids older than `recent`) opens its chunks at the id, as without a floor', () => {
    const full: OpenChunk = { no: 0, start: '', count: 3, max: id(3) };
    const p = placeInOpen(full, [id(4), id(5)], 3, { floor: id(50), recent: id(10) });
    expect(p.chunks).toEqual([1, 1]);
    expect(p.open).toMatchObject({ no: 1, start: id(4) });
  });

  it('rolls over several times inside one batch given out of order, placing by id', () => {
    const ids = [7, 1, 5, 3, 2, 6, 4].map(id);
    const p = placeInOpen(fresh, ids, 2);
    const byId = Object.fromEntries(ids.map((x, i) => [x, p.chunks[i]]));
    expect(byId).toEqual({ [id(1)]: 0, [id(2)]: 0, [id(3)]: 1, [id(4)]: 1, [id(5)]: 2, [id(6)]: 2, [id(7)]: 3 });
    expect(p.closed.map((c) => c.start)).toEqual(['', id(3), id(5)]);
    expect(p.open).toMatchObject({ no: 3, start: id(7), count: 1 });
  });

  it('a full chunk stays open for a message below its highest id, so no chunk overlaps the next', () => {
    const open: OpenChunk = { no: 2, start: id(10), count: 3, max: id(20) };
    const p = placeInOpen(open, [id(15), id(21)], 3);
    expect(p.chunks).toEqual([2, 3]);
    expect(p.open).toEqual({ no: 3, start: id(21), count: 1, max: id(21) });
  });

  it('refuses an id below the open chunk (a late message is located instead)', () => {
    expect(() => placeInOpen({ no: 1, start: id(5), count: 0, max: '' }, [id(4)])).toThrow(/below/);
  });

  it('never makes an empty chunk: an empty batch changes nothing', () => {
    const p = placeInOpen({ no: 1, start: id(5), count: 3, max: id(9) }, [], 3);
    expect(p).toEqual({ chunks: [], closed: [], open: { no: 1, start: id(5), count: 3, max: id(9) } });
  });
});

describe('locateClosed', () => {
  const starts = new Map([
    [1, id(10)],
    [2, id(20)],
    [3, id(30)],
  ]);
  const lookups: number[] = [];
  const startOf = async (no: number) => {
    lookups.push(no);
    return starts.get(no)!;
  };
  const open = { no: 4, start: id(40) };

  it('a late message one chunk back costs one lookup', async () => {
    lookups.length = 0;
    expect(await locateClosed(id(35), open, startOf)).toBe(3);
    expect(lookups).toEqual([3]);
  });
  it('walks back further when needed; a chunk start itself belongs to that chunk', async () => {
    expect(await locateClosed(id(20), open, startOf)).toBe(2);
    expect(await locateClosed(id(19), open, startOf)).toBe(1);
  });
  it('anything below chunk 1 is chunk 0; an id in the open range is the open chunk', async () => {
    expect(await locateClosed(id(1), open, startOf)).toBe(0);
    expect(await locateClosed(id(40), open, startOf)).toBe(4);
  });
});
