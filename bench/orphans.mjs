// Orphaned waiters: what is left in a lock's queue after 1,000 acquires give up, and whether the
// next real acquire still gets the lock. Run with `npm run bench -- orphans` (it builds dist/
// first), or `node bench/orphans.mjs` after `npm run build`; it takes a few seconds and exits on
// its own.
//
// For each library and each way of giving up:
//
//   1. hold the lock;
//   2. start 1,000 acquires that give up after 5 ms, either through the ad-hoc pattern
//      (`Promise.race([lock.acquire(), sleep(5)])`, then walk away) or through the library's own
//      timeout, abort or cancel API where it has one;
//   3. once they have all given up, count the waiters still queued: with the library's own count
//      where it has one, else by reading its internal queue (the table says which);
//   4. release once, and make one fresh acquire bounded by 100 ms: did it get the lock, or did it
//      time out (deadlock: the release went to an orphan that will never release)?
//
// A second trial of the same steps (a fresh lock) infers the orphans from the outside: after the
// give-ups it starts a fresh acquire, releases once, then keeps releasing with the library's
// unscoped release until the fresh acquire gets the lock (capped at 2,000). 1 release means the
// give-ups left nothing behind; 1,001 means every orphan had to be handed the lock and released
// for it first.
//
// Libraries: waitsafe Lock; async-mutex Mutex (withTimeout, cancel()); es-toolkit Mutex (its own
// withTimeout helper); @henrygd/semaphore; async-sema Sema(1); @esfx/async-semaphore
// AsyncSemaphore(1) (CancelToken); await-semaphore Mutex. Each README was checked for a per-wait
// timeout or cancel API; a library without one has the Promise.race row only.
//
// Weighted: waitsafe Semaphore and async-mutex Semaphore (withTimeout), each a semaphore of 2
// permits where every acquire (the holder's, the give-ups and the fresh one) takes 2 and the
// unscoped release returns 2. Reader-writer locks: waitsafe ReaderWriterLock, @esfx
// AsyncReaderWriterLock (CancelToken) and async-rwlock RWLock (its timeout argument): the holder
// and the fresh acquire are writes; the 1,000 give-ups are writes in one row and reads in the
// next. waitsafe's ReaderWriterLock and @esfx's have no unscoped release: the second trial does
// what the current hold's releaser does.
import { CancelToken } from '@esfx/async-canceltoken';
import { withTimeout as asyncMutexWithTimeout } from 'async-mutex';
import { Mutex as AwaitSemaphoreMutex } from 'await-semaphore';
import { withTimeout as esToolkitWithTimeout } from 'es-toolkit';
import { LOCKS, RW_LOCKS, WEIGHTED } from './cases.mjs';
import { printTable } from './harness.mjs';

const ABANDONED = 1_000;
const GIVE_UP_MS = 5;
const FRESH_TIMEOUT_MS = 100;
const RELEASE_CAP = 2_000;

const noop = () => {};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const macrotask = () => new Promise((resolve) => setImmediate(resolve));

/** The ad-hoc give-up: race the acquire against a timer, and walk away if the timer wins. */
function raceGiveUp(acquire) {
  const acquired = acquire();
  return Promise.race([acquired, sleep(GIVE_UP_MS)]);
}

/**
 * Give-up patterns for each of `methods` (name -> `(lock, arg) => promise`): `name(shown)`, the
 * method called with `arg()`, the library's own way of giving up.
 */
const ownPatterns = (methods, shown, arg) =>
  Object.fromEntries(Object.entries(methods).map(([name, call]) => [`${name}(${shown})`, (lock) => call(lock, arg())]));

/** The Promise.race give-up for each of `methods` (named by the method if there are several). */
const racePatterns = (methods) => {
  const names = Object.keys(methods);
  return Object.fromEntries(
    names.map((name) => [
      names.length === 1 ? 'Promise.race + timer' : `Promise.race + timer: ${name}()`,
      (lock) => raceGiveUp(() => methods[name](lock)),
    ]),
  );
};

/** waitsafe's patterns for `methods` (`(lock, options) => promise`): the race, `{ timeout }`, `{ signal }`. */
const waitsafePatterns = (methods, shown = '') => ({
  ...racePatterns(methods),
  ...ownPatterns(methods, `{ ${shown}timeout: 5 }`, () => ({ timeout: GIVE_UP_MS })),
  ...ownPatterns(methods, `{ ${shown}signal: AbortSignal.timeout(5) }`, () => ({
    signal: AbortSignal.timeout(GIVE_UP_MS),
  })),
});

