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
// Each library is used the way its README shows, each with its own copy of the worker loop (one
// shared loop would make its call sites polymorphic and slow every library down alike):
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
import { AsyncSemaphore } from '@esfx/async-semaphore';
import { getSemaphore } from '@henrygd/semaphore';
import { Mutex as AsyncMutex } from 'async-mutex';
import { Sema } from 'async-sema';
import { Mutex as EsToolkitMutex } from 'es-toolkit';
import { Lock, Semaphore } from '../dist/esm/index.js';
import { defineSuite, FLOOR_LABEL, formatNs, formatRatio, median, printTargets, runSuite } from './harness.mjs';

console.log(`node ${process.version}, ${process.arch}; figures in ns per operation unless noted`);
const started = performance.now();

// ---------------------------------------------------------------------------------------------
// Tables

/** Prints a markdown table (the harness's layout). */
function printTable(title, header, align, rows) {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((row) => row[j].length)));
  const line = (cells) =>
    `| ${cells.map((cell, j) => (align[j] === 'r' ? cell.padStart(widths[j]) : cell.padEnd(widths[j]))).join(' | ')} |`;
  const rule = `|${widths.map((w, j) => (align[j] === 'r' ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(rule);
  for (const row of rows) console.log(line(row));
}

/** Formats operations per second from ns per operation: 6.61 M, 796 k. */
function formatOps(ns) {
  const ops = 1e9 / ns;
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(2)} M`;
  if (ops >= 1e3) return `${(ops / 1e3).toFixed(ops >= 1e5 ? 0 : 1)} k`;
  return ops.toFixed(0);
}

/** Median over the rounds of (a / b) in the same round: the drift of the machine cancels. */
function roundRatio(a, b) {
  return median(a.samples.map((s, r) => s / b.samples[r]));
}

/**
 * Prints a suite: median ns/op, min..max, ops/s, x floor, and one column per peer with the
 * same-round ratio (case ns / peer ns: below 1.00x the case is faster than that peer).
 */
function printWithPeers(result, peers, { floorLabel = FLOOR_LABEL, floorName = 'x floor' } = {}) {
  const floorCase = result.cases[floorLabel];
  const labels = Object.keys(result.cases);
  const rows = labels.map((label) => {
    const c = result.cases[label];
    return [
      label,
      formatNs(c.median),
      `${formatNs(c.min)}..${formatNs(c.max)}`,
      formatOps(c.median),
      floorCase === undefined ? '' : formatRatio(roundRatio(c, floorCase)),
      ...peers.map((p) => (p === label ? '1' : formatRatio(roundRatio(c, result.cases[p])))),
    ];
  });
  const ns = [...new Set(Object.values(result.cases).map((c) => c.n))].map((n) => n.toLocaleString('en-US'));
  printTable(
    `### ${result.name}  (${ns.join(' / ')} ops per run, ${result.rounds} rounds, ${result.seconds.toFixed(0)} s)`,
    ['case', 'median ns/op', 'min..max', 'ops/s', floorName, ...peers.map((p) => `x ${shortName(p)}`)],
    ['l', 'r', 'r', 'r', 'r', ...peers.map(() => 'r')],
    rows,
  );
}

/** The library part of a label, for column headers: 'async-mutex' for 'async-mutex Mutex'. */
function shortName(label) {
  return label.split(' ')[0];
}

// ---------------------------------------------------------------------------------------------
// 1. Contended hand-off

