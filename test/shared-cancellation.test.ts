/**
 * The shared cancellation suite (test/cancellation.ts) for the waitsafe/shared primitives, on
 * the thread that runs the test: every rule of every wait, with the waits of one instance. What
 * other threads add (hand-off across threads, the platform wait, recovery) is in
 * test/shared.test.ts, with real threads.
 */

import { expect } from 'vitest';
import type { PrimitiveOptions, Releaser } from '../src/index.js';
import { SharedBarrier, SharedEvent, SharedLock, SharedSemaphore } from '../src/shared/index.js';
import { cancellationSuite } from './cancellation.js';

/** Room for the suite's largest test (20 000 waits on one signal). */
const CAPACITY = 20_100;
const PARTIES = 20_001;

function expectReleaser(value: unknown): void {
  expect(typeof value).toBe('function');
  expect(typeof (value as Releaser)[Symbol.dispose]).toBe('function');
}

cancellationSuite([
  {
    name: 'SharedEvent.wait',
    kind: 'SharedEvent',
    setup(options?: PrimitiveOptions) {
      const event = new SharedEvent({ ...options, capacity: CAPACITY });
      return {
        primitive: event,
        wait: (waitOptions) => event.wait(waitOptions),
        satisfy: () => event.set(),
        canCompleteNow: () => event.set(),
        checkValue: (value) => expect(value).toBe(true),
      };
    },
  },
  {
    name: 'SharedLock.acquire',
    kind: 'SharedLock',
    setup(options?: PrimitiveOptions) {
      const lock = new SharedLock({ ...options, capacity: CAPACITY });
      lock.tryAcquire();
      return {
        primitive: lock,
        wait: (waitOptions) => lock.acquire(waitOptions),
        // asyncio style: whoever holds the lock now releases it; it goes to the first waiter.
        satisfy: () => lock.release(),
        canCompleteNow: () => lock.release(),
        checkValue: expectReleaser,
      };
    },
  },
  {
    name: 'SharedLock.runExclusive',
    kind: 'SharedLock',
    setup(options?: PrimitiveOptions) {
      const lock = new SharedLock({ ...options, capacity: CAPACITY });
      const holder = lock.tryAcquire() as Releaser;
      return {
        primitive: lock,
        wait: (waitOptions) =>
          lock.runExclusive(() => {
            expect(lock.isLocked()).toBe(true);
            return 'ran';
          }, waitOptions),
        satisfy: () => holder(),
        canCompleteNow: () => holder(),
        checkValue: (value) => expect(value).toBe('ran'),
      };
    },
  },
  {
    name: 'SharedSemaphore.acquire',
    kind: 'SharedSemaphore',
    setup(options?: PrimitiveOptions) {
      const semaphore = new SharedSemaphore(2, { ...options, capacity: CAPACITY });
      semaphore.tryAcquire();
      semaphore.tryAcquire();
      return {
        primitive: semaphore,
        wait: (waitOptions) => semaphore.acquire(waitOptions),
        satisfy: () => semaphore.release(),
        canCompleteNow: () => semaphore.release(),
        checkValue: expectReleaser,
      };
    },
  },
  {
    name: 'SharedBarrier.wait',
    kind: 'SharedBarrier',
    setup(options?: PrimitiveOptions) {
      // The fillers are waiters too: keep the leak warning out of the suite unless asked for.
      const barrier = new SharedBarrier(PARTIES, { maxWaiters: 0, ...options, capacity: CAPACITY });
      const arriveUntil = (waiting: number) => {
        while (barrier.waiterCount < waiting) void barrier.wait();
      };
      return {
        primitive: barrier,
        wait: (waitOptions) => barrier.wait(waitOptions),
        satisfy() {
          arriveUntil(PARTIES - 1);
          void barrier.wait();
        },
        canCompleteNow: () => arriveUntil(PARTIES - 1),
        checkValue(value) {
          expect(Number.isInteger(value)).toBe(true);
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThan(PARTIES);
        },
      };
    },
  },
]);
