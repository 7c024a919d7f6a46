// Queue benchmarks: put/get throughput of waitsafe's Queue, PriorityQueue and LifoQueue next to
// the floor and to the peers (@esfx/async-queue's AsyncQueue, Effect's Queue), unbounded and
// bounded, and bytes per queued item and per pending getter, all in this process and in the same
// rounds (method: docs/benchmarks.md). Run with `npm run bench -- queue` (builds dist/ first); see
// docs/benchmarks.md. There is no performance target for queues: the last table compares the libraries.
//
// ## What is timed (ns per item: one put and one get)
//
// 1. Unbounded, consumer already waiting: `const p = q.get(); q.putNowait(i); await p`. Every put
//    finds the getter waiting and hands the item to it (it never enters the store). The peers use
//    their own synchronous put: @esfx `q.put(i)`, Effect `Queue.offerUnsafe` or `Queue.offer`.
// 2. Unbounded, put all then get all, through the store: batches of B puts (`q.putNowait(i)`), then
//    B `await q.get()`, for B = 1 (a consumer one step behind its producer: the queue goes 0, 1, 0,
//    1 items) and B = 1,000. PriorityQueue items are numbers in a seeded random order.
// 3. Unbounded, a producer loop (`await q.put(i)`) and a consumer loop (`await q.get()`) running
//    freely side by side; the libraries' scheduling decides how many items queue up (printed).
// 4. Bounded, maxSize 16: 4 producer loops (`await q.put(i)`) and 1 consumer loop; the producers
//    outrun the consumer, so the queue stays full and each get takes a blocked putter's item in.
// 5. A deep backlog: 100,000 items queued (not timed), then the gets timed.
//
// ## The peers, used the way their documentation shows
//
//   @esfx/async-queue 1.0.0   q.put(x) (synchronous, returns void), await q.get(). AsyncQueue has no
//                             bound (no maxSize, put never waits) and the package has no bounded
//                             queue, so it is absent from the bounded table.
//   effect 4.1.0              Queue.unbounded() / Queue.bounded(16); Queue.offer / Queue.take inside
//                             Effect programs (Effect.gen), run with Effect.runPromise once per timed
//                             run, producers and consumers as fibers (Effect.forkChild). Labelled
//                             "program". "from Promise land" crosses into Effect once per operation:
//                             `await Effect.runPromise(Queue.take(q))`, and `Queue.offerUnsafe(q, x)`
//                             (unbounded) or `await Effect.runPromise(Queue.offer(q, x))` (bounded).
//
// Effect wakes a waiting taker from its scheduler (a setImmediate), not synchronously: a hand-off
// per item costs a macrotask, and fibers left to run freely batch (the producer runs up to 2,048
// operations before it yields). Case 1 forces the hand-off per item (the producer fiber yields
// after each offer); case 3 lets Effect batch.
//
// Each library is a row of QUEUES (its own one-line functions), and each case runs its own copy
// of one loop template (the harness's specialize()), so no call site in the benchmark is shared
// between libraries (waitsafe's own methods are shared by its three queues, as in an
// application that uses all three). Effect's programs are written out: they have no template.
//
// ## Memory (bytes per item, measureBytes: 100,000 per repetition, 5 repetitions)
//
// Queued items: small integers (no per-item allocation), so the figure is what the queue adds
// per item; the floor is an array of the same items built by push. Pending getters: 100,000
// `get()` calls whose promises the benchmark does not keep; floors: a resolver in an array, a list
// node {prev,next,resolve,reject}. Effect: a pending take is a fiber (`Effect.runFork`).
import { AsyncQueue } from '@esfx/async-queue';
import { Effect, Queue as EffectQueue, Fiber } from 'effect';
import { LifoQueue, PriorityQueue, Queue } from '../dist/esm/index.js';
import { queueHandOffCase, tick, waitsafeQueue } from './cases.mjs';
import {
  banner,
  defineSuite,
  footer,
  formatBytes,
  formatNs,
  formatRatio,
  LIST_NODE_FLOOR,
  measureBytes,
  printTable,
  roundRatio,
  runSuite,
  shuffle,
  specialize,
  WAITER_FLOOR_CASES,
} from './harness.mjs';

banner('figures in ns per item (a put and a get) unless noted');
const started = performance.now();

