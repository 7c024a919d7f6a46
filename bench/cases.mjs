// Case tables shared by more than one suite: Event waits (bench/event.mjs, bench/mixed.mjs),
// Lock and Semaphore hand-off and uncontended cases (bench/lock.mjs, bench/mixed.mjs), the
// queue hand-off (bench/queue.mjs, bench/mixed.mjs), and the weighted semaphores and
// reader-writer locks (bench/more.mjs, bench/orphans.mjs). Not a scenario of its own.
//
// A table row describes one library: a few one-line functions of that library alone
// (`acquire: (lock) => lock.acquire()`). A case is a template loop (written once below),
// specialized per case with the row's functions by the harness (a fresh copy with its own
// feedback and the functions written in, see bench/harness.mjs), and a `setup()` that makes the
// primitive it works on. So each library runs its own monomorphic loop, as if written out for it.
import { AsyncReaderWriterLock } from '@esfx/async-readerwriterlock';
import { AsyncSemaphore } from '@esfx/async-semaphore';
import { getSemaphore } from '@henrygd/semaphore';
import { Mutex as AsyncMutex, Semaphore as AsyncMutexSemaphore } from 'async-mutex';
import { RWLock } from 'async-rwlock';
import { Sema } from 'async-sema';
import { Mutex as EsToolkitMutex } from 'es-toolkit';
import { Event, Lock, ReaderWriterLock, Semaphore } from '../dist/esm/index.js';
import { specialize } from './harness.mjs';

const noop = () => {};
export const tick = () => new Promise((resolve) => setImmediate(resolve));

// ---------------------------------------------------------------------------------------------
// Events

/** The textbook Event: an array of resolvers. A peer, not a target. */
export class NaiveEvent {
  waiters = [];
  flag = false;
  wait() {
    if (this.flag) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
    });
  }
  set() {
    if (this.flag) return;
    this.flag = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve(true);
  }
  clear() {
    this.flag = false;
  }
}

/** Templates of the Event cases (see the header): `state` is what the case's setup() returns. */
const EVENT_LOOPS = {
  /** One waiter: wait, set, clear, await; the wait is awaited after set (floor-comparable). */
  waitSet: ({ wait }) =>
    async function (n) {
      const { ev, signal } = this;
      for (let i = 0; i < n; i++) {
        const p = wait(ev, signal);
        ev.set();
        ev.clear();
        await p;
      }
    },
  /** `perSet` waiters per set(): n is the number of woken waiters. */
  wakeMany: ({ wait }) =>
    async function (n) {
      const { ev, perSet } = this;
      const ps = new Array(perSet);
      for (let i = 0; i < n; i += perSet) {
        for (let j = 0; j < perSet; j++) ps[j] = wait(ev);
        ev.set();
        ev.clear();
        for (let j = 0; j < perSet; j++) await ps[j];
      }
    },
  /** The naive timeout: a promise, and a setTimeout + clearTimeout per wait. */
  timerPerWait: () =>
    async function (n) {
      const { noop } = this;
      for (let i = 0; i < n; i++) {
        let resolve;
        const p = new Promise((r) => {
          resolve = r;
        });
        const timer = setTimeout(noop, 60_000);
        clearTimeout(timer);
        resolve(true);
        await p;
      }
    },
  /** The naive signal: a promise, and an abort listener added and removed per wait. */
  listenerPerWait: () =>
    async function (n) {
      const { signal } = this;
      for (let i = 0; i < n; i++) {
        let resolve;
        const p = new Promise((r) => {
          resolve = r;
        });
        const onAbort = () => resolve(Promise.reject(signal.reason));
        signal.addEventListener('abort', onAbort);
        signal.removeEventListener('abort', onAbort);
        resolve(true);
        await p;
      }
    },
};

/** A fresh copy of one of the Event loops above (waitSet, wakeMany, ...) with `ops` ({ wait }). */
export const eventLoop = (loop, label, ops) => specialize(EVENT_LOOPS[loop], label, ops);

/** The two Event libraries: waitsafe's (one function per options shape) and the naive one. */
const EVENTS = {
  waitsafe: {
    create: () => new Event(),
    plain: (ev) => ev.wait(),
    timeout: (ev) => ev.wait({ timeout: 60_000 }),
    signal: (ev, signal) => ev.wait({ signal }),
  },
  naive: { create: () => new NaiveEvent(), plain: (ev) => ev.wait() },
};
export const PER_SET = 100;
export const WAIT_SET_LABEL = 'waitsafe: ev.wait(); ev.set(); ev.clear(); await';
export const NAIVE_EVENT_LABEL = 'naive Event (array of resolvers)';
const LISTENER_LABEL = 'naive: add+remove abort listener per wait';
const newSignal = () => new AbortController().signal;

