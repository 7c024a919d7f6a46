/**
 * Options are checked strictly (the README's contract, "Details that are decided"): a key that a
 * constructor or a helper does not know is a TypeError naming the key, and the call changes no
 * state. `Queue.shutdown()` takes a boolean or nothing. `new Condition({ name })` takes options
 * in the lock's place. The waiting methods' side of this is in the shared cancellation suite.
 */

import { describe, expect, it } from 'vitest';
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  Deadline,
  Event,
  LifoQueue,
  Lock,
  PriorityQueue,
  Queue,
  Semaphore,
  sleep,
  timeout,
  timeoutAt,
} from '../src/index.js';
import { trackWaiters, WaiterMonitor } from '../src/inspect/index.js';
import { rejectionOf } from './helpers.js';

/** Runs `fn`, which must throw a TypeError whose message names `key` in quotes. */
function expectUnknownKey(fn: () => unknown, key: string): void {
  let error: unknown;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(TypeError);
  expect((error as Error).message).toContain(`"${key}"`);
}

describe('constructor options are checked strictly', () => {
  const constructors: ReadonlyArray<readonly [string, (options: object) => unknown]> = [
    ['Event', (o) => new Event(o)],
    ['Lock', (o) => new Lock(o)],
    ['Semaphore', (o) => new Semaphore(1, o)],
    ['BoundedSemaphore', (o) => new BoundedSemaphore(1, o)],
    ['Condition (second argument)', (o) => new Condition(undefined, o)],
    ['Barrier', (o) => new Barrier(2, o)],
    ['Queue', (o) => new Queue(o)],
    ['LifoQueue', (o) => new LifoQueue(o)],
    ['PriorityQueue', (o) => new PriorityQueue(o)],
  ];

  it.each(constructors)('new %s throws a TypeError naming a misspelled key', (_, make) => {
    expectUnknownKey(() => make({ nmae: 'jobs' }), 'nmae');
    expectUnknownKey(() => make({ name: 'jobs', maxWaiter: 10 }), 'maxWaiter');
  });

  it.each(constructors)('new %s accepts name and maxWaiters, and {}', (_, make) => {
    expect(make({ name: 'jobs', maxWaiters: 10 })).toHaveProperty('name', 'jobs');
    expect(make({})).toHaveProperty('name', undefined);
  });

  it('queues know maxSize, and only PriorityQueue knows compare', () => {
    expect(new Queue({ maxSize: 2 }).maxSize).toBe(2);
    expect(new LifoQueue({ maxSize: 2 }).maxSize).toBe(2);
    expect(new PriorityQueue<number>({ maxSize: 2, compare: (a, b) => b - a }).maxSize).toBe(2);
    expectUnknownKey(() => new Queue({ compare: () => 0 } as object), 'compare');
    expectUnknownKey(() => new LifoQueue({ compare: () => 0 } as object), 'compare');
    expectUnknownKey(() => new Event({ maxSize: 1 } as object), 'maxSize');
  });

  it('a subclass of Queue knows what Queue knows', () => {
    class Jobs extends Queue<string> {}
    expect(new Jobs({ maxSize: 3, name: 'jobs' }).maxSize).toBe(3);
    expectUnknownKey(() => new Jobs({ size: 3 } as object), 'size');
  });

  it('inherited keys count too: an options object is read as a whole', () => {
    const defaults = { timeoutMs: 5 };
    expectUnknownKey(() => new Event(Object.create(defaults)), 'timeoutMs');
  });
});

describe('Condition takes options in the lock place', () => {
  it('new Condition({ name }) names the condition and its own lock', () => {
    const cond = new Condition({ name: 'jobs', maxWaiters: 5 });
    expect(cond.name).toBe('jobs');
    expect(String(cond)).toBe('Condition "jobs" [unlocked, waiters:0]');
  });

  it('new Condition({}) is a condition with its own lock, and it works', async () => {
    const cond = new Condition({});
    const release = await cond.acquire();
    expect(cond.isLocked()).toBe(true);
    release();
    expect(cond.isLocked()).toBe(false);
  });

  it('an object with no prototype is options too', () => {
    const options = Object.assign(Object.create(null) as object, { name: 'bare' });
    expect(new Condition(options).name).toBe('bare');
  });

  it('an options object in the lock place with an unknown key throws a TypeError naming lock and the key', () => {
    let error: unknown;
    try {
      new Condition({ nam: 'x' } as object);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/"lock"/);
    expect((error as Error).message).toContain('"nam"');
  });

  it('options in both places is a TypeError', () => {
    expect(() => new Condition({ name: 'a' } as never, { name: 'b' })).toThrow(/"lock"/);
  });

  it('an object that is not plain (a Semaphore, a class instance) is not taken for options', () => {
    expect(() => new Condition(new Semaphore(1) as never)).toThrow(TypeError);
    class Options {
      name = 'x';
    }
    expect(() => new Condition(new Options() as never)).toThrow(/"lock"/);
  });
});

describe('Queue.shutdown takes a boolean or nothing', () => {
  it.each<[string, unknown]>([
    ['the string "false"', 'false'],
    ['0', 0],
    ['1', 1],
    ['null', null],
    ['an object', { immediate: false }],
  ])('shutdown(%s) throws a TypeError naming "immediate" and shuts nothing down', async (_, immediate) => {
    const queue = new Queue<number>();
    queue.putNowait(1);
    const getter = new Queue<number>();
    const waiting = getter.get();
    expect(() => queue.shutdown(immediate as boolean)).toThrow(TypeError);
    expect(() => queue.shutdown(immediate as boolean)).toThrow(/"immediate"/);
    expect(queue.isShutDown()).toBe(false);
    expect(queue.size).toBe(1);
    expect(() => getter.shutdown(immediate as boolean)).toThrow(TypeError);
    expect(getter.waiterCount).toBe(1);
    getter.putNowait(7);
    expect(await waiting).toBe(7);
  });

  it('shutdown(false) keeps the items for consumers; shutdown(true) discards them', async () => {
    const graceful = new Queue<number>();
    graceful.putNowait(1);
    graceful.shutdown(false);
    expect(graceful.isShutDown()).toBe(true);
    expect(await graceful.get()).toBe(1);

    const immediate = new Queue<number>();
    immediate.putNowait(1);
    immediate.shutdown(true);
    expect(immediate.size).toBe(0);
  });
});

describe('the helpers check their options strictly', () => {
  it('sleep, timeout and timeoutAt reject an unknown key with a TypeError naming it, without calling fn', async () => {
    let called = false;
    const fn = () => {
      called = true;
    };
    for (const call of [
      () => sleep(1, { timeout: 5 } as object),
      () => timeout(1, fn, { timeout: 5 } as object),
      () => timeoutAt(performance.now() + 1, fn, { sigal: undefined } as object),
    ]) {
      const error = await rejectionOf(call());
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/"timeout"|"sigal"/);
    }
    expect(called).toBe(false);
  });

  it('new Deadline throws a TypeError naming an unknown key', () => {
    expectUnknownKey(() => new Deadline(10, { timeout: 5 } as object), 'timeout');
  });

  it('trackWaiters and WaiterMonitor throw a TypeError naming an unknown key, and start nothing', () => {
    expectUnknownKey(() => trackWaiters({ stack: true } as object), 'stack');
    expectUnknownKey(() => new WaiterMonitor({ interval: 1_000, baseLine: 'first' } as never), 'baseLine');
  });
});
