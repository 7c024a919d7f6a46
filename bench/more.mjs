// The newer primitives next to their peers: weighted Semaphore permits, ReaderWriterLock, and
// LockManager (the Web Locks API in process). Run with `npm run bench -- more` (builds dist/
// first); method: docs/benchmarks.md and the header of bench/harness.mjs (the floor in the same
// rounds, gc() before each timed run, a re-warm, rotating order, medians).
//
// ## Contended loops: W workers share a budget of n operations
//
// Every timed case starts W workers on one primitive (made once, alive for the whole suite).
// Each worker takes one operation off the shared budget, does it, and loops until the budget is
// spent; the run is timed from the first worker's start to the last one's end. n = 100,000
// operations per run (the reader-writer peers, at 1.5-5 µs per operation: 20,000), so a timed
// run lasts 10-100 ms: a run of a few ms on a shared 2-core machine is too often cut by the
// scheduler. One operation:
//
// - **Weighted Semaphore**: capacity 8, 16 workers; acquire `weight` permits, release them
//   (weights 1, 2, 3, 4 equally often, in a fixed shuffled order; worker k starts at its own
//   place in it). About 2.5 permits per acquire against 8 free: most acquires queue. waitsafe's
//   `acquire({ weight })` with its Releaser, and with `sem.release(weight)`; async-mutex's
//   `acquire(weight)` with its releaser. Both queue FIFO without barging.
// - **ReaderWriterLock**: 8 workers; a read (acquire + release the shared hold) or a write
//   (the exclusive hold) as a fixed shuffled pattern says, with 10%, 50% and 90% writes.
//   waitsafe's acquireRead/acquireWrite + Releaser, and runRead/runWrite(fn) with an empty
//   synchronous fn; @esfx/async-readerwriterlock's read()/write() + unlock(); async-rwlock's
//   readLock()/writeLock() + unlock(). async-rwlock lets readers in while others read, even with
//   a writer waiting, and after a write picks readers or a writer at random; the others queue a
//   reader behind a waiting writer. The pattern fixes what each worker asks for, so every library
//   does the same reads and writes, in whatever order its policy grants them.
// - **LockManager**: an exclusive `request(name, fn)` of one name, 1 worker (uncontended: the
//   name's state is made and dropped on every request) and 8 workers (contended), with `fn`
//   returning a value and `fn` an async function (returning a resolved promise). Next to it,
//   what one would write without a LockManager: a Lock per name in a Map (get or create the
//   Lock, `await lock.runExclusive(fn)`, delete it from the Map once idle), and a single
//   long-lived Lock's `runExclusive(fn)` (no per-name state at all); and the per-name lookup
//   alone: `map.get(name)`, `map.set(name, v)` on a miss, `map.delete(name)`, a synchronous loop
//   (100,000 per run) on a Map made in setup(). That Map is in old space after the harness's
//   gc(), as a long-lived manager's Map is, and there the lookup costs about 3x what it costs
//   on a young Map (~150 vs ~50 ns on Node 20): the sets and deletes keep reallocating its small
//   hash table, and each new table is a young object stored into an old one. This suite is
//   skipped, with a note, while dist/ exports no LockManager.
//
// Each library runs its own copy of the worker loop (the harness's specialize(), one template
// per loop shape, the library's one-line functions written in), the way bench/lock.mjs does.
// Each table has ns per operation, ops/s, x floor, and one column per peer: the median over the
// rounds of (case time / peer time) in the same round (below 1.00x the case is faster).
//
// ## Memory
//
// Bytes per pending waiter (measureBytes: 100,000 pending, 5 repetitions): a weighted acquire
// (weight 2) on a semaphore with no free permit; a read and a write waiting behind a writer; a
// LockManager request waiting behind a holder whose fn never settles, and the same with a Map
// of Locks. The waits' promises are not kept: what counts is what the primitive keeps.
//
// ## Targets
//
// - Ahead of every peer in the same run: for each waitsafe row and each peer of its table, the
//   throughput ratio (peer ns / waitsafe ns, median over the rounds of the same round's ratio)
//   >= 1.00x; and bytes per pending waiter <= each peer's.
// - "An exclusive LockManager request is no slower than Lock.runExclusive beyond the per-name
//   lookup": LockManager request time <= Lock.runExclusive time + the per-name lookup time (Map
//   get + set + delete), per operation, in the same round: the median over the rounds of
//   request / (runExclusive + lookup) <= 1.00x, for each of the four LockManager tables.
//
// It prints the targets as a markdown table with pass/MISS and exits 0 either way.
import * as waitsafe from '../dist/esm/index.js';
import { RW_LOCKS, WEIGHTED } from './cases.mjs';
import {
  banner,
  defineSuite,
  footer,
  formatBytes,
  formatNs,
  formatRatio,
  LIST_NODE_FLOOR,
  measureBytes,
  median,
  printTargets,
  roundRatio,
  runSuite,
  shuffle,
  specialize,
  WAITER_FLOOR_CASES,
} from './harness.mjs';

