/**
 * Condition, Barrier, Event, the queues and Semaphore: the details their main suites
 * (`condition.test.ts`, `barrier.test.ts`, `event.test.ts`, `queue.test.ts`,
 * `semaphore.test.ts`) leave open and that mutation testing found. Mostly the exact words of
 * the errors a user reads (which method a timeout or a shutdown names, why a barrier broke), and
 * a few paths of `Condition.waitFor`, the queue's hand-off to a waiting producer and its async
 * iterator that only an unusual order of events reaches.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Barrier,
  BrokenBarrierError,
  Condition,
  Event,
  Lock,
  PriorityQueue,
  Queue,
  QueueShutDownError,
  type Releaser,
  Semaphore,
  type WaitOptions,
} from '../src/index.js';
import { expectNothingLeftFake, expectTimeoutError, flushMicrotasks, rejectionOf, track } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Runs `fn`, which must throw; returns what it threw. */
function thrownBy(fn: () => unknown): unknown {
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

/** Checks that `error` is an instance of `type` with exactly `message`. */
function expectError(error: unknown, type: abstract new (...args: never[]) => Error, message: string): void {
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toBe(message);
}

/** Checks that `error` is an InvalidStateError DOMException with exactly `message`. */
function expectInvalidState(error: unknown, message: string): void {
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe('InvalidStateError');
  expect((error as DOMException).message).toBe(message);
}

/** Checks that `error` is a TimeoutError DOMException with exactly `message`. */
function expectTimeout(error: unknown, message: string): void {
  expectTimeoutError(error);
  expect(error.message).toBe(message);
}

/**
 * A Lock as another copy of waitsafe in the process makes it (its ESM and CommonJS builds): not
 * an instance of this copy's Lock class, but a Lock by its `Symbol.toStringTag`. It forwards to
 * a Lock of this copy, which stands in for the other copy's internals.
 */
class LockOfAnotherCopy {
  readonly inner = new Lock();
  acquire(options?: WaitOptions): Promise<Releaser> {
    return this.inner.acquire(options);
  }
  release(): void {
    this.inner.release();
  }
  isLocked(): boolean {
    return this.inner.isLocked();
  }
  runExclusive<T>(fn: () => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    return this.inner.runExclusive(fn, options);
  }
  get [Symbol.toStringTag](): string {
    return 'Lock';
  }
}

describe('Condition', () => {
  describe('constructor', () => {
    it('takes a Lock of another copy of waitsafe, and waits and notifies over it', async () => {
      const foreign = new LockOfAnotherCopy();
      expect(foreign).not.toBeInstanceOf(Lock);
      const cond = new Condition(foreign as unknown as Lock);
      await cond.acquire();
      expect(foreign.isLocked()).toBe(true);
      const waiting = track(cond.wait());
      // The wait released the other copy's lock.
      expect(foreign.isLocked()).toBe(false);
      await foreign.acquire();
      cond.notify();
      foreign.release();
      await settle();
      expect(waiting.value).toBe(true);
      expect(foreign.isLocked()).toBe(true);
      cond.release();
      expect(foreign.isLocked()).toBe(false);
    });

    it('says what the lock must be, without a reason when the value is no options object', () => {
      const expected = 'The "lock" argument must be a Lock, an options object or undefined';
      expectError(
        thrownBy(() => new Condition(new Event() as never)),
        TypeError,
        expected,
      );
      // A plain object that would pass for options, but options are given too.
      expectError(
        thrownBy(() => new Condition({ name: 'a' } as never, { name: 'b' })),
        TypeError,
        expected,
      );
    });

    it('adds the reason when the value is an object with keys no options have', () => {
      expectError(
        thrownBy(() => new Condition({ lock: new Lock() } as never)),
        TypeError,
        'The "lock" argument must be a Lock, an options object or undefined (Unknown option "lock" (known: name, maxWaiters))',
      );
    });
  });

  describe('messages', () => {
    it('names notify() and notifyAll() when they are called without the lock', () => {
      const cond = new Condition(undefined, { name: 'jobs' });
      expectInvalidState(
        thrownBy(() => cond.notify()),
        'Condition "jobs": notify() requires the lock to be held',
      );
      expectInvalidState(
        thrownBy(() => cond.notifyAll()),
        'Condition "jobs": notifyAll() requires the lock to be held',
      );
    });

    it('says what the predicate of waitFor() must be', async () => {
      const cond = new Condition();
      await cond.acquire();
      expectError(
        await rejectionOf(cond.waitFor(42 as never)),
        TypeError,
        'The "predicate" argument must be a function, got number',
      );
      expect(cond.isLocked()).toBe(true);
    });
  });

  describe('waitFor()', () => {
    it('rejects with its own TimeoutError once the deadline has passed while it waited for the lock after a notification', async () => {
      const cond = new Condition();
      const predicate = vi.fn(() => false);
      await cond.acquire();
      const outcome = track(cond.waitFor(predicate, { timeout: 100 }));
      // Another task takes the lock, notifies at 50 ms and keeps the lock until 150 ms: the
      // predicate runs again only then, 50 ms past the deadline.
      const other = await cond.acquire();
      vi.advanceTimersByTime(50);
      cond.notify();
      vi.advanceTimersByTime(100);
      other();
      await settle();
      expect(predicate).toHaveBeenCalledTimes(2);
      expectTimeout(outcome.reason, 'Condition: waitFor() timed out after 100 ms');
      expect(cond.isLocked()).toBe(true);
      expect(cond.waiterCount).toBe(0);
      cond.release();
      expectNothingLeftFake(cond);
    });

    it('rejects with its TimeoutError, not the abort reason, when the deadline is reached exactly as it gets the lock back, though its signal aborted after the notification', async () => {
      const cond = new Condition();
      const controller = new AbortController();
      const predicate = vi.fn(() => false);
      await cond.acquire();
      const outcome = track(cond.waitFor(predicate, { signal: controller.signal, timeout: 100 }));
      const other = await cond.acquire();
      vi.advanceTimersByTime(40);
      cond.notify();
      // Notified: a later abort changes nothing for this wait.
      controller.abort('late');
      vi.advanceTimersByTime(60);
      // The lock comes back at 100 ms exactly: no time is left, and the deadline decides.
      other();
      await settle();
      expect(predicate).toHaveBeenCalledTimes(2);
      expectTimeout(outcome.reason, 'Condition: waitFor() timed out after 100 ms');
      expect(cond.isLocked()).toBe(true);
      cond.release();
      expectNothingLeftFake(cond, [controller.signal]);
    });

    it('rejects with its own TimeoutError when its signal aborts after the timeout, before it holds the lock again', async () => {
      const cond = new Condition(undefined, { name: 'jobs' });
      const controller = new AbortController();
      await cond.acquire();
      const outcome = track(cond.waitFor(() => false, { signal: controller.signal, timeout: 100 }));
      const other = await cond.acquire();
      vi.advanceTimersByTime(100);
      expect(cond.waiterCount).toBe(0);
      // Timed out, waiting for the lock; then the signal aborts too.
      controller.abort('late');
      other();
      await settle();
      expectTimeout(outcome.reason, 'Condition "jobs": waitFor() timed out after 100 ms');
      expect(cond.isLocked()).toBe(true);
      cond.release();
      expectNothingLeftFake(cond, [controller.signal]);
    });

    it('passes through the InvalidStateError when its predicate released the lock, as it is, not as a TimeoutError', async () => {
      const cond = new Condition();
      await cond.acquire();
      const error = await rejectionOf(
        cond.waitFor(
          () => {
            cond.release();
            return false;
          },
          { timeout: 1_000 },
        ),
      );
      expectInvalidState(error, 'Condition: wait() requires the lock to be held');
      expect(cond.isLocked()).toBe(false);
      expectNothingLeftFake(cond);
    });
  });
});

describe('Barrier', () => {
  it('says why it refuses a party: broken, reset or aborted', async () => {
    const barrier = new Barrier(3, { name: 'start' });
    const first = track(barrier.wait());
    barrier.reset();
    await flushMicrotasks();
    expectError(first.reason, BrokenBarrierError, 'Barrier "start" was reset');
    const second = track(barrier.wait());
    barrier.abort();
    await flushMicrotasks();
    expectError(second.reason, BrokenBarrierError, 'Barrier "start" was aborted');
    expectError(await rejectionOf(barrier.wait()), BrokenBarrierError, 'Barrier "start" is broken');
    expect(barrier.waiterCount).toBe(0);
  });

  it('names wait() in its TimeoutError', async () => {
    const barrier = new Barrier(2);
    expectTimeout(await rejectionOf(barrier.wait({ timeout: 0 })), 'Barrier: wait() timed out after 0 ms');
    const waiting = track(barrier.wait({ timeout: 10 }));
    vi.advanceTimersByTime(10);
    await flushMicrotasks();
    expectTimeout(waiting.reason, 'Barrier: wait() timed out after 10 ms');
    expectNothingLeftFake(barrier);
  });
});

describe('Event', () => {
  it('names wait() in its TimeoutError', async () => {
    const event = new Event({ name: 'ready' });
    expectTimeout(await rejectionOf(event.wait({ timeout: 0 })), 'Event "ready": wait() timed out after 0 ms');
    const waiting = track(event.wait({ timeout: 10 }));
    vi.advanceTimersByTime(10);
    await flushMicrotasks();
    expectTimeout(waiting.reason, 'Event "ready": wait() timed out after 10 ms');
    expectNothingLeftFake(event);
  });
});

describe('Queue', () => {
  it('names the refused method once shut down', async () => {
    const queue = new Queue<number>({ name: 'jobs', maxSize: 1 });
    queue.putNowait(5);
    const blockedPut = track(queue.put(6));
    queue.shutdown();
    await flushMicrotasks();
    expectError(blockedPut.reason, QueueShutDownError, 'Queue "jobs" is shut down: put() refused');
    expectError(await rejectionOf(queue.put(7)), QueueShutDownError, 'Queue "jobs" is shut down: put() refused');
    expectError(
      thrownBy(() => queue.putNowait(7)),
      QueueShutDownError,
      'Queue "jobs" is shut down: putNowait() refused',
    );
    expect(queue.getNowait()).toBe(5);
    expectError(await rejectionOf(queue.get()), QueueShutDownError, 'Queue "jobs" is shut down: get() refused');
    expectError(
      thrownBy(() => queue.getNowait()),
      QueueShutDownError,
      'Queue "jobs" is shut down: getNowait() refused',
    );
  });

  it('names get() when it shuts down under a waiting consumer', async () => {
    const queue = new Queue<number>();
    const getting = track(queue.get());
    queue.shutdown(true);
    await flushMicrotasks();
    expectError(getting.reason, QueueShutDownError, 'Queue is shut down: get() refused');
    expect(queue.waiterCount).toBe(0);
  });

  it('says what shutdown() takes', () => {
    const queue = new Queue<number>();
    expectError(
      thrownBy(() => queue.shutdown('yes' as never)),
      TypeError,
      'The "immediate" argument must be a boolean or undefined, got string',
    );
    expect(queue.isShutDown()).toBe(false);
  });

  it('a get rejects the waiting producer whose item compare refuses, and admits the next one', async () => {
    const refused = new Error('cannot compare -1');
    const queue = new PriorityQueue<number>({
      maxSize: 2,
      compare: (a, b) => {
        if (a === -1 || b === -1) throw refused;
        return a - b;
      },
    });
    queue.putNowait(1);
    queue.putNowait(2);
    const bad = track(queue.put(-1));
    const good = track(queue.put(3));
    expect(queue.waiterCount).toBe(2);
    expect(await queue.get()).toBe(1);
    await flushMicrotasks();
    expect(bad.reason).toBe(refused);
    expect(good.status).toBe('fulfilled');
    expect(queue.waiterCount).toBe(0);
    expect(queue.size).toBe(2);
    expect(queue.getNowait()).toBe(2);
    expect(queue.getNowait()).toBe(3);
    // The refused item never counted as put: two taskDone() calls for 1, 2 and 3 leave one.
    queue.taskDone();
    queue.taskDone();
    const joined = track(queue.join());
    await flushMicrotasks();
    expect(joined.status).toBe('pending');
    queue.taskDone();
    await flushMicrotasks();
    expect(joined.status).toBe('fulfilled');
  });

  it('the async iterator throws an error of get() other than the shutdown, instead of ending', async () => {
    const failure = new Error('compare failed');
    let failing = false;
    const queue = new PriorityQueue<number>({
      compare: (a, b) => {
        if (failing) throw failure;
        return a - b;
      },
    });
    queue.putNowait(1);
    queue.putNowait(2);
    queue.putNowait(3);
    failing = true;
    const seen: number[] = [];
    const looping = (async () => {
      for await (const item of queue) seen.push(item);
    })();
    expect(await rejectionOf(looping)).toBe(failure);
    expect(seen).toEqual([]);
    // Nothing was removed, and no get is left waiting.
    expect(queue.size).toBe(3);
    expect(queue.waiterCount).toBe(0);
  });
});

describe('Semaphore', () => {
  it('says what a weight must be', async () => {
    const semaphore = new Semaphore(2);
    expectError(
      await rejectionOf(semaphore.acquire({ weight: '2' as never })),
      TypeError,
      'The "weight" option must be a number, got string',
    );
    expectError(
      thrownBy(() => semaphore.tryAcquire(0)),
      RangeError,
      'The "weight" argument must be an integer >= 1, got 0',
    );
    expectError(
      thrownBy(() => semaphore.release(1.5)),
      RangeError,
      'The "weight" argument must be an integer >= 1, got 1.5',
    );
    expect(semaphore.value).toBe(2);
  });
});
