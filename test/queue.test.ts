/**
 * Queue, LifoQueue and PriorityQueue (README: `new Queue(options?)` and the sections after it).
 * The rules that every wait shares run in the cancellation suite (`cancellation.test.ts`); the
 * asyncio cases are at the end,
 * named after their `test_queues.py` counterparts.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmptyError,
  QueueFullError,
  type QueueOptions,
  QueueShutDownError,
} from '../src/index.js';
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

type Kind = 'Queue' | 'LifoQueue' | 'PriorityQueue';
const KINDS: readonly Kind[] = ['Queue', 'LifoQueue', 'PriorityQueue'];

function make<T = number>(kind: Kind, options?: QueueOptions): Queue<T> {
  if (kind === 'LifoQueue') return new LifoQueue<T>(options);
  if (kind === 'PriorityQueue') return new PriorityQueue<T>(options);
  return new Queue<T>(options);
}

/** The order in which `kind` hands out distinct numbers put in the order of `items`. */
function outOrder(kind: Kind, items: readonly number[]): number[] {
  if (kind === 'LifoQueue') return [...items].reverse();
  if (kind === 'PriorityQueue') return [...items].sort((a, b) => a - b);
  return [...items];
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.unreachable('expected a throw');
}

/** Takes every item out with getNowait() (taking waiting putters' items in as it goes). */
function drain<T>(queue: Queue<T>): T[] {
  const items: T[] = [];
  while (!queue.isEmpty()) items.push(queue.getNowait());
  return items;
}

/**
 * The unfinished count, found by calling taskDone() until it refuses (so it is 0 afterwards).
 * For the end of a test.
 */
function finishAll<T>(queue: Queue<T>): number {
  for (let n = 0; ; n++) {
    try {
      queue.taskDone();
    } catch (error) {
      expectInvalidState(error);
      return n;
    }
  }
}

/** Whether join() would resolve now, asked without counting as a waiter. */
async function joinedNow<T>(queue: Queue<T>): Promise<boolean> {
  const count = queue.waiterCount;
  const joined = queue.join({ timeout: 0 }).then(
    () => true,
    (error: unknown) => {
      expectTimeoutError(error);
      return false;
    },
  );
  expect(queue.waiterCount).toBe(count);
  return joined;
}

function expectInvalidState(error: unknown): void {
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe('InvalidStateError');
}

function expectShutDown(error: unknown): void {
  expect(error).toBeInstanceOf(QueueShutDownError);
  expect((error as Error).name).toBe('QueueShutDownError');
}

describe('queue errors', () => {
  it.each([
    ['QueueEmptyError', QueueEmptyError],
    ['QueueFullError', QueueFullError],
    ['QueueShutDownError', QueueShutDownError],
  ] as const)('%s is an Error whose name is its class name', (name, ErrorClass) => {
    const error = new ErrorClass();
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error.name).toBe(name);
    expect(error.message).not.toBe('');
    expect(String(error)).toMatch(new RegExp(`^${name}: `));
    expect(new ErrorClass('custom').message).toBe('custom');
  });

  it('the three queue errors are distinct classes', () => {
    expect(new QueueEmptyError()).not.toBeInstanceOf(QueueFullError);
    expect(new QueueFullError()).not.toBeInstanceOf(QueueShutDownError);
    expect(new QueueShutDownError()).not.toBeInstanceOf(QueueEmptyError);
  });
});

