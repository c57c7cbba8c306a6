import type { Socket } from 'socket.io';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines, TokenExpiry } from './socket-auth.ts';

const T0 = Date.UTC(2030, 0, 1); // a whole second
const nowS = () => Math.floor(Date.now() / 1000);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

describe('Deadlines', () => {
  it('fires each member at its second; members of the same second share one timer', () => {
    const fired: Array<[string, number]> = [];
    const d = new Deadlines<string>((m) => fired.push([m, Date.now() - T0]));
    d.add(nowS() + 5, 'a');
    d.add(nowS() + 5, 'b');
    d.add(nowS() + 7, 'c');
    expect(vi.getTimerCount()).toBe(2);
    vi.advanceTimersByTime(4999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([['a', 5000], ['b', 5000]]);
    vi.advanceTimersByTime(2000);
    expect(fired).toEqual([['a', 5000], ['b', 5000], ['c', 7000]]);
    expect(d.size).toBe(0);
  });

  it('a removed member is not fired, and the last one leaving cancels the timer', () => {
    const fired: string[] = [];
    const d = new Deadlines<string>((m) => fired.push(m));
    d.add(nowS() + 5, 'a');
    d.add(nowS() + 5, 'b');
    d.remove(nowS() + 5, 'a');
    expect(vi.getTimerCount()).toBe(1);
    d.remove(nowS() + 5, 'b');
    expect(vi.getTimerCount()).toBe(0);
    expect(d.size).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual([]);
  });

  it('a past second fires at once; members leaving while their bucket fires are harmless', () => {
    const fired: string[] = [];
    const d: Deadlines<string> = new Deadlines<string>((m) => {
      fired.push(m);
      d.remove(nowS() - 1, m);
    });
    d.add(nowS() - 1, 'a');
    d.add(nowS() - 1, 'b');
    vi.advanceTimersByTime(0);
    expect(fired).toEqual(['a', 'b']);
    expect(d.size).toBe(0);
  });
});

describe('TokenExpiry', () => {
  const fakeSocket = (expiresAt: number) => {
    const s = { data: { userId: 'u1', expiresAt }, emit: vi.fn(), disconnect: vi.fn() };
    return s as typeof s & Socket;
  };

  it('warns a minute before exp and disconnects at exp', () => {
    const expiry = new TokenExpiry();
    const s = fakeSocket(nowS() + 120);
    expiry.track(s);
    vi.advanceTimersByTime(59_999);
    expect(s.emit).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(s.emit).toHaveBeenCalledWith('auth:expiring', { expiresAt: new Date(T0 + 120_000).toISOString() });
    expect(s.disconnect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(60_000);
    expect(s.disconnect).toHaveBeenCalledWith(true);
  });

  it('a token with less than a minute left is warned at once', () => {
    const expiry = new TokenExpiry();
    const s = fakeSocket(nowS() + 30);
    expiry.track(s);
    vi.advanceTimersByTime(0);
    expect(s.emit).toHaveBeenCalledTimes(1);
    expect(s.disconnect).not.toHaveBeenCalled();
  });

  it('renewal moves both deadlines to the new exp', () => {
    const expiry = new TokenExpiry();
    const s = fakeSocket(nowS() + 120);
    expiry.track(s);
    vi.advanceTimersByTime(100_000);
    expect(s.emit).toHaveBeenCalledTimes(1);
    expiry.renew(s, nowS() + 900);
    expect(s.data.expiresAt).toBe(nowS() + 900);
    vi.advanceTimersByTime(839_999);
    expect(s.disconnect).not.toHaveBeenCalled();
    expect(s.emit).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(s.emit).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(60_000);
    expect(s.disconnect).toHaveBeenCalledTimes(1);
  });

  it('a socket waits for one deadline at a time: the warning, then the disconnect', () => {
    const expiry = new TokenExpiry();
    const a = fakeSocket(nowS() + 120);
    const b = fakeSocket(nowS() + 300);
    expiry.track(a);
    expiry.track(b);
    expect(vi.getTimerCount()).toBe(2);
    vi.advanceTimersByTime(60_000);
    expect(a.emit).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(2);
    expiry.untrack(a);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(300_000);
    expect(a.disconnect).not.toHaveBeenCalled();
    expect(b.disconnect).toHaveBeenCalledTimes(1);
  });

  it('an untracked (closed) socket hears nothing and leaves no timers behind', () => {
    const expiry = new TokenExpiry();
    const s = fakeSocket(nowS() + 120);
    expiry.track(s);
    expiry.untrack(s);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(200_000);
    expect(s.emit).not.toHaveBeenCalled();
    expect(s.disconnect).not.toHaveBeenCalled();
  });
});