const { Lock, LockManager } = waitsafe;
banner();
const started = performance.now();
const noop = () => {};
const NO_LIMIT = { maxWaiters: 0 };
const NAME = 'resource';
const N = 100_000;
/** n for the peers that take microseconds per operation. */
const SLOW_N = 20_000;
/** A pattern of 1,024 entries (the loops index it with `j & 1023`): `entry(i)` for each i, shuffled. */
const pattern = (entry) => shuffle(Array.from({ length: 1024 }, (_, i) => entry(i)));

// ---------------------------------------------------------------------------------------------
// The worker loops (templates: see the header) and the case that runs W of them

const LOOPS = {
  weighted:
    ({ acquire, release }) =>
    async (sem, run, k) => {
      const { weights } = run;
      for (let j = k * 131; run.budget > 0; j++) {
        run.budget--;
        const weight = weights[j & 1023];
        const held = await acquire(sem, weight);
        release(sem, held, weight);
      }
    },
  readWrite:
    ({ read, write, unlock }) =>
    async (rw, run, k) => {
      const { writes, step } = run;
      for (let j = k * 131; run.budget > 0; j++) {
        run.budget--;
        const held = writes[j & 1023] === 1 ? await write(rw, step) : await read(rw, step);
        unlock(rw, held);
      }
    },
  exclusive:
    ({ request }) =>
    async (target, run) => {
      const { name, step } = run;
      while (run.budget > 0) {
        run.budget--;
        await request(target, name, step);
      }
    },
};

/**
 * A case: `workers` copies of the loop `shape` (a key of LOOPS) written for `lib`, sharing a
 * budget of n operations, on one primitive `lib.create(...args)` made in setup(). `params` are
 * what the loop reads from its run state (the patterns, the name, the fn).
 */
function workersCase(label, shape, lib, { workers, args = [], params, n }) {
  const worker = specialize(LOOPS[shape], label, lib);
  return {
    label,
    n,
    setup: () => ({ target: lib.create(...args), workers, params }),
    async run(n) {
      const { target, workers, params } = this;
      const run = { budget: n, ...params };
      const all = new Array(workers);
      for (let k = 0; k < workers; k++) all[k] = worker(target, run, k);
      await Promise.all(all);
    },
  };
}

const suites = [];
const targets = [];
const round2 = (value) => Number(value.toFixed(2));
const peerName = (label) => label.split(':')[0];

const isPeer = (label) => !label.startsWith('waitsafe');

/** Runs a suite of `rows` ([label, lib]) and `extra` cases, with a column per peer. */
async function peerSuite(name, rows, toCase, { extra = [], peers = rows.map(([label]) => label).filter(isPeer) } = {}) {
  const cases = [...rows.map(([label, lib]) => toCase(label, lib)), ...extra];
  const result = await runSuite(defineSuite({ name, n: N, cases, table: { rate: true, peers, peerName } }));
  suites.push(result);
  return { result, ours: rows.map(([label]) => label).filter((label) => !peers.includes(label)), peers };
}