/**
 * The shared state of one timed run: the budget of hand-offs, the clock, and the count of workers
 * that have left.
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

// The worker loops, one per library. Each acquires, spends one hand-off of the budget and
// releases (which hands the lock to the next worker), then queues again; once the budget is
// spent, it stops the clock, releases and leaves.

async function waitsafeLockWorker(lock, run) {
  for (;;) {
    const release = await lock.acquire();
    if (run.budget > 0) {
      run.budget--;
      release();
      continue;
    }
    run.stop();
    release();
    return run.leave();
  }
}

async function waitsafeSemaphoreWorker(sem, run) {
  for (;;) {
    const release = await sem.acquire();
    if (run.budget > 0) {
      run.budget--;
      release();
      continue;
    }
    run.stop();
    release();
    return run.leave();
  }
}

async function asyncMutexWorker(mutex, run) {
  for (;;) {
    let release;
    try {
      release = await mutex.acquire();
    } catch {
      return run.leave(); // cancel() at the end of the run (E_CANCELED)
    }
    if (run.budget > 0) {
      run.budget--;
      release();
      continue;
    }
    run.stop();
    // Its queue is an array that shift()s each hand-off, O(depth): leaving one by one would take
    // minutes at depth 100k, so the first to leave cancels every other pending acquire.
    mutex.cancel();
    release();
    return run.leave();
  }
}

async function esToolkitWorker(mutex, run) {
  for (;;) {
    await mutex.acquire();
    if (run.budget > 0) {
      run.budget--;
      mutex.release();
      continue;
    }
    run.stop();
    mutex.release();
    return run.leave();
  }
}

async function henrygdWorker(sem, run) {
  for (;;) {
    await sem.acquire();
    if (run.budget > 0) {
      run.budget--;
      sem.release();
      continue;
    }
    run.stop();
    sem.release();
    return run.leave();
  }
}

async function asyncSemaWorker(sema, run) {
  for (;;) {
    await sema.acquire();
    if (run.budget > 0) {
      run.budget--;
      sema.release();
      continue;
    }
    run.stop();
    sema.release();
    return run.leave();
  }
}

async function esfxWorker(sem, run) {
  for (;;) {
    await sem.wait();
    if (run.budget > 0) {
      run.budget--;
      sem.release();
      continue;
    }
    run.stop();
    sem.release();
    return run.leave();
  }
}

let henrygdKeys = 0;

/**
 * The libraries of the contended suites: `make()` builds a lock that the driver holds and returns
 * `{ lock, release }` (release: the driver's release); `worker(lock, run)` is the loop above.
 */
const CONTENDED = {
  'waitsafe Lock': {
    async make() {
      const lock = new Lock({ maxWaiters: 0 });
      return { lock, release: await lock.acquire() };
    },
    worker: waitsafeLockWorker,
  },
  'waitsafe Semaphore(1)': {
    async make() {
      const lock = new Semaphore(1, { maxWaiters: 0 });
      return { lock, release: await lock.acquire() };
    },
    worker: waitsafeSemaphoreWorker,
  },
  'async-mutex Mutex': {
    async make() {
      const lock = new AsyncMutex();
      return { lock, release: await lock.acquire() };
    },
    worker: asyncMutexWorker,
  },
  'es-toolkit Mutex': {
    async make() {
      const lock = new EsToolkitMutex();
      await lock.acquire();
      return { lock, release: () => lock.release() };
    },
    worker: esToolkitWorker,
  },
  '@henrygd/semaphore mutex': {
    async make() {
      const lock = getSemaphore(`bench-${henrygdKeys++}`, 1);
      await lock.acquire();
      return { lock, release: () => lock.release() };
    },
    worker: henrygdWorker,
  },
  'async-sema Sema(1)': {
    async make() {
      const lock = new Sema(1);
      await lock.acquire();
      return { lock, release: () => lock.release() };
    },
    worker: asyncSemaWorker,
  },
  '@esfx AsyncSemaphore(1)': {
    async make() {
      const lock = new AsyncSemaphore(1);
      await lock.wait();
      return { lock, release: () => lock.release() };
    },
    worker: esfxWorker,
  },
};
const PEERS = Object.keys(CONTENDED).filter((label) => !label.startsWith('waitsafe'));

/** One timed run: `depth` acquirers queued behind the holder, `n` hand-offs timed. */
async function handOff(lib, depth, n, clock) {
  const { lock, release } = await lib.make();
  const workers = depth + 1;
  const run = new HandOffRun(n, workers, clock);
  for (let i = 0; i < workers; i++) lib.worker(lock, run);
  await null;
  clock.start();
  release();
  await run.finished;
}

/**
 * Queue depths: `n` hand-offs per timed run; async-mutex gets `slowN`, as its hand-off takes
 * 1.5-2 µs, and 100 µs at depth 100k (its queue is an array that shift()s). See the header.
 */
const DEPTHS = [
  { depth: 1, n: 100_000, slowN: 20_000, rounds: 11, warmup: 2, rewarm: 5 },
  { depth: 1_000, n: 100_000, slowN: 20_000, rounds: 11, warmup: 2, rewarm: 5 },
  { depth: 100_000, n: 100_000, slowN: 2_000, rounds: 9, warmup: 1, rewarm: 0 },
];