const N = 20_000;
/** Effect's per-item hand-off costs a macrotask (2-3 µs): fewer items per run, same method. */
const EFFECT_SLOW_N = 4_000;
/** PriorityQueue items: the numbers 0..N-1 in a seeded random order (so the sums still match). */
const KEYS = shuffle(Array.from({ length: N }, (_, i) => i));
const sumTo = (n) => (n * (n - 1)) / 2;
const check = (label, got, want) => {
  if (got !== want) throw new Error(`${label}: got ${got}, expected ${want}`);
};
const runEffect = Effect.runPromise;

/** The textbook async queue: an array of items and an array of resolvers; it cannot cancel. */
class NaiveQueue {
  items = [];
  getters = [];
  get() {
    if (this.items.length > 0) return Promise.resolve(this.items.shift());
    return new Promise((resolve) => {
      this.getters.push(resolve);
    });
  }
  put(item) {
    if (this.getters.length > 0) this.getters.shift()(item);
    else this.items.push(item);
  }
}

/**
 * The textbook bounded async queue: arrays of items, of getters' resolvers and of blocked putters
 * ({ item, resolve }); it cannot cancel. A reference for the bounded table.
 */
class NaiveBoundedQueue extends NaiveQueue {
  putters = [];
  constructor(maxSize) {
    super();
    this.maxSize = maxSize;
  }
  get() {
    if (this.items.length > 0) {
      const item = this.items.shift();
      if (this.putters.length > 0) {
        const putter = this.putters.shift();
        this.items.push(putter.item);
        putter.resolve();
      }
      return Promise.resolve(item);
    }
    return new Promise((resolve) => {
      this.getters.push(resolve);
    });
  }
  put(item) {
    if (this.getters.length > 0) this.getters.shift()(item);
    else if (this.items.length < this.maxSize) this.items.push(item);
    else {
      return new Promise((resolve) => {
        this.putters.push({ item, resolve });
      });
    }
    return Promise.resolve();
  }
}

/**
 * The libraries, one row each: `create(options)`, `get(q)` (a promise of an item),
 * `putNowait(q, item)` (synchronous), `put(q, item)` (awaited), `size(q)` (items queued),
 * `waiting(q)` (blocked putters), `nth(index, keys)` (the item to put at `index`, default index).
 * The loops get these functions written in (see bench/harness.mjs), so rows may share them.
 */
const PUT_GET = {
  get: (q) => q.get(),
  putNowait: (q, item) => q.put(item),
  // The naive and @esfx put() are synchronous and return nothing: awaiting it is a producer's yield.
  put: (q, item) => q.put(item),
};
const QUEUES = {
  naive: {
    label: 'naive queue (array of items + array of resolvers)',
    create: () => new NaiveQueue(),
    ...PUT_GET,
    size: (q) => q.items.length,
  },
  queue: { label: 'waitsafe Queue', ...waitsafeQueue(Queue) },
  // Its items: KEYS (`keys` in the loops' state), the numbers in a seeded random order.
  prio: { label: 'waitsafe PriorityQueue', ...waitsafeQueue(PriorityQueue), nth: (index, keys) => keys[index] },
  lifo: { label: 'waitsafe LifoQueue', ...waitsafeQueue(LifoQueue) },
  esfx: { label: '@esfx AsyncQueue', create: () => new AsyncQueue(), ...PUT_GET, size: (q) => q.size },
  effectPromise: {
    label: 'Effect Queue.unbounded(), from Promise land',
    create: () => Effect.runSync(EffectQueue.unbounded()),
    get: (q) => runEffect(EffectQueue.take(q)),
    putNowait: (q, item) => EffectQueue.offerUnsafe(q, item),
  },
};
const BOUNDED_QUEUES = {
  naive: {
    label: 'naive bounded queue (arrays of items, resolvers, putters)',
    create: (options) => new NaiveBoundedQueue(options.maxSize),
    ...PUT_GET,
    waiting: (q) => q.putters.length,
  },
  effectPromise: {
    label: 'Effect Queue.bounded(16), from Promise land',
    create: (options) => Effect.runSync(EffectQueue.bounded(options.maxSize)),
    get: (q) => runEffect(EffectQueue.take(q)),
    put: (q, item) => runEffect(EffectQueue.offer(q, item)),
    waiting: (q) => q.state.offers.size, // internal: the blocked offers
  },
};

/**
 * Loop templates (see bench/harness.mjs, specialize): a factory of the row's functions, then the
 * loop; `state` is the queue and the case's figures.
 */