/** Weighted rows: a semaphore of `lib` (a row of WEIGHTED) with 2 permits, every acquire taking 2. */
const WEIGHT = 2;
const weightedRow = (lib, rest) => ({
  label: `${lib.label}(2), weight 2`,
  create: () => lib.create(WEIGHT),
  acquire: (sem) => lib.acquire(sem, WEIGHT),
  release: lib.release,
  releaseAny: (sem) => lib.releaseAny(sem, WEIGHT),
  ...rest,
});

/** Reader-writer rows: `lib` (a row of RW_LOCKS); the holder and the fresh acquire are writes. */
const rwRow = (lib, rest) => ({
  label: lib.label,
  create: () => lib.create(),
  acquire: lib.write,
  release: lib.unlock,
  ...rest,
});

/**
 * The libraries: the rows of LOCKS in bench/cases.mjs (`create()` makes a lock; `acquire(lock)`
 * is its plain acquire, resolving with whatever `release(lock, held)` needs), and await-semaphore.
 * `releaseAny(lock)` is an unscoped release (for the second trial); `count(lock)` the waiters
 * queued; `countSource` says where that count comes from.
 * `patterns` maps a give-up pattern to `(lock) => promise` that settles when the caller gave up
 * (a rejection counts as giving up), or to `{ start, after }` where `after(lock)` acts on the
 * lock as a whole once every acquire has started. `notes` annotate rows.
 */
