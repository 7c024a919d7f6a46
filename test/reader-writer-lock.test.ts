/**
 * ReaderWriterLock: shared read holds, an exclusive write hold, one FIFO queue for both kinds
 * (a waiting writer blocks the readers behind it, so writers never starve), and the rules every
 * wait follows (README, API section: signal, timeout, strict options, nothing left behind).
 * `reader-writer-lock.model.test.ts` checks random sequences against a model; the shared
 * cancellation suite (`cancellation.test.ts`) has rows for its four waiting methods.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReaderWriterLock, type Releaser, type WaitOptions } from '../src/index.js';
import {
  abortListeners,
  activeTimeouts,
  callWithoutThrowing,
  expectLeakWarning,
  expectNothingLeftFake,
  expectNothingLeftReal,
  expectTimeoutError,
  flushMicrotasks,
  rejectionOf,
  spyOnWarnings,
  type Tracked,
  track,
} from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A promise and the functions that settle it: work that ends when the test says so. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve: (value: T) => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Checks that a value is a Releaser: a function that is also Disposable. */
function expectReleaser(value: unknown): asserts value is Releaser {
  expect(typeof value).toBe('function');
  expect(typeof (value as Releaser)[Symbol.dispose]).toBe('function');
}

/** The Releaser a tracked acquire fulfilled with; fails the test if it did not fulfil. */
function releaserOf(tracked: Tracked<Releaser>): Releaser {
  expect(tracked.status).toBe('fulfilled');
  expectReleaser(tracked.value);
  return tracked.value;
}

type Method = 'acquireRead' | 'acquireWrite' | 'runRead' | 'runWrite';
const METHODS: readonly Method[] = ['acquireRead', 'acquireWrite', 'runRead', 'runWrite'];

/** Calls one of the four waiting methods (the run methods with a fn that returns 'ran'). */
function call(rw: ReaderWriterLock, method: Method, options?: WaitOptions, fn: () => unknown = () => 'ran') {
  if (method === 'runRead' || method === 'runWrite') return rw[method](fn, options);
  return rw[method](options);
}

/** A lock in a state where `method` has to wait: a writer holds it for reads, a reader for writes. */
function blockedFor(method: Method, options?: { name?: string; maxWaiters?: number }) {
  const rw = new ReaderWriterLock(options);
  const hold = (
    method === 'acquireRead' || method === 'runRead' ? rw.tryAcquireWrite() : rw.tryAcquireRead()
  ) as Releaser;
  return { rw, hold };
}

/** The verb a method's TimeoutError names. */
const verbOf = (method: Method) => (method === 'acquireRead' || method === 'runRead' ? 'acquireRead' : 'acquireWrite');

