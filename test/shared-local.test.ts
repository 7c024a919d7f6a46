/**
 * The thread-local side of waitsafe/shared (src/shared/primitive.ts), on the thread that runs the
 * test, for what the thread tests' workers run where a mutation-testing run cannot switch a mutant
 * on: the checks of `from()`, the agent an instance owns (freed by another instance's asyncio
 * release, claimed again by a third), the keep-alive (a counting fake MessageChannel, and the
 * interval where there is none), the platform wait (a grant between the mailbox read and the
 * `waitAsync`, the polling fallback with its 1 ms .. 16 ms back-off), the waits one abort ends
 * together, grants that raced an abort, and code that a leak warning runs while a wait registers.
 * Other instances of one primitive play the other threads (see test/shared.test.ts).
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Releaser } from '../src/index.js';
import { SharedBarrier, SharedLock, SharedSemaphore } from '../src/shared/index.js';
import { H_MAGIC, MAGIC } from '../src/shared/memory.js';
import { pendingPlatformWaits } from '../src/shared/primitive.js';
import { afterGc, flushMicrotasks, rejectionOf, spyOnWarnings, type Tracked, track } from './helpers.js';
import { DeadThread, deliver, expectIdle, memoryUse } from './shared-memory.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Replaces the global `name` for the length of `fn` (`undefined`: deletes it), then restores it. */
async function withGlobal(name: string, value: unknown, fn: () => Promise<void> | void): Promise<void> {
  const host = globalThis as Record<string, unknown>;
  const saved = Object.getOwnPropertyDescriptor(host, name);
  if (value === undefined) delete host[name];
  else Object.defineProperty(host, name, { value, configurable: true, writable: true });
  try {
    await fn();
  } finally {
    if (saved === undefined) delete host[name];
    else Object.defineProperty(host, name, saved);
  }
}

type WaitAsync = (memory: Int32Array, index: number, value: number) => unknown;

/** Runs `fn` with `Atomics.waitAsync` replaced by `value` (`undefined`: deleted), then restores it. */
async function withWaitAsync(value: WaitAsync | undefined, fn: () => Promise<void> | void): Promise<void> {
  const atomics = Atomics as unknown as Record<string, unknown>;
  const saved = Object.getOwnPropertyDescriptor(atomics, 'waitAsync');
  if (value === undefined) delete atomics.waitAsync;
  else Object.defineProperty(atomics, 'waitAsync', { value, configurable: true, writable: true });
  try {
    await fn();
  } finally {
    if (saved === undefined) delete atomics.waitAsync;
    else Object.defineProperty(atomics, 'waitAsync', saved);
  }
}

describe('from() and the constructor', () => {
  it('rejects options of from() that are not an object, naming the argument', () => {
    const lock = new SharedLock();
    expect(() => SharedLock.from(lock.handle, null as never)).toThrow(
      new TypeError('SharedLock.from(): the "options" argument must be an object, got null'),
    );
    expect(() => SharedLock.from(lock.handle, 'x' as never)).toThrow(
      new TypeError('SharedLock.from(): the "options" argument must be an object, got string'),
    );
    expect(() => SharedLock.from(lock.handle, { maxWaiters: 1, timeout: 1 } as never)).toThrow(
      new TypeError('SharedLock.from(): unknown option "timeout" (known: maxWaiters)'),
    );
  });

  it('keeps the name of the handle with or without options, and takes the local maxWaiters', async () => {
    const lock = new SharedLock({ name: 'db', maxWaiters: 5 });
    expect(SharedLock.from(lock.handle).name).toBe('db');
    const mapped = SharedLock.from(lock.handle, { maxWaiters: 1 });
    expect(mapped.name).toBe('db');
    expect(String(mapped)).toBe('SharedLock "db" [unlocked, waiters:0]');
    const warn = spyOnWarnings();
    const held = mapped.tryAcquire() as Releaser;
    const [first, second] = [track(mapped.acquire()), track(mapped.acquire())];
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain('SharedLock "db": 2 pending waiters, over maxWaiters (1)');
    held();
    await flushMicrotasks();
    (first.value as Releaser)();
    await flushMicrotasks();
    (second.value as Releaser)();
    expect([first.status, second.status]).toEqual(['fulfilled', 'fulfilled']);
    await deliver();
    expectIdle(lock.handle);
  });

  it('hands its memory only to the constructor it calls, even when that one throws first', () => {
    const barrier = new SharedBarrier(2);
    const options = Object.defineProperty({}, 'capacity', {
      get() {
        throw new Error('read capacity');
      },
    });
    expect(() => SharedBarrier.from(barrier.handle, options)).toThrow('read capacity');
    const fresh = new SharedBarrier(3);
    expect(fresh.handle.buffer).not.toBe(barrier.handle.buffer);
    expect([fresh.parties, barrier.parties]).toEqual([3, 2]);
  });

  it('rejects a capacity above 65,536 with the range in the message', () => {
    expect(() => new SharedLock({ capacity: 65_537 })).toThrow(
      new RangeError('The "capacity" option must be an integer from 1 to 65536, got 65537'),
    );
  });
});