/**
 * An Event case: `loop` (a key of EVENT_LOOPS) over an Event of `lib` (a key of EVENTS) waited
 * on with its `shape` function; `signal()` makes the one long-lived signal of the case.
 */
function eventCase(label, { loop = 'waitSet', lib = 'waitsafe', shape = 'plain', signal, ...options } = {}) {
  const row = EVENTS[lib];
  return {
    label,
    ...options,
    setup: () => ({ ev: row.create(), signal: signal?.(), perSet: PER_SET, noop }),
    run: eventLoop(loop, label, { wait: row[shape] }),
  };
}

/**
 * The Event case tables, by suite. Functions, so that every suite (and every process) gets
 * fresh copies of the loops; `options` go into every case (e.g. `{ fresh: true }`).
 */
export const EVENT_CASES = {
  oneWaiter: (options) => [
    eventCase(WAIT_SET_LABEL, options),
    eventCase(NAIVE_EVENT_LABEL, { lib: 'naive', ...options }),
  ],
  hundred: () => [
    eventCase(`waitsafe: ${PER_SET} x wait(), set(), ${PER_SET} x await`, { loop: 'wakeMany' }),
    eventCase(NAIVE_EVENT_LABEL, { loop: 'wakeMany', lib: 'naive' }),
  ],
  timeout: () => [
    eventCase('waitsafe: wait({ timeout: 60_000 })', { shape: 'timeout' }),
    eventCase('waitsafe: wait() (no options), for reference'),
    eventCase('naive: setTimeout+clearTimeout per wait', { loop: 'timerPerWait' }),
    eventCase(LISTENER_LABEL, { loop: 'listenerPerWait', signal: newSignal }),
  ],
  // Both cases wait on the same long-lived signal.
  signal: (shared = newSignal()) => [
    eventCase('waitsafe: wait({ signal })', { shape: 'signal', signal: () => shared }),
    eventCase(LISTENER_LABEL, { loop: 'listenerPerWait', signal: () => shared }),
  ],
};

/** Makes `count` pending waits on a fresh Event, each with `options?.()`; the Event holds them. */
const pendingOn = (options, before = noop) => ({
  create(count) {
    before();
    const ev = new Event({ maxWaiters: 0 });
    for (let i = 0; i < count; i++) ev.wait(options?.());
    return ev;
  },
  dispose(ev) {
    ev.set();
    return tick();
  },
});
let bytesSignal;

/** measureBytes cases: bytes per pending waiter, plain / with one shared signal / with a timeout. */
export const WAITER_BYTES = {
  'waitsafe: wait()': pendingOn(undefined),
  'waitsafe: wait({ signal }), one shared signal': pendingOn(
    () => ({ signal: bytesSignal }),
    () => {
      bytesSignal = new AbortController().signal;
    },
  ),
  'waitsafe: wait({ timeout: 60_000 })': pendingOn(() => ({ timeout: 60_000 })),
};

// ---------------------------------------------------------------------------------------------
// Locks: contended FIFO hand-off (see bench/lock.mjs), and uncontended acquire + release

/** The usual methods: `acquire()` resolves once held, `release()` releases. */
const METHODS = { acquire: (lock) => lock.acquire(), release: (lock) => lock.release() };
/** A waitsafe permit pool (Lock, Semaphore): `acquire()` resolves with the Releaser. */
const permitPool = (label, create) => ({
  label,
  create,
  acquire: (lock) => lock.acquire(),
  release: (_lock, held) => held(),
  tryAcquire: (lock) => lock.tryAcquire(),
  exclusive: (lock, step) => lock.runExclusive(step),
});

/**
 * The lock libraries, used the way their READMEs show: `create(options)` makes a free lock,
 * `acquire(lock)` resolves with what `release(lock, held)` needs; `cancel(lock)`, where given,
 * rejects every pending acquire at the end of a run; `tryAcquire(lock)` is the synchronous try
 * (a hold, or undefined); `exclusive(lock, step)` runs step under the lock. The loops get these
 * functions written in (see the header), so rows may share them.
 */