describe.each(KINDS)('%s', (kind) => {
  describe('constructor and readable properties', () => {
    it('is unbounded by default and with maxSize 0, and never full', () => {
      for (const queue of [
        make(kind),
        make(kind, {}),
        make(kind, { maxSize: 0 }),
        make(kind, { maxSize: undefined }),
      ]) {
        expect(queue.maxSize).toBe(0);
        for (let i = 0; i < 2_000; i++) queue.putNowait(i);
        expect(queue.size).toBe(2_000);
        expect(queue.isFull()).toBe(false);
      }
    });

    it('exposes maxSize, name, size, isEmpty, isFull and isShutDown', () => {
      const queue = make(kind, { maxSize: 2, name: 'jobs' });
      expect(queue.maxSize).toBe(2);
      expect(queue.name).toBe('jobs');
      expect(make(kind).name).toBeUndefined();
      expect([queue.size, queue.isEmpty(), queue.isFull(), queue.isShutDown()]).toEqual([0, true, false, false]);
      queue.putNowait(1);
      expect([queue.size, queue.isEmpty(), queue.isFull()]).toEqual([1, false, false]);
      queue.putNowait(2);
      expect([queue.size, queue.isEmpty(), queue.isFull()]).toEqual([2, false, true]);
      queue.getNowait();
      expect([queue.size, queue.isEmpty(), queue.isFull()]).toEqual([1, false, false]);
      queue.shutdown();
      expect(queue.isShutDown()).toBe(true);
    });

    it('is an instance of Queue', () => {
      expect(make(kind)).toBeInstanceOf(Queue);
    });

    it.each([
      ['a string', '10'],
      ['null', null],
      ['a boolean', true],
      ['a bigint', 10n],
      ['an object', {}],
    ])('throws a TypeError naming "maxSize" when maxSize is %s', (_, maxSize) => {
      expect(() => make(kind, { maxSize: maxSize as number })).toThrow(TypeError);
      expect(() => make(kind, { maxSize: maxSize as number })).toThrow(/\bmaxSize\b/);
    });

    it.each([
      ['-1', -1],
      ['1.5', 1.5],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
    ])('throws a RangeError naming "maxSize" when maxSize is %s', (_, maxSize) => {
      expect(() => make(kind, { maxSize })).toThrow(RangeError);
      expect(() => make(kind, { maxSize })).toThrow(/\bmaxSize\b/);
    });

    it.each([
      ['null', null],
      ['a string', 'jobs'],
      ['a number', 10],
    ])('throws a TypeError naming "options" when the options are %s', (_, options) => {
      expect(() => make(kind, options as QueueOptions)).toThrow(TypeError);
      expect(() => make(kind, options as QueueOptions)).toThrow(/\boptions\b/);
    });

    it('validates name and maxWaiters like every primitive', () => {
      expect(() => make(kind, { name: 5 as unknown as string })).toThrow(TypeError);
      expect(() => make(kind, { maxWaiters: -1 })).toThrow(RangeError);
      expect(() => make(kind, { maxWaiters: '5' as unknown as number })).toThrow(TypeError);
    });
  });

  describe('readable state', () => {
    it(`shows "${kind} [size:2/10, waiters:0]" with the class name as Symbol.toStringTag`, () => {
      const queue = make(kind, { maxSize: 10 });
      queue.putNowait(1);
      queue.putNowait(2);
      expect(String(queue)).toBe(`${kind} [size:2/10, waiters:0]`);
      expect(queue[Symbol.toStringTag]).toBe(kind);
      expect(Object.prototype.toString.call(queue)).toBe(`[object ${kind}]`);
    });

    it('shows ∞ as the bound of an unbounded queue, the name, and the waiters', () => {
      const queue = make(kind, { name: 'jobs' });
      track(queue.get());
      track(queue.get({ timeout: 100 }));
      expect(String(queue)).toBe(`${kind} "jobs" [size:0/∞, waiters:2]`);
      queue.shutdown();
    });

    it('shows ", shut down" once shut down, with the items still there', () => {
      const queue = make(kind, { maxSize: 3 });
      queue.putNowait(7);
      queue.shutdown();
      expect(String(queue)).toBe(`${kind} [size:1/3, waiters:0, shut down]`);
      queue.shutdown(true);
      expect(String(queue)).toBe(`${kind} [size:0/3, waiters:0, shut down]`);
    });
  });

  describe('putNowait() and getNowait()', () => {
    it('getNowait() on an empty queue throws a QueueEmptyError naming the queue', () => {
      const queue = make(kind, { name: 'jobs' });
      const error = thrownBy(() => queue.getNowait());
      expect(error).toBeInstanceOf(QueueEmptyError);
      expect((error as Error).name).toBe('QueueEmptyError');
      expect((error as Error).message).toContain(`${kind} "jobs"`);
    });

    it('putNowait() on a full queue throws a QueueFullError and leaves the queue as it was', async () => {
      const queue = make(kind, { maxSize: 2, name: 'jobs' });
      queue.putNowait(1);
      queue.putNowait(2);
      const error = thrownBy(() => queue.putNowait(3));
      expect(error).toBeInstanceOf(QueueFullError);
      expect((error as Error).name).toBe('QueueFullError');
      expect((error as Error).message).toContain(`${kind} "jobs"`);
      expect(queue.size).toBe(2);
      expect(drain(queue)).toEqual(outOrder(kind, [1, 2]));
      // The refused item does not count for join().
      expect(finishAll(queue)).toBe(2);
    });

    it('putNowait() hands the item to a waiting getter even on a queue whose store would be full', async () => {
      const queue = make(kind, { maxSize: 1 });
      const getter = track(queue.get());
      queue.putNowait(5);
      expect(queue.size).toBe(0);
      expect(queue.waiterCount).toBe(0);
      queue.putNowait(6);
      expect(() => queue.putNowait(7)).toThrow(QueueFullError);
      await flushMicrotasks();
      expect(getter.value).toBe(5);
      expect(drain(queue)).toEqual([6]);
    });

    it(`hands out items in ${kind} order`, () => {
      const queue = make(kind);
      const items = [5, 1, 4, 2, 3, 0];
      for (const item of items) queue.putNowait(item);
      expect(drain(queue)).toEqual(outOrder(kind, items));
    });
  });

  describe('hand-off', () => {
    it('a put with a waiting getter gives the item to that getter in the same step; it never shows in size', async () => {
      const queue = make<number>(kind, { maxSize: 1 });
      const getter = track(queue.get());
      expect(queue.waiterCount).toBe(1);
      const put = track(queue.put(42));
      expect(queue.waiterCount).toBe(0);
      expect(queue.size).toBe(0);
      expect(queue.isEmpty()).toBe(true);
      // Nobody can take it from the getter in between.
      expect(() => queue.getNowait()).toThrow(QueueEmptyError);
      await flushMicrotasks();
      expect(put.status).toBe('fulfilled');
      expect(getter.value).toBe(42);
      expect(queue.size).toBe(0);
    });

    it('a get from a full queue with a waiting putter takes its item in, in the same step', async () => {
      const queue = make<number>(kind, { maxSize: 2 });
      queue.putNowait(10);
      queue.putNowait(20);
      const putter = track(queue.put(30));
      expect(queue.waiterCount).toBe(1);
      const first = queue.getNowait();
      expect(first).toBe(outOrder(kind, [10, 20])[0]);
      expect(queue.waiterCount).toBe(0);
      expect(queue.size).toBe(2);
      expect(queue.isFull()).toBe(true);
      // The slot went to the waiting putter: a newcomer cannot take it.
      expect(() => queue.putNowait(99)).toThrow(QueueFullError);
      await flushMicrotasks();
      expect(putter.status).toBe('fulfilled');
      expect(putter.value).toBeUndefined();
      expect([first, ...drain(queue)].sort()).toEqual([10, 20, 30]);
    });

    it('an awaited get from a full queue takes the putter in the same way', async () => {
      const queue = make<string>(kind, { maxSize: 1 });
      queue.putNowait('a');
      const putter = track(queue.put('b'));
      const got = queue.get();
      expect(queue.size).toBe(1);
      expect(queue.waiterCount).toBe(0);
      expect(await got).toBe('a');
      expect(putter.status).toBe('fulfilled');
      expect(queue.getNowait()).toBe('b');
    });

    it('serves waiting getters in arrival order, whatever the queue kind', async () => {
      const queue = make<number>(kind);
      const getters = [track(queue.get()), track(queue.get({ timeout: 1_000 })), track(queue.get())];
      for (const item of [3, 1, 2]) queue.putNowait(item);
      await flushMicrotasks();
      expect(getters.map((g) => g.value)).toEqual([3, 1, 2]);
      expectNothingLeftFake(queue);
    });

    it('takes waiting putters in, in arrival order', async () => {
      const queue = make<number>(kind, { maxSize: 1 });
      queue.putNowait(0);
      const putters = [1, 2, 3].map((item) => track(queue.put(item, { timeout: 1_000 })));
      const got: number[] = [];
      for (let i = 0; i < 4; i++) {
        got.push(queue.getNowait());
        await flushMicrotasks();
        expect(putters.map((p) => p.status)).toEqual(putters.map((_, j) => (j < i + 1 ? 'fulfilled' : 'pending')));
      }
      expect(got).toEqual([0, 1, 2, 3]);
      expectNothingLeftFake(queue);
    });

    it('a granted get owns its item even if its signal aborts later', async () => {
      const queue = make<string>(kind);
      const controller = new AbortController();
      const getter = track(queue.get({ signal: controller.signal, timeout: 50 }));
      queue.putNowait('mine');
      controller.abort(new Error('too late'));
      vi.advanceTimersByTime(100);
      await flushMicrotasks();
      expect(getter.settlements).toBe(1);
      expect(getter.value).toBe('mine');
      expect(queue.size).toBe(0);
      expectNothingLeftFake(queue, [controller.signal]);
    });

    it('a putter whose item was taken in keeps its success even if its signal aborts later', async () => {
      const queue = make<string>(kind, { maxSize: 1 });
      queue.putNowait('first');
      const controller = new AbortController();
      const putter = track(queue.put('second', { signal: controller.signal, timeout: 50 }));
      expect(queue.getNowait()).toBe('first');
      controller.abort('too late');
      vi.advanceTimersByTime(100);
      await flushMicrotasks();
      expect(putter.settlements).toBe(1);
      expect(putter.status).toBe('fulfilled');
      expect(drain(queue)).toEqual(['second']);
      expectNothingLeftFake(queue, [controller.signal]);
    });
  });

  describe('a wait that gives up', () => {
    it('an aborted put never inserts its item', async () => {
      const queue = make<string>(kind, { maxSize: 1 });
      queue.putNowait('kept');
      const controller = new AbortController();
      const putter = track(queue.put('dropped', { signal: controller.signal }));
      controller.abort('no room');
      expect(queue.waiterCount).toBe(0);
      expect(queue.getNowait()).toBe('kept');
      expect(queue.size).toBe(0);
      await flushMicrotasks();
      expect(putter.reason).toBe('no room');
      expect(() => queue.getNowait()).toThrow(QueueEmptyError);
      // Only the item that went in counts for join().
      expect(finishAll(queue)).toBe(1);
      expectNothingLeftFake(queue, [controller.signal]);
    });

    it('a timed-out put never inserts its item', async () => {
      const queue = make<string>(kind, { maxSize: 1 });
      queue.putNowait('kept');
      const putter = track(queue.put('dropped', { timeout: 100 }));
      vi.advanceTimersByTime(100);
      expect(queue.waiterCount).toBe(0);
      expect(drain(queue)).toEqual(['kept']);
      await flushMicrotasks();
      expectTimeoutError(putter.reason);
      expect((putter.reason as DOMException).message).toContain('put()');
      expect(finishAll(queue)).toBe(1);
      expectNothingLeftFake(queue);
    });

    it('an aborted get never removes an item: the next put is stored for the next get', async () => {
      const queue = make<string>(kind);
      const controller = new AbortController();
      const getter = track(queue.get({ signal: controller.signal }));
      controller.abort('gone');
      queue.putNowait('item');
      expect(queue.size).toBe(1);
      await flushMicrotasks();
      expect(getter.reason).toBe('gone');
      expect(await queue.get()).toBe('item');
      expectNothingLeftFake(queue, [controller.signal]);
    });

    it('a timed-out get never removes an item', async () => {
      const queue = make<string>(kind);
      const getter = track(queue.get({ timeout: 100 }));
      vi.advanceTimersByTime(100);
      queue.putNowait('item');
      expect(queue.size).toBe(1);
      await flushMicrotasks();
      expectTimeoutError(getter.reason);
      expect((getter.reason as DOMException).message).toContain('get()');
      expect(queue.getNowait()).toBe('item');
      expectNothingLeftFake(queue);
    });

    it('an item put after the first getter aborted goes to the next getter, not to the aborted one', async () => {
      const queue = make<number>(kind);
      const controller = new AbortController();
      const aborted = track(queue.get({ signal: controller.signal }));
      const next = track(queue.get());
      controller.abort('left');
      queue.putNowait(1);
      await flushMicrotasks();
      expect(aborted.reason).toBe('left');
      expect(next.value).toBe(1);
      expect(queue.size).toBe(0);
      expectNothingLeftFake(queue, [controller.signal]);
    });

    it('a slot freed after the first putter aborted goes to the next putter', async () => {
      const queue = make<string>(kind, { maxSize: 1 });
      queue.putNowait('a');
      const controller = new AbortController();
      const aborted = track(queue.put('x', { signal: controller.signal }));
      const next = track(queue.put('b'));
      controller.abort('left');
      expect(queue.getNowait()).toBe('a');
      await flushMicrotasks();
      expect(aborted.reason).toBe('left');
      expect(next.status).toBe('fulfilled');
      expect(drain(queue)).toEqual(['b']);
      expectNothingLeftFake(queue, [controller.signal]);
    });
  });

  describe('already-aborted signal', () => {
    it('a put on a queue with room does not insert its item', async () => {
      const queue = make<number>(kind, { maxSize: 2 });
      queue.putNowait(1);
      const reason = { why: 'aborted before' };
      expect(await rejectionOf(queue.put(2, { signal: AbortSignal.abort(reason) }))).toBe(reason);
      expect(await rejectionOf(queue.put(2, { signal: AbortSignal.abort(reason), timeout: 0 }))).toBe(reason);
      expect(queue.size).toBe(1);
      expect(drain(queue)).toEqual([1]);
      expect(finishAll(queue)).toBe(1);
    });

    it('a put with a waiting getter does not hand its item over', async () => {
      const queue = make<number>(kind);
      const getter = track(queue.get());
      const reason = new Error('aborted before');
      expect(await rejectionOf(queue.put(2, { signal: AbortSignal.abort(reason) }))).toBe(reason);
      expect(queue.waiterCount).toBe(1);
      expect(getter.status).toBe('pending');
      queue.putNowait(3);
      await flushMicrotasks();
      expect(getter.value).toBe(3);
    });

    it('a get with items does not remove one', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      queue.putNowait(2);
      const reason = 'aborted before';
      expect(await rejectionOf(queue.get({ signal: AbortSignal.abort(reason) }))).toBe(reason);
      expect(await rejectionOf(queue.get({ signal: AbortSignal.abort(reason), timeout: 0 }))).toBe(reason);
      expect(drain(queue)).toEqual(outOrder(kind, [1, 2]));
    });

    it('a get from a full queue does not take a waiting putter in', async () => {
      const queue = make<number>(kind, { maxSize: 1 });
      queue.putNowait(1);
      const putter = track(queue.put(2));
      expect(await rejectionOf(queue.get({ signal: AbortSignal.abort('no') }))).toBe('no');
      expect(putter.status).toBe('pending');
      expect(queue.waiterCount).toBe(1);
      expect(drain(queue)).toEqual([1, 2]);
    });

    it('a join that could resolve at once rejects with the reason', async () => {
      const queue = make(kind);
      expect(await rejectionOf(queue.join({ signal: AbortSignal.abort('no') }))).toBe('no');
    });
  });

  describe('timeout: 0', () => {
    it('put succeeds if there is room now, and rejects at once on a full queue without counting as a waiter', async () => {
      const queue = make<number>(kind, { maxSize: 1, name: 'zero' });
      await queue.put(1, { timeout: 0 });
      const refused = track(queue.put(2, { timeout: 0 }));
      expect(queue.waiterCount).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      await flushMicrotasks();
      expectTimeoutError(refused.reason);
      expect((refused.reason as DOMException).message).toContain(`${kind} "zero"`);
      expect(drain(queue)).toEqual([1]);
      expect(finishAll(queue)).toBe(1);
    });

    it('put with a waiting getter hands the item over', async () => {
      const queue = make<number>(kind, { maxSize: 1 });
      const getter = track(queue.get());
      await queue.put(9, { timeout: 0 });
      await flushMicrotasks();
      expect(getter.value).toBe(9);
    });

    it('get succeeds if there is an item now, and rejects at once on an empty queue without counting as a waiter', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      expect(await queue.get({ timeout: 0 })).toBe(1);
      const refused = track(queue.get({ timeout: 0 }));
      expect(queue.waiterCount).toBe(0);
      await flushMicrotasks();
      expectTimeoutError(refused.reason);
      expect(queue.size).toBe(0);
    });

    it('get from a full queue takes a waiting putter in', async () => {
      const queue = make<number>(kind, { maxSize: 1 });
      queue.putNowait(1);
      const putter = track(queue.put(2));
      expect(await queue.get({ timeout: 0 })).toBe(1);
      expect(putter.status).toBe('fulfilled');
      expect(drain(queue)).toEqual([2]);
    });

    it('join resolves if nothing is unfinished, and rejects at once otherwise without counting as a waiter', async () => {
      const queue = make<number>(kind);
      await queue.join({ timeout: 0 });
      queue.putNowait(1);
      const refused = track(queue.join({ timeout: 0 }));
      expect(queue.waiterCount).toBe(0);
      await flushMicrotasks();
      expectTimeoutError(refused.reason);
      expect((refused.reason as DOMException).message).toContain('join()');
      queue.taskDone();
      await queue.join({ timeout: 0 });
    });
  });

  describe('taskDone() and join()', () => {
    it('join() with nothing put resolves at once, without counting as a waiter', async () => {
      const queue = make(kind);
      const joined = track(queue.join());
      expect(queue.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(joined.status).toBe('fulfilled');
      await queue.join();
    });

    it('join() waits until taskDone() was called once for every item put, and resolves exactly then', async () => {
      const queue = make<number>(kind);
      for (const item of [1, 2, 3]) queue.putNowait(item);
      const joined = track(queue.join());
      expect(queue.waiterCount).toBe(1);
      drain(queue);
      queue.taskDone();
      queue.taskDone();
      await flushMicrotasks();
      expect(joined.status).toBe('pending');
      queue.taskDone();
      expect(queue.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(joined.status).toBe('fulfilled');
    });

    it('releases every joiner in the same step', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      const controller = new AbortController();
      const joiners = [
        track(queue.join()),
        track(queue.join({ timeout: 100 })),
        track(queue.join({ signal: controller.signal })),
      ];
      expect(queue.waiterCount).toBe(3);
      queue.taskDone();
      expect(queue.waiterCount).toBe(0);
      await flushMicrotasks();
      for (const joiner of joiners) expect(joiner.status).toBe('fulfilled');
      expectNothingLeftFake(queue, [controller.signal]);
    });

    it('counts an item handed straight to a waiting getter', async () => {
      const queue = make<number>(kind);
      const getter = track(queue.get());
      await queue.put(1);
      const joined = track(queue.join());
      await flushMicrotasks();
      expect(getter.value).toBe(1);
      expect(joined.status).toBe('pending');
      queue.taskDone();
      await flushMicrotasks();
      expect(joined.status).toBe('fulfilled');
      expectInvalidState(thrownBy(() => queue.taskDone()));
    });

    it("counts a waiting putter's item when it is taken in, not before", async () => {
      const queue = make<number>(kind, { maxSize: 1 });
      queue.putNowait(1);
      const putter = track(queue.put(2));
      queue.taskDone();
      // Only the item in the queue counted so far.
      expect(await joinedNow(queue)).toBe(true);
      expect(queue.getNowait()).toBe(1);
      await flushMicrotasks();
      expect(putter.status).toBe('fulfilled');
      expect(await joinedNow(queue)).toBe(false);
      expect(finishAll(queue)).toBe(1);
    });

    it('does not count a put that was refused, aborted, timed out or shut out', async () => {
      const queue = make<number>(kind, { maxSize: 1 });
      queue.putNowait(1);
      expect(() => queue.putNowait(2)).toThrow(QueueFullError);
      const controller = new AbortController();
      const aborted = track(queue.put(3, { signal: controller.signal }));
      const timedOut = track(queue.put(4, { timeout: 10 }));
      const shutOut = track(queue.put(5));
      controller.abort();
      vi.advanceTimersByTime(10);
      queue.shutdown();
      await flushMicrotasks();
      expect([aborted.status, timedOut.status, shutOut.status]).toEqual(['rejected', 'rejected', 'rejected']);
      expect(finishAll(queue)).toBe(1);
    });

    it('a get does not count as done: taskDone() does', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      await queue.get();
      expect(await joinedNow(queue)).toBe(false);
      queue.taskDone();
      expect(await joinedNow(queue)).toBe(true);
    });

    it('taskDone() called more times than items were put throws an InvalidStateError DOMException and changes nothing', async () => {
      const queue = make<number>(kind, { name: 'jobs' });
      const first = thrownBy(() => queue.taskDone());
      expectInvalidState(first);
      expect((first as DOMException).message).toContain(`${kind} "jobs"`);
      queue.putNowait(1);
      queue.taskDone();
      expectInvalidState(thrownBy(() => queue.taskDone()));
      // Still at 0, not below: one more put needs exactly one taskDone().
      queue.putNowait(2);
      expect(await joinedNow(queue)).toBe(false);
      queue.taskDone();
      expect(await joinedNow(queue)).toBe(true);
      expect(String(queue)).toBe(`${kind} "jobs" [size:2/∞, waiters:0]`);
    });

    it('a join after the count went back up waits again', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      queue.taskDone();
      await queue.join();
      queue.putNowait(2);
      const joined = track(queue.join());
      await flushMicrotasks();
      expect(joined.status).toBe('pending');
      queue.taskDone();
      await flushMicrotasks();
      expect(joined.status).toBe('fulfilled');
    });

    it('an aborted joiner leaves; the others are still released', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      const controller = new AbortController();
      const aborted = track(queue.join({ signal: controller.signal }));
      const other = track(queue.join());
      controller.abort('stop');
      expect(queue.waiterCount).toBe(1);
      queue.taskDone();
      await flushMicrotasks();
      expect(aborted.reason).toBe('stop');
      expect(other.status).toBe('fulfilled');
      expectNothingLeftFake(queue, [controller.signal]);
    });
  });

  describe('waiterCount and the leak warning', () => {
    it('counts getters and joiners', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      queue.getNowait();
      const waits = [track(queue.get()), track(queue.get()), track(queue.join())];
      expect(queue.waiterCount).toBe(3);
      queue.putNowait(2);
      expect(queue.waiterCount).toBe(2);
      queue.taskDone();
      expect(queue.waiterCount).toBe(2);
      queue.taskDone();
      expect(queue.waiterCount).toBe(1);
      queue.shutdown();
      expect(queue.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(waits.map((w) => w.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    });

    it('counts putters and joiners', async () => {
      const queue = make<number>(kind, { maxSize: 1 });
      queue.putNowait(1);
      track(queue.put(2));
      track(queue.put(3));
      track(queue.join());
      expect(queue.waiterCount).toBe(3);
      queue.getNowait();
      expect(queue.waiterCount).toBe(2);
      queue.shutdown();
      expect(queue.waiterCount).toBe(1);
      finishAll(queue);
      expect(queue.waiterCount).toBe(0);
    });

    it('warns once when getters and joiners together first exceed maxWaiters', () => {
      const warn = spyOnWarnings();
      const queue = make<number>(kind, { name: 'jobs', maxWaiters: 2 });
      queue.putNowait(1);
      queue.getNowait();
      track(queue.get());
      track(queue.join());
      expect(warn).not.toHaveBeenCalled();
      track(queue.get());
      expect(warn).toHaveBeenCalledTimes(1);
      expectLeakWarning(warn.mock.calls[0], `${kind} "jobs"`);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/\b3\b/);
      track(queue.get());
      expect(warn).toHaveBeenCalledTimes(1);
      queue.shutdown(true);
      finishAll(queue);
    });

    it('warns for putters past maxWaiters', () => {
      const warn = spyOnWarnings();
      const queue = make<number>(kind, { maxSize: 1, maxWaiters: 2 });
      queue.putNowait(0);
      track(queue.put(1));
      track(queue.put(2));
      expect(warn).not.toHaveBeenCalled();
      track(queue.put(3));
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toContain(kind);
      queue.shutdown();
    });
  });

  describe('shutdown()', () => {
    it('makes put() reject with a QueueShutDownError even with room, and inserts nothing', async () => {
      const queue = make<number>(kind, { name: 'jobs' });
      queue.shutdown();
      const error = await rejectionOf(queue.put(1));
      expectShutDown(error);
      expect((error as Error).message).toContain(`${kind} "jobs"`);
      expectShutDown(await rejectionOf(queue.put(1, { timeout: 0 })));
      expectShutDown(await rejectionOf(queue.put(1, { timeout: 100 })));
      expect(queue.size).toBe(0);
      expect(queue.waiterCount).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      expectInvalidState(thrownBy(() => queue.taskDone()));
    });

    it('makes putNowait() throw a QueueShutDownError, also on a full queue', () => {
      const queue = make<number>(kind, { maxSize: 1 });
      queue.putNowait(1);
      queue.shutdown();
      expectShutDown(thrownBy(() => queue.putNowait(2)));
      const empty = make<number>(kind);
      empty.shutdown();
      expectShutDown(thrownBy(() => empty.putNowait(2)));
      expect(queue.size).toBe(1);
      expect(empty.size).toBe(0);
    });

    it('rejects each refused put with a fresh QueueShutDownError', async () => {
      const queue = make<number>(kind);
      queue.shutdown();
      const a = await rejectionOf(queue.put(1));
      const b = await rejectionOf(queue.put(2));
      expect(a).not.toBe(b);
    });

    it('rejects waiting putters at once with a QueueShutDownError; their items are not inserted', async () => {
      const queue = make<string>(kind, { maxSize: 1 });
      queue.putNowait('in');
      const controller = new AbortController();
      const putters = [track(queue.put('a')), track(queue.put('b', { signal: controller.signal, timeout: 100 }))];
      queue.shutdown();
      expect(queue.waiterCount).toBe(0);
      expect(queue.size).toBe(1);
      await flushMicrotasks();
      for (const putter of putters) expectShutDown(putter.reason);
      expect(putters[0]?.reason).not.toBe(putters[1]?.reason);
      expect(drain(queue)).toEqual(['in']);
      expect(finishAll(queue)).toBe(1);
      expectNothingLeftFake(queue, [controller.signal]);
    });

    it('lets gets drain the remaining items in order, then rejects them with a QueueShutDownError', async () => {
      const queue = make<number>(kind);
      for (const item of [2, 3, 1]) queue.putNowait(item);
      queue.shutdown();
      const expected = outOrder(kind, [2, 3, 1]);
      expect(await queue.get()).toBe(expected[0]);
      expect(queue.getNowait()).toBe(expected[1]);
      expect(await queue.get({ timeout: 0 })).toBe(expected[2]);
      expectShutDown(await rejectionOf(queue.get()));
      expectShutDown(await rejectionOf(queue.get({ timeout: 0 })));
      expectShutDown(thrownBy(() => queue.getNowait()));
      expect(queue.waiterCount).toBe(0);
    });

    it('rejects waiting getters at once with a QueueShutDownError', async () => {
      const queue = make<number>(kind);
      const controller = new AbortController();
      const getters = [track(queue.get()), track(queue.get({ signal: controller.signal, timeout: 100 }))];
      queue.shutdown();
      expect(queue.waiterCount).toBe(0);
      await flushMicrotasks();
      for (const getter of getters) expectShutDown(getter.reason);
      expectNothingLeftFake(queue, [controller.signal]);
    });

    it('leaves joiners waiting until taskDone() was called for every item put', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      queue.putNowait(2);
      const joined = track(queue.join());
      queue.shutdown();
      expect(queue.waiterCount).toBe(1);
      drain(queue);
      queue.taskDone();
      await flushMicrotasks();
      expect(joined.status).toBe('pending');
      queue.taskDone();
      await flushMicrotasks();
      expect(joined.status).toBe('fulfilled');
    });

    it('is idempotent, and a plain shutdown() after shutdown(true) changes nothing', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      queue.shutdown();
      queue.shutdown();
      expect(queue.size).toBe(1);
      expect(queue.isShutDown()).toBe(true);
      queue.shutdown(true);
      queue.shutdown();
      expect(queue.size).toBe(0);
      expect(queue.isShutDown()).toBe(true);
      expectShutDown(await rejectionOf(queue.get()));
    });

    it('reports an already-aborted signal before the shutdown', async () => {
      const queue = make<number>(kind);
      queue.shutdown();
      expect(await rejectionOf(queue.put(1, { signal: AbortSignal.abort('first') }))).toBe('first');
      expect(await rejectionOf(queue.get({ signal: AbortSignal.abort('first') }))).toBe('first');
    });
  });

  describe('shutdown(true)', () => {
    it('discards the items: gets reject at once, and join() resolves when the count reaches 0', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      queue.putNowait(2);
      const joined = track(queue.join());
      queue.shutdown(true);
      expect(queue.size).toBe(0);
      expect(queue.isEmpty()).toBe(true);
      expect(queue.waiterCount).toBe(0);
      expectShutDown(await rejectionOf(queue.get()));
      expectShutDown(thrownBy(() => queue.getNowait()));
      await flushMicrotasks();
      expect(joined.status).toBe('fulfilled');
      expectInvalidState(thrownBy(() => queue.taskDone()));
    });

    it('lowers the count only by the number of items discarded: items taken still need taskDone()', async () => {
      const queue = make<number>(kind);
      for (const item of [1, 2, 3]) queue.putNowait(item);
      queue.getNowait();
      const joined = track(queue.join());
      queue.shutdown(true);
      await flushMicrotasks();
      expect(joined.status).toBe('pending');
      expect(queue.waiterCount).toBe(1);
      queue.taskDone();
      await flushMicrotasks();
      expect(joined.status).toBe('fulfilled');
      expectInvalidState(thrownBy(() => queue.taskDone()));
    });

    it('never lowers the count below 0 when more items are discarded than are unfinished', async () => {
      const queue = make<number>(kind);
      for (const item of [1, 2, 3]) queue.putNowait(item);
      // taskDone() without a get: 1 unfinished, 3 items in the queue.
      queue.taskDone();
      queue.taskDone();
      const joined = track(queue.join());
      queue.shutdown(true);
      expect(queue.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(joined.status).toBe('fulfilled');
      expectInvalidState(thrownBy(() => queue.taskDone()));
      expect(await joinedNow(queue)).toBe(true);
    });

    it('rejects waiting putters without inserting their items, and waiting getters', async () => {
      const full = make<number>(kind, { maxSize: 1 });
      full.putNowait(1);
      const putter = track(full.put(2));
      full.shutdown(true);
      expect(full.size).toBe(0);
      const empty = make<number>(kind);
      const getter = track(empty.get());
      empty.shutdown(true);
      await flushMicrotasks();
      expectShutDown(putter.reason);
      expectShutDown(getter.reason);
      expect(full.waiterCount + empty.waiterCount).toBe(0);
      expect(finishAll(full)).toBe(0);
    });

    it('a later shutdown(true) still discards what a plain shutdown() left', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      queue.putNowait(2);
      const joined = track(queue.join());
      queue.shutdown();
      expect(queue.size).toBe(2);
      queue.shutdown(true);
      expect(queue.size).toBe(0);
      await flushMicrotasks();
      expect(joined.status).toBe('fulfilled');
    });

    it('join() on an immediately shut down queue with nothing unfinished resolves at once', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      queue.shutdown(true);
      const joined = track(queue.join());
      expect(queue.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(joined.status).toBe('fulfilled');
    });
  });

  describe('for await', () => {
    it('yields items as they arrive until the queue is shut down and drained', async () => {
      const queue = make<number>(kind);
      const seen: number[] = [];
      const loop = (async () => {
        for await (const item of queue) seen.push(item);
      })();
      await flushMicrotasks();
      expect(queue.waiterCount).toBe(1);
      queue.putNowait(1);
      await flushMicrotasks();
      queue.putNowait(2);
      await flushMicrotasks();
      expect(seen).toEqual([1, 2]);
      expect(queue.waiterCount).toBe(1);
      // 3 goes straight to the waiting loop; 4 and 5 are stored and drained after the shutdown.
      queue.putNowait(3);
      queue.putNowait(4);
      queue.putNowait(5);
      queue.shutdown();
      await loop;
      expect(seen).toEqual([1, 2, 3, ...outOrder(kind, [4, 5])]);
      expect(queue.waiterCount).toBe(0);
    });

    it('ends at once after shutdown(true), without the discarded items', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      queue.shutdown(true);
      const seen: number[] = [];
      for await (const item of queue) seen.push(item);
      expect(seen).toEqual([]);
    });

    it('ends when a waiting loop is shut down', async () => {
      const queue = make<number>(kind);
      const done = track(
        (async () => {
          for await (const _ of queue) expect.unreachable('no item was put');
        })(),
      );
      await flushMicrotasks();
      expect(queue.waiterCount).toBe(1);
      queue.shutdown();
      expect(queue.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(done.status).toBe('fulfilled');
    });

    it('does not call taskDone()', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      queue.putNowait(2);
      queue.shutdown();
      let count = 0;
      for await (const _ of queue) count++;
      expect(count).toBe(2);
      expect(await joinedNow(queue)).toBe(false);
      expect(finishAll(queue)).toBe(2);
    });

    it('breaking out of the loop leaves no getter behind and the other items in the queue', async () => {
      const queue = make<number>(kind);
      for (const item of [1, 2, 3]) queue.putNowait(item);
      const seen: number[] = [];
      for await (const item of queue) {
        seen.push(item);
        if (seen.length === 2) break;
      }
      expect(queue.waiterCount).toBe(0);
      expect(seen).toEqual(outOrder(kind, [1, 2, 3]).slice(0, 2));
      expect(queue.size).toBe(1);
    });

    it('breaking out after a handed-off item leaves no getter behind', async () => {
      const queue = make<number>(kind);
      const seen: number[] = [];
      const done = track(
        (async () => {
          for await (const item of queue) {
            seen.push(item);
            if (item === 2) break;
          }
        })(),
      );
      await flushMicrotasks();
      queue.putNowait(1);
      await flushMicrotasks();
      queue.putNowait(2);
      await flushMicrotasks();
      expect(done.status).toBe('fulfilled');
      expect(seen).toEqual([1, 2]);
      expect(queue.waiterCount).toBe(0);
      queue.putNowait(3);
      expect(queue.size).toBe(1);
    });

    it('a throw out of the loop leaves no getter behind', async () => {
      const queue = make<number>(kind);
      queue.putNowait(1);
      const error = new Error('consumer failed');
      const failed = (async () => {
        for await (const _ of queue) throw error;
      })();
      expect(await rejectionOf(failed)).toBe(error);
      expect(queue.waiterCount).toBe(0);
    });
  });
});