const LOOPS = {
  /** Batches of `batch` puts, then `batch` gets, through the store. */
  batch: ({ get, putNowait, nth }) =>
    async function (n) {
      const { q, keys, batch } = this;
      let sum = 0;
      for (let i = 0; i < n; i += batch) {
        for (let index = i; index < i + batch; index++) {
          const item = nth(index, keys);
          putNowait(q, item);
        }
        for (let j = 0; j < batch; j++) sum += await get(q);
      }
      if (sum !== (n * (n - 1)) / 2) throw new Error(`${this.label}: got ${sum}`);
    },
  /** A producer loop (`await put`) and a consumer loop (`await get`) side by side. */
  free: ({ get, put, nth, size }) =>
    async function (n, _clock, probe) {
      const { q, keys } = this;
      const consumer = (async () => {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += await get(q);
        return sum;
      })();
      for (let index = 0; index < n; index++) {
        const item = nth(index, keys);
        await put(q, item);
        if (probe) probe(size(q));
      }
      const sum = await consumer;
      if (sum !== (n * (n - 1)) / 2) throw new Error(`${this.label}: got ${sum}`);
    },
  /** `producers` producer loops (`await put`) outrun one consumer loop (`await get`). */
  bounded: ({ get, put, nth, waiting }) =>
    async function (n, _clock, probe) {
      const { q, keys, producers } = this;
      const per = n / producers;
      const producer = async (base) => {
        for (let index = base; index < base + per; index++) {
          const item = nth(index, keys);
          await put(q, item);
        }
      };
      const running = [];
      for (let k = 0; k < producers; k++) running.push(producer(k * per));
      let sum = 0;
      for (let i = 0; i < n; i++) {
        if (probe) probe(waiting(q));
        sum += await get(q);
      }
      await Promise.all(running);
      if (sum !== (n * (n - 1)) / 2) throw new Error(`${this.label}: got ${sum}`);
    },
  /** A queue of `fill` items (not timed), then n gets timed. */
  deep: ({ create, get, putNowait }) =>
    async function (n, clock) {
      const { fill } = this;
      const q = create();
      for (let item = 0; item < fill; item++) putNowait(q, item);
      let sum = 0;
      clock.start();
      for (let i = 0; i < n; i++) sum += await get(q);
      clock.stop();
      if (sum !== (n * (n - 1)) / 2) throw new Error(`${this.label}: got ${sum}`);
    },
};

/** A case: `loop` over a queue of `row` (made with `options`), with `more` in its state. */
const loopCase = (loop, row, { label = row.label, options, n, ...more } = {}) => ({
  label,
  n,
  setup: () => ({ ...more, keys: KEYS, q: row.create(options), label }),
  run: specialize(LOOPS[loop], label, { nth: (index) => index, ...row }),
});

/** Prints a suite with items/s, x floor and one column per peer (same round: case / peer). */
const PEERS = ['@esfx AsyncQueue', 'Effect Queue.unbounded(), program'];
const peerName = (label) =>
  label.replace('@esfx AsyncQueue', '@esfx').replace(/^Effect (Queue\.\w+\([^)]*\), )?/, 'Effect ');
const table = (peers = PEERS, notes = {}) => ({ unit: 'item', rate: true, peers, peerName, notes });
const suite = (name, cases, options = {}) => runSuite(defineSuite({ name, n: N, cases, ...options }));

/**
 * The Effect program of suites 1 and 3: a consumer fiber takes n items, the producer offers them
 * (and yields after each offer if `yieldEach`; `probe` sees the backlog after each offer).
 */
const effectPair = (n, q, yieldEach, probe) =>
  runEffect(
    Effect.gen(function* () {
      const consumer = yield* Effect.forkChild(
        Effect.gen(function* () {
          let sum = 0;
          for (let i = 0; i < n; i++) sum += yield* EffectQueue.take(q);
          return sum;
        }),
        { startImmediately: true },
      );
      for (let i = 0; i < n; i++) {
        yield* EffectQueue.offer(q, i);
        if (yieldEach) yield* Effect.yieldNow;
        if (probe) probe(EffectQueue.sizeUnsafe(q));
      }
      check('Effect program', yield* Fiber.join(consumer), sumTo(n));
    }),
  );

/**
 * Runs each case once, untimed, with a probe that sees a count at each step (the backlog, the
 * blocked putters); returns label -> note made from what `summary(values)` gives.
 */