export const LOCKS = {
  lock: permitPool('waitsafe Lock', (options) => new Lock(options)),
  semaphore: permitPool('waitsafe Semaphore(1)', (options) => new Semaphore(1, options)),
  asyncMutex: {
    label: 'async-mutex Mutex',
    create: () => new AsyncMutex(),
    acquire: (lock) => lock.acquire(),
    release: (_lock, held) => held(),
    // Its queue is an array that shift()s each hand-off, O(depth): leaving one by one would take
    // minutes at depth 100k, so the first worker to leave cancels every other pending acquire.
    cancel: (lock) => lock.cancel(),
  },
  esToolkit: { label: 'es-toolkit Mutex', create: () => new EsToolkitMutex(), ...METHODS },
  henrygd: { label: '@henrygd/semaphore mutex', create: () => getSemaphore(Symbol('bench'), 1), ...METHODS },
  asyncSema: {
    label: 'async-sema Sema(1)',
    create: () => new Sema(1),
    ...METHODS,
    tryAcquire: (lock) => lock.tryAcquire(),
  },
  esfx: {
    label: '@esfx AsyncSemaphore(1)',
    create: () => new AsyncSemaphore(1),
    ...METHODS,
    acquire: (lock) => lock.wait(),
  },
};

/**
 * The shared state of one timed hand-off run: the budget of hand-offs, the clock, and the count
 * of workers that have left.
 */
class HandOffRun {
  constructor(n, workers, clock) {
    this.budget = n;
    this.workers = workers;
    this.left = 0;
    this.clock = clock;
    this.stopped = false;
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
  }
  /** Called by the worker that finds the budget spent: stops the clock (once). */
  stop() {
    if (!this.stopped) {
      this.stopped = true;
      this.clock.stop();
    }
  }
  /** Called by each worker as it leaves. */
  leave() {
    if (++this.left === this.workers) this.resolveFinished();
  }
}

/**
 * Worker templates. Each worker acquires, spends one hand-off of the budget and releases (which
 * hands the lock to the next worker), then queues again; once the budget is spent, it stops the
 * clock, releases and leaves.
 */
const WORKERS = {
  acquire:
    ({ acquire, release, cancel }) =>
    async (lock, run) => {
      for (;;) {
        let held;
        try {
          held = await acquire(lock);
        } catch {
          return run.leave(); // cancel() at the end of the run (async-mutex: E_CANCELED)
        }
        if (run.budget > 0) {
          run.budget--;
          release(lock, held);
          continue;
        }
        run.stop();
        if (cancel !== undefined) cancel(lock);
        release(lock, held);
        return run.leave();
      }
    },
  runExclusive:
    ({ exclusive }) =>
    async (lock, run) => {
      const step = () => {
        if (run.budget > 0) {
          run.budget--;
          return true;
        }
        run.stop();
        return false;
      };
      for (;;) {
        if (!(await exclusive(lock, step))) return run.leave();
      }
    },
};
const workerCopies = new Map();

/**
 * A contended hand-off case: `depth` acquirers queued behind the holder, each looping with
 * `method` ('acquire' or 'runExclusive') on a lock of `lib` (a row of LOCKS); one op = one
 * release -> next acquirer hand-off. The lock and its workers are built before the timed region
 * (the queue is filled while the driver holds the lock), the driver's release starts the clock,
 * and the worker that finds the budget of `n` hand-offs spent stops it; then every worker is
 * woken once more to leave (not timed). A fresh lock per run, or with `reuse`, one lock that
 * lives as long as the suite. One copy of the worker loop per library and method.
 */
export function handOffCase({ label, lib, method = 'acquire', depth, n, rewarm, reuse = false }) {
  const key = `${lib.label}: ${method}`;
  if (!workerCopies.has(key)) workerCopies.set(key, specialize(WORKERS[method], key, lib));
  const worker = workerCopies.get(key);
  // runExclusive releases inside the call, and its worker queues again only once the call has
  // settled, a few microtasks later, after the next holder took the lock: with depth + 1 workers,
  // depth - 1 would be queued while the lock is held (at depth 1, none: no hand-off at all). One
  // worker more keeps `depth` acquirers queued behind the holder, as with acquire().
  const workers = depth + (method === 'runExclusive' ? 2 : 1);
  return {
    label,
    n,
    rewarm,
    setup: reuse ? () => ({ lock: lib.create({ maxWaiters: 0 }) }) : undefined,
    async run(runN, clock) {
      const lock = this?.lock ?? lib.create({ maxWaiters: 0 });
      const held = await lib.acquire(lock);
      const run = new HandOffRun(runN, workers, clock);
      for (let i = 0; i < workers; i++) worker(lock, run);
      await null;
      clock.start();
      lib.release(lock, held);
      await run.finished;
    },
  };
}

/**
 * Uncontended templates: a synchronous try, and an awaited acquire, each with its release; and
 * an async function run under the lock (`exclusive(lock, step)`, `step` an empty async function).
 */