describe('LifoQueue', () => {
  it('takes a waiting putter in on top after a get from a full queue', async () => {
    const queue = new LifoQueue<string>({ maxSize: 2 });
    queue.putNowait('a');
    queue.putNowait('b');
    const putter = track(queue.put('c'));
    expect(queue.getNowait()).toBe('b');
    await flushMicrotasks();
    expect(putter.status).toBe('fulfilled');
    expect(drain(queue)).toEqual(['c', 'a']);
  });

  it('hands out the most recent item first across interleaved puts and gets', () => {
    const queue = new LifoQueue<number>();
    queue.putNowait(1);
    queue.putNowait(2);
    expect(queue.getNowait()).toBe(2);
    queue.putNowait(3);
    queue.putNowait(4);
    expect(drain(queue)).toEqual([4, 3, 1]);
  });
});

describe('PriorityQueue', () => {
  it('hands out the smallest number first, negative and infinite numbers included', () => {
    const queue = new PriorityQueue<number>();
    const items = [3, -1, Number.POSITIVE_INFINITY, 0.5, Number.NEGATIVE_INFINITY, 2, -7];
    for (const item of items) queue.putNowait(item);
    expect(drain(queue)).toEqual([...items].sort((a, b) => a - b));
  });

  it('orders strings with <, by UTF-16 code units', () => {
    const queue = new PriorityQueue<string>();
    for (const item of ['b', 'B', 'a', 'ab', '', 'é', 'A']) queue.putNowait(item);
    expect(drain(queue)).toEqual(['', 'A', 'B', 'a', 'ab', 'b', 'é']);
  });

  it('keeps equal numbers in insertion order (0 and -0 are equal under <)', () => {
    const queue = new PriorityQueue<number>();
    for (const item of [0, -0, 1, -0, 0, -1]) queue.putNowait(item);
    const out = drain(queue);
    expect(out.map((n) => Object.is(n, -0))).toEqual([false, false, true, true, false, false]);
    expect(out).toEqual([-1, 0, -0, -0, 0, 1]);
  });

  it('orders with the compare option, smallest first, and keeps equal items in insertion order', () => {
    const queue = new PriorityQueue<{ priority: number; name: string }>({
      compare: (a, b) => a.priority - b.priority,
    });
    const items = [
      { priority: 2, name: 'c' },
      { priority: 1, name: 'a' },
      { priority: 2, name: 'd' },
      { priority: 1, name: 'b' },
      { priority: 0, name: 'first' },
      { priority: 2, name: 'e' },
    ];
    for (const item of items) queue.putNowait(item);
    expect(drain(queue).map((item) => item.name)).toEqual(['first', 'a', 'b', 'c', 'd', 'e']);
  });

  it('accepts any item with a compare option, and can reverse the order', () => {
    const queue = new PriorityQueue<number>({ compare: (a, b) => b - a });
    for (const item of [1, 3, 2]) queue.putNowait(item);
    expect(drain(queue)).toEqual([3, 2, 1]);
  });

  it.each([
    ['a string', 'asc'],
    ['null', null],
    ['a number', 1],
    ['an object', {}],
  ])('throws a TypeError naming "compare" when compare is %s', (_, compare) => {
    const make = () => new PriorityQueue({ compare: compare as unknown as (a: unknown, b: unknown) => number });
    expect(make).toThrow(TypeError);
    expect(make).toThrow(/\bcompare\b/);
  });

  it('takes a waiting putter in by its priority after a get from a full queue', async () => {
    const queue = new PriorityQueue<number>({ maxSize: 2 });
    queue.putNowait(5);
    queue.putNowait(3);
    const putter = track(queue.put(1));
    expect(queue.getNowait()).toBe(3);
    await flushMicrotasks();
    expect(putter.status).toBe('fulfilled');
    expect(drain(queue)).toEqual([1, 5]);
  });

  describe('the default comparator refuses what < cannot order', () => {
    const REFUSED: ReadonlyArray<readonly [string, unknown]> = [
      ['an object', { priority: 1 }],
      ['an array', [1]],
      ['null', null],
      ['undefined', undefined],
      ['a boolean', true],
      ['a bigint', 1n],
      ['a symbol', Symbol('item')],
      ['a function', () => 1],
      ['NaN', Number.NaN],
    ];

    it.each(REFUSED)('putNowait() of %s throws a TypeError and leaves the queue unchanged', (_, item) => {
      const queue = new PriorityQueue<unknown>();
      queue.putNowait(2);
      expect(() => queue.putNowait(item)).toThrow(TypeError);
      const empty = new PriorityQueue<unknown>();
      expect(() => empty.putNowait(item)).toThrow(TypeError);
      expect(queue.size).toBe(1);
      expect(empty.size).toBe(0);
      expect(drain(queue)).toEqual([2]);
      expect(finishAll(queue)).toBe(1);
      expect(finishAll(empty)).toBe(0);
    });

    it.each(REFUSED)(
      'put() of %s rejects with a TypeError without throwing, and leaves the queue unchanged',
      async (_, item) => {
        const queue = new PriorityQueue<unknown>();
        queue.putNowait(2);
        let promise: Promise<void> | undefined;
        expect(() => {
          promise = queue.put(item);
        }).not.toThrow();
        expect(await rejectionOf(promise as Promise<void>)).toBeInstanceOf(TypeError);
        expect(queue.size).toBe(1);
        expect(queue.waiterCount).toBe(0);
        expect(drain(queue)).toEqual([2]);
        expect(finishAll(queue)).toBe(1);
      },
    );

    it('refuses a string among numbers and a number among strings', async () => {
      const numbers = new PriorityQueue<number | string>();
      numbers.putNowait(1);
      expect(() => numbers.putNowait('2')).toThrow(TypeError);
      expect(await rejectionOf(numbers.put('2'))).toBeInstanceOf(TypeError);
      const strings = new PriorityQueue<number | string>();
      strings.putNowait('a');
      expect(() => strings.putNowait(1)).toThrow(TypeError);
      expect(await rejectionOf(strings.put(1))).toBeInstanceOf(TypeError);
      expect(drain(numbers)).toEqual([1]);
      expect(drain(strings)).toEqual(['a']);
    });

    it('accepts items of the other type once the queue is empty again', () => {
      const queue = new PriorityQueue<number | string>();
      queue.putNowait(1);
      queue.getNowait();
      queue.putNowait('a');
      queue.putNowait('b');
      expect(() => queue.putNowait(2)).toThrow(TypeError);
      expect(drain(queue)).toEqual(['a', 'b']);
    });

    it('refuses an unorderable item even when a getter waits, and the getter keeps waiting', async () => {
      const queue = new PriorityQueue<unknown>();
      const getter = track(queue.get());
      expect(await rejectionOf(queue.put({}))).toBeInstanceOf(TypeError);
      expect(() => queue.putNowait(Number.NaN)).toThrow(TypeError);
      expect(queue.waiterCount).toBe(1);
      await flushMicrotasks();
      expect(getter.status).toBe('pending');
      queue.putNowait(1);
      await flushMicrotasks();
      expect(getter.value).toBe(1);
      expect(finishAll(queue)).toBe(1);
    });

    it('refuses an unorderable item on a full queue at once instead of waiting', async () => {
      const queue = new PriorityQueue<unknown>({ maxSize: 1 });
      queue.putNowait(1);
      const refused = track(queue.put({}));
      expect(queue.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(refused.reason).toBeInstanceOf(TypeError);
    });

    it('reports an unorderable item before an already-aborted signal and before a shutdown', async () => {
      const queue = new PriorityQueue<unknown>();
      expect(await rejectionOf(queue.put({}, { signal: AbortSignal.abort('aborted') }))).toBeInstanceOf(TypeError);
      queue.shutdown();
      expect(await rejectionOf(queue.put({}))).toBeInstanceOf(TypeError);
      expect(() => queue.putNowait({})).toThrow(TypeError);
    });

    it('names the pass-a-compare-option fix in the message', () => {
      const queue = new PriorityQueue<unknown>();
      expect(() => queue.putNowait({})).toThrow(/\bcompare\b/);
    });
  });

  describe('a compare function that throws', () => {
    const failing = new Error('compare failed');
    /** A queue of 1, 2, 3 whose compare throws once `broken` is set. */
    function brokenQueue(): { queue: PriorityQueue<number>; breakIt: () => void } {
      let broken = false;
      const queue = new PriorityQueue<number>({
        compare: (a, b) => {
          if (broken) throw failing;
          return a - b;
        },
      });
      for (const item of [2, 1, 3]) queue.putNowait(item);
      return { queue, breakIt: () => (broken = true) };
    }

    it('put() rejects with its error and never throws synchronously', async () => {
      const { queue, breakIt } = brokenQueue();
      breakIt();
      let promise: Promise<void> | undefined;
      expect(() => {
        promise = queue.put(0);
      }).not.toThrow();
      expect(await rejectionOf(promise as Promise<void>)).toBe(failing);
    });

    it('get() rejects with its error and never throws synchronously', async () => {
      const { queue, breakIt } = brokenQueue();
      breakIt();
      let promise: Promise<number> | undefined;
      expect(() => {
        promise = queue.get();
      }).not.toThrow();
      expect(await rejectionOf(promise as Promise<number>)).toBe(failing);
    });

    it('putNowait() and getNowait() throw its error', () => {
      const { queue, breakIt } = brokenQueue();
      breakIt();
      expect(() => queue.putNowait(0)).toThrow(failing);
      expect(() => queue.getNowait()).toThrow(failing);
    });
  });
});

describe('no item lost or delivered twice', () => {
  it.each(KINDS)(
    '%s: items put by producers with signals and timeouts reach consumers with signals and timeouts exactly once',
    async (kind) => {
      const queue = make<number>(kind, { maxSize: 2 });
      const put = new Set<number>();
      const got: number[] = [];
      const controllers: AbortController[] = [];
      const waits: Promise<unknown>[] = [];
      for (let i = 0; i < 40; i++) {
        const controller = new AbortController();
        controllers.push(controller);
        const options = { signal: controller.signal, timeout: 1 + (i % 7) };
        if (i % 3 === 0) {
          waits.push(
            queue.get(options).then(
              (item) => got.push(item),
              () => {},
            ),
          );
        } else {
          waits.push(
            queue.put(i, options).then(
              () => put.add(i),
              () => {},
            ),
          );
        }
        if (i % 5 === 0) controllers[i >> 1]?.abort();
        if (i % 4 === 0 && !queue.isEmpty()) got.push(queue.getNowait());
        vi.advanceTimersByTime(1);
        await flushMicrotasks();
      }
      vi.advanceTimersByTime(10);
      await Promise.all(waits);
      got.push(...drain(queue));
      expect(new Set(got).size).toBe(got.length);
      expect([...got].sort((a, b) => a - b)).toEqual([...put].sort((a, b) => a - b));
      expect(finishAll(queue)).toBe(put.size);
      expectNothingLeftFake(
        queue,
        controllers.map((c) => c.signal),
      );
    },
  );
});

describe('asyncio test_queues.py cases', () => {
  it('test_get_cancelled_race: a get aborted before any put never takes the item; the next getter does', async () => {
    const queue = new Queue<string>();
    const c1 = new AbortController();
    const t1 = track(queue.get({ signal: c1.signal }));
    const t2 = track(queue.get());
    c1.abort();
    await flushMicrotasks();
    expect(t1.status).toBe('rejected');
    await queue.put('a');
    await flushMicrotasks();
    expect(t2.value).toBe('a');
    expect(queue.size).toBe(0);
    expectNothingLeftFake(queue, [c1.signal]);
  });

  it('test_get_cancelled_race (the race itself): a getter aborted right after the put keeps the item; the other still waits', async () => {
    const queue = new Queue<string>();
    const c1 = new AbortController();
    const t1 = track(queue.get({ signal: c1.signal }));
    const t2 = track(queue.get());
    queue.putNowait('a');
    // asyncio: t1 is woken but not yet running, and a cancel now leaves 'a' for t2. Here t1
    // already holds 'a': the abort changes nothing and t2 keeps waiting for the next item.
    c1.abort();
    await flushMicrotasks();
    expect(t1.value).toBe('a');
    expect(t2.status).toBe('pending');
    expect(queue.waiterCount).toBe(1);
    queue.putNowait('b');
    await flushMicrotasks();
    expect(t2.value).toBe('b');
  });

  it('test_get_cancel_drop_one_pending_reader: a reader aborted after the puts keeps the first item; none is dropped', async () => {
    const queue = new Queue<number>();
    const controller = new AbortController();
    const reader = track(queue.get({ signal: controller.signal }));
    queue.putNowait(1);
    queue.putNowait(2);
    controller.abort();
    await flushMicrotasks();
    expect(reader.value).toBe(1);
    expect(queue.size).toBe(1);
    expect(await queue.get()).toBe(2);
  });

  it('test_get_cancel_drop_many_pending_readers: with one of three readers aborted after two puts, every item is delivered once', async () => {
    const queue = new Queue<number>();
    const controller = new AbortController();
    const reader1 = track(queue.get({ signal: controller.signal }));
    const reader2 = track(queue.get());
    const reader3 = track(queue.get());
    queue.putNowait(1);
    queue.putNowait(2);
    controller.abort();
    await flushMicrotasks();
    // Hand-off gave 1 and 2 to the first two readers; the third waits for the next item.
    expect([reader1.value, reader2.value]).toEqual([1, 2]);
    expect(reader3.status).toBe('pending');
    queue.putNowait(3);
    await flushMicrotasks();
    expect(reader3.value).toBe(3);
    expect(queue.size).toBe(0);
  });

  it('test_put_cancel_drop: a writer aborted after a get took its item in has put it; nothing is put twice', async () => {
    const queue = new Queue<number>({ maxSize: 1 });
    queue.putNowait(1);
    const controller = new AbortController();
    const writer = track(queue.put(2, { signal: controller.signal }));
    expect(queue.getNowait()).toBe(1);
    controller.abort();
    await flushMicrotasks();
    // asyncio may see the writer cancelled and put again; here it already succeeded.
    expect(writer.status).toBe('fulfilled');
    expect(queue.getNowait()).toBe(2);
    expect(queue.size).toBe(0);
  });

  it('test_put_cancelled_race: an aborted third putter never inserts its item; the first two go in, in order', async () => {
    const queue = new Queue<string>({ maxSize: 1 });
    const controller = new AbortController();
    const putA = track(queue.put('a'));
    const putB = track(queue.put('b'));
    const putC = track(queue.put('X', { signal: controller.signal }));
    await flushMicrotasks();
    expect(putA.status).toBe('fulfilled');
    expect(putB.status).toBe('pending');
    controller.abort();
    await flushMicrotasks();
    expect(putC.status).toBe('rejected');
    expect(queue.getNowait()).toBe('a');
    await flushMicrotasks();
    expect(queue.getNowait()).toBe('b');
    expect(putB.status).toBe('fulfilled');
    expect(() => queue.getNowait()).toThrow(QueueEmptyError);
    expect(queue.waiterCount).toBe(0);
  });

  it('test_cancelled_put_silence_value_error_exception: an abort after getNowait() took the putter in changes nothing and throws nothing', async () => {
    const queue = new Queue<number>({ maxSize: 1 });
    queue.putNowait(1);
    const controller = new AbortController();
    const putTask = track(queue.put(2, { signal: controller.signal }));
    queue.getNowait();
    expect(() => controller.abort()).not.toThrow();
    await flushMicrotasks();
    // asyncio rejects with CancelledError and drops the item; here the put had already succeeded.
    expect(putTask.status).toBe('fulfilled');
    expect(queue.getNowait()).toBe(2);
    expect(queue.waiterCount).toBe(0);
    expect(finishAll(queue)).toBe(2);
  });

  it('test_cancelled_puts_not_being_held_in_self_putters: an aborted putter is no longer counted', async () => {
    const queue = new Queue<number>({ maxSize: 1 });
    queue.putNowait(1);
    const controller = new AbortController();
    const putTask = track(queue.put(1, { signal: controller.signal }));
    expect(queue.waiterCount).toBe(1);
    controller.abort();
    expect(queue.waiterCount).toBe(0);
    await flushMicrotasks();
    expect(putTask.reason).toBe(controller.signal.reason);
    expectNothingLeftFake(queue, [controller.signal]);
  });

  it('test_cancelled_getters_not_being_held_in_self_getters: a timed-out getter is no longer counted', async () => {
    const queue = new Queue<number>({ maxSize: 5 });
    const getter = track(queue.get({ timeout: 100 }));
    vi.advanceTimersByTime(100);
    expect(queue.waiterCount).toBe(0);
    await flushMicrotasks();
    expectTimeoutError(getter.reason);
    expectNothingLeftFake(queue);
  });

  it('test_get_with_waiting_putters: gets take the waiting putters in, in order', async () => {
    const queue = new Queue<string>({ maxSize: 1 });
    track(queue.put('a'));
    track(queue.put('b'));
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
  });

  it('test_put_with_waiting_getters: a put gives the item to the waiting getter', async () => {
    const queue = new Queue<string>();
    const t = queue.get();
    await queue.put('a');
    expect(await t).toBe('a');
  });

  it('test_maxsize: a producer blocks after maxSize items and resumes when one is taken', async () => {
    const queue = new Queue<number>({ maxSize: 2 });
    const haveBeenPut: number[] = [];
    const producer = track(
      (async () => {
        for (let i = 0; i < 3; i++) {
          await queue.put(i);
          haveBeenPut.push(i);
        }
        return true;
      })(),
    );
    await flushMicrotasks();
    expect(haveBeenPut).toEqual([0, 1]);
    expect(await queue.get()).toBe(0);
    await flushMicrotasks();
    expect(haveBeenPut).toEqual([0, 1, 2]);
    expect(await queue.get()).toBe(1);
    expect(await queue.get()).toBe(2);
    expect(producer.value).toBe(true);
  });

  it('test_why_are_getters_waiting: a producer and a consumer of 5 items through a queue of 1 both finish', async () => {
    const queue = new Queue<number>({ maxSize: 1 });
    const consumed: number[] = [];
    await Promise.all([
      (async () => {
        for (let i = 0; i < 5; i++) await queue.put(i);
      })(),
      (async () => {
        for (let i = 0; i < 5; i++) consumed.push(await queue.get());
      })(),
    ]);
    expect(consumed).toEqual([0, 1, 2, 3, 4]);
    expect(queue.waiterCount).toBe(0);
  });

  it('test_float_maxsize: a fractional maxSize is a RangeError here (asyncio rounds it up)', () => {
    expect(() => new Queue({ maxSize: 1.3 })).toThrow(RangeError);
  });

  it.each(KINDS)('test_order (%s): items come out in the order of the kind', async (kind) => {
    const queue = make<number>(kind);
    for (const i of [1, 3, 2]) await queue.put(i);
    const items = [await queue.get(), await queue.get(), await queue.get()];
    expect(items).toEqual({ Queue: [1, 3, 2], LifoQueue: [2, 3, 1], PriorityQueue: [1, 2, 3] }[kind]);
  });

  describe.each(KINDS)('%s join and shutdown', (kind) => {
    it('test_task_done_underflow: taskDone() with nothing put is an InvalidStateError', () => {
      expectInvalidState(thrownBy(() => make(kind).taskDone()));
    });

    it('test_task_done: two workers process 100 items and join() resolves once all are done', async () => {
      const queue = make<number>(kind);
      for (let i = 0; i < 100; i++) queue.putNowait(i);
      let accumulator = 0;
      let running = true;
      const worker = async () => {
        while (running) {
          const item = await queue.get();
          accumulator += item;
          queue.taskDone();
        }
      };
      const workers = [worker(), worker()];
      await queue.join();
      expect(accumulator).toBe(4950);
      running = false;
      queue.putNowait(0);
      queue.putNowait(0);
      await Promise.all(workers);
      expect(queue.waiterCount).toBe(0);
    });

    it('test_join_empty_queue: join() resolves at once, twice', async () => {
      const queue = make(kind);
      const joins = [track(queue.join()), track(queue.join())];
      expect(queue.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(joins.map((j) => j.status)).toEqual(['fulfilled', 'fulfilled']);
    });

    it('test_format: the readable state says shut down', () => {
      const queue = make(kind);
      queue.shutdown();
      expect(String(queue)).toBe(`${kind} [size:0/∞, waiters:0, shut down]`);
    });

    it('test_shutdown_empty: a waiting get rejects, join() resolves, puts and gets reject', async () => {
      const queue = make<string>(kind);
      const getTask = track(queue.get());
      queue.shutdown(false);
      expect(queue.size).toBe(0);
      await queue.join();
      await flushMicrotasks();
      expectShutDown(getTask.reason);
      expectShutDown(await rejectionOf(queue.put('data')));
      expectShutDown(thrownBy(() => queue.putNowait('data')));
      expectShutDown(await rejectionOf(queue.get()));
      expectShutDown(thrownBy(() => queue.getNowait()));
    });

    it('test_shutdown_nonempty: the waiting put rejects, the item is got, join() waits for its taskDone()', async () => {
      const queue = make<string>(kind, { maxSize: 1 });
      queue.putNowait('data');
      const joinTask = track(queue.join());
      const putTask = track(queue.put('data2'));
      await flushMicrotasks();
      expect(putTask.status).toBe('pending');
      queue.shutdown(false);
      expect(queue.size).toBe(1);
      await flushMicrotasks();
      expectShutDown(putTask.reason);
      expect(await queue.get()).toBe('data');
      await flushMicrotasks();
      expect(joinTask.status).toBe('pending');
      expectShutDown(await rejectionOf(queue.put('data')));
      expectShutDown(thrownBy(() => queue.putNowait('data')));
      expectShutDown(await rejectionOf(queue.get()));
      expectShutDown(thrownBy(() => queue.getNowait()));
      queue.taskDone();
      await flushMicrotasks();
      expect(joinTask.status).toBe('fulfilled');
      expectInvalidState(thrownBy(() => queue.taskDone()));
    });

    it('test_shutdown_immediate: the item is discarded, join() resolves, puts and gets reject', async () => {
      const queue = make<string>(kind);
      queue.putNowait('data');
      const joinTask = track(queue.join());
      queue.shutdown(true);
      expect(queue.size).toBe(0);
      await flushMicrotasks();
      expect(joinTask.status).toBe('fulfilled');
      expectShutDown(await rejectionOf(queue.put('data')));
      expectShutDown(thrownBy(() => queue.putNowait('data')));
      expectShutDown(await rejectionOf(queue.get()));
      expectShutDown(thrownBy(() => queue.getNowait()));
      expectInvalidState(thrownBy(() => queue.taskDone()));
    });

    it('test_shutdown_immediate_with_unfinished: join() waits for the taskDone() of the item got before', async () => {
      const queue = make<string>(kind);
      queue.putNowait('data');
      queue.putNowait('data');
      const joinTask = track(queue.join());
      expect(await queue.get()).toBe('data');
      queue.shutdown(true);
      expect(queue.size).toBe(0);
      await flushMicrotasks();
      expect(joinTask.status).toBe('pending');
      expectShutDown(await rejectionOf(queue.put('data')));
      expectShutDown(thrownBy(() => queue.putNowait('data')));
      expectShutDown(await rejectionOf(queue.get()));
      expectShutDown(thrownBy(() => queue.getNowait()));
      queue.taskDone();
      expectInvalidState(thrownBy(() => queue.taskDone()));
      await flushMicrotasks();
      expect(joinTask.status).toBe('fulfilled');
    });
  });

  it('a getNowait() right after a put cannot steal the item from a waiting getter (asyncio can)', async () => {
    const queue = new Queue<string>();
    const getter = track(queue.get());
    queue.putNowait('a');
    expect(() => queue.getNowait()).toThrow(QueueEmptyError);
    await flushMicrotasks();
    expect(getter.value).toBe('a');
  });

  it('a putNowait() right after a get cannot steal the slot from a waiting putter (asyncio can)', async () => {
    const queue = new Queue<string>({ maxSize: 1 });
    queue.putNowait('a');
    const putter = track(queue.put('b'));
    queue.getNowait();
    expect(() => queue.putNowait('c')).toThrow(QueueFullError);
    await flushMicrotasks();
    expect(putter.status).toBe('fulfilled');
    expect(drain(queue)).toEqual(['b']);
  });
});