describe('the agent of an instance', () => {
  it('claims a new agent after another instance freed its own by an asyncio release', () => {
    const lock = new SharedLock();
    const [a, b] = [SharedLock.from(lock.handle), SharedLock.from(lock.handle)];
    a.tryAcquire();
    expect(memoryUse(lock.handle).agents).toBe(1);
    b.release(); // takes a's hold, and its agent with it
    expect(memoryUse(lock.handle).agents).toBe(0);
    const again = a.tryAcquire() as Releaser;
    expect(memoryUse(lock.handle).agents).toBe(1);
    expect(lock.isLocked()).toBe(true);
    again();
    expectIdle(lock.handle);
  });

  it('does not take for its own an agent a third instance claimed after it was freed', async () => {
    const lock = new SharedLock();
    const [a, b, c] = [SharedLock.from(lock.handle), SharedLock.from(lock.handle), SharedLock.from(lock.handle)];
    a.tryAcquire();
    b.release();
    const held = c.tryAcquire() as Releaser; // the agent a had
    const wait = track(a.acquire());
    expect(memoryUse(lock.handle)).toMatchObject({ agents: 2, slots: 1, queued: 1 });
    held();
    expect(memoryUse(lock.handle)).toMatchObject({ agents: 1, slots: 1, queued: 0 });
    await deliver();
    expect(wait.status).toBe('fulfilled');
    expect(memoryUse(lock.handle)).toMatchObject({ agents: 1, slots: 0 });
    (wait.value as Releaser)();
    expectIdle(lock.handle);
  });

  it('is not freed by a release of an instance that has none (its waits stay whole)', async () => {
    // Capacity 1: the one slot is the last one, right before the agents.
    const lock = new SharedLock({ capacity: 1 });
    const a = SharedLock.from(lock.handle);
    const b = SharedLock.from(lock.handle);
    a.tryAcquire();
    const wait = track(a.acquire());
    b.release(); // asyncio style: b has no agent
    await deliver();
    expect(wait.status).toBe('fulfilled');
    expect(lock.isLocked()).toBe(true);
    (wait.value as Releaser)();
    expect(lock.isLocked()).toBe(false);
    expectIdle(lock.handle);
  });

  it('keeps its agent while it has a wait, when it releases a hold of its own to it', async () => {
    const lock = new SharedLock();
    const a = SharedLock.from(lock.handle);
    const held = a.tryAcquire() as Releaser;
    const wait = track(a.acquire());
    held(); // grants a's own wait: a keeps its agent for it
    expect(memoryUse(lock.handle)).toMatchObject({ agents: 1, slots: 0 });
    await flushMicrotasks();
    expect(wait.status).toBe('fulfilled');
    expect(lock.isLocked()).toBe(true);
    (wait.value as Releaser)();
    await deliver();
    expectIdle(lock.handle);
  });

  it('rejects a wait when every agent is taken, and leaves no slot', async () => {
    const lock = new SharedLock({ name: 'one', capacity: 1 });
    const a = SharedLock.from(lock.handle);
    const held = a.tryAcquire() as Releaser;
    const error = await rejectionOf(lock.acquire());
    expect(error).toEqual(
      new RangeError('SharedLock "one": all 1 shared slots are in use; raise the "capacity" option'),
    );
    expect(memoryUse(lock.handle)).toEqual({ slots: 0, agents: 1, queued: 0, spin: 0 });
    held();
    expectIdle(lock.handle);
  });
});