async function probeNotes(cases, summary) {
  const notes = {};
  for (const c of cases) {
    const values = [];
    await c.run.call(await c.setup(), N, undefined, (value) => values.push(value));
    notes[c.label] = summary(values);
  }
  return notes;
}

// ---------------------------------------------------------------------------------------------
// 1. Unbounded, consumer already waiting: a hand-off per item

const ALL = [QUEUES.naive, QUEUES.queue, QUEUES.prio, QUEUES.lifo, QUEUES.esfx];
const handOff = await suite(
  'Unbounded, consumer already waiting: `p = q.get(); q.putNowait(i); await p`, per item',
  [
    ...ALL.map((row) =>
      queueHandOffCase(row.label, row, row === QUEUES.queue ? () => new Queue({ name: 'bench-handoff' }) : row.create),
    ),
    {
      label: 'Effect Queue.unbounded(), program',
      n: EFFECT_SLOW_N,
      setup: async () => ({ q: await runEffect(EffectQueue.unbounded()) }),
      // The producer yields after each offer, so every offer finds the consumer waiting in take()
      // (left alone, Effect batches: see suite 3).
      run(n) {
        return effectPair(n, this.q, true);
      },
    },
    queueHandOffCase(QUEUES.effectPromise.label, QUEUES.effectPromise, undefined, { n: EFFECT_SLOW_N }),
  ],
  { table: table() },
);

// ---------------------------------------------------------------------------------------------
// 2. Unbounded, put a batch then get it: batches of 1 (the consumer one step behind the producer:
//    the queue goes 0, 1, 0, 1 items) and of 1,000. The items go through the store.

const batches = {};
for (const [batch, title] of [
  [1, 'Unbounded, consumer one step behind: `q.putNowait(i); await q.get()` (0, 1, 0, 1 items queued), per item'],
  [1_000, 'Unbounded, put 1,000 then get 1,000, per item'],
]) {
  const rows = [...ALL, QUEUES.effectPromise];
  const cases = rows.map((row) =>
    loopCase('batch', row, { label: row === QUEUES.prio ? `${row.label} (random order)` : row.label, batch }),
  );
  cases.splice(5, 0, {
    label: 'Effect Queue.unbounded(), program',
    setup: () => ({ q: Effect.runSync(EffectQueue.unbounded()) }),
    run(n) {
      const { q } = this;
      return runEffect(
        Effect.gen(function* () {
          let sum = 0;
          for (let i = 0; i < n; i += batch) {
            for (let j = 0; j < batch; j++) yield* EffectQueue.offer(q, i + j);
            for (let j = 0; j < batch; j++) sum += yield* EffectQueue.take(q);
          }
          check('Effect program', sum, sumTo(n));
        }),
      );
    },
  });
  batches[batch] = await suite(title, cases, { table: table() });
}

// ---------------------------------------------------------------------------------------------
// 3. Unbounded, producer and consumer loops running freely; the untimed probe run records the
//    largest backlog of each case.

const freeCases = [
  ...ALL.map((row) => loopCase('free', row)),
  {
    label: 'Effect Queue.unbounded(), program',
    setup: async () => ({ q: await runEffect(EffectQueue.unbounded()) }),
    run(n, _clock, probe) {
      return effectPair(n, this.q, false, probe);
    },
  },
];
const backlog = await probeNotes(
  freeCases,
  (sizes) => `(queued: up to ${Math.max(0, ...sizes).toLocaleString('en-US')})`,
);
const free = await suite(
  'Unbounded, producer loop (`await q.put(i)`) and consumer loop (`await q.get()`) side by side, per item',
  freeCases,
  { table: table(PEERS, backlog) },
);

// ---------------------------------------------------------------------------------------------
// 4. Bounded, maxSize 16, 4 producers outrunning 1 consumer: putters block