describe('ReaderWriterLock', () => {
  describe('constructor', () => {
    it('starts unlocked, with no reader and no waiter', () => {
      const rw = new ReaderWriterLock();
      expect(rw.readers).toBe(0);
      expect(rw.isWriteLocked()).toBe(false);
      expect(rw.waiterCount).toBe(0);
      expect(String(rw)).toBe('ReaderWriterLock [unlocked, waiters:0]');
    });

    it('exposes name, undefined when not given', () => {
      expect(new ReaderWriterLock({ name: 'db' }).name).toBe('db');
      expect(new ReaderWriterLock().name).toBeUndefined();
      expect(new ReaderWriterLock({}).name).toBeUndefined();
    });

    it.each([
      ['options null', null, /\boptions\b/],
      ['options a string', 'db', /\boptions\b/],
      ['name a number', { name: 1 }, /\bname\b/],
      ['maxWaiters a string', { maxWaiters: '10' }, /\bmaxWaiters\b/],
      ['an unknown key', { nmae: 'db' }, /"nmae"/],
    ])('throws a TypeError when %s', (_, options, names) => {
      expect(() => new ReaderWriterLock(options as never)).toThrow(TypeError);
      expect(() => new ReaderWriterLock(options as never)).toThrow(names);
    });

    it.each([
      ['negative', -1],
      ['fractional', 1.5],
      ['NaN', Number.NaN],
    ])('throws a RangeError naming maxWaiters when it is %s', (_, maxWaiters) => {
      expect(() => new ReaderWriterLock({ maxWaiters })).toThrow(RangeError);
      expect(() => new ReaderWriterLock({ maxWaiters })).toThrow(/\bmaxWaiters\b/);
    });
  });

  describe('read holds are shared', () => {
    it('acquireRead() on a free lock takes a read hold before returning, without counting as a waiter', async () => {
      const rw = new ReaderWriterLock();
      const reading = track(rw.acquireRead());
      expect(rw.readers).toBe(1);
      expect(rw.waiterCount).toBe(0);
      await flushMicrotasks();
      releaserOf(reading)();
      expect(rw.readers).toBe(0);
      expectNothingLeftFake(rw);
    });

    it('lets any number of readers in at once, by acquireRead() and tryAcquireRead()', async () => {
      const rw = new ReaderWriterLock();
      const reads = [track(rw.acquireRead()), track(rw.acquireRead({ timeout: 10 })), track(rw.acquireRead())];
      const tried = rw.tryAcquireRead();
      expectReleaser(tried);
      expect(rw.readers).toBe(4);
      expect(rw.isWriteLocked()).toBe(false);
      expect(rw.waiterCount).toBe(0);
      expect(String(rw)).toBe('ReaderWriterLock [readers:4, waiters:0]');
      await flushMicrotasks();
      const releases = reads.map(releaserOf);
      releases[1]?.();
      expect(rw.readers).toBe(3);
      tried();
      releases[0]?.();
      expect(rw.readers).toBe(1);
      releases[2]?.();
      expect(rw.readers).toBe(0);
      expect(String(rw)).toBe('ReaderWriterLock [unlocked, waiters:0]');
      expectNothingLeftFake(rw);
    });
  });

  describe('the write hold is exclusive', () => {
    it('acquireWrite() on a free lock takes the write hold before returning', async () => {
      const rw = new ReaderWriterLock();
      const writing = track(rw.acquireWrite());
      expect(rw.isWriteLocked()).toBe(true);
      expect(rw.readers).toBe(0);
      expect(rw.waiterCount).toBe(0);
      await flushMicrotasks();
      releaserOf(writing)();
      expect(rw.isWriteLocked()).toBe(false);
    });

    it('while a writer holds it, readers and writers wait, and try* take nothing', async () => {
      const rw = new ReaderWriterLock();
      const write = rw.tryAcquireWrite() as Releaser;
      const reader = track(rw.acquireRead());
      const writer = track(rw.acquireWrite());
      expect(rw.tryAcquireRead()).toBeUndefined();
      expect(rw.tryAcquireWrite()).toBeUndefined();
      await flushMicrotasks();
      expect(reader.status).toBe('pending');
      expect(writer.status).toBe('pending');
      expect(rw.readers).toBe(0);
      expect(rw.waiterCount).toBe(2);
      expect(String(rw)).toBe('ReaderWriterLock [writing, waiters:2]');
      write();
      expect(rw.readers).toBe(1);
      await flushMicrotasks();
      releaserOf(reader)();
      expect(rw.isWriteLocked()).toBe(true);
      await flushMicrotasks();
      releaserOf(writer)();
      expectNothingLeftFake(rw);
    });

    it('a writer waits while readers hold it', async () => {
      const rw = new ReaderWriterLock();
      const r1 = rw.tryAcquireRead() as Releaser;
      const r2 = rw.tryAcquireRead() as Releaser;
      const writer = track(rw.acquireWrite());
      expect(rw.tryAcquireWrite()).toBeUndefined();
      await flushMicrotasks();
      expect(writer.status).toBe('pending');
      expect(rw.isWriteLocked()).toBe(false);
      expect(rw.readers).toBe(2);
      expect(String(rw)).toBe('ReaderWriterLock [readers:2, waiters:1]');
      r1();
      r2();
      await flushMicrotasks();
      releaserOf(writer)();
    });
  });

  describe('fairness: one FIFO queue for both kinds', () => {
    it('a waiting writer blocks the readers that come after it, even though readers hold the lock', async () => {
      const rw = new ReaderWriterLock();
      const read = rw.tryAcquireRead() as Releaser;
      const writer = track(rw.acquireWrite());
      const late = track(rw.acquireRead());
      const lateRun = vi.fn(() => 'late');
      const lateRunning = track(rw.runRead(lateRun));
      expect(rw.tryAcquireRead()).toBeUndefined();
      expect(rw.readers).toBe(1);
      expect(rw.waiterCount).toBe(3);
      await flushMicrotasks();
      expect(late.status).toBe('pending');
      expect(lateRun).not.toHaveBeenCalled();
      read();
      // The writer holds it now; the readers behind it still wait.
      expect(rw.isWriteLocked()).toBe(true);
      expect(rw.waiterCount).toBe(2);
      await flushMicrotasks();
      expect(late.status).toBe('pending');
      releaserOf(writer)();
      expect(rw.readers).toBe(2);
      expect(rw.waiterCount).toBe(0);
      await flushMicrotasks();
      // The runRead released when its fn returned; the acquireRead still holds.
      expect(lateRunning.value).toBe('late');
      expect(rw.readers).toBe(1);
      releaserOf(late)();
      expectNothingLeftFake(rw);
    });

    it("the last reader's release grants the writer at the head in the same step; an earlier one grants nothing", async () => {
      const rw = new ReaderWriterLock();
      const r1 = rw.tryAcquireRead() as Releaser;
      const r2 = rw.tryAcquireRead() as Releaser;
      const r3 = rw.tryAcquireRead() as Releaser;
      const writer = track(rw.acquireWrite());
      r2();
      r1();
      expect(rw.readers).toBe(1);
      expect(rw.isWriteLocked()).toBe(false);
      expect(rw.waiterCount).toBe(1);
      r3();
      expect(rw.isWriteLocked()).toBe(true);
      expect(rw.readers).toBe(0);
      expect(rw.waiterCount).toBe(0);
      expect(String(rw)).toBe('ReaderWriterLock [writing, waiters:0]');
      await flushMicrotasks();
      releaserOf(writer)();
      expect(rw.isWriteLocked()).toBe(false);
    });

    it("a writer's release grants the whole run of readers at the head, not the readers behind a later writer", async () => {
      const rw = new ReaderWriterLock();
      const write = rw.tryAcquireWrite() as Releaser;
      const headRun = [track(rw.acquireRead()), track(rw.acquireRead({ timeout: 100 })), track(rw.acquireRead())];
      const nextWriter = track(rw.acquireWrite());
      const behind = track(rw.acquireRead());
      expect(rw.waiterCount).toBe(5);
      write();
      expect(rw.readers).toBe(3);
      expect(rw.isWriteLocked()).toBe(false);
      expect(rw.waiterCount).toBe(2);
      expect(String(rw)).toBe('ReaderWriterLock [readers:3, waiters:2]');
      await flushMicrotasks();
      const releases = headRun.map(releaserOf);
      expect(nextWriter.status).toBe('pending');
      expect(behind.status).toBe('pending');
      for (const release of releases) release();
      expect(rw.isWriteLocked()).toBe(true);
      expect(rw.waiterCount).toBe(1);
      await flushMicrotasks();
      expect(behind.status).toBe('pending');
      releaserOf(nextWriter)();
      expect(rw.readers).toBe(1);
      expect(rw.waiterCount).toBe(0);
      await flushMicrotasks();
      releaserOf(behind)();
      expectNothingLeftFake(rw);
    });

    it('grants queued writers one at a time, in arrival order', async () => {
      const rw = new ReaderWriterLock();
      const order: number[] = [];
      const write = rw.tryAcquireWrite() as Releaser;
      const tasks = [0, 1, 2].map(async (i) => {
        const release = await rw.acquireWrite();
        order.push(i);
        expect(rw.isWriteLocked()).toBe(true);
        expect(rw.waiterCount).toBe(2 - i);
        await Promise.resolve();
        release();
      });
      write();
      await Promise.all(tasks);
      expect(order).toEqual([0, 1, 2]);
      expect(String(rw)).toBe('ReaderWriterLock [unlocked, waiters:0]');
    });

    it('serves readers and writers in arrival order under contention: neither kind starves', async () => {
      const rw = new ReaderWriterLock();
      const log: string[] = [];
      let readers = 0;
      let writers = 0;
      let overlaps = 0;
      const reader = (name: string, rounds: number) => async () => {
        for (let i = 0; i < rounds; i++) {
          await rw.runRead(async () => {
            readers++;
            if (writers > 0) overlaps++;
            log.push(name);
            await Promise.resolve();
            readers--;
          });
        }
      };
      const writer = (name: string, rounds: number) => async () => {
        for (let i = 0; i < rounds; i++) {
          await rw.runWrite(async () => {
            writers++;
            if (readers > 0 || writers > 1) overlaps++;
            log.push(name);
            await Promise.resolve();
            writers--;
          });
        }
      };
      const hold = rw.tryAcquireWrite() as Releaser;
      const tasks = [reader('r1', 3), writer('w', 3), reader('r2', 3)].map((task) => task());
      hold();
      await Promise.all(tasks);
      expect(overlaps).toBe(0);
      expect(log.filter((name) => name === 'w')).toHaveLength(3);
      expect(log).toHaveLength(9);
      // The writer, queued behind r1 only, goes second: the readers coming later wait behind it.
      expect(log.slice(0, 2)).toEqual(['r1', 'w']);
      // Between two writer turns the readers that queued meanwhile have one: neither kind starves.
      const turns = log.join(' ');
      expect(turns).not.toMatch(/\bw w\b/);
      expect(turns.indexOf('r2')).toBeLessThan(turns.lastIndexOf('w'));
      expect(String(rw)).toBe('ReaderWriterLock [unlocked, waiters:0]');
    });

    it('a reader that releases and re-acquires at once queues behind a waiting writer (no barging)', async () => {
      const rw = new ReaderWriterLock();
      const read = rw.tryAcquireRead() as Releaser;
      const other = rw.tryAcquireRead() as Releaser;
      const writer = track(rw.acquireWrite());
      read();
      const again = track(rw.acquireRead());
      expect(rw.readers).toBe(1);
      expect(rw.waiterCount).toBe(2);
      other();
      expect(rw.isWriteLocked()).toBe(true);
      await flushMicrotasks();
      expect(again.status).toBe('pending');
      releaserOf(writer)();
      await flushMicrotasks();
      releaserOf(again)();
      expectNothingLeftFake(rw);
    });
  });

  describe('a wait that gives up at the head lets whoever now fits in, in the same step', () => {
    it('an aborted head writer lets the run of readers behind it join the readers, by the time abort() returns', async () => {
      const rw = new ReaderWriterLock();
      const read = rw.tryAcquireRead() as Releaser;
      const controller = new AbortController();
      const writer = track(rw.acquireWrite({ signal: controller.signal }));
      const readers = [track(rw.acquireRead()), track(rw.acquireRead({ timeout: 1_000 }))];
      const nextWriter = track(rw.acquireWrite());
      const behind = track(rw.acquireRead());
      expect(rw.waiterCount).toBe(5);
      controller.abort('changed my mind');
      // Before any microtask: the two readers hold, the second writer heads the queue.
      expect(rw.readers).toBe(3);
      expect(rw.waiterCount).toBe(2);
      expect(String(rw)).toBe('ReaderWriterLock [readers:3, waiters:2]');
      await flushMicrotasks();
      expect(writer.reason).toBe('changed my mind');
      const releases = readers.map(releaserOf);
      expect(nextWriter.status).toBe('pending');
      expect(behind.status).toBe('pending');
      read();
      for (const release of releases) release();
      expect(rw.isWriteLocked()).toBe(true);
      await flushMicrotasks();
      releaserOf(nextWriter)();
      await flushMicrotasks();
      releaserOf(behind)();
      expectNothingLeftFake(rw, [controller.signal]);
    });

    it('a head writer that times out lets the readers behind it in when its timer fires', async () => {
      const rw = new ReaderWriterLock({ name: 'db' });
      const read = rw.tryAcquireRead() as Releaser;
      const writer = track(rw.acquireWrite({ timeout: 50 }));
      const readers = [track(rw.acquireRead()), track(rw.acquireRead())];
      vi.advanceTimersByTime(49);
      expect(rw.readers).toBe(1);
      expect(rw.waiterCount).toBe(3);
      vi.advanceTimersByTime(1);
      expect(rw.readers).toBe(3);
      expect(rw.waiterCount).toBe(0);
      await flushMicrotasks();
      expectTimeoutError(writer.reason);
      expect(writer.reason.message).toBe('ReaderWriterLock "db": acquireWrite() timed out after 50 ms');
      const releases = readers.map(releaserOf);
      read();
      for (const release of releases) release();
      expect(String(rw)).toBe('ReaderWriterLock "db" [unlocked, waiters:0]');
      expectNothingLeftFake(rw);
    });

    it.each([
      ['aborted', (controller: AbortController) => controller.abort('stop')],
      ['timed out', () => vi.advanceTimersByTime(20)],
    ])('a head runWrite() that is %s lets the readers behind it in, and never runs', async (_, giveUp) => {
      const rw = new ReaderWriterLock();
      const read = rw.tryAcquireRead() as Releaser;
      const controller = new AbortController();
      const fn = vi.fn();
      const writing = track(rw.runWrite(fn, { signal: controller.signal, timeout: 20 }));
      const reading = deferred<string>();
      const running = track(rw.runRead(() => reading.promise));
      const after = track(rw.acquireRead());
      giveUp(controller);
      expect(rw.readers).toBe(3);
      expect(rw.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(writing.status).toBe('rejected');
      expect(fn).not.toHaveBeenCalled();
      reading.resolve('read');
      await flushMicrotasks();
      expect(running.value).toBe('read');
      expect(rw.readers).toBe(2);
      read();
      releaserOf(after)();
      expect(rw.readers).toBe(0);
      expectNothingLeftFake(rw, [controller.signal]);
    });

    it('an aborted head writer with another writer behind it grants nothing while readers hold', async () => {
      const rw = new ReaderWriterLock();
      const read = rw.tryAcquireRead() as Releaser;
      const controller = new AbortController();
      const first = track(rw.acquireWrite({ signal: controller.signal }));
      const second = track(rw.acquireWrite());
      const reader = track(rw.acquireRead());
      controller.abort();
      expect(rw.readers).toBe(1);
      expect(rw.waiterCount).toBe(2);
      await flushMicrotasks();
      expect(first.status).toBe('rejected');
      expect(second.status).toBe('pending');
      expect(reader.status).toBe('pending');
      read();
      expect(rw.isWriteLocked()).toBe(true);
      await flushMicrotasks();
      releaserOf(second)();
      await flushMicrotasks();
      releaserOf(reader)();
      expectNothingLeftFake(rw, [controller.signal]);
    });

    it('an aborted head reader grants nothing while the writer holds: the reader behind it keeps waiting', async () => {
      const rw = new ReaderWriterLock();
      const write = rw.tryAcquireWrite() as Releaser;
      const controller = new AbortController();
      const first = track(rw.acquireRead({ signal: controller.signal }));
      const second = track(rw.acquireRead());
      controller.abort();
      expect(rw.isWriteLocked()).toBe(true);
      expect(rw.readers).toBe(0);
      expect(rw.waiterCount).toBe(1);
      await flushMicrotasks();
      expect(first.status).toBe('rejected');
      expect(second.status).toBe('pending');
      write();
      expect(rw.readers).toBe(1);
      await flushMicrotasks();
      releaserOf(second)();
      expectNothingLeftFake(rw, [controller.signal]);
    });

    it('one abort that ends several waits of both kinds on a shared signal grants every reader that now fits', async () => {
      const rw = new ReaderWriterLock();
      const read = rw.tryAcquireRead() as Releaser;
      const shared = new AbortController();
      const w1 = track(rw.acquireWrite({ signal: shared.signal }));
      const r1 = track(rw.acquireRead());
      const w2 = track(rw.runWrite(() => 'never', { signal: shared.signal, timeout: 100 }));
      const r2 = track(rw.acquireRead({ signal: new AbortController().signal }));
      const w3 = track(rw.acquireWrite());
      const r3 = track(rw.acquireRead({ signal: shared.signal }));
      const r4 = track(rw.acquireRead());
      shared.abort('all of them');
      expect(rw.readers).toBe(3);
      expect(rw.waiterCount).toBe(2);
      await flushMicrotasks();
      expect([w1.reason, w2.reason, r3.reason]).toEqual(['all of them', 'all of them', 'all of them']);
      const releases = [r1, r2].map(releaserOf);
      expect(w3.status).toBe('pending');
      expect(r4.status).toBe('pending');
      read();
      for (const release of releases) release();
      await flushMicrotasks();
      releaserOf(w3)();
      await flushMicrotasks();
      releaserOf(r4)();
      expectNothingLeftFake(rw, [shared.signal]);
    });

    it('one abort never grants a wait on the aborted signal on the way: every wait on it rejects', async () => {
      const rw = new ReaderWriterLock();
      const read = rw.tryAcquireRead() as Releaser;
      const shared = new AbortController();
      const other = new AbortController();
      // The cancel of the head writer would let the readers behind it in, but two of them wait
      // on the same signal: they were pending when it aborted, so they reject with its reason.
      const writer = track(rw.acquireWrite({ signal: shared.signal }));
      const sameSignal = track(rw.acquireRead({ signal: shared.signal }));
      const otherSignal = track(rw.acquireRead({ signal: other.signal }));
      const fn = vi.fn();
      const sameSignalRun = track(rw.runRead(fn, { signal: shared.signal, timeout: 100 }));
      const plain = track(rw.acquireRead());
      shared.abort('all of them');
      expect(rw.readers).toBe(3);
      expect(rw.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(writer.reason).toBe('all of them');
      expect(sameSignal.status).toBe('rejected');
      expect(sameSignal.reason).toBe('all of them');
      expect(sameSignalRun.reason).toBe('all of them');
      expect(fn).not.toHaveBeenCalled();
      releaserOf(otherSignal)();
      releaserOf(plain)();
      read();
      expect(String(rw)).toBe('ReaderWriterLock [unlocked, waiters:0]');
      expectNothingLeftFake(rw, [shared.signal, other.signal]);
    });
  });

  describe('a wait that gives up in the middle changes nothing else', () => {
    it('an aborted writer in the middle leaves the head and the others waiting, in order', async () => {
      const rw = new ReaderWriterLock();
      const read = rw.tryAcquireRead() as Releaser;
      const controller = new AbortController();
      const head = track(rw.acquireWrite());
      const middle = track(rw.acquireWrite({ signal: controller.signal }));
      const reader = track(rw.acquireRead());
      const before = String(rw);
      controller.abort('gone');
      expect(rw.readers).toBe(1);
      expect(rw.waiterCount).toBe(2);
      expect(String(rw)).toBe(before.replace('waiters:3', 'waiters:2'));
      await flushMicrotasks();
      expect(middle.reason).toBe('gone');
      expect(head.status).toBe('pending');
      expect(reader.status).toBe('pending');
      read();
      expect(rw.isWriteLocked()).toBe(true);
      await flushMicrotasks();
      // The reader is no longer behind a writer: the head writer's release lets it in.
      releaserOf(head)();
      expect(rw.readers).toBe(1);
      await flushMicrotasks();
      releaserOf(reader)();
      expectNothingLeftFake(rw, [controller.signal]);
    });

    it('a writer that times out between two runs of readers merges them into one run', async () => {
      const rw = new ReaderWriterLock();
      const write = rw.tryAcquireWrite() as Releaser;
      const first = track(rw.acquireRead());
      const between = track(rw.acquireWrite({ timeout: 10 }));
      const second = track(rw.acquireRead());
      vi.advanceTimersByTime(10);
      // The writer still holds: nothing is granted.
      expect(rw.isWriteLocked()).toBe(true);
      expect(rw.waiterCount).toBe(2);
      await flushMicrotasks();
      expectTimeoutError(between.reason);
      expect(first.status).toBe('pending');
      write();
      expect(rw.readers).toBe(2);
      expect(rw.waiterCount).toBe(0);
      await flushMicrotasks();
      releaserOf(first)();
      releaserOf(second)();
      expectNothingLeftFake(rw);
    });

    it('a reader that times out in the middle changes nothing else', async () => {
      const rw = new ReaderWriterLock();
      const write = rw.tryAcquireWrite() as Releaser;
      const r1 = track(rw.acquireRead());
      const w2 = track(rw.acquireWrite());
      const r3 = track(rw.acquireRead({ timeout: 10 }));
      const r4 = track(rw.acquireRead());
      vi.advanceTimersByTime(10);
      expect(rw.waiterCount).toBe(3);
      expect(rw.isWriteLocked()).toBe(true);
      write();
      expect(rw.readers).toBe(1);
      await flushMicrotasks();
      expectTimeoutError(r3.reason);
      releaserOf(r1)();
      expect(rw.isWriteLocked()).toBe(true);
      await flushMicrotasks();
      releaserOf(w2)();
      expect(rw.readers).toBe(1);
      await flushMicrotasks();
      releaserOf(r4)();
      expectNothingLeftFake(rw);
    });
  });

  describe('tryAcquireRead() and tryAcquireWrite()', () => {
    it('take a free lock and return a Releaser', () => {
      const rw = new ReaderWriterLock();
      const read = rw.tryAcquireRead();
      expectReleaser(read);
      expect(rw.readers).toBe(1);
      expect(rw.tryAcquireWrite()).toBeUndefined();
      read();
      const write = rw.tryAcquireWrite();
      expectReleaser(write);
      expect(rw.isWriteLocked()).toBe(true);
      expect(rw.tryAcquireRead()).toBeUndefined();
      expect(rw.tryAcquireWrite()).toBeUndefined();
      write();
      expect(String(rw)).toBe('ReaderWriterLock [unlocked, waiters:0]');
    });

    it('never barge past a waiting writer, and take a read hold again once it gave up', () => {
      const rw = new ReaderWriterLock();
      const read = rw.tryAcquireRead() as Releaser;
      const controller = new AbortController();
      track(rw.acquireWrite({ signal: controller.signal }));
      expect(rw.tryAcquireRead()).toBeUndefined();
      expect(rw.tryAcquireWrite()).toBeUndefined();
      expect(rw.readers).toBe(1);
      controller.abort();
      const again = rw.tryAcquireRead();
      expectReleaser(again);
      expect(rw.readers).toBe(2);
      again();
      read();
      expectNothingLeftFake(rw, [controller.signal]);
    });

    it('never barge past waiting readers: after the writer releases, the readers hold it', async () => {
      const rw = new ReaderWriterLock();
      const write = rw.tryAcquireWrite() as Releaser;
      const reader = track(rw.acquireRead());
      expect(rw.tryAcquireRead()).toBeUndefined();
      write();
      expect(rw.tryAcquireWrite()).toBeUndefined();
      // The queue is empty now: a read hold joins the granted reader.
      const joined = rw.tryAcquireRead() as Releaser;
      expect(rw.readers).toBe(2);
      joined();
      await flushMicrotasks();
      releaserOf(reader)();
      expect(rw.readers).toBe(0);
    });

    it('a writer that waits on a writer hold keeps tryAcquireWrite() out after the release', async () => {
      const rw = new ReaderWriterLock();
      const write = rw.tryAcquireWrite() as Releaser;
      const writer = track(rw.acquireWrite());
      write();
      expect(rw.tryAcquireWrite()).toBeUndefined();
      expect(rw.tryAcquireRead()).toBeUndefined();
      await flushMicrotasks();
      releaserOf(writer)();
      expect(rw.isWriteLocked()).toBe(false);
    });
  });

  describe('Releaser', () => {
    it("a read Releaser releases its own hold once: a second call never releases another reader's hold", async () => {
      const rw = new ReaderWriterLock();
      const r1 = await rw.acquireRead();
      const r2 = rw.tryAcquireRead() as Releaser;
      r1();
      r1();
      r1[Symbol.dispose]();
      expect(rw.readers).toBe(1);
      const writer = track(rw.acquireWrite());
      r1();
      expect(rw.isWriteLocked()).toBe(false);
      expect(rw.waiterCount).toBe(1);
      r2();
      expect(rw.isWriteLocked()).toBe(true);
      r2();
      r2[Symbol.dispose]();
      expect(rw.isWriteLocked()).toBe(true);
      await flushMicrotasks();
      releaserOf(writer)();
      expect(rw.isWriteLocked()).toBe(false);
    });

    it('a write Releaser called again after the next writer took over does nothing', async () => {
      const rw = new ReaderWriterLock();
      const w1 = await rw.acquireWrite();
      const next = track(rw.acquireWrite());
      const reader = track(rw.acquireRead());
      w1();
      w1();
      w1[Symbol.dispose]();
      expect(rw.isWriteLocked()).toBe(true);
      expect(rw.waiterCount).toBe(1);
      await flushMicrotasks();
      expect(reader.status).toBe('pending');
      const w2 = releaserOf(next);
      w2[Symbol.dispose]();
      expect(rw.readers).toBe(1);
      w2();
      w1();
      expect(rw.readers).toBe(1);
      expect(rw.isWriteLocked()).toBe(false);
      await flushMicrotasks();
      releaserOf(reader)();
    });

    it('Symbol.dispose, which `using` calls at the end of its block, releases the hold', async () => {
      const rw = new ReaderWriterLock();
      // What `using release = await rw.acquireWrite()` does, written out.
      const block = async (fail: boolean) => {
        const release = await rw.acquireWrite();
        try {
          expect(rw.isWriteLocked()).toBe(true);
          if (fail) throw new Error('boom');
        } finally {
          release[Symbol.dispose]();
        }
      };
      await block(false);
      expect(rw.isWriteLocked()).toBe(false);
      await expect(block(true)).rejects.toThrow('boom');
      expect(rw.isWriteLocked()).toBe(false);
      const read = await rw.acquireRead();
      expect(read[Symbol.dispose]).toBe(read);
      read[Symbol.dispose]();
      expect(rw.readers).toBe(0);
    });

    it('each hold gets its own Releaser', async () => {
      const rw = new ReaderWriterLock();
      const a = await rw.acquireRead();
      const b = await rw.acquireRead();
      expect(a).not.toBe(b);
      const c = rw.tryAcquireRead() as Releaser;
      expect(c).not.toBe(a);
      a();
      c();
      expect(rw.readers).toBe(1);
      b();
      expect(rw.readers).toBe(0);
    });
  });

  describe('runRead() and runWrite()', () => {
    it('runRead() calls a free lock fn before returning, under a read hold, and releases when it returns', async () => {
      const rw = new ReaderWriterLock();
      const seen: number[] = [];
      const result = rw.runRead(() => {
        seen.push(rw.readers);
        return 42;
      });
      expect(seen).toEqual([1]);
      expect(rw.readers).toBe(0);
      expect(await result).toBe(42);
    });

    it('runWrite() calls a free lock fn before returning, under the write hold, and releases when it returns', async () => {
      const rw = new ReaderWriterLock();
      const seen: boolean[] = [];
      const result = rw.runWrite(() => {
        seen.push(rw.isWriteLocked());
        return 'written';
      });
      expect(seen).toEqual([true]);
      expect(rw.isWriteLocked()).toBe(false);
      expect(await result).toBe('written');
    });

    it('runRead() fns run together; a runWrite() waits for all of them and runs alone', async () => {
      const rw = new ReaderWriterLock();
      const a = deferred<string>();
      const b = deferred<string>();
      const writeFn = vi.fn(() => rw.isWriteLocked());
      const ra = track(rw.runRead(() => a.promise));
      const rb = track(rw.runRead(() => b.promise));
      expect(rw.readers).toBe(2);
      const w = track(rw.runWrite(writeFn));
      const rc = track(rw.runRead(() => rw.readers));
      expect(rw.waiterCount).toBe(2);
      a.resolve('a');
      await flushMicrotasks();
      expect(ra.value).toBe('a');
      expect(writeFn).not.toHaveBeenCalled();
      expect(rw.readers).toBe(1);
      b.resolve('b');
      await flushMicrotasks();
      expect(rb.value).toBe('b');
      expect(w.value).toBe(true);
      expect(rc.value).toBe(1);
      expect(String(rw)).toBe('ReaderWriterLock [unlocked, waiters:0]');
      expectNothingLeftFake(rw);
    });

    it('a runWrite() in progress keeps runRead() and acquireRead() waiting until it settles', async () => {
      const rw = new ReaderWriterLock();
      const work = deferred<number>();
      const writing = track(rw.runWrite(() => work.promise));
      const readFn = vi.fn(() => rw.readers);
      const reading = track(rw.runRead(readFn));
      const reader = track(rw.acquireRead());
      await flushMicrotasks();
      expect(readFn).not.toHaveBeenCalled();
      expect(reader.status).toBe('pending');
      expect(rw.isWriteLocked()).toBe(true);
      work.resolve(7);
      await flushMicrotasks();
      expect(writing.value).toBe(7);
      // Both readers were granted together; the runRead saw them both.
      expect(reading.value).toBe(2);
      expect(rw.readers).toBe(1);
      releaserOf(reader)();
      expectNothingLeftFake(rw);
    });

    it('serves runRead, runWrite and acquire callers from one FIFO queue', async () => {
      const rw = new ReaderWriterLock();
      const order: string[] = [];
      const hold = rw.tryAcquireWrite() as Releaser;
      const tasks = [
        rw.runRead(() => void order.push('runRead a')),
        rw.acquireRead().then((release) => {
          order.push('acquireRead b');
          release();
        }),
        rw.runWrite(async () => {
          await Promise.resolve();
          order.push('runWrite c');
        }),
        rw.acquireWrite().then((release) => {
          order.push('acquireWrite d');
          release();
        }),
        rw.runRead(() => void order.push('runRead e')),
      ];
      expect(rw.waiterCount).toBe(5);
      hold();
      await Promise.all(tasks);
      expect(order).toEqual(['runRead a', 'acquireRead b', 'runWrite c', 'acquireWrite d', 'runRead e']);
      expect(String(rw)).toBe('ReaderWriterLock [unlocked, waiters:0]');
    });

    describe.each(['runRead', 'runWrite'] as const)('%s()', (method) => {
      /** Whether the lock is free now: both kinds of hold can be taken and given back. */
      const expectFree = (rw: ReaderWriterLock) => {
        expect(rw.readers).toBe(0);
        expect(rw.isWriteLocked()).toBe(false);
        const write = rw.tryAcquireWrite();
        expectReleaser(write);
        write();
        expect(String(rw)).toMatch(/^ReaderWriterLock (?:"db" )?\[unlocked, waiters:0\]$/);
      };

      it('releases and rejects, without throwing, when fn throws synchronously', async () => {
        const rw = new ReaderWriterLock();
        const error = new Error('sync failure');
        const promise = callWithoutThrowing(() =>
          rw[method](() => {
            throw error;
          }),
        );
        expectFree(rw);
        expect(await rejectionOf(promise)).toBe(error);
      });

      it('releases and rejects when fn rejects, handing the lock on', async () => {
        const rw = new ReaderWriterLock();
        const error = new Error('async failure');
        const failing = track(
          rw[method](async () => {
            await Promise.resolve();
            throw error;
          }),
        );
        const next = track(rw.acquireWrite());
        await flushMicrotasks();
        expect(failing.reason).toBe(error);
        releaserOf(next)();
        expectFree(rw);
      });

      it('releases when fn throws after the lock was handed to it', async () => {
        const rw = new ReaderWriterLock();
        const hold = (method === 'runRead' ? rw.tryAcquireWrite() : rw.tryAcquireRead()) as Releaser;
        const error = new Error('late failure');
        const failing = track(
          rw[method](() => {
            throw error;
          }),
        );
        hold();
        await flushMicrotasks();
        expect(failing.reason).toBe(error);
        expectFree(rw);
      });

      it('awaits a plain thenable that fn returns', async () => {
        const rw = new ReaderWriterLock();
        const thenable: PromiseLike<string> = {
          // biome-ignore lint/suspicious/noThenProperty: a plain thenable on purpose.
          then: (onFulfilled) => Promise.resolve(onFulfilled?.('thenable')) as never,
        };
        expect(await rw[method](() => thenable)).toBe('thenable');
        expectFree(rw);
      });

      it('releases and rejects when fn returns a promise whose constructor getter throws', async () => {
        const rw = new ReaderWriterLock();
        const error = new Error('constructor getter');
        const hostile = Promise.resolve('value');
        Object.defineProperty(hostile, 'constructor', {
          get() {
            throw error;
          },
        });
        const promise = callWithoutThrowing(() => rw[method](() => hostile));
        expect(await rejectionOf(promise)).toBe(error);
        expectFree(rw);
      });

      it('releases once when fn returns a native promise whose own then calls back synchronously and throws', async () => {
        const rw = new ReaderWriterLock();
        const error = new Error('own then');
        const hostile = Promise.resolve('value');
        Object.defineProperty(hostile, 'then', {
          value(onFulfilled: (value: string) => void) {
            onFulfilled('early');
            throw error;
          },
        });
        // Another reader holds throughout: a second release of a read hold would take its permit.
        const other = rw.tryAcquireRead();
        const promise = callWithoutThrowing(() => rw[method](() => hostile));
        other?.();
        expect(await promise).toBe('value');
        expectFree(rw);
        const r1 = rw.tryAcquireRead() as Releaser;
        expect(rw.readers).toBe(1);
        r1();
      });

      it('rejects with a TypeError naming fn, without throwing or taking the lock, when fn is not a function', async () => {
        const rw = new ReaderWriterLock();
        const error = await rejectionOf(callWithoutThrowing(() => rw[method]('nope' as never)));
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toMatch(/\bfn\b/);
        expectFree(rw);
      });

      it.each<[string, unknown, ErrorConstructor, RegExp]>([
        ['options null', null, TypeError, /\boptions\b/],
        ['an unknown key', { timout: 5 }, TypeError, /"timout"/],
        ['a negative timeout', { timeout: -1 }, RangeError, /\btimeout\b/],
        ['a signal that is not one', { signal: {} }, TypeError, /\bsignal\b/],
      ])('rejects %s without throwing, calling fn or taking the lock', async (_, options, type, names) => {
        const rw = new ReaderWriterLock();
        const fn = vi.fn();
        const error = await rejectionOf(callWithoutThrowing(() => rw[method](fn, options as WaitOptions)));
        expect(error).toBeInstanceOf(type);
        expect((error as Error).message).toMatch(names);
        expect(fn).not.toHaveBeenCalled();
        expectFree(rw);
      });

      it('never calls fn when the acquire is aborted, times out, starts aborted or has timeout 0', async () => {
        const { rw, hold } = blockedFor(method, { name: 'db' });
        const fn = vi.fn(() => 'ran');
        const controller = new AbortController();
        const aborted = track(rw[method](fn, { signal: controller.signal }));
        const timedOut = track(rw[method](fn, { timeout: 10 }));
        const preAborted = track(rw[method](fn, { signal: AbortSignal.abort('before') }));
        const zero = track(rw[method](fn, { timeout: 0 }));
        expect(rw.waiterCount).toBe(2);
        controller.abort('during');
        vi.advanceTimersByTime(10);
        expect(rw.waiterCount).toBe(0);
        await flushMicrotasks();
        expect(aborted.reason).toBe('during');
        expectTimeoutError(timedOut.reason);
        expect(timedOut.reason.message).toBe(`ReaderWriterLock "db": ${verbOf(method)}() timed out after 10 ms`);
        expect(preAborted.reason).toBe('before');
        expectTimeoutError(zero.reason);
        expect(zero.reason.message).toBe(`ReaderWriterLock "db": ${verbOf(method)}() timed out after 0 ms`);
        hold();
        await flushMicrotasks();
        expect(fn).not.toHaveBeenCalled();
        expectFree(rw);
        expectNothingLeftFake(rw, [controller.signal]);
      });

      it('runs fn to completion when its signal aborts after the lock was handed to it', async () => {
        const { rw, hold } = blockedFor(method);
        const controller = new AbortController();
        const running = track(
          rw[method](
            async () => {
              await Promise.resolve();
              return 'finished';
            },
            { signal: controller.signal, timeout: 50 },
          ),
        );
        hold();
        controller.abort();
        vi.advanceTimersByTime(50);
        await flushMicrotasks();
        expect(running.value).toBe('finished');
        expectFree(rw);
        expectNothingLeftFake(rw, [controller.signal]);
      });
    });
  });

  describe('signal, timeout and options (README, API section: the rules every wait follows)', () => {
    it.each(METHODS)(
      '%s() with an already-aborted signal rejects with its reason at once, even on a free lock, registering nothing',
      async (method) => {
        const rw = new ReaderWriterLock();
        const controller = new AbortController();
        const reason = { why: 'already' };
        controller.abort(reason);
        const fn = vi.fn();
        const outcome = track(call(rw, method, { signal: controller.signal, timeout: 100 }, fn));
        expect(rw.readers).toBe(0);
        expect(rw.isWriteLocked()).toBe(false);
        expect(rw.waiterCount).toBe(0);
        expect(abortListeners(controller.signal)).toBe(0);
        expect(vi.getTimerCount()).toBe(0);
        await flushMicrotasks();
        expect(outcome.reason).toBe(reason);
        expect(fn).not.toHaveBeenCalled();
        expect(String(rw)).toBe('ReaderWriterLock [unlocked, waiters:0]');
        expectNothingLeftFake(rw, [controller.signal]);
      },
    );

    it.each(METHODS)(
      '%s() times out with a TimeoutError DOMException naming the lock and the method',
      async (method) => {
        const { rw, hold } = blockedFor(method, { name: 'db' });
        const unnamed = blockedFor(method);
        const named = track(call(rw, method, { timeout: 25 }));
        const plain = track(call(unnamed.rw, method, { timeout: 25 }));
        vi.advanceTimersByTime(24);
        await flushMicrotasks();
        expect(named.status).toBe('pending');
        vi.advanceTimersByTime(1);
        expect(rw.waiterCount).toBe(0);
        await flushMicrotasks();
        expectTimeoutError(named.reason);
        expect(named.reason.message).toBe(`ReaderWriterLock "db": ${verbOf(method)}() timed out after 25 ms`);
        expectTimeoutError(plain.reason);
        expect(plain.reason.message).toBe(`ReaderWriterLock: ${verbOf(method)}() timed out after 25 ms`);
        hold();
        unnamed.hold();
        expectNothingLeftFake(rw);
        expectNothingLeftFake(unnamed.rw);
      },
    );

    it('timeout: 0 takes a read hold now when readers hold and nobody waits', async () => {
      const rw = new ReaderWriterLock();
      const read = rw.tryAcquireRead() as Releaser;
      const now = await rw.acquireRead({ timeout: 0 });
      expect(rw.readers).toBe(2);
      expect(await rw.runRead(() => rw.readers, { timeout: 0 })).toBe(3);
      now();
      read();
      expect(await rw.runWrite(() => rw.isWriteLocked(), { timeout: 0 })).toBe(true);
      const write = await rw.acquireWrite({ timeout: 0 });
      expect(rw.isWriteLocked()).toBe(true);
      write();
      expectNothingLeftFake(rw);
    });

    it('timeout: 0 rejects at once, without counting as a waiter, when a writer waits ahead of a reader', async () => {
      const rw = new ReaderWriterLock({ name: 'db' });
      const read = rw.tryAcquireRead() as Releaser;
      const writer = track(rw.acquireWrite());
      const controller = new AbortController();
      const zero = track(rw.acquireRead({ timeout: 0, signal: controller.signal }));
      expect(rw.waiterCount).toBe(1);
      expect(rw.readers).toBe(1);
      expect(vi.getTimerCount()).toBe(0);
      expect(abortListeners(controller.signal)).toBe(0);
      await flushMicrotasks();
      expectTimeoutError(zero.reason);
      expect(zero.reason.message).toBe('ReaderWriterLock "db": acquireRead() timed out after 0 ms');
      const writeZero = await rejectionOf(rw.acquireWrite({ timeout: 0 }));
      expectTimeoutError(writeZero);
      expect(writeZero.message).toBe('ReaderWriterLock "db": acquireWrite() timed out after 0 ms');
      read();
      await flushMicrotasks();
      releaserOf(writer)();
      expectNothingLeftFake(rw, [controller.signal]);
    });

    it.each(METHODS)(
      '%s() rejects invalid options, never throwing, with an error naming the option',
      async (method) => {
        const rw = new ReaderWriterLock();
        const cases: Array<[unknown, ErrorConstructor, RegExp]> = [
          [null, TypeError, /\boptions\b/],
          ['fast', TypeError, /\boptions\b/],
          [{ timeout: '5' }, TypeError, /\btimeout\b/],
          [{ timeout: -1 }, RangeError, /\btimeout\b/],
          [{ timeout: Number.NaN }, RangeError, /\btimeout\b/],
          [{ signal: new EventTarget() }, TypeError, /\bsignal\b/],
          [{ timout: 5 }, TypeError, /"timout"/],
          [{ timeout: 5, weight: 2 }, TypeError, /"weight"/],
        ];
        for (const [options, type, names] of cases) {
          const error = await rejectionOf(callWithoutThrowing(() => call(rw, method, options as WaitOptions)));
          expect(error).toBeInstanceOf(type);
          expect((error as Error).message).toMatch(names);
        }
        expect(String(rw)).toBe('ReaderWriterLock [unlocked, waiters:0]');
        expectNothingLeftFake(rw);
      },
    );

    it('keeps a granted hold when its signal aborts or its timeout would have elapsed afterwards', async () => {
      const rw = new ReaderWriterLock();
      const write = rw.tryAcquireWrite() as Releaser;
      const controller = new AbortController();
      const reader = track(rw.acquireRead({ signal: controller.signal, timeout: 100 }));
      const writer = track(rw.acquireWrite({ signal: controller.signal, timeout: 100 }));
      write();
      const after = String(rw);
      controller.abort('too late');
      vi.advanceTimersByTime(200);
      // The reader was granted before the abort; the writer behind it was not.
      expect(String(rw)).toBe(after.replace('waiters:1', 'waiters:0'));
      expect(rw.readers).toBe(1);
      await flushMicrotasks();
      expect(writer.reason).toBe('too late');
      releaserOf(reader)();
      expect(rw.readers).toBe(0);
      expectNothingLeftFake(rw, [controller.signal]);
    });
  });

  describe('nothing left behind, however a wait ends', () => {
    /**
     * Each path ends waits on `rw` (some with signals and timeouts) and returns the signals they
     * used; the test then checks that no waiter, fake timer or listener is left.
     */
    const paths: Array<[string, (rw: ReaderWriterLock) => Promise<AbortSignal[]>]> = [
      [
        'head writer aborted while readers hold',
        async (rw) => {
          rw.tryAcquireRead();
          const controller = new AbortController();
          const other = new AbortController();
          const writer = track(rw.acquireWrite({ signal: controller.signal, timeout: 100 }));
          const reader = track(rw.acquireRead({ signal: other.signal, timeout: 200 }));
          controller.abort();
          await flushMicrotasks();
          expect([writer.status, reader.status]).toEqual(['rejected', 'fulfilled']);
          return [controller.signal, other.signal];
        },
      ],
      [
        'head writer timed out while readers hold',
        async (rw) => {
          rw.tryAcquireRead();
          const controller = new AbortController();
          const writer = track(rw.acquireWrite({ signal: controller.signal, timeout: 10 }));
          const reader = track(rw.acquireRead({ signal: controller.signal, timeout: 200 }));
          vi.advanceTimersByTime(10);
          await flushMicrotasks();
          expect([writer.status, reader.status]).toEqual(['rejected', 'fulfilled']);
          return [controller.signal];
        },
      ],
      [
        'writer in the middle aborted',
        async (rw) => {
          const read = rw.tryAcquireRead() as Releaser;
          const controller = new AbortController();
          const head = track(rw.acquireWrite({ timeout: 100 }));
          const middle = track(rw.acquireWrite({ signal: controller.signal, timeout: 100 }));
          const tail = track(rw.acquireRead({ timeout: 100 }));
          controller.abort();
          read();
          await flushMicrotasks();
          releaserOf(head)();
          await flushMicrotasks();
          expect([middle.status, tail.status]).toEqual(['rejected', 'fulfilled']);
          return [controller.signal];
        },
      ],
      [
        'reader aborted and reader timed out behind a writer hold',
        async (rw) => {
          rw.tryAcquireWrite();
          const controller = new AbortController();
          const aborted = track(rw.acquireRead({ signal: controller.signal, timeout: 100 }));
          const timedOut = track(rw.acquireRead({ signal: new AbortController().signal, timeout: 5 }));
          controller.abort();
          vi.advanceTimersByTime(5);
          await flushMicrotasks();
          expect([aborted.status, timedOut.status]).toEqual(['rejected', 'rejected']);
          return [controller.signal];
        },
      ],
      [
        'runRead aborted and runWrite timed out',
        async (rw) => {
          rw.tryAcquireWrite();
          const controller = new AbortController();
          const reading = track(rw.runRead(() => 1, { signal: controller.signal, timeout: 100 }));
          const writing = track(rw.runWrite(() => 2, { signal: controller.signal, timeout: 5 }));
          vi.advanceTimersByTime(5);
          controller.abort();
          await flushMicrotasks();
          expect([reading.status, writing.status]).toEqual(['rejected', 'rejected']);
          return [controller.signal];
        },
      ],
      [
        'granted, then the signal aborts and the timeout would elapse',
        async (rw) => {
          const write = rw.tryAcquireWrite() as Releaser;
          const controller = new AbortController();
          const reader = track(rw.acquireRead({ signal: controller.signal, timeout: 100 }));
          const running = track(rw.runWrite(() => 'ran', { signal: controller.signal, timeout: 100 }));
          write();
          await flushMicrotasks();
          releaserOf(reader)();
          controller.abort();
          vi.advanceTimersByTime(100);
          await flushMicrotasks();
          expect(running.value).toBe('ran');
          return [controller.signal];
        },
      ],
      [
        'already-aborted signal and timeout: 0',
        async (rw) => {
          const read = rw.tryAcquireRead() as Releaser;
          const writer = track(rw.acquireWrite());
          const controller = new AbortController();
          controller.abort();
          const outcomes = [
            track(rw.acquireRead({ signal: controller.signal, timeout: 100 })),
            track(rw.acquireWrite({ signal: controller.signal })),
            track(rw.acquireRead({ timeout: 0 })),
            track(rw.runWrite(() => 0, { timeout: 0 })),
          ];
          expect(rw.waiterCount).toBe(1);
          await flushMicrotasks();
          expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
          read();
          await flushMicrotasks();
          releaserOf(writer)();
          return [controller.signal];
        },
      ],
    ];

    it.each(paths)('under fake timers: %s', async (_, path) => {
      const rw = new ReaderWriterLock();
      const signals = await path(rw);
      expectNothingLeftFake(rw, signals);
    });

    it('with real timers: no timer and no listener one macrotask after head writers give up', async () => {
      vi.useRealTimers();
      const rw = new ReaderWriterLock();
      const baseline = activeTimeouts();
      const read = rw.tryAcquireRead() as Releaser;
      const controller = new AbortController();
      const other = new AbortController();
      const writer = track(rw.acquireWrite({ signal: controller.signal, timeout: 60_000 }));
      const reader = track(rw.acquireRead({ signal: other.signal, timeout: 60_000 }));
      const runWriter = track(rw.runWrite(() => 'never', { signal: other.signal, timeout: 30_000 }));
      const runReader = track(rw.runRead(() => rw.readers, { timeout: 60_000 }));
      expect(activeTimeouts()).toBeGreaterThan(baseline);
      controller.abort('first');
      expect(rw.readers).toBe(2);
      expect(rw.waiterCount).toBe(2);
      other.abort('second');
      expect(rw.readers).toBe(3);
      expect(rw.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(writer.reason).toBe('first');
      expect(runWriter.reason).toBe('second');
      // The runRead ran with the reader, the hold and itself.
      expect(runReader.value).toBe(3);
      releaserOf(reader)();
      read();
      expect(String(rw)).toBe('ReaderWriterLock [unlocked, waiters:0]');
      await expectNothingLeftReal(rw, [controller.signal, other.signal], baseline);
    });
  });

  describe('readable state', () => {
    it('String() shows the name, unlocked, readers:n or writing, and the waiter count', async () => {
      const rw = new ReaderWriterLock({ name: 'db' });
      expect(String(rw)).toBe('ReaderWriterLock "db" [unlocked, waiters:0]');
      const r1 = rw.tryAcquireRead() as Releaser;
      const r2 = rw.tryAcquireRead() as Releaser;
      const writer = track(rw.acquireWrite());
      expect(String(rw)).toBe('ReaderWriterLock "db" [readers:2, waiters:1]');
      r1();
      r2();
      expect(String(rw)).toBe('ReaderWriterLock "db" [writing, waiters:0]');
      expect(`${rw}`).toBe('ReaderWriterLock "db" [writing, waiters:0]');
      await flushMicrotasks();
      releaserOf(writer)();
      expect(String(rw)).toBe('ReaderWriterLock "db" [unlocked, waiters:0]');
      expect(String(new ReaderWriterLock())).toBe('ReaderWriterLock [unlocked, waiters:0]');
    });

    it('Symbol.toStringTag is ReaderWriterLock, and Node inspect shows the readable state', () => {
      const rw = new ReaderWriterLock({ name: 'db' });
      rw.tryAcquireWrite();
      expect(rw[Symbol.toStringTag]).toBe('ReaderWriterLock');
      expect(Object.prototype.toString.call(rw)).toBe('[object ReaderWriterLock]');
      const inspectCustom = (rw as unknown as Record<symbol, () => string>)[Symbol.for('nodejs.util.inspect.custom')];
      expect(inspectCustom?.call(rw)).toBe('ReaderWriterLock "db" [writing, waiters:0]');
    });
  });

  describe('leak warning', () => {
    it('warns once, naming the lock, when waiters of either kind first exceed maxWaiters', () => {
      const warn = spyOnWarnings();
      const rw = new ReaderWriterLock({ name: 'db', maxWaiters: 2 });
      rw.tryAcquireRead();
      const controller = new AbortController();
      track(rw.acquireWrite({ signal: controller.signal }));
      track(rw.acquireRead({ signal: controller.signal }));
      expect(warn).not.toHaveBeenCalled();
      track(rw.runRead(() => 0, { signal: controller.signal }));
      track(rw.acquireWrite({ signal: controller.signal }));
      expect(warn).toHaveBeenCalledTimes(1);
      expectLeakWarning(warn.mock.calls[0], 'ReaderWriterLock "db"');
      expect(String(warn.mock.calls[0]?.[0])).toContain('3 pending waiters');
      controller.abort();
      expect(rw.waiterCount).toBe(0);
    });
  });

  describe('the TSDoc class example', () => {
    it('reads 3 twice, updates to 5, then reads 5', async () => {
      const rw = new ReaderWriterLock({ name: 'config' });
      let config = { retries: 3 };
      const read = () => rw.runRead(() => config.retries);
      const update = (retries: number) =>
        rw.runWrite(() => {
          config = { retries };
        });
      expect(await Promise.all([read(), read(), update(5)])).toEqual([3, 3, undefined]);
      expect(await read()).toBe(5);
      expect(String(rw)).toBe('ReaderWriterLock "config" [unlocked, waiters:0]');
    });

    it('with slow readers, the update waits for the reads in flight, and a later read sees it', async () => {
      const rw = new ReaderWriterLock({ name: 'config' });
      let config = { retries: 3 };
      const slowRead = () =>
        rw.runRead(async () => {
          const seen = config.retries;
          await Promise.resolve();
          await Promise.resolve();
          return seen;
        });
      const update = (retries: number) =>
        rw.runWrite(() => {
          config = { retries };
        });
      const results = Promise.all([slowRead(), slowRead(), update(5), slowRead()]);
      expect(rw.readers).toBe(2);
      expect(rw.waiterCount).toBe(2);
      expect(await results).toEqual([3, 3, undefined, 5]);
      expect(String(rw)).toBe('ReaderWriterLock "config" [unlocked, waiters:0]');
    });
  });

  describe('races', () => {
    it('abort of the head writer and release of the last reader in one callback never let a writer overlap', async () => {
      const rw = new ReaderWriterLock();
      const read = rw.tryAcquireRead() as Releaser;
      const controller = new AbortController();
      const first = track(rw.acquireWrite({ signal: controller.signal }));
      const second = track(rw.acquireWrite());
      const reader = track(rw.acquireRead());
      controller.abort('cancelled');
      read();
      expect(rw.isWriteLocked()).toBe(true);
      expect(rw.waiterCount).toBe(1);
      await flushMicrotasks();
      expect(first.reason).toBe('cancelled');
      expect(reader.status).toBe('pending');
      releaserOf(second)();
      expect(rw.readers).toBe(1);
      await flushMicrotasks();
      releaserOf(reader)();
      expectNothingLeftFake(rw, [controller.signal]);
    });

    it('release of the last reader then abort of the granted writer: the writer keeps the lock', async () => {
      const rw = new ReaderWriterLock();
      const read = rw.tryAcquireRead() as Releaser;
      const controller = new AbortController();
      const writer = track(rw.acquireWrite({ signal: controller.signal }));
      const reader = track(rw.acquireRead());
      read();
      controller.abort('too late');
      expect(rw.isWriteLocked()).toBe(true);
      expect(rw.waiterCount).toBe(1);
      await flushMicrotasks();
      expect(reader.status).toBe('pending');
      releaserOf(writer)();
      await flushMicrotasks();
      releaserOf(reader)();
      expectNothingLeftFake(rw, [controller.signal]);
    });
  });
});