describe('the platform wait of an instance', () => {
  it('goes on waiting for the waits left after some are collected or give up', async () => {
    const lock = new SharedLock();
    const [a, b] = [SharedLock.from(lock.handle), SharedLock.from(lock.handle)];
    a.tryAcquire();
    const controller = new AbortController();
    const first = track(a.acquire());
    const gone = track(a.acquire({ signal: controller.signal }));
    const second = track(a.acquire());
    a.release(); // a's own release grants a's first wait, collected now
    await flushMicrotasks();
    expect(first.status).toBe('fulfilled');
    controller.abort(); // a's second wait gives up
    await flushMicrotasks();
    expect(gone.status).toBe('rejected');
    expect(pendingPlatformWaits()).toBe(1);
    b.release(); // another instance grants the last one: only a's platform wait sees it
    await deliver();
    expect(second.status).toBe('fulfilled');
    expect(pendingPlatformWaits()).toBe(0);
    (second.value as Releaser)();
    expectIdle(lock.handle);
  });

  it('collects a grant made between the read of its mailbox and its waitAsync', async () => {
    const realWaitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
    const lock = new SharedLock();
    const a = SharedLock.from(lock.handle);
    const held = lock.tryAcquire() as Releaser;
    let calls = 0;
    const racing: WaitAsync = (memory, index, value) => {
      calls++;
      if (calls === 1) held(); // another thread's release lands right before the wait starts
      if (realWaitAsync !== undefined) return realWaitAsync(memory, index, value);
      return { async: Atomics.load(memory, index) === value, value: 'not-equal' };
    };
    await withWaitAsync(racing, async () => {
      const wait = track(a.acquire());
      await flushMicrotasks();
      expect(wait.status).toBe('fulfilled');
      expect(calls).toBe(1);
      (wait.value as Releaser)();
    });
    expectIdle(lock.handle);
  });

  it('keeps the thread alive with one message port while any instance waits', async () => {
    const made: { port1: { onmessage: unknown } }[] = [];
    let closed = 0;
    class CountingChannel {
      port1 = {
        onmessage: null as unknown,
        close() {
          closed++;
        },
      };
      port2 = {
        close() {
          closed++;
        },
      };
      constructor() {
        made.push(this);
      }
    }
    const lock = new SharedLock();
    const [a, b] = [SharedLock.from(lock.handle), SharedLock.from(lock.handle)];
    await withGlobal('MessageChannel', CountingChannel, async () => {
      const held = lock.tryAcquire() as Releaser;
      const first = track(a.acquire());
      const second = track(b.acquire());
      expect(pendingPlatformWaits()).toBe(2);
      expect(made).toHaveLength(1);
      expect(typeof made[0]?.port1.onmessage).toBe('function');
      held();
      await deliver();
      expect(first.status).toBe('fulfilled');
      expect(pendingPlatformWaits()).toBe(1);
      expect(closed).toBe(0);
      (first.value as Releaser)();
      await deliver();
      expect(second.status).toBe('fulfilled');
      expect(pendingPlatformWaits()).toBe(0);
      expect([made.length, closed]).toEqual([1, 2]);
      (second.value as Releaser)();
    });
    expectIdle(lock.handle);
  });

  it('keeps the thread alive with a long interval where there is no MessageChannel', async () => {
    const lock = new SharedLock();
    const a = SharedLock.from(lock.handle);
    await withGlobal('MessageChannel', undefined, async () => {
      const setInterval = vi.spyOn(globalThis, 'setInterval');
      const clearInterval = vi.spyOn(globalThis, 'clearInterval');
      const held = lock.tryAcquire() as Releaser;
      const wait = track(a.acquire());
      expect(setInterval).toHaveBeenCalledTimes(1);
      expect(setInterval.mock.calls[0]?.[1]).toBe(0x3fffffff);
      expect(clearInterval).not.toHaveBeenCalled();
      held();
      await deliver();
      expect(wait.status).toBe('fulfilled');
      expect(clearInterval).toHaveBeenCalledTimes(1);
      expect(clearInterval).toHaveBeenCalledWith(setInterval.mock.results[0]?.value);
      (wait.value as Releaser)();
    });
    expectIdle(lock.handle);
  });

  it('lets a collected wait go: nothing of the instance keeps its promise', async () => {
    const lock = new SharedLock();
    const a = SharedLock.from(lock.handle);
    const held = lock.tryAcquire() as Releaser;
    const ref = await (async () => {
      const wait = a.acquire();
      const weak = new WeakRef(wait);
      held();
      (await wait)();
      return weak;
    })();
    await deliver();
    expect(await afterGc(() => ref.deref() === undefined)).toBe(true);
    expectIdle(lock.handle);
  });
});

