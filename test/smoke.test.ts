import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Event } from '../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('smoke', () => {
  it('times out with fake timers and leaves nothing', async () => {
    vi.useFakeTimers();
    const e = new Event({ name: 'x' });
    const p = e.wait({ timeout: 100 });
    const q = e.wait({ timeout: 100 });
    const outcome = p.catch((err: unknown) => err);
    q.catch(() => {});
    expect(e.waiterCount).toBe(2);
    vi.advanceTimersByTime(99);
    expect(e.waiterCount).toBe(2);
    vi.advanceTimersByTime(1);
    expect(e.waiterCount).toBe(0);
    const err = await outcome;
    expect(err).toBeInstanceOf(DOMException);
    expect((err as DOMException).name).toBe('TimeoutError');
    expect((err as DOMException).message).toBe('Event "x": wait() timed out after 100 ms');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('only setTimeout faked (clock real): the timer still decides', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const e = new Event();
    const p = e.wait({ timeout: 1000 }).catch((err: unknown) => err);
    vi.advanceTimersByTime(1000);
    expect(e.waiterCount).toBe(0);
    expect(((await p) as Error).name).toBe('TimeoutError');
  });

  it('abort leaves no listener after a macrotask', async () => {
    const e = new Event();
    const c = new AbortController();
    const ps = Array.from({ length: 3 }, () => e.wait({ signal: c.signal }).catch((err: unknown) => err));
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(1);
    const reason = { custom: true };
    c.abort(reason);
    expect(e.waiterCount).toBe(0);
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(0);
    for (const p of ps) expect(await p).toBe(reason);
  });

  it('set releases listener by next macrotask', async () => {
    const e = new Event();
    const c = new AbortController();
    const p = e.wait({ signal: c.signal, timeout: 60_000 });
    e.set();
    expect(await p).toBe(true);
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(1);
    await new Promise((r) => setImmediate(r));
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(0);
  });
});
