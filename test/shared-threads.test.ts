/**
 * waitsafe/shared with real threads, on every runtime: worker_threads on Node, Bun and Deno, Web
 * Workers in Chromium (cross-origin isolated, see vitest.config.ts). Each thread runs the ops of
 * test/fixtures/shared-worker.ts on primitives it maps from handles the test passes.
 *
 * The leak checks read the shared memory from the test's thread (test/shared-memory.ts): slots
 * and agents in use, and the platform waits pending on the agents' mailbox words, counted by
 * `Atomics.notify` (which returns how many waiters, of any thread, it woke).
 */

import { afterEach, describe, expect, it } from 'vitest';
import type { Releaser } from '../src/index.js';
import { SharedBarrier, SharedEvent, SharedLock, SharedSemaphore } from '../src/shared/index.js';
import { pendingPlatformWaits } from '../src/shared/primitive.js';
import { nextMacrotask } from './helpers.js';
import { memoryUse, platformWaits } from './shared-memory.js';
import { availableApis, exitsObservably, startThread, type Thread, terminateAll } from './threads.js';

afterEach(terminateAll);

const TEST_TIMEOUT = 60_000;

/** Starts `n` threads. */
function threads(n: number): Promise<Thread[]> {
  return Promise.all(Array.from({ length: n }, () => startThread()));
}

/** Resolves once `check()` holds, looking again after each macrotask (events from threads arrive as tasks). */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await nextMacrotask();
  }
}

/** Resolves with the first event of `thread` that `accept` takes. */
function nextEvent<T>(thread: Thread, accept: (data: unknown) => data is T): Promise<T> {
  return new Promise((resolve) => {
    const remove = thread.onMessage((data) => {
      if (!accept(data)) return;
      remove();
      resolve(data);
    });
  });
}

const isSettled = (data: unknown): data is { settled: string } =>
  typeof data === 'object' && data !== null && 'settled' in data;

/** Maps `primitive` as `key` in every thread of `list`. */
async function mapAll(list: readonly Thread[], key: string, primitive: { handle: { kind: string } }): Promise<void> {
  await Promise.all(list.map((t) => t.request('map', { key, kind: primitive.handle.kind, handle: primitive.handle })));
}

/** A request whose settlement the test can look at without awaiting it. */
function pending<T>(promise: Promise<T>): { promise: Promise<T>; done: boolean } {
  const tracked = { promise, done: false };
  promise.then(
    () => {
      tracked.done = true;
    },
    () => {
      tracked.done = true;
    },
  );
  return tracked;
}

/** Nothing left: no slot, no agent, no platform wait in any thread, none in this one. */
function expectIdle(handle: { buffer: SharedArrayBuffer }): void {
  expect(memoryUse(handle)).toEqual({ slots: 0, agents: 0, queued: 0, spin: 0 });
  expect(platformWaits(handle)).toBe(0);
  expect(pendingPlatformWaits()).toBe(0);
}