const LIBRARIES = [
  {
    ...LOCKS.lock,
    releaseAny: (lock) => lock.release(),
    count: (lock) => lock.waiterCount,
    countSource: 'waiterCount',
    notes: {
      'Promise.race + timer':
        'no library can see a race: the waiter stays; waitsafe warns (WaiterLeakWarning) past maxWaiters (1,000)',
    },
    patterns: waitsafePatterns({ acquire: (lock, options) => lock.acquire(options) }),
  },
  {
    ...LOCKS.asyncMutex,
    releaseAny: (mutex) => mutex.release(),
    count: (mutex) => mutex._semaphore._queue.length,
    countSource: 'internal: _semaphore._queue',
    notes: {
      'withTimeout(mutex, 5).acquire()':
        'works: timed-out acquires stay queued, and each releases the lock at once when handed it',
      'acquire(), then mutex.cancel() after 5 ms': 'works, but cancel() rejects every pending acquire, not one',
    },
    patterns: {
      'Promise.race + timer': (mutex) => raceGiveUp(() => mutex.acquire()),
      'withTimeout(mutex, 5).acquire()': (mutex) => asyncMutexWithTimeout(mutex, GIVE_UP_MS).acquire(),
      'acquire(), then mutex.cancel() after 5 ms': {
        start: (mutex) => mutex.acquire(),
        after: async (mutex) => {
          await sleep(GIVE_UP_MS);
          mutex.cancel(); // rejects every pending acquire with E_CANCELED
        },
      },
    },
  },
  {
    ...LOCKS.esToolkit,
    releaseAny: (mutex) => mutex.release(),
    count: (mutex) => mutex.semaphore.deferredTasks.size,
    countSource: 'internal: semaphore.deferredTasks',
    notes: {
      'withTimeout(() => mutex.acquire(), 5)': 'its withTimeout is a Promise.race: the acquire stays queued',
    },
    patterns: {
      'Promise.race + timer': (mutex) => raceGiveUp(() => mutex.acquire()),
      'withTimeout(() => mutex.acquire(), 5)': (mutex) => esToolkitWithTimeout(() => mutex.acquire(), GIVE_UP_MS),
    },
  },
  {
    ...LOCKS.henrygd,
    label: '@henrygd/semaphore',
    releaseAny: (sem) => sem.release(),
    // size(): tasks active or waiting; the holder is the one active task.
    count: (sem) => sem.size() - 1,
    countSource: 'size() - 1 holder',
    patterns: {
      'Promise.race + timer': (sem) => raceGiveUp(() => sem.acquire()),
    },
  },
  {
    ...LOCKS.asyncSema,
    releaseAny: (sema) => sema.release(),
    count: (sema) => sema.nrWaiting(),
    countSource: 'nrWaiting()',
    patterns: {
      'Promise.race + timer': (sema) => raceGiveUp(() => sema.acquire()),
    },
  },
  {
    ...LOCKS.esfx,
    releaseAny: (sem) => sem.release(),
    count: (sem) => sem._waiters.size,
    countSource: 'internal: _waiters.size',
    notes: {
      'wait(CancelToken.timeout(5))': 'works: a canceled wait leaves the queue',
      'wait(source.token), source.cancel() after 5 ms': 'works: a canceled wait leaves the queue',
    },
    patterns: {
      'Promise.race + timer': (sem) => raceGiveUp(() => sem.wait()),
      'wait(CancelToken.timeout(5))': (sem) => sem.wait(CancelToken.timeout(GIVE_UP_MS)),
      'wait(source.token), source.cancel() after 5 ms': (sem) => {
        const source = CancelToken.source();
        setTimeout(() => source.cancel(), GIVE_UP_MS);
        return sem.wait(source.token);
      },
    },
  },
  {
    label: 'await-semaphore Mutex',
    create: () => new AwaitSemaphoreMutex(),
    acquire: (mutex) => mutex.acquire(),
    release: (_mutex, release) => release(),
    // No unscoped release: do what its releaser does.
    releaseAny: (mutex) => {
      mutex.count++;
      mutex.sched();
    },
    count: (mutex) => mutex.tasks.length,
    countSource: 'internal: tasks',
    patterns: {
      'Promise.race + timer': (mutex) => raceGiveUp(() => mutex.acquire()),
    },
  },
  weightedRow(WEIGHTED.waitsafe, {
    count: (sem) => sem.waiterCount,
    countSource: 'waiterCount',
    patterns: waitsafePatterns(
      { acquire: (sem, options) => sem.acquire({ weight: WEIGHT, ...options }) },
      'weight: 2, ',
    ),
  }),
  weightedRow(WEIGHTED.asyncMutex, {
    count: (sem) => sem._queue.length,
    countSource: 'internal: _queue',
    notes: {
      'withTimeout(sem, 5).acquire(2)':
        'works: timed-out acquires stay queued, and each returns the permits at once when handed them',
    },
    patterns: {
      'Promise.race + timer': (sem) => raceGiveUp(() => sem.acquire(WEIGHT)),
      'withTimeout(sem, 5).acquire(2)': (sem) => asyncMutexWithTimeout(sem, GIVE_UP_MS).acquire(WEIGHT),
    },
  }),
  rwRow(RW_LOCKS.waitsafe, {
    // No unscoped release: do what the current hold's Releaser does (a write holds all 2^30 - 1
    // permits, a read 1).
    releaseAny: (rw) => {
      if (rw.isWriteLocked()) rw.releasePermits(2 ** 30 - 1);
      else if (rw.readers > 0) rw.releasePermits(1);
    },
    count: (rw) => rw.waiterCount,
    countSource: 'waiterCount',
    patterns: waitsafePatterns({
      acquireWrite: (rw, options) => rw.acquireWrite(options),
      acquireRead: (rw, options) => rw.acquireRead(options),
    }),
  }),
  rwRow(RW_LOCKS.esfx, {
    // No unscoped release: unlock the writer's handle, else one reader's.
    releaseAny: (rw) => (rw._writer ?? rw._readers.values().next().value)?.unlock(),
    count: (rw) => rw._writerQueue.size + rw._readerQueue.size,
    countSource: 'internal: _writerQueue + _readerQueue',
    notes: {
      'Promise.race + timer: write()':
        'a write made right at the release passes the woken orphan; a write queued before it waits for all 1,000',
      'Promise.race + timer: read()':
        'writers go first: the fresh write passes the orphan reads, which stay queued, then take the lock and never release it',
      'write(CancelToken.timeout(5))': 'works: a canceled wait leaves the queue',
      'read(CancelToken.timeout(5))': 'works: a canceled wait leaves the queue',
    },
    patterns: ((methods) => ({
      ...racePatterns(methods),
      ...ownPatterns(methods, 'CancelToken.timeout(5)', () => CancelToken.timeout(GIVE_UP_MS)),
    }))({ write: (rw, token) => rw.write(token), read: (rw, token) => rw.read(token) }),
  }),
  rwRow(RW_LOCKS.asyncRwlock, {
    releaseAny: (rw) => rw.unlock(),
    count: (rw) => rw.pendingWriters.length + rw.pendingReaders.length,
    countSource: 'internal: pendingWriters + pendingReaders',
    notes: {
      'Promise.race + timer: readLock()':
        'after a write it grants the readers or the writer at random: the second trial gives 1 or 1,001',
      'writeLock(5)': 'its timeout rejects but leaves the waiter queued: it is granted the lock later, never released',
      'readLock(5)':
        'as writeLock(5); and the readers or the writer at random after a write: the second trial gives 1 or 1,001',
    },
    patterns: ((methods) => ({ ...racePatterns(methods), ...ownPatterns(methods, '5', () => GIVE_UP_MS) }))({
      writeLock: (rw, ms) => rw.writeLock(ms),
      readLock: (rw, ms) => rw.readLock(ms),
    }),
  }),
];