const UNCONTENDED = {
  try: ({ tryAcquire, release }) =>
    function (n) {
      const { lock } = this;
      let got = 0;
      for (let i = 0; i < n; i++) {
        const held = tryAcquire(lock);
        if (held !== undefined) {
          got++;
          release(lock, held);
        }
      }
      if (got !== n) throw new Error(`${this.label}: acquired ${got} of ${n}`);
    },
  acquire: ({ acquire, release }) =>
    async function (n) {
      const { lock } = this;
      for (let i = 0; i < n; i++) {
        const held = await acquire(lock);
        release(lock, held);
      }
    },
  exclusive: ({ exclusive }) =>
    async function (n) {
      const { lock, step } = this;
      for (let i = 0; i < n; i++) await exclusive(lock, step);
    },
};

/** An uncontended case on a free lock of `lib` (a row of LOCKS, or functions overriding it). */
export const uncontendedCase = (label, kind, lib, n) => ({
  label,
  n,
  setup: () => ({ lock: lib.create(), label, step: async () => {} }),
  run: specialize(UNCONTENDED[kind], label, lib),
});

// ---------------------------------------------------------------------------------------------
// Queues: a hand-off per item, the consumer already waiting

/** The functions of a waitsafe queue class (Queue, PriorityQueue, LifoQueue). */
export const waitsafeQueue = (QueueClass) => ({
  create: (options) => new QueueClass(options),
  get: (q) => q.get(),
  putNowait: (q, item) => q.putNowait(item),
  put: (q, item) => q.put(item),
  size: (q) => q.size,
  waiting: (q) => q.waiterCount,
});

/** `const p = get(q); putNowait(q, item); sum += await p`, n times; checks the sum. */
const QUEUE_HANDOFF = ({ get, putNowait }) =>
  async function (n) {
    const { q } = this;
    let sum = 0;
    for (let item = 0; item < n; item++) {
      const p = get(q);
      putNowait(q, item);
      sum += await p;
    }
    if (sum !== (n * (n - 1)) / 2) throw new Error(`${this.label}: got ${sum}`);
  };

/** A hand-off case on a queue of `lib` (`create`, `get`, `putNowait`; `queue` overrides create). */
export const queueHandOffCase = (label, lib, queue = lib.create, options = {}) => ({
  label,
  ...options,
  setup: async () => ({ q: await queue(), label }),
  run: specialize(QUEUE_HANDOFF, label, lib),
});

// ---------------------------------------------------------------------------------------------
// Weighted semaphores and reader-writer locks (bench/more.mjs, bench/orphans.mjs)

/**
 * The weighted semaphores, used the way their READMEs show: `create(value, options)` makes one
 * with `value` permits; `acquire(sem, weight)` takes `weight` permits and resolves with what
 * `release(sem, held)` needs to return them all; `releaseAny(sem, weight)` is the unscoped
 * release. Both queue FIFO without barging: a heavy waiter at the head blocks lighter ones.
 */
export const WEIGHTED = {
  waitsafe: {
    label: 'waitsafe Semaphore',
    create: (value, options) => new Semaphore(value, options),
    acquire: (sem, weight) => sem.acquire({ weight }),
    release: (_sem, held) => held(),
    releaseAny: (sem, weight) => sem.release(weight),
  },
  asyncMutex: {
    label: 'async-mutex Semaphore',
    create: (value) => new AsyncMutexSemaphore(value),
    // Resolves with [previous value, releaser].
    acquire: (sem, weight) => sem.acquire(weight),
    release: (_sem, held) => held[1](),
    releaseAny: (sem, weight) => sem.release(weight),
  },
};

/**
 * The reader-writer locks, used the way their READMEs show: `create(options)` makes a free lock;
 * `read(rw)` and `write(rw)` take a shared and the exclusive hold and resolve with what
 * `unlock(rw, held)` needs to release it. waitsafe and @esfx queue a reader behind a waiting
 * writer; async-rwlock lets readers in while others read, even with writers waiting.
 */
export const RW_LOCKS = {
  waitsafe: {
    label: 'waitsafe ReaderWriterLock',
    create: (options) => new ReaderWriterLock(options),
    read: (rw) => rw.acquireRead(),
    write: (rw) => rw.acquireWrite(),
    unlock: (_rw, held) => held(),
  },
  esfx: {
    label: '@esfx AsyncReaderWriterLock',
    create: () => new AsyncReaderWriterLock(),
    read: (rw) => rw.read(),
    write: (rw) => rw.write(),
    unlock: (_rw, held) => held.unlock(),
  },
  asyncRwlock: {
    label: 'async-rwlock RWLock',
    create: () => new RWLock(),
    read: (rw) => rw.readLock(),
    write: (rw) => rw.writeLock(),
    unlock: (rw) => rw.unlock(),
  },
};