describe('waits that give up', () => {
  it('lets one abort end several waits of one instance, but a grant made before it wins', async () => {
    const semaphore = new SharedSemaphore(3);
    const [a, h] = [SharedSemaphore.from(semaphore.handle), SharedSemaphore.from(semaphore.handle)];
    h.tryAcquire(3);
    const controller = new AbortController();
    const one = track(a.acquire({ weight: 1, signal: controller.signal }));
    const two = track(a.acquire({ weight: 2, signal: controller.signal }));
    const other = track(semaphore.acquire({ weight: 2 }));
    h.release(1); // grants a's first wait, not seen by a yet; the second does not fit
    controller.abort();
    await flushMicrotasks();
    expect(one.status).toBe('fulfilled');
    expect(two.status).toBe('rejected');
    expect(two.reason).toBe(controller.signal.reason);
    expect(semaphore.value).toBe(0);
    expect(memoryUse(semaphore.handle)).toMatchObject({ slots: 1, queued: 1 });
    (one.value as Releaser)();
    h.release(2);
    await deliver();
    expect(other.status).toBe('fulfilled');
    (other.value as Releaser)();
    expect(semaphore.value).toBe(3);
    await deliver();
    expectIdle(semaphore.handle);
  });

  it('leaves the memory whole when a granted wait is aborted before its thread sees the grant', async () => {
    const lock = new SharedLock();
    const a = SharedLock.from(lock.handle);
    const held = lock.tryAcquire() as Releaser;
    const controller = new AbortController();
    const wait = track(a.acquire({ signal: controller.signal }));
    held();
    controller.abort();
    await flushMicrotasks();
    expect(wait.status).toBe('fulfilled');
    expect(Atomics.load(new Int32Array(lock.handle.buffer), H_MAGIC)).toBe(MAGIC);
    expect(SharedLock.from(lock.handle).isLocked()).toBe(true);
    (wait.value as Releaser)();
    await deliver();
    expectIdle(lock.handle);
  });

  it('rejects a barrier wait broken before its thread saw its abort with the BrokenBarrierError', async () => {
    const barrier = new SharedBarrier(3);
    const a = SharedBarrier.from(barrier.handle);
    const controller = new AbortController();
    const wait = track(a.wait({ signal: controller.signal }));
    barrier.reset(); // breaks a's wait in shared memory
    controller.abort();
    await flushMicrotasks();
    expect(wait.status).toBe('rejected');
    expect((wait.reason as Error).name).toBe('BrokenBarrierError');
    expect((wait.reason as Error).message).toBe('SharedBarrier was reset');
    await deliver();
    expectIdle(barrier.handle);
  });
});

