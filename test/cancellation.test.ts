import { expect } from 'vitest';
import { invalidKeys, WAIT_KEYS } from '../src/core/options.js';
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Future,
  LifoQueue,
  Lock,
  type PrimitiveOptions,
  PriorityQueue,
  Queue,
  type QueueOptions,
  ReaderWriterLock,
  type Releaser,
  Semaphore,
  type WaitOptions,
} from '../src/index.js';
import { LockManager } from '../src/lock-manager.js';
import { cancellationSuite, type WaitRow, type WaitSubject } from './cancellation.js';

/** Checks that a value is a Releaser: a function that is also Disposable. */
function expectReleaser(value: unknown): void {
  expect(typeof value).toBe('function');
  expect(typeof (value as Releaser)[Symbol.dispose]).toBe('function');
}

/**
 * A Barrier with more parties than any test of the suite makes waits (20 000), so the waits
 * under test block; `satisfy()` has other parties arrive until the round trips.
 */
const BARRIER_PARTIES = 20_001;

/**
 * A subject for a Condition wait (`wait` or `waitFor`) on the Condition's own lock.
 *
 * The test plays every task. Each call is a task that takes the lock (synchronously: the lock is
 * free, and `acquire()` takes a free lock before it returns), starts the wait, and releases the
 * lock once its wait has settled holding it again, as `runExclusive` would. A wait that gives up
 * re-acquires the lock before it rejects, so it settles some microtasks after it left the queue;
 * `settling()` tells the suite when that is still going on.
 */
function conditionSubject(
  options: PrimitiveOptions | undefined,
  start: (cond: Condition, waitOptions: WaitOptions | undefined) => Promise<unknown>,
  extra: Partial<WaitSubject> = {},
): WaitSubject {
  const cond = new Condition(undefined, options);
  return {
    primitive: cond,
    wait(waitOptions) {
      if (cond.isLocked()) {
        throw new Error('test harness: a Condition wait started while another test task holds the lock; settle first');
      }
      void cond.acquire();
      return start(cond, waitOptions).finally(() => cond.release());
    },
    satisfy() {
      // notify() needs the lock held. When another test task holds it (a wait that is
      // re-acquiring), notify under that hold; otherwise take the lock for the call.
      if (cond.isLocked()) {
        cond.notify();
        return;
      }
      void cond.acquire();
      cond.notify();
      cond.release();
    },
    settling: () => cond.isLocked(),
    checkValue: (value) => expect(value).toBe(true),
    ...extra,
  };
}

type QueueKind = 'Queue' | 'PriorityQueue' | 'LifoQueue';

function makeQueue(kind: QueueKind, options: QueueOptions | undefined): Queue<number> {
  if (kind === 'PriorityQueue') return new PriorityQueue<number>(options);
  if (kind === 'LifoQueue') return new LifoQueue<number>(options);
  return new Queue<number>(options);
}

/**
 * `get` on an empty unbounded queue. `satisfy()` puts an item, which goes straight to the oldest
 * getter; every item is a fresh number, so `checkValue` can tell that a get got one of them.
 */
function queueGetRow(kind: QueueKind): WaitRow {
  return {
    name: `${kind}.get`,
    kind,
    setup(options) {
      const queue = makeQueue(kind, options);
      const put = new Set<number>();
      let next = 0;
      const putOne = () => {
        put.add(next);
        queue.putNowait(next++);
      };
      return {
        primitive: queue,
        wait: (waitOptions) => queue.get(waitOptions),
        satisfy: putOne,
        canCompleteNow: putOne,
        checkValue: (value) => expect(put.has(value as number)).toBe(true),
      };
    },
  };
}

/**
 * `put` on a full queue (`maxSize` 1, one item in it). `satisfy()` takes the item out with
 * `getNowait()`, which takes the oldest putter's item in at once, so the queue stays full while
 * putters wait and `satisfy()` can be called again for the next one.
 */
