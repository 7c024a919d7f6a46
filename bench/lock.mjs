// Lock and Semaphore benchmarks: contended FIFO hand-off at queue depths 1, 1,000 and 100,000,
// and the uncontended tryAcquire + release, next to the floor and to the peers (async-mutex,
// es-toolkit, @henrygd/semaphore, async-sema, @esfx/async-semaphore), all in this process and in
// the same rounds (method: docs/benchmarks.md). Run with `npm run bench -- lock` (builds dist/ first); see
// docs/benchmarks.md.
//
// ## Contended hand-off
//
// For queue depth D, D + 1 workers contend for one lock: one holds it, D wait in the queue. Each
// worker loops `acquire, release`: the release hands the lock to the first waiter, and the
// releasing worker queues again at the tail, so D acquirers stay queued behind the holder. One
// operation is one release -> next acquirer hand-off (a release, a wake-up of the next worker
// and an acquire that queues). The lock and its workers are built before the timed region of
// each run (the queue is filled while the driver holds the lock), the driver's release starts
// the clock, and the worker that finds the budget of `n` hand-offs spent stops it; then every
// worker is woken once more to leave (not timed; async-mutex instead cancels its queue, since
// each of its hand-offs shift()s an array, O(depth)). n = 100,000 hand-offs per run (async-mutex: 20,000, and
// 2,000 at depth 100k). At depth 100k each run fills a fresh queue of 100k workers, so those runs
// have no re-warm (their 100k hand-offs amortize the re-optimization after gc()) and 9 rounds.
//
// Each table gives ns per hand-off, ops/s, the ratio to the floor, and one column per peer: the
// median over the rounds of (case ns / peer ns) in the same round, so below 1.00x the case is
// faster than that peer.
//
// Each library is used the way its README shows (the rows of LOCKS in bench/cases.mjs), each
// with its own copy of the worker loop, made from one template by the harness's specialize()
// (one shared loop would make its call sites polymorphic and slow every library down alike):
//
//   waitsafe Lock / Semaphore(1)   const release = await lock.acquire(); ... release();
//   async-mutex Mutex              const release = await mutex.acquire(); ... release();
//   es-toolkit Mutex               await mutex.acquire(); ... mutex.release();
//   @henrygd/semaphore             const sem = getSemaphore(key, 1); await sem.acquire(); ... sem.release();
//   async-sema Sema(1)             await sema.acquire(); ... sema.release();
//   @esfx/async-semaphore          await sem.wait(); ... sem.release();
//
// ## Uncontended
//
// `tryAcquire()` + release on a free lock, n = 1,000,000 per run, next to the floor of a
// synchronous try-lock (a boolean flag on an object). Libraries without a synchronous try are
// timed with their uncontended `await acquire()` + release instead, labelled as such, next to
// the promise floor.
//
// ## Targets (also listed in docs/benchmarks.md)
//
// Lock and Semaphore(1) hand-off <= 2.1x the floor, checked at depths 1 and 1,000 (at 100k every
// hand-off touches a waiter queued 100k hand-offs earlier, out of cache, and the floor has no
// queue); at least the throughput of the fastest peer at depths 1,000 and 100,000 (same-round
// time ratio <= 1.00x); uncontended tryAcquire + release <= 5 ns.
import { handOffCase, LOCKS, uncontendedCase } from './cases.mjs';
import {
  banner,
  defineSuite,
  FLOOR_LABEL,
  footer,
  formatNs,
  formatOps,
  formatRatio,
  printSuite,
  printTargets,
  roundRatio,
  runSuite,
} from './harness.mjs';

banner();
const started = performance.now();
const WAITSAFE = ['waitsafe Lock', 'waitsafe Semaphore(1)'];
const PEERS = Object.values(LOCKS)
  .map((lib) => lib.label)
  .filter((label) => !WAITSAFE.includes(label));