const contended = {};
for (const { depth, n, slowN, rounds, warmup, rewarm } of DEPTHS) {
  const cases = {};
  for (const [label, lib] of Object.entries(CONTENDED)) {
    const caseN = label.startsWith('async-mutex') ? slowN : n;
    cases[label] = { n: caseN, rewarm, fn: (runN, clock) => handOff(lib, depth, runN, clock) };
  }
  const result = await runSuite(
    defineSuite({
      name: `Contended FIFO hand-off, queue depth ${depth.toLocaleString('en-US')}, per hand-off`,
      n: Math.min(n, 100_000),
      rounds,
      warmup,
      // The floor keeps the default re-warm; each case has its own (above).
      cases,
    }),
    { print: false },
  );
  printWithPeers(result, PEERS);
  contended[depth] = result;
}

// ---------------------------------------------------------------------------------------------
// 2. Uncontended: tryAcquire + release on a free lock

/** The floor of a synchronous try-lock: a boolean flag on an object. */
class FlagLock {
  locked = false;
  tryAcquire() {
    if (this.locked) return false;
    this.locked = true;
    return true;
  }
  release() {
    this.locked = false;
  }
}

const SYNC_N = 1_000_000;
const ASYNC_N = 100_000;
const check = (label, got, n) => {
  if (got !== n) throw new Error(`${label}: acquired ${got} of ${n}`);
};
const flagLock = new FlagLock();
const tryLock = new Lock();
const tryLock2 = new Lock();
const trySem = new Semaphore(1);
const trySema = new Sema(1);
const asyncLock = new Lock();
const asyncMutex = new AsyncMutex();
const esToolkitMutex = new EsToolkitMutex();
const henrygdMutex = getSemaphore('bench-uncontended', 1);
const esfxSemaphore = new AsyncSemaphore(1);

const SYNC_FLOOR = 'floor: sync try-lock, a boolean flag';
const syncCases = {
  [SYNC_FLOOR]: (n) => {
    const lock = flagLock;
    let got = 0;
    for (let i = 0; i < n; i++) {
      if (lock.tryAcquire()) {
        got++;
        lock.release();
      }
    }
    check(SYNC_FLOOR, got, n);
  },
  'waitsafe Lock: tryAcquire() + releaser()': (n) => {
    const lock = tryLock;
    let got = 0;
    for (let i = 0; i < n; i++) {
      const release = lock.tryAcquire();
      if (release !== undefined) {
        got++;
        release();
      }
    }
    check('waitsafe Lock', got, n);
  },
  'waitsafe Lock: tryAcquire() + lock.release()': (n) => {
    const lock = tryLock2;
    let got = 0;
    for (let i = 0; i < n; i++) {
      if (lock.tryAcquire() !== undefined) {
        got++;
        lock.release();
      }
    }
    check('waitsafe Lock', got, n);
  },
  'waitsafe Semaphore(1): tryAcquire() + releaser()': (n) => {
    const sem = trySem;
    let got = 0;
    for (let i = 0; i < n; i++) {
      const release = sem.tryAcquire();
      if (release !== undefined) {
        got++;
        release();
      }
    }
    check('waitsafe Semaphore', got, n);
  },
  'async-sema Sema(1): tryAcquire() + release()': (n) => {
    const sema = trySema;
    let got = 0;
    for (let i = 0; i < n; i++) {
      if (sema.tryAcquire() !== undefined) {
        got++;
        sema.release();
      }
    }
    check('async-sema', got, n);
  },
};
const asyncCases = {
  'waitsafe Lock: await acquire() + releaser() (for reference)': async (n) => {
    const lock = asyncLock;
    for (let i = 0; i < n; i++) {
      const release = await lock.acquire();
      release();
    }
  },
  'async-mutex Mutex: await acquire() + release()': async (n) => {
    const mutex = asyncMutex;
    for (let i = 0; i < n; i++) {
      const release = await mutex.acquire();
      release();
    }
  },
  'es-toolkit Mutex: await acquire() + release()': async (n) => {
    const mutex = esToolkitMutex;
    for (let i = 0; i < n; i++) {
      await mutex.acquire();
      mutex.release();
    }
  },
  '@henrygd/semaphore mutex: await acquire() + release()': async (n) => {
    const sem = henrygdMutex;
    for (let i = 0; i < n; i++) {
      await sem.acquire();
      sem.release();
    }
  },
  '@esfx AsyncSemaphore(1): await wait() + release()': async (n) => {
    const sem = esfxSemaphore;
    for (let i = 0; i < n; i++) {
      await sem.wait();
      sem.release();
    }
  },
};
const uncontended = await runSuite(
  defineSuite({
    name: 'Uncontended acquire + release',
    n: ASYNC_N,
    cases: {
      ...Object.fromEntries(Object.entries(syncCases).map(([label, fn]) => [label, { n: SYNC_N, fn }])),
      ...asyncCases,
    },
  }),
  { print: false },
);