/** Targets: each of `ours` at least the throughput of each of `peers` (same-round ratio). */
function aheadOfPeers(title, { result, ours, peers }) {
  for (const label of ours) {
    for (const peer of peers) {
      const c = result.cases[label];
      const p = result.cases[peer];
      targets.push({
        target: `${title}: ${label}`,
        limit: `>= 1.00x ${peerName(peer)} ops/s`,
        value: round2(roundRatio(p, c)),
        min: 1,
        format: (v) => `${formatRatio(v)} (${formatNs(c.median)} vs ${formatNs(p.median)} ns)`,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Weighted semaphore, contended

const CAPACITY = 8;
const weighted = await peerSuite(
  `Weighted Semaphore(${CAPACITY}), 16 workers, weights 1..4, per acquire + release`,
  [
    ['waitsafe Semaphore: acquire({ weight }) + Releaser', WEIGHTED.waitsafe],
    [
      'waitsafe Semaphore: acquire({ weight }) + release(weight)',
      { ...WEIGHTED.waitsafe, release: (sem, _held, weight) => sem.release(weight) },
    ],
    ['async-mutex Semaphore: acquire(weight) + releaser', WEIGHTED.asyncMutex],
  ],
  (label, lib) =>
    workersCase(label, 'weighted', lib, {
      workers: 16,
      args: [CAPACITY],
      params: { weights: pattern((i) => 1 + (i % 4)) },
    }),
);
aheadOfPeers('weighted Semaphore', weighted);

// ---------------------------------------------------------------------------------------------
// 2. ReaderWriterLock, read-heavy to write-heavy

const RW_ROWS = [
  ['waitsafe ReaderWriterLock: acquireRead/acquireWrite + Releaser', RW_LOCKS.waitsafe],
  [
    'waitsafe ReaderWriterLock: runRead/runWrite(fn)',
    {
      ...RW_LOCKS.waitsafe,
      read: (rw, step) => rw.runRead(step),
      write: (rw, step) => rw.runWrite(step),
      unlock: () => 0,
    },
  ],
  ['@esfx AsyncReaderWriterLock: read()/write() + unlock()', RW_LOCKS.esfx],
  ['async-rwlock RWLock: readLock()/writeLock() + unlock()', RW_LOCKS.asyncRwlock],
];
for (const share of [0.1, 0.5, 0.9]) {
  const percent = `${Math.round(share * 100)}% writes`;
  const rw = await peerSuite(`ReaderWriterLock, 8 workers, ${percent}, per operation`, RW_ROWS, (label, lib) =>
    workersCase(label, 'readWrite', lib, {
      workers: 8,
      n: isPeer(label) ? SLOW_N : N,
      params: { writes: pattern((i) => (i < 1024 * share ? 1 : 0)), step: noop },
    }),
  );
  aheadOfPeers(`RW ${percent}`, rw);
}

// ---------------------------------------------------------------------------------------------
// 3. LockManager: an exclusive request of one name

/** What one writes without a LockManager: a Lock per name in a Map, deleted once idle. */
class LockMap {
  locks = new Map();
  constructor(options) {
    this.options = options;
  }
  async run(name, fn) {
    let lock = this.locks.get(name);
    if (lock === undefined) {
      lock = new Lock(this.options);
      this.locks.set(name, lock);
    }
    try {
      return await lock.runExclusive(fn);
    } finally {
      if (!lock.isLocked() && lock.waiterCount === 0 && this.locks.get(name) === lock) this.locks.delete(name);
    }
  }
}

const LOCK_ROWS = [
  [
    'waitsafe LockManager: request(name, fn)',
    { create: (options) => new LockManager(options), request: (target, name, step) => target.request(name, step) },
  ],
  [
    'Map of Locks: get or create, runExclusive(fn), delete when idle',
    { create: (options) => new LockMap(options), request: (target, name, step) => target.run(name, step) },
  ],
  [
    'waitsafe Lock: runExclusive(fn), one Lock',
    { create: (options) => new Lock(options), request: (target, _name, step) => target.runExclusive(step) },
  ],
];
const LOOKUP = 'per-name lookup: Map get + set + delete';
const lookupCase = {
  label: LOOKUP,
  n: N,
  setup: () => ({ map: new Map(), name: NAME, value: {} }),
  run(n) {
    const { map, name, value } = this;
    for (let i = 0; i < n; i++) {
      if (map.get(name) === undefined) map.set(name, value);
      map.delete(name);
    }
  },
};
const STEPS = [
  ['fn returns a value', () => 1],
  ['async fn', async () => 1],
];

if (LockManager === undefined) {
  console.log('\n### LockManager\n\nskipped: dist/esm/index.js exports no LockManager yet (build it, then run again).');
} else {
  for (const workers of [1, 8]) {
    for (const [stepName, step] of STEPS) {
      const title = `LockManager, ${workers === 1 ? 'uncontended' : `${workers} workers`}, ${stepName}`;
      const lm = await peerSuite(
        `${title}, per request`,
        LOCK_ROWS,
        (label, lib) => workersCase(label, 'exclusive', lib, { workers, params: { name: NAME, step } }),
        { extra: [lookupCase], peers: LOCK_ROWS.slice(1).map(([label]) => label) },
      );
      const [request, , lock] = LOCK_ROWS.map(([label]) => lm.result.cases[label]);
      const lookup = lm.result.cases[LOOKUP];
      targets.push({
        target: `${title}: request no slower than Lock.runExclusive + lookup`,
        limit: '<= 1.00x (runExclusive + lookup)',
        value: round2(median(request.samples.map((s, r) => s / (lock.samples[r] + lookup.samples[r])))),
        max: 1,
        format: (v) =>
          `${formatRatio(v)} (${formatNs(request.median)} vs ${formatNs(lock.median)} + ${formatNs(lookup.median)} ns)`,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 4. Bytes per pending waiter

/** `count` waits `wait(target)` on `make()`, not kept; the target is the holder. */
const pending = (make, wait) => ({
  create(count) {
    const target = make();
    for (let i = 0; i < count; i++) wait(target);
    return target;
  },
});
const forever = () => new Promise(noop);
const BYTES = {};
for (const lib of Object.values(WEIGHTED)) {
  BYTES[`${lib.label}: acquire, weight 2`] = pending(
    () => lib.create(0, NO_LIMIT),
    (sem) => lib.acquire(sem, 2),
  );
}
for (const lib of Object.values(RW_LOCKS)) {
  for (const kind of ['read', 'write']) {
    BYTES[`${lib.label}: ${kind} behind a writer`] = pending(
      () => {
        const rw = lib.create(NO_LIMIT);
        lib.write(rw);
        return rw;
      },
      (rw) => lib[kind](rw),
    );
  }
}
if (LockManager !== undefined) {
  for (const [label, lib] of LOCK_ROWS.slice(0, 2)) {
    BYTES[`${peerName(label)}: request behind a holder`] = pending(
      () => {
        const target = lib.create(NO_LIMIT);
        lib.request(target, NAME, forever);
        return target;
      },
      (target) => lib.request(target, NAME, noop),
    );
  }
}
const memory = await measureBytes({
  name: 'bytes per pending waiter',
  floor: LIST_NODE_FLOOR,
  cases: { ...WAITER_FLOOR_CASES, ...BYTES },
});
for (const [ours, theirs] of [
  ['waitsafe Semaphore: acquire, weight 2', ['async-mutex Semaphore: acquire, weight 2']],
  ...['read', 'write'].map((kind) => [
    `${RW_LOCKS.waitsafe.label}: ${kind} behind a writer`,
    [RW_LOCKS.esfx, RW_LOCKS.asyncRwlock].map((lib) => `${lib.label}: ${kind} behind a writer`),
  ]),
]) {
  for (const peer of theirs) {
    targets.push({
      target: `bytes per pending waiter: ${ours}`,
      limit: `<= ${peerName(peer)} (${formatBytes(memory.cases[peer].median)})`,
      value: Math.round(memory.cases[ours].median),
      max: Math.round(memory.cases[peer].median),
      format: formatBytes,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Targets

const missed = printTargets(targets, '### Targets (bench/more.mjs)');
console.log(
  missed.length === 0
    ? `\nall ${targets.length} targets pass`
    : `\nMISS: ${missed.length} of ${targets.length} targets`,
);
footer('more.mjs', suites, started);