/** A promise's state, observed without changing it: `{ settled, fulfilled }`. */
function track(promise) {
  const state = { settled: false, fulfilled: false, value: undefined };
  promise.then(
    (value) => {
      state.settled = true;
      state.fulfilled = true;
      state.value = value;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

/** Holds the lock, gives up 1,000 acquires with `pattern`, waits for them; returns the hold. */
async function holdAndGiveUp(lib, lock, pattern) {
  const held = await lib.acquire(lock);
  const start = typeof pattern === 'function' ? pattern : pattern.start;
  const gaveUp = [];
  for (let i = 0; i < ABANDONED; i++) {
    // A rejection (timeout, abort, cancel) is how the caller learns it gave up.
    gaveUp.push(Promise.resolve(start(lock)).catch(noop));
  }
  await pattern.after?.(lock);
  await Promise.all(gaveUp);
  // Let anything the give-ups scheduled (timers, deferred clean-ups) run.
  await sleep(GIVE_UP_MS * 2);
  await macrotask();
  return held;
}

/** Trial 1: queued count, then release once and one fresh acquire bounded by 100 ms. */
async function firstTrial(lib, pattern) {
  const lock = lib.create();
  const held = await holdAndGiveUp(lib, lock, pattern);
  const queued = lib.count(lock);
  lib.release(lock, held);
  let timer;
  const fresh = Promise.resolve(lib.acquire(lock)).then((value) => ({ got: true, value }));
  const outcome = await Promise.race([
    fresh,
    new Promise((resolve) => {
      timer = setTimeout(() => resolve({ got: false }), FRESH_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (outcome.got) lib.release(lock, outcome.value);
  return { queued, got: outcome.got };
}

/** Trial 2: releases until a fresh acquire gets the lock (1 = nothing was left behind). */
async function secondTrial(lib, pattern) {
  const lock = lib.create();
  const held = await holdAndGiveUp(lib, lock, pattern);
  const fresh = track(Promise.resolve(lib.acquire(lock)));
  lib.release(lock, held);
  let releases = 1;
  for (;;) {
    await macrotask();
    await macrotask();
    if (fresh.settled || releases >= RELEASE_CAP) break;
    lib.releaseAny(lock);
    releases++;
  }
  if (fresh.fulfilled) lib.release(lock, fresh.value);
  return { releases, got: fresh.fulfilled };
}

const warnings = [];
process.on('warning', (warning) => {
  if (warning.name === 'WaiterLeakWarning') warnings.push(warning);
});

const started = performance.now();
// AbortSignal.timeout() uses an unref'd timer: while only such timers are pending, Node would
// exit in the middle of a trial. A real service has its server keeping it alive; this interval
// stands in for it and is cleared at the end, so the script exits on its own.
const keepAlive = setInterval(noop, 1_000);
console.log(
  `node ${process.version}; per row: hold the lock, ${ABANDONED.toLocaleString('en-US')} acquires give up after ` +
    `${GIVE_UP_MS} ms, release once, then one fresh acquire bounded by ${FRESH_TIMEOUT_MS} ms`,
);
const rows = [];
for (const lib of LIBRARIES) {
  for (const [patternName, pattern] of Object.entries(lib.patterns)) {
    const warned = warnings.length;
    const first = await firstTrial(lib, pattern);
    const second = await secondTrial(lib, pattern);
    let verdict;
    if (first.got && first.queued === 0 && second.releases === 1) verdict = 'clean';
    else if (first.got && second.releases > 1) verdict = 'a new acquire barges in; a queued one waits for the orphans';
    else if (first.got) verdict = 'gets the lock; the orphans stay queued';
    else verdict = 'DEADLOCK: an orphan got the lock';
    rows.push({
      library: lib.label,
      pattern: patternName,
      queued: `${first.queued.toLocaleString('en-US')} (${lib.countSource})`,
      fresh: first.got ? 'got the lock' : `timed out (${FRESH_TIMEOUT_MS} ms)`,
      releases:
        second.got || second.releases < RELEASE_CAP
          ? second.releases.toLocaleString('en-US')
          : `>= ${RELEASE_CAP.toLocaleString('en-US')}`,
      verdict,
      note: lib.notes?.[patternName] ?? '',
    });
    if (warnings.length > warned && !rows.at(-1).note.includes('WaiterLeakWarning')) {
      rows.at(-1).note = `${rows.at(-1).note} (WaiterLeakWarning emitted)`.trim();
    }
  }
}

printTable(
  `### Orphaned waiters: ${ABANDONED.toLocaleString('en-US')} acquires given up while the lock is held`,
  [
    'library',
    'give-up pattern',
    'queued after the give-ups',
    'fresh acquire after 1 release',
    'releases until a fresh acquire gets it',
    'verdict',
    'note',
  ],
  ['l', 'l', 'r', 'l', 'r', 'l', 'l'],
  rows.map((row) => ['library', 'pattern', 'queued', 'fresh', 'releases', 'verdict', 'note'].map((k) => row[k])),
);
clearInterval(keepAlive);
console.log(`\nbench/orphans.mjs ran ${((performance.now() - started) / 1000).toFixed(1)} s`);