// ---------------------------------------------------------------------------------------------
// 1. Contended hand-off. async-mutex gets `slowN` hand-offs per run, as its hand-off takes
//    1.5-2 µs, and 100 µs at depth 100k (its queue is an array that shift()s). See the header.

const DEPTHS = [
  { depth: 1, n: 100_000, slowN: 20_000, rounds: 11, warmup: 2, rewarm: 5 },
  { depth: 1_000, n: 100_000, slowN: 20_000, rounds: 11, warmup: 2, rewarm: 5 },
  { depth: 100_000, n: 100_000, slowN: 2_000, rounds: 9, warmup: 1, rewarm: 0 },
];

const contended = {};
for (const { depth, n, slowN, rounds, warmup, rewarm } of DEPTHS) {
  contended[depth] = await runSuite(
    defineSuite({
      name: `Contended FIFO hand-off, queue depth ${depth.toLocaleString('en-US')}, per hand-off`,
      n,
      rounds,
      warmup,
      // The floor keeps the default re-warm; each case has its own.
      cases: Object.values(LOCKS).map((lib) =>
        handOffCase({ label: lib.label, lib, depth, n: lib === LOCKS.asyncMutex ? slowN : n, rewarm }),
      ),
      table: { rate: true, peers: PEERS },
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// 2. Uncontended: tryAcquire + release on a free lock

/** The floor of a synchronous try-lock: a boolean flag on an object. */
class FlagLock {
  locked = false;
  tryAcquire() {
    if (this.locked) return undefined;
    this.locked = true;
    return true;
  }
  release() {
    this.locked = false;
  }
}

/**
 * The floor of what the contract asks of tryAcquire(): a fresh function per hold (so a second call
 * of a stale one cannot release a later hold), without and with its `[Symbol.dispose]`.
 */
class ClosureLock extends FlagLock {
  tryAcquire() {
    if (this.locked) return undefined;
    this.locked = true;
    return () => this.release();
  }
}
class DisposableClosureLock extends FlagLock {
  tryAcquire() {
    if (this.locked) return undefined;
    this.locked = true;
    const release = () => this.release();
    release[Symbol.dispose] = release;
    return release;
  }
}
const flagRow = (LockClass) => ({
  create: () => new LockClass(),
  tryAcquire: (lock) => lock.tryAcquire(),
  release: (_lock, held) => held(),
});

const SYNC_N = 1_000_000;
const ASYNC_N = 100_000;
const SYNC_FLOOR = 'floor: sync try-lock, a boolean flag';
const syncCases = [
  [
    SYNC_FLOOR,
    { create: () => new FlagLock(), tryAcquire: (lock) => lock.tryAcquire(), release: (lock) => lock.release() },
  ],
  ['reference: the flag, a fresh closure per hold', flagRow(ClosureLock)],
  ['reference: the flag, a fresh closure with [Symbol.dispose] per hold', flagRow(DisposableClosureLock)],
  ['waitsafe Lock: tryAcquire() + releaser()', LOCKS.lock],
  ['waitsafe Lock: tryAcquire() + lock.release()', { ...LOCKS.lock, release: (lock) => lock.release() }],
  ['waitsafe Semaphore(1): tryAcquire() + releaser()', LOCKS.semaphore],
  ['async-sema Sema(1): tryAcquire() + release()', LOCKS.asyncSema],
].map(([label, lib]) => uncontendedCase(label, 'try', lib, SYNC_N));
const asyncCases = [
  ['waitsafe Lock: await acquire() + releaser() (for reference)', LOCKS.lock],
  ['async-mutex Mutex: await acquire() + release()', LOCKS.asyncMutex],
  ['es-toolkit Mutex: await acquire() + release()', LOCKS.esToolkit],
  ['@henrygd/semaphore mutex: await acquire() + release()', LOCKS.henrygd],
  ['@esfx AsyncSemaphore(1): await wait() + release()', LOCKS.esfx],
].map(([label, lib]) => uncontendedCase(label, 'acquire', lib, ASYNC_N));
/** `lib` running an async function under the lock the way its README shows without a helper. */
const heldAround = (lib) => ({
  ...lib,
  exclusive: async (lock, step) => {
    const held = await lib.acquire(lock);
    try {
      return await step();
    } finally {
      lib.release(lock, held);
    }
  },
});
const fnCases = [
  ['waitsafe Lock: await runExclusive(async fn)', LOCKS.lock],
  [
    'async-mutex Mutex: await runExclusive(async fn)',
    { ...LOCKS.asyncMutex, exclusive: (lock, step) => lock.runExclusive(step) },
  ],
  ['@henrygd/semaphore mutex: await acquire(), await fn(), release()', heldAround(LOCKS.henrygd)],
  ['waitsafe Lock: await acquire(), await fn(), releaser() (for reference)', heldAround(LOCKS.lock)],
].map(([label, lib]) => uncontendedCase(label, 'exclusive', lib, ASYNC_N));
const uncontended = await runSuite(
  defineSuite({
    name: 'Uncontended acquire + release',
    n: ASYNC_N,
    cases: [...syncCases, ...asyncCases, ...fnCases],
  }),
  { print: false },
);
const both = { rate: true, secondsNote: ' for both tables' };
printSuite(uncontended, {
  ...both,
  title: 'Uncontended, synchronous try: tryAcquire() + release on a free lock',
  labels: syncCases.map((c) => c.label),
  base: SYNC_FLOOR,
  baseName: 'x flag floor',
});
printSuite(uncontended, {
  ...both,
  title: 'Uncontended, no synchronous try in the library: await acquire() + release on a free lock',
  labels: [FLOOR_LABEL, ...asyncCases.map((c) => c.label)],
});
printSuite(uncontended, {
  ...both,
  title: 'Uncontended, an empty async function run under a free lock',
  labels: [FLOOR_LABEL, ...fnCases.map((c) => c.label)],
});

// ---------------------------------------------------------------------------------------------
// Targets (their limits are listed in docs/benchmarks.md)

const targets = [];
for (const depth of [1, 1_000]) {
  for (const label of WAITSAFE) {
    const c = contended[depth].cases[label];
    const value = roundRatio(c, contended[depth].floor);
    targets.push({
      target: `${label} hand-off, depth ${depth.toLocaleString('en-US')}`,
      limit: '<= 2.1x floor',
      value,
      max: 2.1,
      format: () => `${formatRatio(value)} (${formatNs(c.median)} ns)`,
    });
  }
}
for (const depth of [1_000, 100_000]) {
  const result = contended[depth];
  const fastest = PEERS.reduce((a, b) => (result.cases[a].median <= result.cases[b].median ? a : b));
  for (const label of WAITSAFE) {
    const c = result.cases[label];
    // Same-round ratio of times; <= 1.00x means at least the peer's throughput.
    const value = roundRatio(c, result.cases[fastest]);
    targets.push({
      target: `${label} hand-off, depth ${depth.toLocaleString('en-US')}, vs fastest peer (${fastest.split(' ')[0]})`,
      limit: '>= its ops/s',
      value,
      max: 1,
      format: () =>
        `${formatOps(c.median)} vs ${formatOps(result.cases[fastest].median)} ops/s (time ${formatRatio(value)})`,
    });
  }
}
for (const label of ['waitsafe Lock: tryAcquire() + releaser()', 'waitsafe Lock: tryAcquire() + lock.release()']) {
  targets.push({
    target: `uncontended ${label.replace('waitsafe ', '')}`,
    limit: '<= 5 ns',
    value: uncontended.cases[label].median,
    max: 5,
    format: (ns) => `${formatNs(ns)} ns`,
  });
}
printTargets(targets);
footer('lock.mjs', [...Object.values(contended), uncontended], started);