describe('code that a leak warning runs while a wait registers', () => {
  it('settles a wait granted then, and keeps no slot of it', async () => {
    const lock = new SharedLock({ maxWaiters: 1 });
    lock.tryAcquire();
    const first = track(lock.acquire());
    spyOnWarnings().mockImplementation(() => {
      lock.release(); // the first wait gets the lock
      lock.release(); // and hands it to the wait registering now
    });
    const second = track(lock.acquire());
    await flushMicrotasks();
    expect([first.status, second.status]).toEqual(['fulfilled', 'fulfilled']);
    expect(lock.waiterCount).toBe(0);
    expect(memoryUse(lock.handle)).toEqual({ slots: 0, agents: 1, queued: 0, spin: 0 });
    (second.value as Releaser)();
    expect(lock.isLocked()).toBe(false);
    await deliver();
    expectIdle(lock.handle);
  });

  it('leaves alone a new wait that took the slot of a wait granted then', async () => {
    const lock = new SharedLock({ maxWaiters: 1 });
    lock.tryAcquire();
    const first = track(lock.acquire());
    const later: Tracked<Releaser>[] = [];
    spyOnWarnings().mockImplementation(() => {
      lock.release();
      lock.release(); // the wait registering now gets the lock, and its slot is free again
      later.push(track(lock.acquire())); // and taken by this one
    });
    const second = track(lock.acquire());
    await flushMicrotasks();
    const third = later[0] as Tracked<Releaser>;
    expect([first.status, second.status, third.status]).toEqual(['fulfilled', 'fulfilled', 'pending']);
    expect(lock.waiterCount).toBe(1);
    expect(memoryUse(lock.handle)).toEqual({ slots: 1, agents: 1, queued: 1, spin: 0 });
    (second.value as Releaser)();
    await flushMicrotasks();
    expect(third.status).toBe('fulfilled');
    (third.value as Releaser)();
    expect(lock.isLocked()).toBe(false);
    await deliver();
    expectIdle(lock.handle);
  });

  it('lets the slot of a wait aborted then go', async () => {
    const lock = new SharedLock({ maxWaiters: 1 });
    const holder = SharedLock.from(lock.handle);
    const held = holder.tryAcquire() as Releaser;
    const first = track(lock.acquire());
    const controller = new AbortController();
    spyOnWarnings().mockImplementation(() => controller.abort());
    const second = track(lock.acquire({ signal: controller.signal }));
    await flushMicrotasks();
    expect(second.status).toBe('rejected');
    expect(second.reason).toBe(controller.signal.reason);
    expect(memoryUse(lock.handle)).toMatchObject({ slots: 1, queued: 1 });
    held();
    await deliver();
    expect(first.status).toBe('fulfilled');
    (first.value as Releaser)();
    expect(lock.isLocked()).toBe(false);
    await deliver();
    expectIdle(lock.handle);
  });
});

