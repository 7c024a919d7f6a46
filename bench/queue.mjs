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
// Each case is its own function literal, so no call site in the benchmark is shared between
// libraries (waitsafe's own methods are shared by its three queues, as in an application that
// uses all three).
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
import {
  defineSuite,
  FLOOR_LABEL,
  formatBytes,
  formatNs,
  formatRatio,
  LIST_NODE_FLOOR,
  measureBytes,
  median,
  runSuite,
  shuffle,
  WAITER_FLOOR_CASES,
} from './harness.mjs';

console.log(`node ${process.version}, ${process.arch}; figures in ns per item (a put and a get) unless noted`);
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

/** Formats items per second from ns per item: 6.61 M, 796 k. */
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

/** Column header for a peer: 'x @esfx', 'x Effect program'. */
function peerColumn(label) {
  return `x ${label.replace('@esfx AsyncQueue', '@esfx').replace(/^Effect (Queue\.\w+\([^)]*\), )?/, 'Effect ')}`;
}

/**
 * Prints a suite: median ns/item, min..max, items/s, x floor, and one column per peer with the
 * same-round ratio (case ns / peer ns: below 1.00x the case is faster than that peer).
 */
function printWithPeers(result, peers, notes = {}) {
  const floorCase = result.cases[FLOOR_LABEL];
  const rows = Object.entries(result.cases).map(([label, c]) => [
    notes[label] === undefined ? label : `${label} ${notes[label]}`,
    formatNs(c.median),
    `${formatNs(c.min)}..${formatNs(c.max)}`,
    formatOps(c.median),
    formatRatio(roundRatio(c, floorCase)),
    ...peers.map((p) => (p === label ? '1' : formatRatio(roundRatio(c, result.cases[p])))),
  ]);
  const ns = [...new Set(Object.values(result.cases).map((c) => c.n))].map((n) => n.toLocaleString('en-US'));
  printTable(
    `### ${result.name}  (${ns.join(' / ')} items per run, ${result.rounds} rounds, ${result.seconds.toFixed(0)} s)`,
    ['case', 'median ns/item', 'min..max', 'items/s', 'x floor', ...peers.map(peerColumn)],
    ['l', 'r', 'r', 'r', 'r', ...peers.map(() => 'r')],
    rows,
  );
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

const N = 20_000;
/** Effect's per-item hand-off costs a macrotask (2-3 µs): fewer items per run, same method. */
const EFFECT_SLOW_N = 4_000;
/** PriorityQueue items: the numbers 0..N-1 in a seeded random order. */
const KEYS = shuffle(Array.from({ length: N }, (_, i) => i));
const KEY_SUM = (N * (N - 1)) / 2;
const check = (label, got, want) => {
  if (got !== want) throw new Error(`${label}: got ${got}, expected ${want}`);
};
const sumTo = (n) => (n * (n - 1)) / 2;

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
class NaiveBoundedQueue {
  items = [];
  getters = [];
  putters = [];
  constructor(maxSize) {
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

const runEffect = Effect.runPromise;

// ---------------------------------------------------------------------------------------------
// 1. Unbounded, consumer already waiting: a hand-off per item

const h = {
  naive: new NaiveQueue(),
  queue: new Queue({ name: 'bench-handoff' }),
  prio: new PriorityQueue(),
  lifo: new LifoQueue(),
  esfx: new AsyncQueue(),
  effect: await runEffect(EffectQueue.unbounded()),
  effectPromise: await runEffect(EffectQueue.unbounded()),
};

const HANDOFF = {
  'naive queue (array of items + array of resolvers)': async (n) => {
    const q = h.naive;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const p = q.get();
      q.put(i);
      sum += await p;
    }
    check('naive', sum, sumTo(n));
  },
  'waitsafe Queue': async (n) => {
    const q = h.queue;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const p = q.get();
      q.putNowait(i);
      sum += await p;
    }
    check('Queue', sum, sumTo(n));
  },
  'waitsafe PriorityQueue': async (n) => {
    const q = h.prio;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const p = q.get();
      q.putNowait(i);
      sum += await p;
    }
    check('PriorityQueue', sum, sumTo(n));
  },
  'waitsafe LifoQueue': async (n) => {
    const q = h.lifo;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const p = q.get();
      q.putNowait(i);
      sum += await p;
    }
    check('LifoQueue', sum, sumTo(n));
  },
  '@esfx AsyncQueue': async (n) => {
    const q = h.esfx;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const p = q.get();
      q.put(i);
      sum += await p;
    }
    check('@esfx', sum, sumTo(n));
  },
  'Effect Queue.unbounded(), program': {
    n: EFFECT_SLOW_N,
    fn: (n) => {
      const q = h.effect;
      return runEffect(
        Effect.gen(function* () {
          // The consumer fiber waits in take(); the producer yields after each offer, so every
          // offer finds the consumer waiting (left alone, Effect batches: see suite 3).
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
            yield* Effect.yieldNow;
          }
          check('Effect program', yield* Fiber.join(consumer), sumTo(n));
        }),
      );
    },
  },
  'Effect Queue.unbounded(), from Promise land': {
    n: EFFECT_SLOW_N,
    fn: async (n) => {
      const q = h.effectPromise;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const p = runEffect(EffectQueue.take(q));
        EffectQueue.offerUnsafe(q, i);
        sum += await p;
      }
      check('Effect from Promise land', sum, sumTo(n));
    },
  },
};
const PEERS = ['@esfx AsyncQueue', 'Effect Queue.unbounded(), program'];
const handOff = await runSuite(
  defineSuite({
    name: 'Unbounded, consumer already waiting: `p = q.get(); q.putNowait(i); await p`, per item',
    n: N,
    cases: HANDOFF,
  }),
  { print: false },
);
printWithPeers(handOff, PEERS);

