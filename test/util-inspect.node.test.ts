/**
 * `util.inspect` (node:util) shows every primitive's readable state, as `String()` does: Node's
 * console and REPL print objects with it. Node-only: browsers have no `util.inspect`.
 */

import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  LifoQueue,
  Lock,
  PriorityQueue,
  Queue,
  Semaphore,
} from '../src/index.js';
import { flushMicrotasks, track } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('util.inspect', () => {
  it('shows the readable state of an Event, also nested', () => {
    const event = new Event({ name: 'ready' });
    track(event.wait());
    expect(inspect(event)).toBe('Event "ready" [unset, waiters:1]');
    expect(inspect({ event })).toBe('{ event: Event "ready" [unset, waiters:1] }');
    event.set();
    expect(inspect(new Event())).toBe('Event [unset, waiters:0]');
    expect(inspect(event)).toBe('Event "ready" [set, waiters:0]');
  });

  it('shows the readable state of a Lock, also nested', async () => {
    const lock = new Lock({ name: 'db' });
    await lock.acquire();
    expect(inspect(lock)).toBe('Lock "db" [locked, waiters:0]');
    expect(inspect({ lock })).toBe('{ lock: Lock "db" [locked, waiters:0] }');
  });

  it.each([
    ['Semaphore', () => new Semaphore(1, { name: 'pool' })],
    ['BoundedSemaphore', () => new BoundedSemaphore(1, { name: 'pool' })],
  ] as const)('shows the readable state of a %s', async (kind, make) => {
    const semaphore = make();
    await semaphore.acquire();
    track(semaphore.acquire());
    track(semaphore.acquire());
    expect(inspect(semaphore)).toBe(`${kind} "pool" [value:0, waiters:2]`);
    expect(inspect(semaphore)).toBe(String(semaphore));
  });

  it('shows the readable state of a Condition', async () => {
    const cond = new Condition(undefined, { name: 'jobs' });
    for (let i = 0; i < 2; i++) {
      await cond.acquire();
      // wait() releases the lock while it waits, and takes it back before it settles.
      track(cond.wait().finally(() => cond.release()));
    }
    await flushMicrotasks();
    expect(inspect(cond)).toBe('Condition "jobs" [unlocked, waiters:2]');
    expect(inspect(cond)).toBe(String(cond));
  });

  it('shows the readable state of a Barrier', () => {
    const barrier = new Barrier(3, { name: 'start' });
    track(barrier.wait());
    expect(inspect(barrier)).toBe('Barrier "start" [parties:3, waiting:1]');
    barrier.abort();
    expect(inspect(barrier)).toBe('Barrier "start" [broken, parties:3, waiting:0]');
  });

  it.each([
    ['Queue', () => new Queue<number>({ name: 'jobs' })],
    ['LifoQueue', () => new LifoQueue<number>({ name: 'jobs' })],
    ['PriorityQueue', () => new PriorityQueue<number>({ name: 'jobs' })],
  ] as const)('shows the readable state of a %s', (kind, make) => {
    const queue = make();
    track(queue.get());
    track(queue.get({ timeout: 100 }));
    expect(inspect(queue)).toBe(`${kind} "jobs" [size:0/∞, waiters:2]`);
    queue.shutdown();
    expect(inspect(queue)).toBe(String(queue));
  });
});