/** Prints some cases of a suite with their same-round ratio to `floorLabel`. */
function printSubset(result, title, labels, floorLabel, floorName) {
  const base = result.cases[floorLabel];
  const ns = [...new Set(labels.map((label) => result.cases[label].n))].map((n) => n.toLocaleString('en-US'));
  printTable(
    `### ${title}  (${ns.join(' / ')} ops per run, ${result.rounds} rounds, ${result.seconds.toFixed(0)} s for both tables)`,
    ['case', 'median ns/op', 'min..max', 'ops/s', floorName],
    ['l', 'r', 'r', 'r', 'r'],
    labels.map((label) => {
      const c = result.cases[label];
      return [
        label,
        formatNs(c.median),
        `${formatNs(c.min)}..${formatNs(c.max)}`,
        formatOps(c.median),
        formatRatio(roundRatio(c, base)),
      ];
    }),
  );
}
printSubset(
  uncontended,
  'Uncontended, synchronous try: tryAcquire() + release on a free lock',
  Object.keys(syncCases),
  SYNC_FLOOR,
  'x flag floor',
);
printSubset(
  uncontended,
  'Uncontended, no synchronous try in the library: await acquire() + release on a free lock',
  [FLOOR_LABEL, ...Object.keys(asyncCases)],
  FLOOR_LABEL,
  'x floor',
);

// ---------------------------------------------------------------------------------------------
// Targets (their limits are listed in docs/benchmarks.md)

const targets = [];
for (const depth of [1, 1_000]) {
  for (const label of ['waitsafe Lock', 'waitsafe Semaphore(1)']) {
    const c = contended[depth].cases[label];
    const ratio = roundRatio(c, contended[depth].floor);
    targets.push({
      target: `${label} hand-off, depth ${depth.toLocaleString('en-US')}`,
      limit: '<= 2.1x floor',
      measured: `${formatRatio(ratio)} (${formatNs(c.median)} ns)`,
      pass: ratio <= 2.1,
    });
  }
}
for (const depth of [1_000, 100_000]) {
  const result = contended[depth];
  const fastest = PEERS.reduce((a, b) => (result.cases[a].median <= result.cases[b].median ? a : b));
  for (const label of ['waitsafe Lock', 'waitsafe Semaphore(1)']) {
    const c = result.cases[label];
    // Same-round ratio of times; <= 1.00x means at least the peer's throughput.
    const ratio = roundRatio(c, result.cases[fastest]);
    targets.push({
      target: `${label} hand-off, depth ${depth.toLocaleString('en-US')}, vs fastest peer (${shortName(fastest)})`,
      limit: '>= its ops/s',
      measured: `${formatOps(c.median)} vs ${formatOps(result.cases[fastest].median)} ops/s (time ${formatRatio(ratio)})`,
      pass: ratio <= 1,
    });
  }
}
for (const label of ['waitsafe Lock: tryAcquire() + releaser()', 'waitsafe Lock: tryAcquire() + lock.release()']) {
  const c = uncontended.cases[label];
  targets.push({
    target: `uncontended ${label.replace('waitsafe ', '')}`,
    limit: '<= 5 ns',
    measured: `${formatNs(c.median)} ns`,
    pass: c.median <= 5,
  });
}
printTargets(targets);

console.log(
  `\nfloor in this process (median of the suites' floors): ${formatNs(
    median([...Object.values(contended), uncontended].map((s) => s.floor.median)),
  )} ns; bench/lock.mjs ran ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