// ---------------------------------------------------------------------------------------------
// 2. Unbounded, put a batch then get it: batches of 1 (the consumer one step behind the producer:
//    the queue goes 0, 1, 0, 1 items) and of 1,000. The items go through the store.

/** The cases for one batch size. A factory: each call's closures share feedback, which is fine
 * here, as both batch sizes use the same libraries (every library has its own literal). */
const batchCases = (batch) => {
  const q = {
    naive: new NaiveQueue(),
    queue: new Queue(),
    prio: new PriorityQueue(),
    lifo: new LifoQueue(),
    esfx: new AsyncQueue(),
    effect: Effect.runSync(EffectQueue.unbounded()),
    effectPromise: Effect.runSync(EffectQueue.unbounded()),
  };
  return {
    'naive queue (array of items + array of resolvers)': async (n) => {
      const nq = q.naive;
      let sum = 0;
      for (let i = 0; i < n; i += batch) {
        for (let j = 0; j < batch; j++) nq.put(i + j);
        for (let j = 0; j < batch; j++) sum += await nq.get();
      }
      check('naive', sum, sumTo(n));
    },
    'waitsafe Queue': async (n) => {
      const wq = q.queue;
      let sum = 0;
      for (let i = 0; i < n; i += batch) {
        for (let j = 0; j < batch; j++) wq.putNowait(i + j);
        for (let j = 0; j < batch; j++) sum += await wq.get();
      }
      check('Queue', sum, sumTo(n));
    },
    'waitsafe PriorityQueue (random order)': async (n) => {
      const pq = q.prio;
      const keys = KEYS;
      let sum = 0;
      for (let i = 0; i < n; i += batch) {
        for (let j = 0; j < batch; j++) pq.putNowait(keys[i + j]);
        for (let j = 0; j < batch; j++) sum += await pq.get();
      }
      check('PriorityQueue', sum, KEY_SUM);
    },
    'waitsafe LifoQueue': async (n) => {
      const lq = q.lifo;
      let sum = 0;
      for (let i = 0; i < n; i += batch) {
        for (let j = 0; j < batch; j++) lq.putNowait(i + j);
        for (let j = 0; j < batch; j++) sum += await lq.get();
      }
      check('LifoQueue', sum, sumTo(n));
    },
    '@esfx AsyncQueue': async (n) => {
      const aq = q.esfx;
      let sum = 0;
      for (let i = 0; i < n; i += batch) {
        for (let j = 0; j < batch; j++) aq.put(i + j);
        for (let j = 0; j < batch; j++) sum += await aq.get();
      }
      check('@esfx', sum, sumTo(n));
    },
    'Effect Queue.unbounded(), program': (n) => {
      const eq = q.effect;
      return runEffect(
        Effect.gen(function* () {
          let sum = 0;
          for (let i = 0; i < n; i += batch) {
            for (let j = 0; j < batch; j++) yield* EffectQueue.offer(eq, i + j);
            for (let j = 0; j < batch; j++) sum += yield* EffectQueue.take(eq);
          }
          check('Effect program', sum, sumTo(n));
        }),
      );
    },
    'Effect Queue.unbounded(), from Promise land': async (n) => {
      const eq = q.effectPromise;
      let sum = 0;
      for (let i = 0; i < n; i += batch) {
        for (let j = 0; j < batch; j++) EffectQueue.offerUnsafe(eq, i + j);
        for (let j = 0; j < batch; j++) sum += await runEffect(EffectQueue.take(eq));
      }
      check('Effect from Promise land', sum, sumTo(n));
    },
  };
};
const batches = {};
for (const [batch, title] of [
  [1, 'Unbounded, consumer one step behind: `q.putNowait(i); await q.get()` (0, 1, 0, 1 items queued), per item'],
  [1_000, 'Unbounded, put 1,000 then get 1,000, per item'],
]) {
  batches[batch] = await runSuite(defineSuite({ name: title, n: N, cases: batchCases(batch) }), { print: false });
  printWithPeers(batches[batch], PEERS);
}

