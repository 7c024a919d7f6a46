import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BoundedSemaphore, type Releaser, Semaphore } from '../src/index.js';
import { expectNothingLeftFake, flushMicrotasks, spyOnWarnings, track } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

function thrownBy(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.unreachable('expected a throw');
}

describe.each([
  ['Semaphore', (value?: number, options?: { name?: string; maxWaiters?: number }) => new Semaphore(value, options)],
  [
    'BoundedSemaphore',
    (value?: number, options?: { name?: string; maxWaiters?: number }) => new BoundedSemaphore(value, options),
  ],
] as const)('%s', (kind, make) => {
  describe('constructor', () => {
    it('starts with value 1 by default', () => {
      expect(make().value).toBe(1);
      expect(make(undefined).value).toBe(1);
    });

    it('starts with the given value, 0 included', () => {
      expect(make(0).value).toBe(0);
      expect(make(5).value).toBe(5);
    });

    it.each([
      ['a string', '1'],
      ['null', null],
      ['a bigint', 1n],
      ['an object', {}],
    ])('throws a TypeError naming "value" when the value is %s', (_, value) => {
      expect(() => make(value as never)).toThrow(TypeError);
      expect(() => make(value as never)).toThrow(/\bvalue\b/);
    });

    it.each([
      ['-1', -1],
      ['1.5', 1.5],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
    ])('throws a RangeError naming "value" when the value is %s', (_, value) => {
      expect(() => make(value)).toThrow(RangeError);
      expect(() => make(value)).toThrow(/\bvalue\b/);
    });

    it('validates options and exposes the name', () => {
      expect(make(1, { name: 'pool' }).name).toBe('pool');
      expect(make(1).name).toBeUndefined();
      expect(() => make(1, null as never)).toThrow(TypeError);
      expect(() => make(1, { name: 3 } as never)).toThrow(TypeError);
      expect(() => make(1, { maxWaiters: -1 })).toThrow(RangeError);
    });
  });

  describe('value, isLocked() and hand-off', () => {
    it('acquire() takes a free permit before returning', async () => {
      const semaphore = make(2);
      const first = track(semaphore.acquire());
      expect(semaphore.value).toBe(1);
      expect(semaphore.isLocked()).toBe(false);
      track(semaphore.acquire());
      expect(semaphore.value).toBe(0);
      expect(semaphore.isLocked()).toBe(true);
      expect(semaphore.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(first.status).toBe('fulfilled');
    });

    it('isLocked() is true exactly when an acquire now would wait', () => {
      expect(make(0).isLocked()).toBe(true);
      const semaphore = make(1);
      expect(semaphore.isLocked()).toBe(false);
      const release = semaphore.tryAcquire() as Releaser;
      expect(semaphore.isLocked()).toBe(true);
      release();
      expect(semaphore.isLocked()).toBe(false);
    });

    it('release() hands the permit to the first waiter in the same step: value stays 0 and waiterCount drops', async () => {
      const semaphore = make(1);
      const release = semaphore.tryAcquire() as Releaser;
      const a = track(semaphore.acquire());
      const b = track(semaphore.acquire());
      expect(semaphore.waiterCount).toBe(2);
      release();
      expect(semaphore.value).toBe(0);
      expect(semaphore.isLocked()).toBe(true);
      expect(semaphore.waiterCount).toBe(1);
      await flushMicrotasks();
      expect(a.status).toBe('fulfilled');
      expect(b.status).toBe('pending');
      (a.value as Releaser)();
      expect(semaphore.waiterCount).toBe(0);
      expect(semaphore.value).toBe(0);
      await flushMicrotasks();
      (b.value as Releaser)();
      expect(semaphore.value).toBe(1);
      expectNothingLeftFake(semaphore);
    });

    it('release() with no waiter adds the permit to value', async () => {
      const semaphore = make(2);
      const a = await semaphore.acquire();
      const b = await semaphore.acquire();
      a();
      expect(semaphore.value).toBe(1);
      b();
      expect(semaphore.value).toBe(2);
    });

    it('lets value holders in at once and queues the rest in FIFO order (test_acquire_fifo_order_1)', async () => {
      const semaphore = make(2);
      const order: number[] = [];
      const holders: Releaser[] = [];
      const tasks = [0, 1, 2, 3, 4].map(async (i) => {
        holders.push(await semaphore.acquire());
        order.push(i);
      });
      await flushMicrotasks();
      expect(order).toEqual([0, 1]);
      expect(semaphore.waiterCount).toBe(3);
      holders[0]?.();
      holders[1]?.();
      await flushMicrotasks();
      expect(order).toEqual([0, 1, 2, 3]);
      holders[2]?.();
      await Promise.all(tasks);
      expect(order).toEqual([0, 1, 2, 3, 4]);
      expect(semaphore.value).toBe(0);
    });
  });

  describe('tryAcquire()', () => {
    it('takes a free permit, and returns undefined when none is free', () => {
      const semaphore = make(1);
      const release = semaphore.tryAcquire();
      expect(release).toBeTypeOf('function');
      expect(semaphore.value).toBe(0);
      expect(semaphore.tryAcquire()).toBeUndefined();
      expect(semaphore.value).toBe(0);
    });

    it('never barges ahead of queued waiters, also right after a release', async () => {
      const semaphore = make(1);
      const release = semaphore.tryAcquire() as Releaser;
      const waiting = track(semaphore.acquire());
      release();
      expect(semaphore.tryAcquire()).toBeUndefined();
      await flushMicrotasks();
      expect(waiting.status).toBe('fulfilled');
    });
  });

  describe('runExclusive()', () => {
    it('never runs more fns at once than the value, and starts them in FIFO order', async () => {
      const semaphore = make(2);
      let running = 0;
      let maxRunning = 0;
      const started: number[] = [];
      const tasks = [0, 1, 2, 3, 4, 5].map((i) =>
        semaphore.runExclusive(async () => {
          started.push(i);
          running++;
          maxRunning = Math.max(maxRunning, running);
          for (let k = 0; k < 3; k++) await Promise.resolve();
          running--;
          return i;
        }),
      );
      expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(maxRunning).toBe(2);
      expect(started).toEqual([0, 1, 2, 3, 4, 5]);
      expect(semaphore.value).toBe(2);
    });

    it('releases the permit when fn throws, synchronously or not', async () => {
      const semaphore = make(1);
      await expect(
        semaphore.runExclusive(() => {
          throw new Error('sync');
        }),
      ).rejects.toThrow('sync');
      expect(semaphore.value).toBe(1);
      await expect(semaphore.runExclusive(() => Promise.reject(new Error('async')))).rejects.toThrow('async');
      expect(semaphore.value).toBe(1);
    });

    it('never calls fn when the acquire gives up', async () => {
      const semaphore = make(1);
      const hold = semaphore.tryAcquire() as Releaser;
      const fn = vi.fn();
      const controller = new AbortController();
      const aborted = track(semaphore.runExclusive(fn, { signal: controller.signal }));
      const timedOut = track(semaphore.runExclusive(fn, { timeout: 20 }));
      controller.abort('stop');
      vi.advanceTimersByTime(20);
      hold();
      await flushMicrotasks();
      expect(aborted.reason).toBe('stop');
      expect(timedOut.status).toBe('rejected');
      expect(fn).not.toHaveBeenCalled();
      expect(semaphore.value).toBe(1);
      expectNothingLeftFake(semaphore, [controller.signal]);
    });
  });

  describe('asyncio edge cases', () => {
    it('a task that releases and re-acquires queues behind earlier waiters (test_acquire_fifo_order_2)', async () => {
      // Two permits, one held from the start, so both releases below match an acquire.
      const semaphore = make(2);
      semaphore.tryAcquire();
      const result: number[] = [];
      const c1 = async () => {
        await semaphore.acquire();
        result.push(1);
      };
      const c2 = async () => {
        await semaphore.acquire();
        result.push(2);
        semaphore.release();
        await semaphore.acquire();
        result.push(4);
      };
      const c3 = async () => {
        await semaphore.acquire();
        result.push(3);
      };
      const tasks = [c1(), c2(), c3()];
      await flushMicrotasks();
      semaphore.release();
      semaphore.release();
      await Promise.all(tasks);
      expect(result).toEqual([1, 2, 3, 4]);
    });

    it('an aborted waiter is skipped and takes no permit (test_acquire_fifo_order_3)', async () => {
      const semaphore = make(2);
      semaphore.tryAcquire();
      semaphore.tryAcquire();
      const result: number[] = [];
      const controllers = [new AbortController(), new AbortController(), new AbortController()];
      const tasks = controllers.map(async (controller, i) => {
        await semaphore.acquire({ signal: controller.signal });
        result.push(i + 1);
      });
      controllers[0]?.abort();
      semaphore.release();
      semaphore.release();
      const outcomes = await Promise.allSettled(tasks);
      expect(result).toEqual([2, 3]);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
      expect(semaphore.value).toBe(0);
      expectNothingLeftFake(
        semaphore,
        controllers.map((c) => c.signal),
      );
    });

    it('releases serve as many queued waiters as permits, at once (test_acquire_fifo_order_4)', async () => {
      const semaphore = make(3);
      for (let i = 0; i < 3; i++) semaphore.tryAcquire();
      const a = track(semaphore.acquire());
      const b = track(semaphore.acquire());
      semaphore.release();
      semaphore.release();
      semaphore.release();
      // Two permits went straight to the waiters; the third is free (asyncio shows locked() here).
      expect(semaphore.waiterCount).toBe(0);
      expect(semaphore.value).toBe(1);
      expect(semaphore.isLocked()).toBe(false);
      await flushMicrotasks();
      expect([a.status, b.status]).toEqual(['fulfilled', 'fulfilled']);
    });

    it('hand-off survives an abort that arrives after the grant (woken-then-cancelled)', async () => {
      const semaphore = make(1);
      const hold = semaphore.tryAcquire() as Releaser;
      const controller = new AbortController();
      const woken = track(semaphore.acquire({ signal: controller.signal }));
      const next = track(semaphore.acquire());
      hold();
      controller.abort('after the grant');
      expect(semaphore.value).toBe(0);
      expect(semaphore.waiterCount).toBe(1);
      await flushMicrotasks();
      expect(woken.status).toBe('fulfilled');
      expect(next.status).toBe('pending');
      (woken.value as Releaser)();
      await flushMicrotasks();
      expect(next.status).toBe('fulfilled');
      expectNothingLeftFake(semaphore, [controller.signal]);
    });

    it('never hangs after a woken waiter gives up its permit (bpo-45997 test_acquire_no_hang)', async () => {
      const semaphore = make(1);
      for (let i = 0; i < 5; i++) {
        const hold = semaphore.tryAcquire() as Releaser;
        const controller = new AbortController();
        const woken = track(semaphore.acquire({ signal: controller.signal, timeout: 10 }));
        hold();
        controller.abort();
        await flushMicrotasks();
        (woken.value as Releaser)();
        expect(semaphore.value).toBe(1);
        // A fresh acquire with timeout: 0 succeeds: no permit was lost.
        (await semaphore.acquire({ timeout: 0 }))();
      }
      expectNothingLeftFake(semaphore);
    });

    it('a waiter that gives up before any release loses no permit', async () => {
      const semaphore = make(1);
      const hold = semaphore.tryAcquire() as Releaser;
      const controller = new AbortController();
      const gaveUp = track(semaphore.acquire({ signal: controller.signal }));
      const timedOut = track(semaphore.acquire({ timeout: 5 }));
      controller.abort();
      vi.advanceTimersByTime(5);
      hold();
      expect(semaphore.value).toBe(1);
      await flushMicrotasks();
      expect(gaveUp.status).toBe('rejected');
      expect(timedOut.status).toBe('rejected');
      expectNothingLeftFake(semaphore, [controller.signal]);
    });
  });

  describe('readable state', () => {
    it('String() shows the name, the value and the waiter count', async () => {
      expect(String(make(1))).toBe(`${kind} [value:1, waiters:0]`);
      const semaphore = make(1, { name: 'pool' });
      await semaphore.acquire();
      track(semaphore.acquire());
      track(semaphore.acquire());
      expect(String(semaphore)).toBe(`${kind} "pool" [value:0, waiters:2]`);
    });

    it(`Symbol.toStringTag is ${kind}`, () => {
      const semaphore = make();
      expect(semaphore[Symbol.toStringTag]).toBe(kind);
      expect(Object.prototype.toString.call(semaphore)).toBe(`[object ${kind}]`);
    });
  });

  describe('leak warning', () => {
    it(`warns once, naming the ${kind}, when waiterCount first exceeds maxWaiters`, () => {
      const warn = spyOnWarnings();
      const semaphore = make(0, { name: 'pool', maxWaiters: 1 });
      const controller = new AbortController();
      track(semaphore.acquire({ signal: controller.signal }));
      expect(warn).not.toHaveBeenCalled();
      track(semaphore.acquire({ signal: controller.signal }));
      track(semaphore.acquire({ signal: controller.signal }));
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toContain(`${kind} "pool"`);
      controller.abort();
    });
  });
});

describe('Semaphore', () => {
  it('release() beyond the initial value is allowed and raises value', () => {
    const semaphore = new Semaphore(1);
    semaphore.release();
    semaphore.release();
    expect(semaphore.value).toBe(3);
  });

  it('Semaphore(0) blocks the first acquire until a release', async () => {
    const semaphore = new Semaphore(0);
    const waiting = track(semaphore.acquire());
    await flushMicrotasks();
    expect(waiting.status).toBe('pending');
    semaphore.release();
    await flushMicrotasks();
    expect(waiting.status).toBe('fulfilled');
    expect(semaphore.value).toBe(0);
  });
});

describe('BoundedSemaphore', () => {
  it('is a Semaphore', () => {
    expect(new BoundedSemaphore(2)).toBeInstanceOf(Semaphore);
  });

  it('release() above the initial value throws a RangeError naming it, and changes nothing', () => {
    const semaphore = new BoundedSemaphore(2, { name: 'slots' });
    const error = thrownBy(() => semaphore.release());
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toContain('BoundedSemaphore "slots"');
    expect(semaphore.value).toBe(2);
    expect(String(semaphore)).toBe('BoundedSemaphore "slots" [value:2, waiters:0]');
  });

  it('release() up to the initial value is accepted, the one after throws (over-release)', async () => {
    const semaphore = new BoundedSemaphore(2);
    await semaphore.acquire();
    await semaphore.acquire();
    semaphore.release();
    semaphore.release();
    expect(semaphore.value).toBe(2);
    expect(() => semaphore.release()).toThrow(RangeError);
    expect(semaphore.value).toBe(2);
    // Still usable.
    (await semaphore.acquire())();
    expect(semaphore.value).toBe(2);
  });

  it('a Releaser called twice never over-releases', async () => {
    const semaphore = new BoundedSemaphore(1);
    const release = await semaphore.acquire();
    release();
    expect(() => release()).not.toThrow();
    expect(semaphore.value).toBe(1);
  });

  it('BoundedSemaphore(0) refuses every release, and a waiter keeps waiting', async () => {
    const semaphore = new BoundedSemaphore(0);
    expect(() => semaphore.release()).toThrow(RangeError);
    expect(semaphore.value).toBe(0);
    const waiting = track(semaphore.acquire());
    // A permit handed to a waiter is as much above the bound as a free one.
    expect(() => semaphore.release()).toThrow(RangeError);
    expect(semaphore.waiterCount).toBe(1);
    await flushMicrotasks();
    expect(waiting.status).toBe('pending');
  });

  it('detects over-release by count, as asyncio does: an extra release while all are held is taken, the later one throws', async () => {
    const semaphore = new BoundedSemaphore(1);
    const holder = await semaphore.acquire();
    const waiter = track(semaphore.acquire());
    holder();
    await flushMicrotasks();
    expect(waiter.status).toBe('fulfilled');
    // Semaphores have no owner: this stray release cannot be told from the holder's own.
    semaphore.release();
    expect(semaphore.value).toBe(1);
    // So the holder's legitimate release is the one that goes above the bound.
    expect(() => (waiter.value as Releaser)()).toThrow(RangeError);
    expect(semaphore.value).toBe(1);
  });
});