function queuePutRow(kind: QueueKind): WaitRow {
  return {
    name: `${kind}.put`,
    kind,
    setup(options) {
      const queue = makeQueue(kind, { ...options, maxSize: 1 });
      let next = 0;
      queue.putNowait(next++);
      const takeOne = () => {
        if (!queue.isEmpty()) queue.getNowait();
      };
      return {
        primitive: queue,
        wait: (waitOptions) => queue.put(next++, waitOptions),
        satisfy: takeOne,
        canCompleteNow: takeOne,
        checkValue: (value) => expect(value).toBeUndefined(),
      };
    },
  };
}

cancellationSuite([
  {
    name: 'Event.wait',
    kind: 'Event',
    setup(options) {
      const event = new Event(options);
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
    name: 'Future.wait',
    kind: 'Future',
    setup(options) {
      // Set once: satisfy() resolves every pending wait, and later waits settle at once with the
      // same value (as an Event's do after set()).
      const future = new Future<{ answer: number }>(options);
      const value = { answer: 42 };
      const setOnce = () => {
        if (!future.done()) future.setResult(value);
      };
      return {
        primitive: future,
        wait: (waitOptions) => future.wait(waitOptions),
        satisfy: setOnce,
        canCompleteNow: setOnce,
        checkValue: (got) => expect(got).toBe(value),
      };
    },
  },
  {
    name: 'Lock.acquire',
    kind: 'Lock',
    setup(options) {
      const lock = new Lock(options);
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
    name: 'Lock.runExclusive',
    kind: 'Lock',
    setup(options) {
      const lock = new Lock(options);
      const holder = lock.tryAcquire() as Releaser;
      return {
        primitive: lock,
        wait: (waitOptions) =>
          lock.runExclusive(() => {
            expect(lock.isLocked()).toBe(true);
            return 'ran';
          }, waitOptions),
        // Releasing the first hold serves every queued call in turn: each releases when done.
        satisfy: () => holder(),
        canCompleteNow: () => holder(),
        checkValue: (value) => expect(value).toBe('ran'),
      };
    },
  },
  {
    // request(name, options, callback) on one name. A shared hold and, queued behind it, an
    // exclusive request of the row's own (the blocker) make the shared requests under test wait:
    // a waiting exclusive request blocks later shared ones. satisfy() aborts the blocker, which
    // grants the whole run of shared requests behind it in that same step, and queues a fresh
    // blocker for later requests. The suite's waiterCount leaves the blocker out. request()
    // ignores unknown option keys, as WebIDL does (README: LockManager; tested in
    // lock-manager.test.ts), so the row itself applies the key check the suite runs on every
    // waiting method.
    name: 'LockManager.request',
    kind: 'LockManager',
    setup(options) {
      const manager = new LockManager(options);
      void manager.request('row', { mode: 'shared' }, () => new Promise(() => {}));
      let blocker: AbortController | undefined;
      const block = () => {
        blocker = new AbortController();
        manager.request('row', { signal: blocker.signal }, () => {}).catch(() => {});
      };
      const unblock = () => {
        blocker?.abort();
        blocker = undefined;
      };
      block();
      return {
        primitive: {
          name: manager.name,
          get waiterCount() {
            return manager.waiterCount - (blocker === undefined ? 0 : 1);
          },
          toString: () => String(manager),
        },
        wait(waitOptions) {
          if (waitOptions === undefined) return manager.request('row', { mode: 'shared' }, (lock) => lock);
          if (typeof waitOptions !== 'object' || waitOptions === null) {
            return manager.request('row', waitOptions as never, (lock) => lock);
          }
          const unknownKey = invalidKeys(waitOptions, WAIT_KEYS);
          if (unknownKey !== undefined) return Promise.reject(unknownKey);
          return manager.request('row', { ...waitOptions, mode: 'shared' }, (lock) => lock);
        },
        satisfy() {
          unblock();
          block();
        },
        canCompleteNow: unblock,
        checkValue: (value) => expect(value).toEqual({ name: 'row', mode: 'shared' }),
      };
    },
  },
  {
    name: 'Semaphore.acquire',
    kind: 'Semaphore',
    setup(options) {
      const semaphore = new Semaphore(2, options);
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
    name: 'Semaphore.runExclusive',
    kind: 'Semaphore',
    setup(options) {
      const semaphore = new Semaphore(1, options);
      const holder = semaphore.tryAcquire() as Releaser;
      return {
        primitive: semaphore,
        wait: (waitOptions) =>
          semaphore.runExclusive(() => {
            expect(semaphore.value).toBe(0);
            return 'ran';
          }, waitOptions),
        satisfy: () => holder(),
        canCompleteNow: () => holder(),
        checkValue: (value) => expect(value).toBe('ran'),
      };
    },
  },
  {
    name: 'BoundedSemaphore.acquire',
    kind: 'BoundedSemaphore',
    setup(options) {
      const semaphore = new BoundedSemaphore(2, options);
      // Releasers of the permits held now, oldest first; granted waits add theirs.
      const held: Releaser[] = [semaphore.tryAcquire() as Releaser, semaphore.tryAcquire() as Releaser];
      const releaseOldest = () => {
        const release = held.shift();
        if (release === undefined) throw new Error('test harness: no permit is held');
        release();
      };
      return {
        primitive: semaphore,
        wait(waitOptions) {
          const promise = semaphore.acquire(waitOptions);
          promise.then(
            (release) => held.push(release),
            () => {},
          );
          return promise;
        },
        satisfy: releaseOldest,
        canCompleteNow: releaseOldest,
        checkValue: expectReleaser,
      };
    },
  },
  {
    name: 'ReaderWriterLock.acquireRead',
    kind: 'ReaderWriterLock',
    setup(options) {
      // A writer holds the lock; its release lets every queued reader in at once.
      const rw = new ReaderWriterLock(options);
      const writer = rw.tryAcquireWrite() as Releaser;
      return {
        primitive: rw,
        wait: (waitOptions) => rw.acquireRead(waitOptions),
        satisfy: () => writer(),
        canCompleteNow: () => writer(),
        checkValue: expectReleaser,
      };
    },
  },
  {
    name: 'ReaderWriterLock.acquireWrite',
    kind: 'ReaderWriterLock',
    setup(options) {
      const rw = new ReaderWriterLock(options);
      // Releasers of the holds now, oldest first (a reader's); granted writes add theirs.
      const held: Releaser[] = [rw.tryAcquireRead() as Releaser];
      const releaseOldest = () => {
        const release = held.shift();
        if (release === undefined) throw new Error('test harness: nothing is held');
        release();
      };
      return {
        primitive: rw,
        wait(waitOptions) {
          const promise = rw.acquireWrite(waitOptions);
          promise.then(
            (release) => held.push(release),
            () => {},
          );
          return promise;
        },
        satisfy: releaseOldest,
        canCompleteNow: releaseOldest,
        checkValue: expectReleaser,
      };
    },
  },
  {
    name: 'ReaderWriterLock.runRead',
    kind: 'ReaderWriterLock',
    setup(options) {
      const rw = new ReaderWriterLock(options);
      const writer = rw.tryAcquireWrite() as Releaser;
      return {
        primitive: rw,
        wait: (waitOptions) =>
          rw.runRead(() => {
            expect(rw.readers).toBeGreaterThan(0);
            return 'ran';
          }, waitOptions),
        satisfy: () => writer(),
        canCompleteNow: () => writer(),
        checkValue: (value) => expect(value).toBe('ran'),
      };
    },
  },
  {
    name: 'ReaderWriterLock.runWrite',
    kind: 'ReaderWriterLock',
    setup(options) {
      const rw = new ReaderWriterLock(options);
      const reader = rw.tryAcquireRead() as Releaser;
      return {
        primitive: rw,
        wait: (waitOptions) =>
          rw.runWrite(() => {
            expect(rw.isWriteLocked()).toBe(true);
            return 'ran';
          }, waitOptions),
        // Releasing the reader serves every queued call in turn: each releases when done.
        satisfy: () => reader(),
        canCompleteNow: () => reader(),
        checkValue: (value) => expect(value).toBe('ran'),
      };
    },
  },
  {
    name: 'Condition.acquire',
    kind: 'Lock',
    setup(options) {
      // An explicit lock, so the suite can count the acquire waiters (a Condition's own
      // waiterCount counts callers waiting to be notified). A timeout names the lock.
      const lock = new Lock(options);
      const cond = new Condition(lock, options);
      lock.tryAcquire();
      return {
        primitive: lock,
        wait: (waitOptions) => cond.acquire(waitOptions),
        satisfy: () => cond.release(),
        canCompleteNow: () => cond.release(),
        checkValue: expectReleaser,
      };
    },
  },
  {
    name: 'Condition.wait',
    kind: 'Condition',
    setup: (options) => conditionSubject(options, (cond, waitOptions) => cond.wait(waitOptions)),
  },
  {
    name: 'Condition.waitFor',
    kind: 'Condition',
    setup(options) {
      // Each satisfy() adds one ticket and notifies; the notified waiter's predicate takes it.
      let tickets = 0;
      const predicate = () => {
        if (tickets === 0) return false;
        tickets--;
        return 'ticket';
      };
      const subject = conditionSubject(options, (cond, waitOptions) => cond.waitFor(predicate, waitOptions));
      const notify = subject.satisfy;
      return {
        ...subject,
        satisfy() {
          tickets++;
          notify();
        },
        canCompleteNow() {
          tickets++;
        },
        checkValue: (value) => expect(value).toBe('ticket'),
      };
    },
  },
  {
    name: 'Barrier.wait',
    kind: 'Barrier',
    setup(options) {
      // The fillers are waiters too: keep the leak warning out of the suite unless asked for.
      const barrier = new Barrier(BARRIER_PARTIES, { maxWaiters: 0, ...options });
      const arriveUntil = (waiting: number) => {
        while (barrier.waiterCount < waiting) void barrier.wait();
      };
      return {
        primitive: barrier,
        wait: (waitOptions) => barrier.wait(waitOptions),
        // Other parties arrive until the round trips.
        satisfy() {
          arriveUntil(BARRIER_PARTIES - 1);
          void barrier.wait();
        },
        canCompleteNow: () => arriveUntil(BARRIER_PARTIES - 1),
        checkValue(value) {
          expect(Number.isInteger(value)).toBe(true);
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThan(BARRIER_PARTIES);
        },
      };
    },
  },
  queueGetRow('Queue'),
  queuePutRow('Queue'),
  {
    name: 'Queue.join',
    kind: 'Queue',
    setup(options) {
      // One unfinished item, so joins wait. satisfy() finishes it (taskDone() releases every
      // joiner at once) and then puts the next one, so the queue is back to one unfinished item:
      // satisfy() can be called again (a taskDone() with nothing unfinished would throw
      // InvalidStateError), and a join started later waits again.
      const queue = new Queue<string>(options);
      queue.putNowait('work');
      return {
        primitive: queue,
        wait: (waitOptions) => queue.join(waitOptions),
        satisfy() {
          queue.taskDone();
          queue.putNowait('more work');
        },
        canCompleteNow() {
          queue.getNowait();
          queue.taskDone();
        },
        checkValue: (value) => expect(value).toBeUndefined(),
      };
    },
  },
  queueGetRow('PriorityQueue'),
  queuePutRow('PriorityQueue'),
  queueGetRow('LifoQueue'),
  queuePutRow('LifoQueue'),
]);