// ---------------------------------------------------------------------------------------------
// 3. Unbounded, producer and consumer loops running freely

const f = {
  naive: new NaiveQueue(),
  queue: new Queue(),
  prio: new PriorityQueue(),
  lifo: new LifoQueue(),
  esfx: new AsyncQueue(),
  effect: await runEffect(EffectQueue.unbounded()),
};
/** Largest backlog seen in each case's untimed probe run. */
const backlog = {};

const FREE = {
  'naive queue (array of items + array of resolvers)': async (n, _clock, probe) => {
    const q = f.naive;
    const consumer = (async () => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await q.get();
      return sum;
    })();
    for (let i = 0; i < n; i++) {
      q.put(i);
      await null; // the naive put returns nothing; a producer that yields like the others
      if (probe) probe(q.items.length);
    }
    check('naive', await consumer, sumTo(n));
  },
  'waitsafe Queue': async (n, _clock, probe) => {
    const q = f.queue;
    const consumer = (async () => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await q.get();
      return sum;
    })();
    for (let i = 0; i < n; i++) {
      await q.put(i);
      if (probe) probe(q.size);
    }
    check('Queue', await consumer, sumTo(n));
  },
  'waitsafe PriorityQueue': async (n, _clock, probe) => {
    const q = f.prio;
    const keys = KEYS;
    const consumer = (async () => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await q.get();
      return sum;
    })();
    for (let i = 0; i < n; i++) {
      await q.put(keys[i]);
      if (probe) probe(q.size);
    }
    check('PriorityQueue', await consumer, KEY_SUM);
  },
  'waitsafe LifoQueue': async (n, _clock, probe) => {
    const q = f.lifo;
    const consumer = (async () => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await q.get();
      return sum;
    })();
    for (let i = 0; i < n; i++) {
      await q.put(i);
      if (probe) probe(q.size);
    }
    check('LifoQueue', await consumer, sumTo(n));
  },
  '@esfx AsyncQueue': async (n, _clock, probe) => {
    const q = f.esfx;
    const consumer = (async () => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await q.get();
      return sum;
    })();
    for (let i = 0; i < n; i++) {
      q.put(i);
      await null; // put returns void; a producer that yields like the others
      if (probe) probe(q.size);
    }
    check('@esfx', await consumer, sumTo(n));
  },
  'Effect Queue.unbounded(), program': (n, _clock, probe) => {
    const q = f.effect;
    return runEffect(
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
          if (probe) probe(EffectQueue.sizeUnsafe(q));
        }
        check('Effect program', yield* Fiber.join(consumer), sumTo(n));
      }),
    );
  },
};
for (const [label, fn] of Object.entries(FREE)) {
  let most = 0;
  await fn(N, undefined, (size) => {
    if (size > most) most = size;
  });
  backlog[label] = most;
}
const free = await runSuite(
  defineSuite({
    name: 'Unbounded, producer loop (`await q.put(i)`) and consumer loop (`await q.get()`) side by side, per item',
    n: N,
    cases: Object.fromEntries(Object.entries(FREE).map(([label, fn]) => [label, (n, clock) => fn(n, clock)])),
  }),
  { print: false },
);
printWithPeers(
  free,
  PEERS,
  Object.fromEntries(
    Object.entries(backlog).map(([label, most]) => [label, `(queued: up to ${most.toLocaleString('en-US')})`]),
  ),
);