describe('without Atomics.waitAsync (polling)', () => {
  it('polls the mailbox from 1 ms, doubling to 16 ms, and collects at the first poll after a grant', async () => {
    const lock = new SharedLock();
    const a = SharedLock.from(lock.handle);
    vi.useFakeTimers();
    await withWaitAsync(undefined, async () => {
      const held = lock.tryAcquire() as Releaser;
      // Polls at 1 ms (after the wait started), 3, 7, 15, 31, 47, ...
      const check = async (ms: number) => {
        vi.advanceTimersByTime(ms);
        await flushMicrotasks();
      };
      const first = track(a.acquire());
      expect(pendingPlatformWaits()).toBe(1);
      expect(vi.getTimerCount()).toBe(1);
      await check(15);
      held(); // at 15 ms: the next poll is at 31
      await check(15);
      expect(first.status).toBe('pending');
      await check(1);
      expect(first.status).toBe('fulfilled');
      expect(pendingPlatformWaits()).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      // A new wait polls from 1 ms again: 1, 3, 7, 15, 31, 47, 63. (An asyncio release by an
      // instance with no agent: only the poll sees the grant.)
      const second = track(a.acquire());
      await check(32);
      lock.release(); // at 32: the next poll is at 47
      await check(14);
      expect(second.status).toBe('pending');
      await check(1);
      expect(second.status).toBe('fulfilled');
      const third = track(a.acquire());
      lock.release(); // at once: the first poll, at 1 ms, collects it
      await check(1);
      expect(third.status).toBe('fulfilled');
      (third.value as Releaser)();
      expect(vi.getTimerCount()).toBe(0);
    });
    expectIdle(lock.handle);
  });

  it('stops polling when its last wait gives up, even if the poll timer could not be cleared', async () => {
    const lock = new SharedLock();
    const a = SharedLock.from(lock.handle);
    vi.useFakeTimers();
    await withWaitAsync(undefined, async () => {
      const held = lock.tryAcquire() as Releaser;
      const controller = new AbortController();
      const wait = track(a.acquire({ signal: controller.signal }));
      expect(vi.getTimerCount()).toBe(1);
      controller.abort();
      await flushMicrotasks();
      expect(wait.status).toBe('rejected');
      expect(vi.getTimerCount()).toBe(0);
      expect(pendingPlatformWaits()).toBe(0);
      // Again, with a clearTimeout that clears nothing: the poll that fires finds itself stale.
      const again = new AbortController();
      const next = track(a.acquire({ signal: again.signal }));
      await withGlobal(
        'clearTimeout',
        () => {},
        () => again.abort(),
      );
      await flushMicrotasks();
      expect(next.status).toBe('rejected');
      expect(pendingPlatformWaits()).toBe(0);
      vi.advanceTimersByTime(20);
      expect(pendingPlatformWaits()).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      held();
    });
    expectIdle(lock.handle);
  });
});

describe('a section another thread frees while one abort ends several waits', () => {
  it('lets go of the slot of every wait of the batch, also when the first found the section stuck', async () => {
    const lock = new SharedLock();
    const waiter = SharedLock.from(lock.handle);
    const held = lock.tryAcquire() as Releaser;
    const controller = new AbortController();
    const first = track(waiter.acquire({ signal: controller.signal }));
    const second = track(waiter.acquire({ signal: controller.signal }));
    new DeadThread(lock.handle, 777).dieInside();
    // The first wait finds the section stuck (the clock jumps past the limit at every read) and
    // sets its 100 ms retry; right then, another thread's recover() frees the section, so the
    // second wait of the same abort gets in.
    let t = performance.now();
    vi.spyOn(performance, 'now').mockImplementation(() => {
      t += 600;
      return t;
    });
    const retries: (() => void)[] = [];
    const setTimeout = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: () => void, ms?: number) => {
      if (ms !== 100) return setTimeout(callback, ms);
      retries.push(callback);
      if (retries.length === 1) expect(lock.recover(777)).toBe(0);
      return 0;
    }) as typeof globalThis.setTimeout);
    controller.abort();
    vi.restoreAllMocks();
    await flushMicrotasks();
    expect([first.status, second.status]).toEqual(['rejected', 'rejected']);
    expect(retries).toHaveLength(1);
    // The second wait's slot went with it; the first one's goes at its retry.
    expect(memoryUse(lock.handle)).toMatchObject({ slots: 1, queued: 1 });
    (retries[0] as () => void)();
    expect(memoryUse(lock.handle)).toMatchObject({ slots: 0, queued: 0 });
    held();
    expect(lock.isLocked()).toBe(false);
    await deliver();
    expectIdle(lock.handle);
  });
});
