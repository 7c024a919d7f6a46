import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Lock, type Releaser } from '../src/index.js';
import {
  expectLeakWarning,
  expectNothingLeftFake,
  expectTimeoutError,
  flushMicrotasks,
  rejectionOf,
  spyOnWarnings,
  track,
} from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Checks that `error` is an `InvalidStateError` DOMException. */
function expectInvalidState(error: unknown): void {
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe('InvalidStateError');
}

function invalidStateOf(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.unreachable('expected a throw');
}

describe('Lock', () => {
  describe('acquire() and isLocked()', () => {
    it('starts unlocked', () => {
      const lock = new Lock();
      expect(lock.isLocked()).toBe(false);
      expect(lock.waiterCount).toBe(0);
    });

    it('acquire() on a free lock takes it before returning, without counting as a waiter', async () => {
      const lock = new Lock();
      const acquiring = track(lock.acquire());
      expect(lock.isLocked()).toBe(true);
      expect(lock.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(acquiring.status).toBe('fulfilled');
      expectNothingLeftFake(lock);
    });

    it('acquire() resolves with a Releaser: a function that is also Disposable', async () => {
      const lock = new Lock();
      const release = await lock.acquire();
      expect(typeof release).toBe('function');
      expect(typeof release[Symbol.dispose]).toBe('function');
    });

    it('acquire() on a locked lock waits and counts as a waiter', async () => {
      const lock = new Lock();
      await lock.acquire();
      const waiting = track(lock.acquire());
      await flushMicrotasks();
      expect(waiting.status).toBe('pending');
      expect(lock.waiterCount).toBe(1);
      lock.release();
      await flushMicrotasks();
      expect(waiting.status).toBe('fulfilled');
    });

    it('isLocked() is true while held and false once the only hold is released', async () => {
      const lock = new Lock();
      const release = await lock.acquire();
      expect(lock.isLocked()).toBe(true);
      release();
      expect(lock.isLocked()).toBe(false);
    });
  });

  describe('release() hands the lock to the next waiter', () => {
    it('stays locked across release() when a waiter takes over, and waiterCount drops in the same step', async () => {
      const lock = new Lock();
      const release = await lock.acquire();
      const next = track(lock.acquire());
      const last = track(lock.acquire());
      expect(lock.waiterCount).toBe(2);
      release();
      expect(lock.isLocked()).toBe(true);
      expect(lock.waiterCount).toBe(1);
      expect(String(lock)).toBe('Lock [locked, waiters:1]');
      await flushMicrotasks();
      expect(next.status).toBe('fulfilled');
      expect(last.status).toBe('pending');
      (next.value as Releaser)();
      expect(lock.isLocked()).toBe(true);
      expect(lock.waiterCount).toBe(0);
      await flushMicrotasks();
      (last.value as Releaser)();
      expect(lock.isLocked()).toBe(false);
      expectNothingLeftFake(lock);
    });

    it('release() asyncio style hands the lock on exactly like the Releaser does', async () => {
      const lock = new Lock();
      await lock.acquire();
      const next = track(lock.acquire());
      lock.release();
      expect(lock.isLocked()).toBe(true);
      expect(lock.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(next.status).toBe('fulfilled');
      lock.release();
      expect(lock.isLocked()).toBe(false);
    });

    it('release() when unlocked throws a DOMException InvalidStateError naming the lock, and changes nothing', () => {
      const lock = new Lock({ name: 'db' });
      const error = invalidStateOf(() => lock.release());
      expectInvalidState(error);
      expect((error as DOMException).message).toContain('Lock "db"');
      expect(lock.isLocked()).toBe(false);
      expect(String(lock)).toBe('Lock "db" [unlocked, waiters:0]');
      // The lock still works.
      expect(lock.tryAcquire()).toBeTypeOf('function');
      expect(lock.isLocked()).toBe(true);
    });

    it('release() once more than acquired throws InvalidStateError', async () => {
      const lock = new Lock();
      await lock.acquire();
      lock.release();
      expectInvalidState(invalidStateOf(() => lock.release()));
      expect(lock.isLocked()).toBe(false);
    });

    it('serves waiters in FIFO order, whatever their options (test_acquire_fifo_order)', async () => {
      const lock = new Lock();
      const controller = new AbortController();
      const order: number[] = [];
      await lock.acquire();
      const tasks = [undefined, { timeout: 1_000 }, { signal: controller.signal }, {}].map(async (options, i) => {
        const release = await lock.acquire(options);
        order.push(i);
        await Promise.resolve();
        release();
      });
      lock.release();
      await Promise.all(tasks);
      expect(order).toEqual([0, 1, 2, 3]);
      expect(lock.isLocked()).toBe(false);
      expectNothingLeftFake(lock, [controller.signal]);
    });
  });

  describe('tryAcquire()', () => {
    it('takes a free lock and returns a Releaser', () => {
      const lock = new Lock();
      const release = lock.tryAcquire();
      expect(release).toBeTypeOf('function');
      expect(lock.isLocked()).toBe(true);
      release?.();
      expect(lock.isLocked()).toBe(false);
    });

    it('returns undefined while the lock is held, and changes nothing', () => {
      const lock = new Lock();
      lock.tryAcquire();
      expect(lock.tryAcquire()).toBeUndefined();
      expect(String(lock)).toBe('Lock [locked, waiters:0]');
    });

    it('never barges ahead of a queued waiter, also right after release()', async () => {
      const lock = new Lock();
      const release = lock.tryAcquire() as Releaser;
      const waiting = track(lock.acquire());
      expect(lock.tryAcquire()).toBeUndefined();
      release();
      // The waiter owns the lock now, before it even runs.
      expect(lock.tryAcquire()).toBeUndefined();
      await flushMicrotasks();
      expect(waiting.status).toBe('fulfilled');
    });
  });

  describe('Releaser', () => {
    it('releases once: a second call does nothing, even when another holder took over', async () => {
      const lock = new Lock();
      const release = await lock.acquire();
      const second = track(lock.acquire());
      const third = track(lock.acquire());
      release();
      release();
      expect(lock.waiterCount).toBe(1);
      await flushMicrotasks();
      expect(second.status).toBe('fulfilled');
      expect(third.status).toBe('pending');
      expect(lock.isLocked()).toBe(true);
    });

    it('Symbol.dispose releases the same hold, and only once together with the call', async () => {
      const lock = new Lock();
      const release = await lock.acquire();
      const next = track(lock.acquire());
      release[Symbol.dispose]();
      expect(lock.waiterCount).toBe(0);
      release();
      release[Symbol.dispose]();
      expect(lock.isLocked()).toBe(true);
      await flushMicrotasks();
      (next.value as Releaser)[Symbol.dispose]();
      expect(lock.isLocked()).toBe(false);
    });

    it('the Releaser of a hold obtained by tryAcquire() also releases once', () => {
      const lock = new Lock();
      const release = lock.tryAcquire() as Releaser;
      release();
      expect(lock.isLocked()).toBe(false);
      lock.tryAcquire();
      release();
      expect(lock.isLocked()).toBe(true);
    });

    it('each hold gets its own Releaser', async () => {
      const lock = new Lock();
      const first = await lock.acquire();
      first();
      const second = await lock.acquire();
      expect(second).not.toBe(first);
      first();
      expect(lock.isLocked()).toBe(true);
      second();
      expect(lock.isLocked()).toBe(false);
    });
  });

  describe('runExclusive()', () => {
    it('runs fn while holding the lock and releases it when fn resolves', async () => {
      const lock = new Lock();
      let heldInside = false;
      const result = await lock.runExclusive(async () => {
        heldInside = lock.isLocked();
        await Promise.resolve();
        return 42;
      });
      expect(heldInside).toBe(true);
      expect(result).toBe(42);
      expect(lock.isLocked()).toBe(false);
    });

    it('returns the value of a synchronous fn', async () => {
      const lock = new Lock();
      expect(await lock.runExclusive(() => 'sync')).toBe('sync');
      expect(lock.isLocked()).toBe(false);
    });

    it('awaits a thenable that fn returns', async () => {
      const lock = new Lock();
      const thenable: PromiseLike<string> = {
        // biome-ignore lint/suspicious/noThenProperty: a plain thenable on purpose.
        then: (onFulfilled) => Promise.resolve(onFulfilled?.('thenable')) as never,
      };
      expect(await lock.runExclusive(() => thenable)).toBe('thenable');
      expect(lock.isLocked()).toBe(false);
    });

    it('releases the lock and rejects with the error when fn rejects', async () => {
      const lock = new Lock();
      const error = new Error('async failure');
      expect(
        await rejectionOf(
          lock.runExclusive(async () => {
            await Promise.resolve();
            throw error;
          }),
        ),
      ).toBe(error);
      expect(lock.isLocked()).toBe(false);
    });

    it('releases the lock and rejects, without throwing, when fn throws synchronously', async () => {
      const lock = new Lock();
      const error = new Error('sync failure');
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = lock.runExclusive(() => {
          throw error;
        });
      }).not.toThrow();
      expect(await rejectionOf(promise as Promise<unknown>)).toBe(error);
      expect(lock.isLocked()).toBe(false);
    });

    it('hands the lock to the next waiter when fn ends', async () => {
      const lock = new Lock();
      const order: string[] = [];
      const first = lock.runExclusive(async () => {
        order.push('first start');
        await Promise.resolve();
        await Promise.resolve();
        order.push('first end');
      });
      const second = lock.runExclusive(() => {
        order.push('second');
      });
      expect(lock.waiterCount).toBe(1);
      await Promise.all([first, second]);
      expect(order).toEqual(['first start', 'first end', 'second']);
      expect(lock.isLocked()).toBe(false);
    });

    it('never calls fn when the acquire is aborted, times out or starts aborted', async () => {
      const lock = new Lock();
      const hold = lock.tryAcquire() as Releaser;
      const fn = vi.fn(() => 'ran');
      const controller = new AbortController();
      const aborted = track(lock.runExclusive(fn, { signal: controller.signal }));
      const timedOut = track(lock.runExclusive(fn, { timeout: 10 }));
      const preAborted = track(lock.runExclusive(fn, { signal: AbortSignal.abort('before') }));
      const zero = track(lock.runExclusive(fn, { timeout: 0 }));
      controller.abort('during');
      vi.advanceTimersByTime(10);
      await flushMicrotasks();
      expect(aborted.reason).toBe('during');
      expectTimeoutError(timedOut.reason);
      expect(preAborted.reason).toBe('before');
      expectTimeoutError(zero.reason);
      hold();
      await flushMicrotasks();
      expect(fn).not.toHaveBeenCalled();
      expect(lock.isLocked()).toBe(false);
      expectNothingLeftFake(lock, [controller.signal]);
    });

    it('runs fn to completion when its signal aborts after the lock was granted', async () => {
      const lock = new Lock();
      const hold = lock.tryAcquire() as Releaser;
      const controller = new AbortController();
      const running = track(
        lock.runExclusive(
          async () => {
            await Promise.resolve();
            return 'finished';
          },
          { signal: controller.signal },
        ),
      );
      hold();
      controller.abort();
      await flushMicrotasks();
      expect(running.value).toBe('finished');
      expect(lock.isLocked()).toBe(false);
      expectNothingLeftFake(lock, [controller.signal]);
    });

    it('calls fn before returning when the lock is free, and after the hand-off otherwise', async () => {
      const lock = new Lock();
      const calls: string[] = [];
      const first = lock.runExclusive(() => {
        calls.push('free');
        return new Promise<void>((resolve) => queueMicrotask(resolve));
      });
      expect(calls).toEqual(['free']);
      const second = lock.runExclusive(() => {
        calls.push('handed');
      });
      expect(calls).toEqual(['free']);
      expect(lock.waiterCount).toBe(1);
      await Promise.all([first, second]);
      expect(calls).toEqual(['free', 'handed']);
      expect(lock.isLocked()).toBe(false);
    });

    it('hands the lock on between runExclusive, acquire and tryAcquire callers in FIFO order', async () => {
      const lock = new Lock();
      const order: string[] = [];
      const hold = lock.tryAcquire() as Releaser;
      const a = lock.runExclusive(() => void order.push('runExclusive a'));
      const b = lock.acquire().then((release) => {
        order.push('acquire b');
        release();
      });
      const c = lock.runExclusive(async () => {
        await Promise.resolve();
        order.push('runExclusive c');
      });
      expect(lock.waiterCount).toBe(3);
      hold();
      await Promise.all([a, b, c]);
      expect(order).toEqual(['runExclusive a', 'acquire b', 'runExclusive c']);
      expect(lock.isLocked()).toBe(false);
      expect(lock.tryAcquire()).toBeTypeOf('function');
    });

    it('releases the lock and rejects when fn returns a promise whose constructor getter throws', async () => {
      const lock = new Lock();
      const error = new Error('constructor getter');
      const hostile = Promise.resolve('value');
      Object.defineProperty(hostile, 'constructor', {
        get() {
          throw error;
        },
      });
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = lock.runExclusive(() => hostile);
      }).not.toThrow();
      expect(await rejectionOf(promise as Promise<unknown>)).toBe(error);
      expect(lock.isLocked()).toBe(false);
    });

    it('releases the lock once when fn returns a native promise whose own then calls back synchronously and throws', async () => {
      const lock = new Lock();
      const error = new Error('own then');
      const hostile = Promise.resolve('value');
      Object.defineProperty(hostile, 'then', {
        value(onFulfilled: (value: string) => void) {
          onFulfilled('early');
          throw error;
        },
      });
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = lock.runExclusive(() => hostile);
      }).not.toThrow();
      // The built-in then of the native promise is used: the value, one release, no InvalidStateError.
      expect(await promise).toBe('value');
      expect(lock.isLocked()).toBe(false);
      const releaser = lock.tryAcquire();
      expect(releaser).toBeDefined();
      expect(lock.isLocked()).toBe(true);
      releaser?.();
    });

    it('rejects with a TypeError, without throwing or taking the lock, when fn is not a function', async () => {
      const lock = new Lock();
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = lock.runExclusive('nope' as never);
      }).not.toThrow();
      expect(await rejectionOf(promise as Promise<unknown>)).toBeInstanceOf(TypeError);
      expect(lock.isLocked()).toBe(false);
    });
  });

  describe('asyncio edge cases', () => {
    it('no barging (bpo-45997): a holder that releases and re-acquires at once queues behind the waiters', async () => {
      const lock = new Lock();
      const order: string[] = [];
      const greedy = async () => {
        for (let i = 0; i < 3; i++) {
          const release = await lock.acquire();
          order.push(`greedy ${i}`);
          release();
        }
      };
      const patient = async (name: string) => {
        const release = await lock.acquire();
        order.push(name);
        release();
      };
      const hold = lock.tryAcquire() as Releaser;
      const tasks = [greedy(), patient('a'), patient('b')];
      hold();
      await Promise.all(tasks);
      // A release-then-acquire without yielding never takes the lock back ahead of a queued waiter.
      expect(order).toEqual(['greedy 0', 'a', 'b', 'greedy 1', 'greedy 2']);
    });

    it('no starvation (bpo-45997): two tasks that loop on acquire/release take turns with a third', async () => {
      const lock = new Lock();
      const turns: string[] = [];
      const loop = async (name: string, rounds: number) => {
        for (let i = 0; i < rounds; i++) {
          const release = await lock.acquire();
          turns.push(name);
          release();
        }
      };
      const hold = lock.tryAcquire() as Releaser;
      const tasks = [loop('x', 4), loop('y', 4), loop('z', 4)];
      hold();
      await Promise.all(tasks);
      expect(turns).toEqual(['x', 'y', 'z', 'x', 'y', 'z', 'x', 'y', 'z', 'x', 'y', 'z']);
    });

    it('hand-off survives an abort that arrives after the grant (test_finished_waiter_cancelled)', async () => {
      const lock = new Lock();
      const hold = lock.tryAcquire() as Releaser;
      const controller = new AbortController();
      const woken = track(lock.acquire({ signal: controller.signal }));
      const next = track(lock.acquire());
      hold();
      // Woken (granted) but not yet running: the abort comes too late and changes nothing.
      controller.abort(new Error('cancelled after wake'));
      expect(lock.isLocked()).toBe(true);
      expect(lock.waiterCount).toBe(1);
      await flushMicrotasks();
      expect(woken.status).toBe('fulfilled');
      expect(next.status).toBe('pending');
      (woken.value as Releaser)();
      await flushMicrotasks();
      expect(next.status).toBe('fulfilled');
      expectNothingLeftFake(lock, [controller.signal]);
    });

    it('abort then release in one callback never lets two hold the lock (issue 32734, test_cancel_release_race)', async () => {
      const lock = new Lock();
      let holders = 0;
      let maxHolders = 0;
      const task = async (signal?: AbortSignal) => {
        const release = await lock.acquire({ signal });
        holders++;
        maxHolders = Math.max(maxHolders, holders);
        await Promise.resolve();
        holders--;
        release();
      };
      const hold = lock.tryAcquire() as Releaser;
      holders = 1;
      const controller = new AbortController();
      const cancelled = track(task(controller.signal));
      const others = [task(), task()];
      // One synchronous step: cancel the first waiter, then release.
      controller.abort('cancelled');
      holders--;
      hold();
      await Promise.all(others);
      expect(cancelled.reason).toBe('cancelled');
      expect(maxHolders).toBe(1);
      expect(lock.isLocked()).toBe(false);
      expectNothingLeftFake(lock, [controller.signal]);
    });

    it('release then abort in one callback never lets two hold the lock (test_cancel_release_race, reversed)', async () => {
      const lock = new Lock();
      let holders = 1;
      let maxHolders = 1;
      const hold = lock.tryAcquire() as Releaser;
      const controller = new AbortController();
      const task = async (signal?: AbortSignal) => {
        const release = await lock.acquire({ signal });
        holders++;
        maxHolders = Math.max(maxHolders, holders);
        await Promise.resolve();
        holders--;
        release();
      };
      const woken = track(task(controller.signal));
      const other = task();
      holders--;
      hold();
      controller.abort('too late');
      await other;
      await flushMicrotasks();
      // The first waiter was granted before the abort: it ran, then the other did.
      expect(woken.status).toBe('fulfilled');
      expect(maxHolders).toBe(1);
      expect(lock.isLocked()).toBe(false);
    });

    it('a waiter aborted before release is skipped and the next waiter gets the lock (test_cancel_race)', async () => {
      const lock = new Lock();
      const hold = lock.tryAcquire() as Releaser;
      const controller = new AbortController();
      const a = track(lock.acquire({ signal: controller.signal }));
      const b = track(lock.acquire());
      const c = track(lock.acquire());
      controller.abort('gone');
      expect(lock.waiterCount).toBe(2);
      hold();
      await flushMicrotasks();
      expect(a.reason).toBe('gone');
      expect(b.status).toBe('fulfilled');
      expect(c.status).toBe('pending');
      expect(lock.waiterCount).toBe(1);
    });

    it('every waiter aborted leaves the lock held by its holder, and the holder release unlocks it', async () => {
      const lock = new Lock();
      const hold = lock.tryAcquire() as Releaser;
      const controller = new AbortController();
      const waits = [track(lock.acquire({ signal: controller.signal })), track(lock.acquire({ timeout: 5 }))];
      controller.abort();
      vi.advanceTimersByTime(5);
      expect(lock.waiterCount).toBe(0);
      expect(lock.isLocked()).toBe(true);
      hold();
      expect(lock.isLocked()).toBe(false);
      await flushMicrotasks();
      expect(waits.map((w) => w.status)).toEqual(['rejected', 'rejected']);
      expectNothingLeftFake(lock, [controller.signal]);
    });
  });

  describe('constructor', () => {
    it('exposes name, undefined when not given', () => {
      expect(new Lock({ name: 'db' }).name).toBe('db');
      expect(new Lock().name).toBeUndefined();
    });

    it.each([
      ['options null', null],
      ['options a string', 'db'],
      ['name a number', { name: 1 }],
      ['maxWaiters a string', { maxWaiters: '10' }],
    ])('throws a TypeError when %s', (_, options) => {
      expect(() => new Lock(options as never)).toThrow(TypeError);
    });

    it.each([
      ['negative', -1],
      ['fractional', 1.5],
      ['NaN', Number.NaN],
    ])('throws a RangeError naming maxWaiters when it is %s', (_, maxWaiters) => {
      expect(() => new Lock({ maxWaiters })).toThrow(RangeError);
      expect(() => new Lock({ maxWaiters })).toThrow(/\bmaxWaiters\b/);
    });
  });

  describe('readable state', () => {
    it('String() shows the name, locked or unlocked, and the waiter count', async () => {
      const lock = new Lock({ name: 'db' });
      expect(String(lock)).toBe('Lock "db" [unlocked, waiters:0]');
      await lock.acquire();
      track(lock.acquire());
      track(lock.acquire());
      expect(String(lock)).toBe('Lock "db" [locked, waiters:2]');
      expect(String(new Lock())).toBe('Lock [unlocked, waiters:0]');
    });

    it('Symbol.toStringTag is Lock', () => {
      const lock = new Lock();
      expect(lock[Symbol.toStringTag]).toBe('Lock');
      expect(Object.prototype.toString.call(lock)).toBe('[object Lock]');
    });
  });

  describe('leak warning', () => {
    it('warns once, naming the Lock, when waiterCount first exceeds maxWaiters', () => {
      const warn = spyOnWarnings();
      const lock = new Lock({ name: 'db', maxWaiters: 2 });
      lock.tryAcquire();
      const controller = new AbortController();
      for (let i = 0; i < 2; i++) track(lock.acquire({ signal: controller.signal }));
      expect(warn).not.toHaveBeenCalled();
      for (let i = 0; i < 3; i++) track(lock.acquire({ signal: controller.signal }));
      expect(warn).toHaveBeenCalledTimes(1);
      expectLeakWarning(warn.mock.calls[0], 'Lock "db"');
      controller.abort();
    });
  });
});