// ---------------------------------------------------------------------------------------------
// 4. Bounded, maxSize 16, 4 producers outrunning 1 consumer: putters block

const MAX = 16;
const PRODUCERS = 4;
const bq = {
  naive: new NaiveBoundedQueue(MAX),
  queue: new Queue({ maxSize: MAX }),
  prio: new PriorityQueue({ maxSize: MAX }),
  lifo: new LifoQueue({ maxSize: MAX }),
  effect: await runEffect(EffectQueue.bounded(MAX)),
  effectPromise: await runEffect(EffectQueue.bounded(MAX)),
};
/** Blocked putters seen by each get (untimed probe run): [sum, gets]. */
const blocked = {};

const BOUNDED = {
  'naive bounded queue (arrays of items, resolvers, putters)': async (n, _clock, probe) => {
    const q = bq.naive;
    const per = n / PRODUCERS;
    const producer = async (base) => {
      for (let i = 0; i < per; i++) await q.put(base + i);
    };
    const producers = [];
    for (let k = 0; k < PRODUCERS; k++) producers.push(producer(k * per));
    let sum = 0;
    for (let i = 0; i < n; i++) {
      if (probe) probe(q.putters.length);
      sum += await q.get();
    }
    await Promise.all(producers);
    check('naive', sum, sumTo(n));
  },
  'waitsafe Queue({ maxSize: 16 })': async (n, _clock, probe) => {
    const q = bq.queue;
    const per = n / PRODUCERS;
    const producer = async (base) => {
      for (let i = 0; i < per; i++) await q.put(base + i);
    };
    const producers = [];
    for (let k = 0; k < PRODUCERS; k++) producers.push(producer(k * per));
    let sum = 0;
    for (let i = 0; i < n; i++) {
      if (probe) probe(q.waiterCount);
      sum += await q.get();
    }
    await Promise.all(producers);
    check('Queue', sum, sumTo(n));
  },
  'waitsafe PriorityQueue({ maxSize: 16 })': async (n, _clock, probe) => {
    const q = bq.prio;
    const keys = KEYS;
    const per = n / PRODUCERS;
    const producer = async (base) => {
      for (let i = 0; i < per; i++) await q.put(keys[base + i]);
    };
    const producers = [];
    for (let k = 0; k < PRODUCERS; k++) producers.push(producer(k * per));
    let sum = 0;
    for (let i = 0; i < n; i++) {
      if (probe) probe(q.waiterCount);
      sum += await q.get();
    }
    await Promise.all(producers);
    check('PriorityQueue', sum, KEY_SUM);
  },
  'waitsafe LifoQueue({ maxSize: 16 })': async (n, _clock, probe) => {
    const q = bq.lifo;
    const per = n / PRODUCERS;
    const producer = async (base) => {
      for (let i = 0; i < per; i++) await q.put(base + i);
    };
    const producers = [];
    for (let k = 0; k < PRODUCERS; k++) producers.push(producer(k * per));
    let sum = 0;
    for (let i = 0; i < n; i++) {
      if (probe) probe(q.waiterCount);
      sum += await q.get();
    }
    await Promise.all(producers);
    check('LifoQueue', sum, sumTo(n));
  },
  'Effect Queue.bounded(16), program': (n, _clock, probe) => {
    const q = bq.effect;
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
  'Effect Queue.bounded(16), from Promise land': async (n, _clock, probe) => {
    const q = bq.effectPromise;
    const per = n / PRODUCERS;
    const producer = async (base) => {
      for (let i = 0; i < per; i++) await runEffect(EffectQueue.offer(q, base + i));
    };
    const producers = [];
    for (let k = 0; k < PRODUCERS; k++) producers.push(producer(k * per));
    let sum = 0;
    for (let i = 0; i < n; i++) {
      if (probe) probe(q.state.offers.size);
      sum += await runEffect(EffectQueue.take(q));
    }
    await Promise.all(producers);
    check('Effect from Promise land', sum, sumTo(n));
  },
};
for (const [label, fn] of Object.entries(BOUNDED)) {
  let total = 0;
  let gets = 0;
  await fn(N, undefined, (waiting) => {
    total += waiting;
    gets++;
  });
  blocked[label] = total / gets;
}
const bounded = await runSuite(
  defineSuite({
    name: `Bounded, maxSize ${MAX}: ${PRODUCERS} producers (\`await q.put(i)\`) outrun 1 consumer (\`await q.get()\`), per item`,
    n: N,
    cases: Object.fromEntries(Object.entries(BOUNDED).map(([label, fn]) => [label, (n, clock) => fn(n, clock)])),
  }),
  { print: false },
);
const BOUNDED_PEERS = ['Effect Queue.bounded(16), program'];
printWithPeers(
  bounded,
  BOUNDED_PEERS,
  Object.fromEntries(
    Object.entries(blocked).map(([label, avg]) => [label, `(putters blocked at a get: ${avg.toFixed(1)})`]),
  ),
);
console.log('\n@esfx/async-queue has no bounded mode: AsyncQueue.put() is synchronous and never waits.');

// ---------------------------------------------------------------------------------------------
// 5. A deep backlog: gets from a queue that holds 100,000 items

const DEEP = 100_000;
/** @esfx shift()s an array of 100k promises per get, O(backlog): it gets this many timed gets. */
const ESFX_DEEP_GETS = 2_000;
const DEEP_CASES = {
  'waitsafe Queue: 100k gets': {
    n: DEEP,
    fn: async (n, clock) => {
      const q = new Queue();
      for (let i = 0; i < DEEP; i++) q.putNowait(i);
      let sum = 0;
      clock.start();
      for (let i = 0; i < n; i++) sum += await q.get();
      clock.stop();
      check('Queue', sum, sumTo(n));
    },
  },
  'waitsafe LifoQueue: 100k gets': {
    n: DEEP,
    fn: async (n, clock) => {
      const q = new LifoQueue();
      for (let i = 0; i < DEEP; i++) q.putNowait(i);
      let sum = 0;
      clock.start();
      for (let i = 0; i < n; i++) sum += await q.get();
      clock.stop();
      check('LifoQueue', sum, sumTo(n));
    },
  },
  'Effect Queue.unbounded(), program: 100k takes': {
    n: DEEP,
    fn: async (n, clock) => {
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
  [`@esfx AsyncQueue: first ${ESFX_DEEP_GETS.toLocaleString('en-US')} gets`]: {
    n: ESFX_DEEP_GETS,
    fn: async (n, clock) => {
      const q = new AsyncQueue();
      for (let i = 0; i < DEEP; i++) q.put(i);
      let sum = 0;
      clock.start();
      for (let i = 0; i < n; i++) sum += await q.get();
      clock.stop();
      check('@esfx', sum, sumTo(n));
      // The rest is dropped with the queue: draining it would take seconds.
    },
  },
};
const deep = await runSuite(
  defineSuite({
    name: `Deep backlog: ${DEEP.toLocaleString('en-US')} items queued (not timed), then the gets timed, per get`,
    n: N,
    rounds: 9,
    warmup: 1,
    rewarm: 1,
    cases: DEEP_CASES,
  }),
  { print: false },
);
printWithPeers(deep, []);

// ---------------------------------------------------------------------------------------------
// 6. Memory: bytes per queued item, and per pending getter

const COUNT = 100_000;
const tick = () => new Promise((resolve) => setImmediate(resolve));
const queued = await measureBytes({
  name: 'bytes per queued item (small integers)',
  count: COUNT,
  reps: 5,
  floor: 'floor: array of the items (push)',
  cases: {
    'floor: array of the items (push)': {
      create(count) {
        const items = [];
        for (let i = 0; i < count; i++) items.push(i);
        return items;
      },
    },
    'waitsafe Queue': {
      create(count) {
        const q = new Queue();
        for (let i = 0; i < count; i++) q.putNowait(i);
        return q;
      },
    },
    'waitsafe PriorityQueue': {
      create(count) {
        const q = new PriorityQueue();
        for (let i = 0; i < count; i++) q.putNowait(count - i);
        return q;
      },
    },
    'waitsafe LifoQueue': {
      create(count) {
        const q = new LifoQueue();
        for (let i = 0; i < count; i++) q.putNowait(i);
        return q;
      },
    },
    '@esfx AsyncQueue': {
      create(count) {
        const q = new AsyncQueue();
        for (let i = 0; i < count; i++) q.put(i);
        return q;
      },
    },
    'Effect Queue.unbounded()': {
      create(count) {
        const q = Effect.runSync(EffectQueue.unbounded());
        for (let i = 0; i < count; i++) EffectQueue.offerUnsafe(q, i);
        return q;
      },
    },
  },
});

const getters = await measureBytes({
  name: 'bytes per pending getter',
  count: COUNT,
  reps: 5,
  floor: LIST_NODE_FLOOR,
  cases: {
    ...WAITER_FLOOR_CASES,
    'waitsafe Queue: get()': {
      create(count) {
        const q = new Queue({ maxWaiters: 0 });
        for (let i = 0; i < count; i++) q.get();
        return q;
      },
      dispose(q) {
        const count = q.waiterCount;
        for (let i = 0; i < count; i++) q.putNowait(i);
        return tick();
      },
    },
    '@esfx AsyncQueue: get()': {
      create(count) {
        const q = new AsyncQueue();
        for (let i = 0; i < count; i++) q.get();
        return q;
      },
      dispose(q) {
        const count = -q.size;
        for (let i = 0; i < count; i++) q.put(i);
        return tick();
      },
    },
    'Effect Queue.unbounded(): a fiber in take() (Effect.runFork)': {
      create(count) {
        const q = Effect.runSync(EffectQueue.unbounded());
        for (let i = 0; i < count; i++) Effect.runFork(EffectQueue.take(q));
        return q;
      },
      async dispose(q) {
        const count = q.state.takers.size;
        for (let i = 0; i < count; i++) EffectQueue.offerUnsafe(q, i);
        while (EffectQueue.sizeUnsafe(q) > 0 || q.state.takers.size > 0) await tick();
      },
    },
  },
});

// ---------------------------------------------------------------------------------------------
// Comparison (there is no performance target for queues)

/** "97.1 ns (1.52x)": median and ratio to the floor. */
const cell = (result, label) => {
  const c = result.cases[label];
  if (c === undefined) return 'n/a';
  return `${formatNs(c.median)} ns (${formatRatio(roundRatio(c, result.cases[FLOOR_LABEL]))})`;
};
/** Same-round time ratio waitsafe / peer: below 1.00x waitsafe is faster. */
const vs = (result, label, peer) => {
  const a = result.cases[label];
  const p = result.cases[peer];
  return a === undefined || p === undefined ? 'n/a' : formatRatio(roundRatio(a, p));
};
const rows = [
  ['hand-off, consumer waiting', handOff, 'waitsafe Queue', '@esfx AsyncQueue', 'Effect Queue.unbounded(), program'],
  ['put 1 then get 1', batches[1], 'waitsafe Queue', '@esfx AsyncQueue', 'Effect Queue.unbounded(), program'],
  [
    'put 1,000 then get 1,000',
    batches[1000],
    'waitsafe Queue',
    '@esfx AsyncQueue',
    'Effect Queue.unbounded(), program',
  ],
  ['producer + consumer loops', free, 'waitsafe Queue', '@esfx AsyncQueue', 'Effect Queue.unbounded(), program'],
  [
    `bounded ${MAX}, ${PRODUCERS} producers block`,
    bounded,
    'waitsafe Queue({ maxSize: 16 })',
    undefined,
    'Effect Queue.bounded(16), program',
  ],
].map(([scenario, result, ours, esfx, effect]) => [
  scenario,
  cell(result, ours),
  esfx === undefined ? 'no bounded mode' : cell(result, esfx),
  cell(result, effect),
  esfx === undefined ? 'n/a' : vs(result, ours, esfx),
  vs(result, ours, effect),
]);
const bytesRow = (scenario, mem, ours, esfx, effect) => [
  scenario,
  formatBytes(mem.cases[ours].median),
  formatBytes(mem.cases[esfx].median),
  formatBytes(mem.cases[effect].median),
  formatRatio(mem.cases[ours].median / mem.cases[esfx].median),
  formatRatio(mem.cases[ours].median / mem.cases[effect].median),
];
rows.push(
  bytesRow('bytes per queued item', queued, 'waitsafe Queue', '@esfx AsyncQueue', 'Effect Queue.unbounded()'),
  bytesRow(
    'bytes per pending getter',
    getters,
    'waitsafe Queue: get()',
    '@esfx AsyncQueue: get()',
    'Effect Queue.unbounded(): a fiber in take() (Effect.runFork)',
  ),
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
console.log(
  `\nfloor in this process (median of the suites' floors): ${formatNs(
    median([handOff, batches[1], batches[1000], free, bounded, deep].map((s) => s.cases[FLOOR_LABEL].median)),
  )} ns; bench/queue.mjs ran ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