describe('waitsafe/shared across threads', () => {
  it(
    'keeps mutual exclusion across 4 threads under stress: a counter incremented non-atomically under the lock is exact',
    async () => {
      const list = await threads(4);
      const lock = new SharedLock({ name: 'stress' });
      await mapAll(list, 'lock', lock);
      const cells = new Int32Array(new SharedArrayBuffer(4));
      const iterations = 500;
      // The test's thread takes part too.
      const local = (async () => {
        for (let i = 0; i < iterations; i++) {
          const release = await lock.acquire();
          const value = cells[0] as number;
          await null;
          cells[0] = value + 1;
          release();
        }
      })();
      await Promise.all([
        local,
        ...list.map((t) => t.request('hammer', { key: 'lock', iterations, buffer: cells.buffer, index: 0 })),
      ]);
      expect(cells[0]).toBe(5 * iterations);
      expectIdle(lock.handle);
    },
    TEST_TIMEOUT,
  );

  it(
    'hands the lock over at release in FIFO order across threads',
    async () => {
      const list = await threads(3);
      const lock = new SharedLock();
      await mapAll(list, 'lock', lock);
      const held = lock.tryAcquire() as Releaser;
      const waits: ReturnType<typeof pending<unknown>>[] = [];
      for (const [i, t] of list.entries()) {
        waits.push(pending(t.request('acquire', { key: 'lock' })));
        await until(() => memoryUse(lock.handle).queued === i + 1, `thread ${i} queued`);
      }
      held();
      for (const [i, t] of list.entries()) {
        await waits[i]?.promise;
        // The ones behind are still queued: the lock went to this one, in arrival order.
        expect(waits.map((w) => w.done)).toEqual(waits.map((_, j) => j <= i));
        expect(lock.isLocked()).toBe(true);
        expect(lock.tryAcquire()).toBeUndefined();
        await t.request('releaseHold', { hold: 'lock' });
      }
      await until(() => memoryUse(lock.handle).agents === 0, 'agents freed');
      expectIdle(lock.handle);
    },
    TEST_TIMEOUT,
  );

  it(
    'serves weights in FIFO order across threads: a heavy head blocks a lighter waiter that fits',
    async () => {
      const [heavy, light] = (await threads(2)) as [Thread, Thread];
      const semaphore = new SharedSemaphore(3);
      await mapAll([heavy, light], 's', semaphore);
      const two = semaphore.tryAcquire(2) as Releaser;
      const heavyWait = pending(heavy.request('acquire', { key: 's', weight: 2 }));
      await until(() => memoryUse(semaphore.handle).queued === 1, 'heavy queued');
      const lightWait = pending(light.request('acquire', { key: 's', weight: 1 }));
      await until(() => memoryUse(semaphore.handle).queued === 2, 'light queued');
      expect(semaphore.value).toBe(1); // one is free, but the head wants 2
      two();
      await Promise.all([heavyWait.promise, lightWait.promise]);
      expect(semaphore.value).toBe(0);
      await heavy.request('releaseHold', { hold: 's' });
      await light.request('releaseHold', { hold: 's' });
      expect(semaphore.value).toBe(3);
      await until(() => memoryUse(semaphore.handle).agents === 0, 'agents freed');
      expectIdle(semaphore.handle);
    },
    TEST_TIMEOUT,
  );

  it(
    'wakes the waiters of every thread when one thread sets the event',
    async () => {
      const list = await threads(4);
      const event = new SharedEvent();
      await mapAll(list, 'e', event);
      const [setter, ...waiters] = list as [Thread, ...Thread[]];
      const local = pending(event.wait());
      const remote = waiters.map((t) => pending(t.request('acquire', { key: 'e' })));
      await until(() => memoryUse(event.handle).queued === 4, 'all waiting');
      await setter.request('call', { key: 'e', method: 'set' });
      expect(await Promise.all([local.promise, ...remote.map((r) => r.promise)])).toEqual([true, true, true, true]);
      expect(event.isSet()).toBe(true);
      await until(() => memoryUse(event.handle).agents === 0, 'agents freed');
      expectIdle(event.handle);
    },
    TEST_TIMEOUT,
  );

  it(
    'runs barrier rounds across 4 threads with indices unique in every round',
    async () => {
      const list = await threads(4);
      const barrier = new SharedBarrier(4);
      await mapAll(list, 'b', barrier);
      const rounds = 20;
      const perThread = (await Promise.all(list.map((t) => t.request('rounds', { key: 'b', rounds })))) as number[][];
      for (let round = 0; round < rounds; round++) {
        expect(perThread.map((indices) => indices[round]).sort()).toEqual([0, 1, 2, 3]);
      }
      await until(() => memoryUse(barrier.handle).agents === 0, 'agents freed');
      expectIdle(barrier.handle);
    },
    TEST_TIMEOUT,
  );

  it.each([
    ['SharedLock', () => new SharedLock()],
    ['SharedSemaphore', () => new SharedSemaphore(1)],
    ['SharedEvent', () => new SharedEvent()],
    ['SharedBarrier', () => new SharedBarrier(100)],
  ] as const)(
    'holds every rule of every wait in every thread (%s)',
    async (_, make) => {
      const list = await threads(4);
      const primitive = make();
      const held =
        primitive instanceof SharedLock || primitive instanceof SharedSemaphore ? primitive.tryAcquire() : undefined;
      await mapAll(list, 'p', primitive);
      const failures = (await Promise.all(list.map((t) => t.request('rules', { key: 'p' })))) as string[][];
      expect(failures).toEqual([[], [], [], []]);
      held?.();
      await until(() => memoryUse(primitive.handle).agents === 0, 'agents freed');
      expectIdle(primitive.handle);
    },
    TEST_TIMEOUT,
  );

  it(
    'leaves no slot, no agent and no platform wait after 10,000 waits given up across 4 threads',
    async () => {
      const list = await threads(4);
      const lock = new SharedLock({ name: 'abandoned' });
      const event = new SharedEvent({ name: 'abandoned' });
      await mapAll(list, 'lock', lock);
      await mapAll(list, 'event', event);
      const held = lock.tryAcquire() as Releaser;
      const results = (await Promise.all(
        list.flatMap((t) => [
          t.request('abandon', { key: 'lock', count: 1_500 }),
          t.request('abandon', { key: 'event', count: 1_000 }),
        ]),
      )) as { rejected: number; waiterCount: number }[];
      expect(results.reduce((n, r) => n + r.rejected, 0)).toBe(10_000);
      const states = (await Promise.all(
        list.flatMap((t) => [t.request('state', { key: 'lock' }), t.request('state', { key: 'event' })]),
      )) as { waiterCount: number; platformWaits: number }[];
      expect(states).toEqual(states.map(() => ({ waiterCount: 0, platformWaits: 0 })));
      // Only the test's own hold is left.
      expect(memoryUse(lock.handle)).toEqual({ slots: 0, agents: 1, queued: 0, spin: 0 });
      expect(platformWaits(lock.handle)).toBe(0);
      held();
      expectIdle(lock.handle);
      expectIdle(event.handle);
    },
    TEST_TIMEOUT,
  );

  it(
    'recovers the hold of a thread terminated while holding: the waiter in another thread goes on',
    async () => {
      const [holder, waiter] = (await threads(2)) as [Thread, Thread];
      const lock = new SharedLock();
      await mapAll([holder, waiter], 'lock', lock);
      await holder.request('acquire', { key: 'lock' });
      const id = (await holder.request('libraryThreadId')) as number;
      const next = pending(waiter.request('acquire', { key: 'lock' }));
      await until(() => memoryUse(lock.handle).queued === 1, 'waiter queued');
      await holder.terminate();
      expect(next.done).toBe(false);
      expect(lock.recover(id)).toBe(1);
      expect(await next.promise).toBe(true);
      await waiter.request('releaseHold', { hold: 'lock' });
      await until(() => memoryUse(lock.handle).agents === 0, 'agents freed');
      expectIdle(lock.handle);
    },
    TEST_TIMEOUT,
  );

  it(
    'recovers the waits of a thread terminated while waiting: they never block the queue',
    async () => {
      const [holder, dead, next] = (await threads(3)) as [Thread, Thread, Thread];
      const semaphore = new SharedSemaphore(1);
      await mapAll([holder, dead, next], 's', semaphore);
      await holder.request('acquire', { key: 's' });
      const id = (await dead.request('libraryThreadId')) as number;
      void dead.request('acquire', { key: 's', hold: 'a' }).catch(() => {});
      void dead.request('acquire', { key: 's', hold: 'b' }).catch(() => {});
      await until(() => memoryUse(semaphore.handle).queued === 2, 'the doomed thread queued twice');
      const after = pending(next.request('acquire', { key: 's' }));
      await until(() => memoryUse(semaphore.handle).queued === 3, 'the next one queued');
      await dead.terminate();
      expect(semaphore.recover(id)).toBe(2);
      expect(memoryUse(semaphore.handle).queued).toBe(1);
      await holder.request('releaseHold', { hold: 's' });
      expect(await after.promise).toBe(true);
      await next.request('releaseHold', { hold: 's' });
      await until(() => memoryUse(semaphore.handle).agents === 0, 'agents freed');
      expectIdle(semaphore.handle);
    },
    TEST_TIMEOUT,
  );

  it(
    'recovers the event waits and the barrier arrival of a thread terminated while waiting',
    async () => {
      const [dead, live] = (await threads(2)) as [Thread, Thread];
      const event = new SharedEvent();
      const barrier = new SharedBarrier(2);
      await mapAll([dead, live], 'e', event);
      await mapAll([dead, live], 'b', barrier);
      const id = (await dead.request('libraryThreadId')) as number;
      void dead.request('acquire', { key: 'e' }).catch(() => {});
      void dead.request('acquire', { key: 'b' }).catch(() => {});
      await until(() => memoryUse(event.handle).queued === 1 && memoryUse(barrier.handle).queued === 1, 'both waiting');
      await dead.terminate();
      expect(event.recover(id)).toBe(1);
      expect(barrier.recover(id)).toBe(1);
      expectIdle(event.handle);
      expectIdle(barrier.handle);
      // The dead party's arrival is gone: the barrier needs two live ones again.
      const first = pending(live.request('acquire', { key: 'b' }));
      await until(() => memoryUse(barrier.handle).queued === 1, 'the live party waiting');
      expect(first.done).toBe(false);
      expect(await barrier.wait()).toBe(1);
      expect(await first.promise).toBe(0);
      await until(() => memoryUse(barrier.handle).agents === 0, 'agents freed');
      expectIdle(barrier.handle);
    },
    TEST_TIMEOUT,
  );

  it('rejects the handle of another kind in a thread with a TypeError', async () => {
    const [thread] = (await threads(1)) as [Thread];
    const event = new SharedEvent();
    const error = await thread.request('map', { key: 'x', kind: 'SharedLock', handle: event.handle }).catch((e) => e);
    expect((error as Error).name).toBe('TypeError');
    expect((error as Error).message).toContain('is the handle of a SharedEvent, not of a SharedLock');
    expect(memoryUse(event.handle)).toEqual({ slots: 0, agents: 0, queued: 0, spin: 0 });
  });

  // With every way of starting a thread whose end the test can see (worker_threads, and Bun's
  // Web Workers): a Web Worker in a browser (or Deno) never exits by itself, so there is nothing
  // to keep alive there.
  for (const api of availableApis.filter(exitsObservably)) {
    it(
      `keeps a thread whose only work is a pending shared wait alive until it settles, then lets it exit (${api})`,
      async () => {
        const [control, waiting, timed] = await Promise.all([
          startThread({ api }),
          startThread({ api }),
          startThread({ api }),
        ]);
        const event = new SharedEvent();
        await mapAll([waiting, timed], 'e', event);
        // The control: a bare Atomics.waitAsync does not keep its thread alive, so it exits.
        await control.request('bareWaitDetached', { buffer: new SharedArrayBuffer(4) });
        const settled = nextEvent(waiting, isSettled);
        const timedOut = nextEvent(timed, isSettled);
        await waiting.request('waitDetached', { key: 'e' });
        await timed.request('waitDetached', { key: 'e', timeout: 200 });
        await control.exited;
        // The control has exited; the thread waiting on the shared event has not.
        let exited = false;
        void waiting.exited.then(() => {
          exited = true;
        });
        await nextMacrotask();
        expect(exited).toBe(false);
        event.set();
        expect((await settled).settled).toBe('fulfilled');
        await waiting.exited; // and then it exits by itself, with nothing left to do
        expect(waiting.exitCode).toBe(0);
        // With a timeout, the same: alive until the timeout, then it exits.
        expect((await timedOut).settled).toMatch(/fulfilled|TimeoutError/);
        await timed.exited;
      },
      TEST_TIMEOUT,
    );
  }
});
