import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Condition, Lock, type Releaser, Semaphore } from '../src/index.js';
import {
  collectWarnings,
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

function expectInvalidState(error: unknown): void {
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe('InvalidStateError');
}

function thrownBy(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.unreachable('expected a throw');
}

/** Runs microtasks long enough for chains of lock hand-offs to finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await flushMicrotasks();
}

/**
 * A task that waits on `cond` with the lock: acquires, waits, records whether it held the lock
 * when its wait settled, and releases.
 */
function waitingTask(cond: Condition, options?: { signal?: AbortSignal; timeout?: number }) {
  const state = { heldOnSettle: undefined as boolean | undefined };
  const promise = (async () => {
    await cond.acquire();
    try {
      return await cond.wait(options);
    } finally {
      state.heldOnSettle = cond.isLocked();
      cond.release();
    }
  })();
  return Object.assign(track(promise), { state, promise });
}

describe('Condition', () => {
  describe('constructor', () => {
    it('makes its own Lock by default, which starts unlocked', () => {
      const cond = new Condition();
      expect(cond.isLocked()).toBe(false);
      expect(cond.waiterCount).toBe(0);
    });

    it('uses the Lock it is given: holding either is holding both', async () => {
      const lock = new Lock();
      const cond = new Condition(lock);
      await lock.acquire();
      expect(cond.isLocked()).toBe(true);
      cond.release();
      expect(lock.isLocked()).toBe(false);
      await cond.acquire();
      expect(lock.isLocked()).toBe(true);
    });

    const lockLike: object = { acquire() {}, release() {}, isLocked: () => false };
    it.each<[string, unknown]>([
      ['null', null],
      ['a Semaphore', new Semaphore(1)],
      ['a plain object with acquire and release', lockLike],
      ['a string', 'lock'],
    ])('throws a TypeError naming "lock" when lock is %s', (_, lock) => {
      expect(() => new Condition(lock as never)).toThrow(TypeError);
      expect(() => new Condition(lock as never)).toThrow(/\block\b/);
    });

    it('validates options and exposes the name', () => {
      expect(new Condition(undefined, { name: 'jobs' }).name).toBe('jobs');
      expect(new Condition().name).toBeUndefined();
      expect(() => new Condition(undefined, null as never)).toThrow(TypeError);
      expect(() => new Condition(undefined, { maxWaiters: 1.5 })).toThrow(RangeError);
    });

    it('names its own lock after itself', async () => {
      const cond = new Condition(undefined, { name: 'jobs' });
      await cond.acquire();
      const error = await rejectionOf(cond.acquire({ timeout: 0 }));
      expectTimeoutError(error);
      expect(error.message).toContain('"jobs"');
    });
  });

  describe('acquire(), release(), isLocked() and runExclusive()', () => {
    it('acquire() takes the lock and resolves with a Releaser that releases it once', async () => {
      const cond = new Condition();
      const release = await cond.acquire();
      expect(cond.isLocked()).toBe(true);
      const next = track(cond.acquire());
      release();
      release();
      await flushMicrotasks();
      expect(next.status).toBe('fulfilled');
      expect(cond.isLocked()).toBe(true);
      (next.value as Releaser)[Symbol.dispose]();
      expect(cond.isLocked()).toBe(false);
    });

    it('release() when unlocked throws InvalidStateError', () => {
      expectInvalidState(thrownBy(() => new Condition().release()));
    });

    it('runExclusive() holds the lock while fn runs and releases it after, also on throw', async () => {
      const cond = new Condition();
      expect(await cond.runExclusive(() => cond.isLocked())).toBe(true);
      expect(cond.isLocked()).toBe(false);
      await expect(
        cond.runExclusive(() => {
          throw new Error('inside');
        }),
      ).rejects.toThrow('inside');
      expect(cond.isLocked()).toBe(false);
    });

    it('runExclusive() never calls fn when the acquire gives up', async () => {
      const cond = new Condition();
      await cond.acquire();
      const fn = vi.fn();
      const controller = new AbortController();
      const outcome = track(cond.runExclusive(fn, { signal: controller.signal }));
      controller.abort('no');
      cond.release();
      await flushMicrotasks();
      expect(outcome.reason).toBe('no');
      expect(fn).not.toHaveBeenCalled();
      expect(cond.isLocked()).toBe(false);
    });
  });

  describe('the lock is required', () => {
    it('wait() and waitFor() without the lock reject with InvalidStateError, without throwing, waiting or calling the predicate', async () => {
      const cond = new Condition(undefined, { name: 'jobs' });
      const predicate = vi.fn(() => true);
      const waiting = cond.wait();
      const waitingFor = cond.waitFor(predicate);
      expect(cond.waiterCount).toBe(0);
      const [a, b] = [await rejectionOf(waiting), await rejectionOf(waitingFor)];
      expectInvalidState(a);
      expectInvalidState(b);
      expect((a as Error).message).toContain('wait()');
      expect((b as Error).message).toContain('waitFor()');
      expect(predicate).not.toHaveBeenCalled();
      expect(cond.isLocked()).toBe(false);
    });

    it('notify() and notifyAll() without the lock throw InvalidStateError, also with nobody waiting', async () => {
      const cond = new Condition();
      expectInvalidState(thrownBy(() => cond.notify()));
      expectInvalidState(thrownBy(() => cond.notify(0)));
      expectInvalidState(thrownBy(() => cond.notifyAll()));
      const waiter = waitingTask(cond);
      await settle();
      expect(cond.waiterCount).toBe(1);
      expectInvalidState(thrownBy(() => cond.notify()));
      expectInvalidState(thrownBy(() => cond.notifyAll()));
      expect(cond.waiterCount).toBe(1);
      await cond.runExclusive(() => cond.notify());
      await settle();
      expect(waiter.status).toBe('fulfilled');
    });

    it('reports the missing lock before an already-aborted signal (a usage error surfaces)', async () => {
      const cond = new Condition();
      const signal = AbortSignal.abort('aborted');
      const predicate = vi.fn(() => true);
      expectInvalidState(await rejectionOf(cond.wait({ signal })));
      expectInvalidState(await rejectionOf(cond.waitFor(predicate, { signal })));
      expect(predicate).not.toHaveBeenCalled();
    });

    it('reports invalid arguments before the missing lock', async () => {
      const cond = new Condition();
      expect(() => cond.notify('1' as never)).toThrow(TypeError);
      expect(() => cond.notify(-1)).toThrow(RangeError);
      expect(await rejectionOf(cond.wait(null as never))).toBeInstanceOf(TypeError);
      expect(await rejectionOf(cond.wait({ timeout: -1 }))).toBeInstanceOf(RangeError);
      expect(await rejectionOf(cond.waitFor('no' as never))).toBeInstanceOf(TypeError);
      expect(await rejectionOf(cond.waitFor(() => true, { timeout: Number.NaN }))).toBeInstanceOf(RangeError);
    });
  });

  describe('notify() and notifyAll()', () => {
    async function threeWaiters() {
      const cond = new Condition();
      const waiters = [waitingTask(cond), waitingTask(cond), waitingTask(cond)];
      await settle();
      expect(cond.waiterCount).toBe(3);
      return { cond, waiters };
    }

    it('notify() wakes the first waiter only', async () => {
      const { cond, waiters } = await threeWaiters();
      await cond.runExclusive(() => cond.notify());
      await settle();
      expect(waiters.map((w) => w.status)).toEqual(['fulfilled', 'pending', 'pending']);
      expect(cond.waiterCount).toBe(2);
    });

    it('notify(n) wakes up to n waiters in FIFO order', async () => {
      const { cond, waiters } = await threeWaiters();
      const order: number[] = [];
      waiters.forEach((w, i) => {
        void waitedFor(w).then(() => order.push(i));
      });
      await cond.runExclusive(() => cond.notify(2));
      await settle();
      expect(order).toEqual([0, 1]);
      await cond.runExclusive(() => cond.notify(5));
      await settle();
      expect(order).toEqual([0, 1, 2]);
      expect(cond.waiterCount).toBe(0);
    });

    it('notify(0) wakes no one', async () => {
      const { cond, waiters } = await threeWaiters();
      await cond.runExclusive(() => cond.notify(0));
      await settle();
      expect(waiters.map((w) => w.status)).toEqual(['pending', 'pending', 'pending']);
      expect(cond.waiterCount).toBe(3);
    });

    it('notifyAll() wakes every waiter', async () => {
      const { cond, waiters } = await threeWaiters();
      await cond.runExclusive(() => cond.notifyAll());
      await settle();
      expect(waiters.map((w) => w.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
      expect(waiters.map((w) => w.state.heldOnSettle)).toEqual([true, true, true]);
      expectNothingLeftFake(cond);
    });

    it('two notify(1) calls wake two distinct waiters', async () => {
      const { cond, waiters } = await threeWaiters();
      await cond.runExclusive(() => {
        cond.notify(1);
        cond.notify(1);
      });
      await settle();
      expect(waiters.map((w) => w.status)).toEqual(['fulfilled', 'fulfilled', 'pending']);
    });

    it('drops waiterCount at notify(), before the woken waiters hold the lock', async () => {
      const { cond, waiters } = await threeWaiters();
      await cond.acquire();
      cond.notify(2);
      expect(cond.waiterCount).toBe(1);
      expect(String(cond)).toBe('Condition [locked, waiters:1]');
      await settle();
      expect(waiters[0]?.status).toBe('pending');
      cond.release();
      await settle();
      expect(waiters.map((w) => w.status)).toEqual(['fulfilled', 'fulfilled', 'pending']);
    });

    it('a notify() with nobody waiting is not remembered', async () => {
      const cond = new Condition();
      await cond.runExclusive(() => cond.notify());
      const waiter = waitingTask(cond);
      await settle();
      expect(waiter.status).toBe('pending');
      expect(cond.waiterCount).toBe(1);
    });

    it.each([
      ['a string', '1', TypeError],
      ['null', null, TypeError],
      ['a bigint', 1n, TypeError],
      ['-1', -1, RangeError],
      ['1.5', 1.5, RangeError],
      ['NaN', Number.NaN, RangeError],
      ['Infinity', Number.POSITIVE_INFINITY, RangeError],
    ])('notify(n) with n %s throws naming "n" and wakes no one', async (_, n, ErrorClass) => {
      const { cond, waiters } = await threeWaiters();
      await cond.acquire();
      expect(() => cond.notify(n as number)).toThrow(ErrorClass);
      expect(() => cond.notify(n as number)).toThrow(/\bn\b/);
      expect(cond.waiterCount).toBe(3);
      cond.release();
      await settle();
      expect(waiters.map((w) => w.status)).toEqual(['pending', 'pending', 'pending']);
    });

    it('notify() on one Condition never wakes the waiters of another sharing its lock', async () => {
      const lock = new Lock();
      const a = new Condition(lock);
      const b = new Condition(lock);
      const onA = waitingTask(a);
      const onB = waitingTask(b);
      await settle();
      await lock.acquire();
      b.notifyAll();
      lock.release();
      await settle();
      expect(onA.status).toBe('pending');
      expect(onB.status).toBe('fulfilled');
      expect(a.waiterCount).toBe(1);
    });
  });

  describe('wait()', () => {
    it('releases the lock while waiting, and hands it to a task queued for it', async () => {
      const cond = new Condition();
      await cond.acquire();
      const queued = track(cond.acquire());
      const waiting = track(cond.wait());
      expect(cond.waiterCount).toBe(1);
      // The lock went straight to the queued task.
      expect(cond.isLocked()).toBe(true);
      await flushMicrotasks();
      expect(queued.status).toBe('fulfilled');
      (queued.value as Releaser)();
      expect(cond.isLocked()).toBe(false);
      expect(waiting.status).toBe('pending');
    });

    it('resolves with true only once it holds the lock again, after the notifier releases it', async () => {
      const cond = new Condition();
      const waiter = waitingTask(cond);
      await settle();
      await cond.acquire();
      cond.notify();
      await settle();
      expect(waiter.status).toBe('pending');
      cond.release();
      await settle();
      expect(waiter.status).toBe('fulfilled');
      expect(waiter.value).toBe(true);
      expect(waiter.state.heldOnSettle).toBe(true);
      expect(cond.isLocked()).toBe(false);
    });

    it('re-acquires behind tasks already queued for the lock', async () => {
      const cond = new Condition();
      const order: string[] = [];
      const waiter = waitingTask(cond);
      void waitedFor(waiter).then(() => order.push('notified waiter'));
      await settle();
      await cond.acquire();
      const queued = cond.acquire().then((release) => {
        order.push('queued task');
        release();
      });
      cond.notify();
      cond.release();
      await queued;
      await settle();
      expect(order).toEqual(['queued task', 'notified waiter']);
    });

    it('woken waiters resolve one at a time, each holding the lock, never two at once', async () => {
      const cond = new Condition();
      let holders = 0;
      let maxHolders = 0;
      const tasks = Array.from({ length: 4 }, async () => {
        await cond.acquire();
        await cond.wait();
        holders++;
        maxHolders = Math.max(maxHolders, holders);
        expect(cond.isLocked()).toBe(true);
        await Promise.resolve();
        holders--;
        cond.release();
      });
      await settle();
      expect(cond.waiterCount).toBe(4);
      await cond.runExclusive(() => cond.notifyAll());
      await Promise.all(tasks);
      expect(maxHolders).toBe(1);
      expect(cond.isLocked()).toBe(false);
    });

    it('an aborted wait leaves the queue at once but rejects only once it holds the lock again', async () => {
      const cond = new Condition();
      const controller = new AbortController();
      const waiter = waitingTask(cond, { signal: controller.signal });
      await settle();
      const other = await cond.acquire();
      controller.abort('stop');
      expect(cond.waiterCount).toBe(0);
      await settle();
      expect(waiter.status).toBe('pending');
      other();
      await settle();
      expect(waiter.reason).toBe('stop');
      expect(waiter.state.heldOnSettle).toBe(true);
      expect(cond.isLocked()).toBe(false);
      expectNothingLeftFake(cond, [controller.signal]);
    });

    it('a timed-out wait rejects with a TimeoutError naming wait() only once it holds the lock again', async () => {
      const cond = new Condition(undefined, { name: 'jobs' });
      const waiter = waitingTask(cond, { timeout: 50 });
      await settle();
      const other = await cond.acquire();
      vi.advanceTimersByTime(50);
      expect(cond.waiterCount).toBe(0);
      await settle();
      expect(waiter.status).toBe('pending');
      other();
      await settle();
      expectTimeoutError(waiter.reason);
      expect(waiter.reason.message).toContain('Condition "jobs"');
      expect(waiter.reason.message).toContain('wait()');
      expect(waiter.reason.message).toMatch(/\b50\b/);
      expect(waiter.state.heldOnSettle).toBe(true);
      expectNothingLeftFake(cond);
    });

    it('rejects at once and keeps the lock held with an already-aborted signal', async () => {
      const cond = new Condition();
      await cond.acquire();
      const reason = { why: 'already' };
      expect(await rejectionOf(cond.wait({ signal: AbortSignal.abort(reason) }))).toBe(reason);
      expect(cond.isLocked()).toBe(true);
      expect(cond.waiterCount).toBe(0);
    });

    it('rejects at once with a TimeoutError and keeps the lock held with timeout: 0', async () => {
      const cond = new Condition();
      await cond.acquire();
      const error = await rejectionOf(cond.wait({ timeout: 0 }));
      expectTimeoutError(error);
      expect(error.message).toContain('wait()');
      expect(cond.isLocked()).toBe(true);
      expect(cond.waiterCount).toBe(0);
    });

    it('rejects invalid options and keeps the lock held', async () => {
      const cond = new Condition();
      await cond.acquire();
      expect(await rejectionOf(cond.wait({ signal: 'x' as never }))).toBeInstanceOf(TypeError);
      expect(cond.isLocked()).toBe(true);
      expect(cond.waiterCount).toBe(0);
    });
  });

  describe('aborted waiters and notifications (gh-112202)', () => {
    it('cancelling an un-notified waiter wakes no one else', async () => {
      const cond = new Condition();
      const controller = new AbortController();
      const a = waitingTask(cond, { signal: controller.signal });
      const b = waitingTask(cond);
      await settle();
      controller.abort('a leaves');
      await settle();
      expect(a.reason).toBe('a leaves');
      expect(b.status).toBe('pending');
      expect(cond.waiterCount).toBe(1);
    });

    it('a notification goes to the next waiter, never to one that already gave up', async () => {
      const cond = new Condition();
      const controller = new AbortController();
      const a = waitingTask(cond, { signal: controller.signal });
      const b = waitingTask(cond, { timeout: 10 });
      const c = waitingTask(cond);
      await settle();
      controller.abort();
      vi.advanceTimersByTime(10);
      await settle();
      await cond.runExclusive(() => cond.notify());
      await settle();
      expect(a.status).toBe('rejected');
      expect(b.status).toBe('rejected');
      expect(c.status).toBe('fulfilled');
      expectNothingLeftFake(cond, [controller.signal]);
    });

    it('a waiter notified and aborted afterwards still resolves with true holding the lock (test_cancelled_wakeup)', async () => {
      const cond = new Condition();
      const controller = new AbortController();
      const a = waitingTask(cond, { signal: controller.signal });
      const b = waitingTask(cond);
      await settle();
      await cond.acquire();
      cond.notify();
      controller.abort('too late');
      cond.release();
      await settle();
      expect(a.status).toBe('fulfilled');
      expect(a.value).toBe(true);
      expect(a.state.heldOnSettle).toBe(true);
      // The notification was not passed on: b was not woken.
      expect(b.status).toBe('pending');
      expect(cond.waiterCount).toBe(1);
    });

    it('a waiter notified whose timeout elapses while it waits for the lock still resolves (test_wait_cancel_after_notify)', async () => {
      const cond = new Condition();
      const a = waitingTask(cond, { timeout: 20 });
      await settle();
      await cond.acquire();
      cond.notify();
      vi.advanceTimersByTime(100);
      cond.release();
      await settle();
      expect(a.status).toBe('fulfilled');
      expect(a.state.heldOnSettle).toBe(true);
      expectNothingLeftFake(cond);
    });

    it('a notified waiter aborted while the lock is contended keeps its notification (test_cancelled_wakeup_relock)', async () => {
      const cond = new Condition();
      const controller = new AbortController();
      const a = waitingTask(cond, { signal: controller.signal });
      const b = waitingTask(cond);
      await settle();
      await cond.acquire();
      const contender = cond.acquire().then((release) => release());
      cond.notify();
      cond.release();
      controller.abort();
      await contender;
      await settle();
      expect(a.status).toBe('fulfilled');
      expect(b.status).toBe('pending');
    });

    it('an abort and a notify in one step: the aborted waiter is skipped, the next one is woken', async () => {
      const cond = new Condition();
      const controller = new AbortController();
      const a = waitingTask(cond, { signal: controller.signal });
      const b = waitingTask(cond);
      await settle();
      await cond.acquire();
      controller.abort('first');
      cond.notify();
      cond.release();
      await settle();
      expect(a.reason).toBe('first');
      expect(b.status).toBe('fulfilled');
    });
  });

  describe('waitFor()', () => {
    it('returns the predicate value at once when already true, without waiting or releasing the lock', async () => {
      const cond = new Condition();
      await cond.acquire();
      const outcome = track(cond.waitFor(() => 'ready'));
      expect(cond.waiterCount).toBe(0);
      expect(cond.isLocked()).toBe(true);
      await flushMicrotasks();
      expect(outcome.value).toBe('ready');
      expect(cond.isLocked()).toBe(true);
      expectNothingLeftFake(cond);
    });

    it('calls the predicate with the lock held, at once and after each notification, and returns its truthy value', async () => {
      const cond = new Condition();
      let items = 0;
      const calls: boolean[] = [];
      const predicate = () => {
        calls.push(cond.isLocked());
        return items >= 2 && { items };
      };
      await cond.acquire();
      const outcome = track(cond.waitFor(predicate));
      expect(calls).toEqual([true]);
      expect(cond.isLocked()).toBe(false);
      for (let i = 0; i < 2; i++) {
        await cond.runExclusive(() => {
          items++;
          cond.notify();
        });
        await settle();
      }
      expect(calls).toEqual([true, true, true]);
      expect(outcome.value).toEqual({ items: 2 });
      expect(cond.isLocked()).toBe(true);
      cond.release();
    });

    it('uses one deadline for the whole call: notifications with a false predicate do not restart it', async () => {
      const cond = new Condition(undefined, { name: 'jobs' });
      const predicate = vi.fn(() => false);
      await cond.acquire();
      const start = performance.now();
      const outcome = track(cond.waitFor(predicate, { timeout: 100 }));
      // Notified at 30, 60 and 90 ms, each time with a false predicate.
      for (let i = 0; i < 3; i++) {
        vi.advanceTimersByTime(30);
        await cond.runExclusive(() => cond.notify());
        await settle();
        expect(outcome.status).toBe('pending');
      }
      expect(predicate).toHaveBeenCalledTimes(4);
      vi.advanceTimersByTime(9);
      await settle();
      expect(outcome.status).toBe('pending');
      vi.advanceTimersByTime(1);
      expect(cond.waiterCount).toBe(0);
      await settle();
      expectTimeoutError(outcome.reason);
      expect((outcome.at as number) - start).toBe(100);
      expect(outcome.reason.message).toContain('Condition "jobs"');
      expect(outcome.reason.message).toContain('waitFor()');
      expect(outcome.reason.message).toMatch(/\b100\b/);
      expect(cond.isLocked()).toBe(true);
      cond.release();
      expectNothingLeftFake(cond);
    });

    it('rejects with a TimeoutError naming waitFor() with timeout: 0 and a false predicate, keeping the lock', async () => {
      const cond = new Condition();
      await cond.acquire();
      const predicate = vi.fn(() => 0);
      const error = await rejectionOf(cond.waitFor(predicate, { timeout: 0 }));
      expectTimeoutError(error);
      expect(error.message).toContain('waitFor()');
      expect(predicate).toHaveBeenCalledTimes(1);
      expect(cond.isLocked()).toBe(true);
      expect(cond.waiterCount).toBe(0);
      expect(await cond.waitFor(() => 'now', { timeout: 0 })).toBe('now');
    });

    it('rejects without calling the predicate when the signal is already aborted', async () => {
      const cond = new Condition();
      await cond.acquire();
      const predicate = vi.fn(() => true);
      const reason = new Error('already');
      expect(await rejectionOf(cond.waitFor(predicate, { signal: AbortSignal.abort(reason) }))).toBe(reason);
      expect(predicate).not.toHaveBeenCalled();
      expect(cond.isLocked()).toBe(true);
    });

    it('rejects with the abort reason once it holds the lock again, without calling the predicate again', async () => {
      const cond = new Condition();
      const predicate = vi.fn(() => false);
      const controller = new AbortController();
      await cond.acquire();
      const outcome = track(cond.waitFor(predicate, { signal: controller.signal, timeout: 1_000 }));
      const other = await cond.acquire();
      controller.abort('gone');
      await settle();
      expect(outcome.status).toBe('pending');
      other();
      await settle();
      expect(outcome.reason).toBe('gone');
      expect(predicate).toHaveBeenCalledTimes(1);
      expect(cond.isLocked()).toBe(true);
      cond.release();
      expectNothingLeftFake(cond, [controller.signal]);
    });

    it('passes through an abort reason that is itself a TimeoutError', async () => {
      const cond = new Condition();
      const controller = new AbortController();
      await cond.acquire();
      const outcome = track(cond.waitFor(() => false, { signal: controller.signal, timeout: 1_000 }));
      const reason = new DOMException('outer deadline', 'TimeoutError');
      controller.abort(reason);
      await settle();
      expect(outcome.reason).toBe(reason);
      cond.release();
    });

    it('resolves when notified with a true predicate even if its signal aborts before it holds the lock', async () => {
      const cond = new Condition();
      const controller = new AbortController();
      let ready = false;
      await cond.acquire();
      const outcome = track(cond.waitFor(() => ready && 'ready', { signal: controller.signal }));
      await cond.acquire();
      ready = true;
      cond.notify();
      controller.abort('late');
      cond.release();
      await settle();
      expect(outcome.value).toBe('ready');
      expect(cond.isLocked()).toBe(true);
      cond.release();
    });

    it('rejects with the abort reason, holding the lock, when notified with a false predicate after its signal aborted', async () => {
      const cond = new Condition();
      const controller = new AbortController();
      await cond.acquire();
      const outcome = track(cond.waitFor(() => false, { signal: controller.signal }));
      await cond.acquire();
      cond.notify();
      controller.abort('late');
      cond.release();
      await settle();
      expect(outcome.reason).toBe('late');
      expect(cond.isLocked()).toBe(true);
      expect(cond.waiterCount).toBe(0);
      cond.release();
    });

    it('rejects with the error of a predicate that throws, holding the lock', async () => {
      const cond = new Condition();
      const error = new Error('predicate failed');
      let calls = 0;
      await cond.acquire();
      const outcome = track(
        cond.waitFor(() => {
          calls++;
          if (calls === 2) throw error;
          return false;
        }),
      );
      await cond.runExclusive(() => cond.notify());
      await settle();
      expect(outcome.reason).toBe(error);
      expect(cond.isLocked()).toBe(true);
      cond.release();
      await cond.acquire();
      expect(
        await rejectionOf(
          cond.waitFor(() => {
            throw error;
          }),
        ),
      ).toBe(error);
      expect(cond.isLocked()).toBe(true);
    });

    it('rejects with a TypeError, without throwing, when the predicate is not a function', async () => {
      const cond = new Condition();
      await cond.acquire();
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = cond.waitFor(undefined as never);
      }).not.toThrow();
      expect(await rejectionOf(promise as Promise<unknown>)).toBeInstanceOf(TypeError);
      expect(cond.isLocked()).toBe(true);
    });
  });

  describe('readable state', () => {
    it('String() shows the name, locked or unlocked, and the number of waiters to notify', async () => {
      expect(String(new Condition())).toBe('Condition [unlocked, waiters:0]');
      const cond = new Condition(undefined, { name: 'jobs' });
      await cond.acquire();
      expect(String(cond)).toBe('Condition "jobs" [locked, waiters:0]');
      cond.release();
      waitingTask(cond);
      waitingTask(cond);
      await settle();
      expect(String(cond)).toBe('Condition "jobs" [unlocked, waiters:2]');
    });

    it('Symbol.toStringTag is Condition', () => {
      const cond = new Condition();
      expect(cond[Symbol.toStringTag]).toBe('Condition');
      expect(Object.prototype.toString.call(cond)).toBe('[object Condition]');
    });
  });

  describe('leak warning', () => {
    it('warns once, naming the Condition, when the waiters to notify first exceed maxWaiters', async () => {
      const warn = spyOnWarnings();
      const cond = new Condition(undefined, { name: 'jobs', maxWaiters: 2 });
      const controller = new AbortController();
      for (let i = 0; i < 2; i++) waitingTask(cond, { signal: controller.signal });
      await settle();
      expect(warn).not.toHaveBeenCalled();
      for (let i = 0; i < 2; i++) waitingTask(cond, { signal: controller.signal });
      await settle();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toContain('Condition "jobs"');
      controller.abort();
      await settle();
    });

    it("applies the Condition's maxWaiters to its own lock: a mass abort of 1 500 waiters warns nobody with maxWaiters 0", async () => {
      vi.useRealTimers();
      const cond = new Condition(undefined, { name: 'quiet', maxWaiters: 0 });
      const controller = new AbortController();
      const waits: Promise<unknown>[] = [];
      const warnings = await collectWarnings(async () => {
        for (let i = 0; i < 1_500; i++) {
          // The lock is free (each wait released it), so acquire() takes it at once.
          void cond.acquire();
          waits.push(cond.wait({ signal: controller.signal }).finally(() => cond.release()));
        }
        expect(cond.waiterCount).toBe(1_500);
        // Every aborted waiter queues for the lock, to re-acquire it before it rejects.
        controller.abort();
        await Promise.allSettled(waits);
      });
      expect(warnings.map((w) => w.message)).toEqual([]);
      const outcomes = await Promise.allSettled(waits);
      expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
      expect(cond.isLocked()).toBe(false);
    });
  });
});

/** The promise of a waiting task. */
function waitedFor(task: ReturnType<typeof waitingTask>): Promise<unknown> {
  return task.promise;
}