const MAX = 16;
const EFFECT_BOUNDED_PEER = 'Effect Queue.bounded(16), program';
const PRODUCERS = 4;
const bounded16 = { options: { maxSize: MAX }, producers: PRODUCERS };
const boundedCases = [
  loopCase('bounded', BOUNDED_QUEUES.naive, bounded16),
  ...[QUEUES.queue, QUEUES.prio, QUEUES.lifo].map((row) =>
    loopCase('bounded', row, { ...bounded16, label: `${row.label}({ maxSize: ${MAX} })` }),
  ),
  {
    label: EFFECT_BOUNDED_PEER,
    setup: async () => ({ q: await runEffect(EffectQueue.bounded(MAX)) }),
    run(n, _clock, probe) {
      const { q } = this;
      const per = n / PRODUCERS;
      return runEffect(
        Effect.gen(function* () {
          const producers = [];
          for (let k = 0; k < PRODUCERS; k++) {
            const base = k * per;
            producers.push(
              yield* Effect.forkChild(
                Effect.gen(function* () {
                  for (let i = 0; i < per; i++) yield* EffectQueue.offer(q, base + i);
                }),
              ),
            );
          }
          let sum = 0;
          for (let i = 0; i < n; i++) {
            if (probe) probe(q.state.offers.size); // internal: the blocked offers
            sum += yield* EffectQueue.take(q);
          }
          yield* Fiber.joinAll(producers);
          check('Effect program', sum, sumTo(n));
        }),
      );
    },
  },
  loopCase('bounded', BOUNDED_QUEUES.effectPromise, bounded16),
];
const blocked = await probeNotes(
  boundedCases,
  (counts) => `(putters blocked at a get: ${(counts.reduce((a, b) => a + b, 0) / counts.length).toFixed(1)})`,
);
const bounded = await suite(
  `Bounded, maxSize ${MAX}: ${PRODUCERS} producers (\`await q.put(i)\`) outrun 1 consumer (\`await q.get()\`), per item`,
  boundedCases,
  { table: table([EFFECT_BOUNDED_PEER], blocked) },
);
console.log('\n@esfx/async-queue has no bounded mode: AsyncQueue.put() is synchronous and never waits.');

// ---------------------------------------------------------------------------------------------
// 5. A deep backlog: gets from a queue that holds 100,000 items

const DEEP = 100_000;
/** @esfx shift()s an array of 100k promises per get, O(backlog): it gets this many timed gets. */
const ESFX_DEEP_GETS = 2_000;
const deep = await suite(
  `Deep backlog: ${DEEP.toLocaleString('en-US')} items queued (not timed), then the gets timed, per get`,
  [
    loopCase('deep', QUEUES.queue, { label: 'waitsafe Queue: 100k gets', n: DEEP, fill: DEEP }),
    loopCase('deep', QUEUES.lifo, { label: 'waitsafe LifoQueue: 100k gets', n: DEEP, fill: DEEP }),
    {
      label: 'Effect Queue.unbounded(), program: 100k takes',
      n: DEEP,
      run: async (n, clock) => {
        const q = await runEffect(EffectQueue.unbounded());
        for (let i = 0; i < DEEP; i++) EffectQueue.offerUnsafe(q, i);
        clock.start();
        const sum = await runEffect(
          Effect.gen(function* () {
            let sum = 0;
            for (let i = 0; i < n; i++) sum += yield* EffectQueue.take(q);
            return sum;
          }),
        );
        clock.stop();
        check('Effect program', sum, sumTo(n));
      },
    },
    // The rest of its backlog is dropped with the queue: draining it would take seconds.
    loopCase('deep', QUEUES.esfx, {
      label: `@esfx AsyncQueue: first ${ESFX_DEEP_GETS.toLocaleString('en-US')} gets`,
      n: ESFX_DEEP_GETS,
      fill: DEEP,
    }),
  ],
  { rounds: 9, warmup: 1, rewarm: 1, table: table([]) },
);

// ---------------------------------------------------------------------------------------------
// 6. Memory: bytes per queued item, and per pending getter

const COUNT = 100_000;
/** `count` items put into a fresh queue of `row` (`item(i, count)`: the i-th). */
const filled = (row, item = (i) => i) => ({
  create(count) {
    const q = row.create();
    for (let i = 0; i < count; i++) row.putNowait(q, item(i, count));
    return q;
  },
});
const queued = await measureBytes({
  name: 'bytes per queued item (small integers)',
  count: COUNT,
  reps: 5,
  floor: 'floor: array of the items (push)',
  cases: {
    'floor: array of the items (push)': filled({ create: () => [], putNowait: (items, i) => items.push(i) }),
    'waitsafe Queue': filled(QUEUES.queue),
    'waitsafe PriorityQueue': filled(QUEUES.prio, (i, count) => count - i),
    'waitsafe LifoQueue': filled(QUEUES.lifo),
    '@esfx AsyncQueue': filled(QUEUES.esfx),
    'Effect Queue.unbounded()': filled(QUEUES.effectPromise),
  },
});

/** `count` pending gets on a fresh queue of `row`; `dispose` puts `pending(q)` items to end them. */
const pendingGets = (row, pending, settled = tick) => ({
  create(count) {
    const q = row.create({ maxWaiters: 0 });
    for (let i = 0; i < count; i++) row.get(q);
    return q;
  },
  dispose(q) {
    const count = pending(q);
    for (let i = 0; i < count; i++) row.putNowait(q, i);
    return settled(q);
  },
});
const getters = await measureBytes({
  name: 'bytes per pending getter',
  count: COUNT,
  reps: 5,
  floor: LIST_NODE_FLOOR,
  cases: {
    ...WAITER_FLOOR_CASES,
    'waitsafe Queue: get()': pendingGets(QUEUES.queue, (q) => q.waiterCount),
    '@esfx AsyncQueue: get()': pendingGets(QUEUES.esfx, (q) => -q.size),
    'Effect Queue.unbounded(): a fiber in take() (Effect.runFork)': pendingGets(
      { ...QUEUES.effectPromise, get: (q) => Effect.runFork(EffectQueue.take(q)) },
      (q) => q.state.takers.size,
      async (q) => {
        while (EffectQueue.sizeUnsafe(q) > 0 || q.state.takers.size > 0) await tick();
      },
    ),
  },
});

// ---------------------------------------------------------------------------------------------
// Comparison (there is no performance target for queues)

/** "97.1 ns (1.52x)": median and ratio to the floor. */
const cell = (result, label) => {
  const c = result.cases[label];
  return c === undefined ? 'n/a' : `${formatNs(c.median)} ns (${formatRatio(c.ratio)})`;
};
/** Same-round time ratio waitsafe / peer: below 1.00x waitsafe is faster. */
const vs = (result, label, peer) => {
  const a = result.cases[label];
  const p = result.cases[peer];
  return a === undefined || p === undefined ? 'n/a' : formatRatio(roundRatio(a, p));
};
const [ESFX, EFFECT] = PEERS;
const rows = [
  ['hand-off, consumer waiting', handOff, 'waitsafe Queue', ESFX, EFFECT],
  ['put 1 then get 1', batches[1], 'waitsafe Queue', ESFX, EFFECT],
  ['put 1,000 then get 1,000', batches[1000], 'waitsafe Queue', ESFX, EFFECT],
  ['producer + consumer loops', free, 'waitsafe Queue', ESFX, EFFECT],
  [
    `bounded ${MAX}, ${PRODUCERS} producers block`,
    bounded,
    'waitsafe Queue({ maxSize: 16 })',
    undefined,
    EFFECT_BOUNDED_PEER,
  ],
].map(([scenario, result, ours, esfx, effect]) => [
  scenario,
  cell(result, ours),
  esfx === undefined ? 'no bounded mode' : cell(result, esfx),
  cell(result, effect),
  esfx === undefined ? 'n/a' : vs(result, ours, esfx),
  vs(result, ours, effect),
]);
const bytesRow = (scenario, mem, labels) => {
  const [ours, esfx, effect] = labels.map((label) => mem.cases[label].median);
  return [scenario, ...[ours, esfx, effect].map(formatBytes), formatRatio(ours / esfx), formatRatio(ours / effect)];
};
rows.push(
  bytesRow('bytes per queued item', queued, ['waitsafe Queue', ESFX, 'Effect Queue.unbounded()']),
  bytesRow('bytes per pending getter', getters, [
    'waitsafe Queue: get()',
    '@esfx AsyncQueue: get()',
    'Effect Queue.unbounded(): a fiber in take() (Effect.runFork)',
  ]),
);
printTable(
  '### Comparison: waitsafe Queue against the peers (same run; no performance target for queues)',
  ['scenario', 'waitsafe Queue', '@esfx AsyncQueue', 'Effect Queue, program', 'x @esfx', 'x Effect'],
  ['l', 'r', 'r', 'r', 'r', 'r'],
  rows,
);
console.log(
  '\nns per item (x the promise floor of the same round); "x @esfx" and "x Effect": waitsafe / peer in the same ' +
    'round (time or bytes), below 1.00x waitsafe is faster or smaller.',
);
footer('queue.mjs', [handOff, batches[1], batches[1000], free, bounded, deep], started);
