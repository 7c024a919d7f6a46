// Event benchmarks: wait+set, wake-ups, waits with a timeout or a shared signal, cancellation,
// and bytes per pending waiter, each next to the floor measured in this process (method: docs/benchmarks.md).
// Run with `npm run bench -- event` (builds dist/ first); see docs/benchmarks.md.
import { Event } from '../dist/esm/index.js';
import {
  defineSuite,
  FLOOR_LABEL,
  formatBytes,
  formatNs,
  formatRatio,
  LIST_NODE_FLOOR,
  measureBytes,
  median,
  printTargets,
  runSuite,
  shuffle,
  WAITER_FLOOR_CASES,
} from './harness.mjs';

const noop = () => {};
/** A preallocated abort reason, so the figures do not include building a DOMException per abort. */
const REASON = new Error('bench abort');
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** The textbook Event: an array of resolvers. A peer, not a target. */
class NaiveEvent {
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

console.log(`node ${process.version}, ${process.arch}; figures in ns per operation unless noted`);
const started = performance.now();

// ---------------------------------------------------------------------------------------------
// 1. wait + set, 1 waiter (floor-comparable: the wait is awaited after set)

const ev1 = new Event();
const naive1 = new NaiveEvent();
const oneWaiter = await runSuite(
  defineSuite({
    name: 'Event: wait + set + await, 1 waiter',
    cases: {
      'waitsafe: ev.wait(); ev.set(); ev.clear(); await': async (n) => {
        const ev = ev1;
        for (let i = 0; i < n; i++) {
          const p = ev.wait();
          ev.set();
          ev.clear();
          await p;
        }
      },
      'naive Event (array of resolvers)': async (n) => {
        const ev = naive1;
        for (let i = 0; i < n; i++) {
          const p = ev.wait();
          ev.set();
          ev.clear();
          await p;
        }
      },
    },
  }),
);

// The same, timed right after a full gc() (no re-warm): a full GC that finds no live instance of
// a class frees its hidden class, and V8 discards the optimized code that embeds it.
const evCold = new Event();
const naiveCold = new NaiveEvent();
const afterGc = await runSuite(
  defineSuite({
    name: 'After a full GC: first 20,000 ops timed right after gc() (no re-warm)',
    rewarm: 0,
    cases: {
      'waitsafe: ev.wait(); ev.set(); ev.clear(); await': async (n) => {
        const ev = evCold;
        for (let i = 0; i < n; i++) {
          const p = ev.wait();
          ev.set();
          ev.clear();
          await p;
        }
      },
      'naive Event (array of resolvers)': async (n) => {
        const ev = naiveCold;
        for (let i = 0; i < n; i++) {
          const p = ev.wait();
          ev.set();
          ev.clear();
          await p;
        }
      },
    },
  }),
);

// ---------------------------------------------------------------------------------------------
// 2. 100 waiters per set: ns per woken waiter

const ev100 = new Event();
const naive100 = new NaiveEvent();
const PER_SET = 100;
const hundred = await runSuite(
  defineSuite({
    name: `Event: ${PER_SET} waiters per set(), per woken waiter`,
    cases: {
      'waitsafe: 100 x wait(), set(), 100 x await': async (n) => {
        const ev = ev100;
        const ps = new Array(PER_SET);
        for (let i = 0; i < n; i += PER_SET) {
          for (let j = 0; j < PER_SET; j++) ps[j] = ev.wait();
          ev.set();
          ev.clear();
          for (let j = 0; j < PER_SET; j++) await ps[j];
        }
      },
      'naive Event (array of resolvers)': async (n) => {
        const ev = naive100;
        const ps = new Array(PER_SET);
        for (let i = 0; i < n; i += PER_SET) {
          for (let j = 0; j < PER_SET; j++) ps[j] = ev.wait();
          ev.set();
          ev.clear();
          for (let j = 0; j < PER_SET; j++) await ps[j];
        }
      },
    },
  }),
);

// ---------------------------------------------------------------------------------------------
// 3. a wait with { timeout: 60_000 } satisfied in time, against a timer or a listener per wait

const evT = new Event();
const evPlain = new Event();
const longLived = new AbortController().signal;
const withTimeout = await runSuite(
  defineSuite({
    name: 'Event: wait({ timeout: 60_000 }) satisfied by set()',
    cases: {
      'waitsafe: wait({ timeout: 60_000 })': async (n) => {
        const ev = evT;
        for (let i = 0; i < n; i++) {
          const p = ev.wait({ timeout: 60_000 });
          ev.set();
          ev.clear();
          await p;
        }
      },
      'waitsafe: wait() (no options), for reference': async (n) => {
        const ev = evPlain;
        for (let i = 0; i < n; i++) {
          const p = ev.wait();
          ev.set();
          ev.clear();
          await p;
        }
      },
      'naive: setTimeout+clearTimeout per wait': async (n) => {
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
      'naive: add+remove abort listener per wait': async (n) => {
        const signal = longLived;
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
    },
  }),
);

// ---------------------------------------------------------------------------------------------
// 4. waits sharing one long-lived signal, satisfied by set

const evS = new Event();
const shared = new AbortController().signal;
const sharedSignal = await runSuite(
  defineSuite({
    name: 'Event: wait({ signal }) on one long-lived signal, satisfied by set()',
    cases: {
      'waitsafe: wait({ signal })': async (n) => {
        const ev = evS;
        const signal = shared;
        for (let i = 0; i < n; i++) {
          const p = ev.wait({ signal });
          ev.set();
          ev.clear();
          await p;
        }
      },
      'naive: add+remove abort listener per wait': async (n) => {
        const signal = shared;
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
    },
  }),
);

// ---------------------------------------------------------------------------------------------
// 5. bytes per pending waiter

const COUNT = 100_000;
/** Makes `count` pending waits on a fresh Event, each with `options?.()`; the Event holds them. */
const pendingOn = (options) => ({
  create(count) {
    const ev = new Event({ maxWaiters: 0 });
    for (let i = 0; i < count; i++) ev.wait(options?.());
    return ev;
  },
  dispose(ev) {
    ev.set();
    return tick();
  },
});
const memory = await measureBytes({
  name: 'bytes per pending waiter',
  count: COUNT,
  reps: 5,
  floor: LIST_NODE_FLOOR,
  cases: {
    ...WAITER_FLOOR_CASES,
    'waitsafe: wait()': pendingOn(undefined),
    'waitsafe: wait({ signal }), one shared signal': (() => {
      let signal;
      const spec = pendingOn(() => ({ signal }));
      return {
        create(count) {
          signal = new AbortController().signal;
          return spec.create(count);
        },
        dispose: spec.dispose,
      };
    })(),
    'waitsafe: wait({ timeout: 60_000 })': pendingOn(() => ({ timeout: 60_000 })),
    'naive: resolver in an array + a setTimeout each': {
      create(count) {
        const entries = [];
        for (let i = 0; i < count; i++) {
          new Promise((resolve) => {
            entries.push({ resolve, timer: setTimeout(noop, 60_000) });
          });
        }
        return entries;
      },
      dispose(entries) {
        for (const e of entries) clearTimeout(e.timer);
      },
    },
  },
});

// ---------------------------------------------------------------------------------------------
// 6. cancellation: many waiters on shared signals aborted at once; then pending waiters, each with
//    its own AbortController, aborted in random order (only the aborts are timed). Last, because
//    100k AbortControllers per run leave the process slower for what follows.

const DEEP = 100_000;
const SHALLOW = 1_000; // queue depth (or waiters per signal) of the shallow cases
const NAIVE_CANCELS = 2_000;
const orders = new Map();
/** A seeded random permutation of 0..depth-1, the same in every run. */
function order(depth) {
  let o = orders.get(depth);
  if (o === undefined) {
    o = shuffle(Array.from({ length: depth }, (_, i) => i));
    orders.set(depth, o);
  }
  return o;
}

/**
 * `n` waiters, each with its own AbortController, pending on `n / depth` Events of `depth` waiters
 * each; all aborted in one random order. Only the aborts are timed. The heap holds the same
 * `n` waiters at every depth, so what differs between depths is the queue length alone.
 */
async function cancelRandom(n, depth, clock) {
  const events = Array.from({ length: n / depth }, () => new Event({ maxWaiters: 0 }));
  const controllers = new Array(n);
  for (let i = 0; i < n; i++) {
    const c = new AbortController();
    controllers[i] = c;
    events[i % events.length].wait({ signal: c.signal }).catch(noop);
  }
  const o = order(n);
  clock.start();
  for (let i = 0; i < n; i++) controllers[o[i]].abort(REASON);
  clock.stop();
  for (const ev of events) if (ev.waiterCount !== 0) throw new Error(`${ev.waiterCount} waiters left`);
  await tick();
}

/** The platform's part: abort() of `n` signals that have one listener each, no waiter. */
async function abortPlatform(n, clock) {
  const listener = { handleEvent: noop };
  const controllers = new Array(n);
  for (let i = 0; i < n; i++) {
    const c = new AbortController();
    controllers[i] = c;
    c.signal.addEventListener('abort', listener);
  }
  const o = order(n);
  clock.start();
  for (let i = 0; i < n; i++) controllers[o[i]].abort(REASON);
  clock.stop();
}

/** A naive Event: array of resolvers, a listener per wait that does indexOf + splice. */
async function cancelNaive(n, clock) {
  const waiters = [];
  const controllers = new Array(DEEP);
  for (let i = 0; i < DEEP; i++) {
    const c = new AbortController();
    controllers[i] = c;
    const signal = c.signal;
    new Promise((resolve, reject) => {
      const entry = { resolve, reject };
      waiters.push(entry);
      signal.addEventListener(
        'abort',
        () => {
          waiters.splice(waiters.indexOf(entry), 1);
          reject(signal.reason);
        },
        { once: true },
      );
    }).catch(noop);
  }
  const o = order(DEEP);
  clock.start();
  for (let i = 0; i < n; i++) controllers[o[i]].abort(REASON);
  clock.stop();
  await tick();
}

/** `n` waiters on one Event, `depth` per signal; each signal aborted once (all its waiters). */
async function abortShared(n, depth, clock) {
  const ev = new Event({ maxWaiters: 0 });
  const controllers = Array.from({ length: n / depth }, () => new AbortController());
  for (let i = 0; i < n; i++) ev.wait({ signal: controllers[i % controllers.length].signal }).catch(noop);
  clock.start();
  for (const c of controllers) c.abort(REASON);
  clock.stop();
  if (ev.waiterCount !== 0) throw new Error(`${ev.waiterCount} waiters left after the aborts`);
  await tick();
}

const sharedAbort = await runSuite(
  defineSuite({
    name: 'Event: 100k waiters on shared signals, each abort() cancels all of its waiters, per waiter',
    rounds: 9,
    warmup: 1,
    rewarm: 1,
    cases: {
      'waitsafe: 1 signal, 100k waiters on it': { n: DEEP, fn: (n, clock) => abortShared(n, DEEP, clock) },
      'waitsafe: 100 signals, 1k waiters on each': { n: DEEP, fn: (n, clock) => abortShared(n, SHALLOW, clock) },
    },
  }),
);
{
  const c = sharedAbort.cases['waitsafe: 1 signal, 100k waiters on it'];
  const ms = (ns) => `${((ns * DEEP) / 1e6).toFixed(1)} ms`;
  console.log(`\none abort() of 100k waiters on one signal: ${ms(c.median)} total (${ms(c.min)}..${ms(c.max)})`);
}

const cancel = await runSuite(
  defineSuite({
    name: 'Event: cancel 100k pending waiters (own AbortController each) in random order, per abort',
    rounds: 9,
    warmup: 1,
    rewarm: 0, // 100k aborts per run amortize the re-optimization after gc()
    cases: {
      'waitsafe: 1 Event, queue depth 100k': { n: DEEP, fn: (n, clock) => cancelRandom(n, DEEP, clock) },
      'waitsafe: 100 Events, queue depth 1k': { n: DEEP, fn: (n, clock) => cancelRandom(n, SHALLOW, clock) },
      'platform: abort() of a signal with 1 listener, no waiter': {
        n: DEEP,
        fn: (n, clock) => abortPlatform(n, clock),
      },
      'naive Event (array, indexOf+splice): 2k of 100k pending': {
        n: NAIVE_CANCELS,
        fn: (n, clock) => cancelNaive(n, clock),
      },
    },
  }),
);

// ---------------------------------------------------------------------------------------------
// Targets (their limits are listed in docs/benchmarks.md)

const ratio = (suite, label) => suite.cases[label].ratio;
const bytes = (label) => memory.cases[label].median;
const perCancel = (label) => cancel.cases[label].median;
const depthGrowth =
  perCancel('waitsafe: 1 Event, queue depth 100k') / perCancel('waitsafe: 100 Events, queue depth 1k');
const sharedGrowth =
  sharedAbort.cases['waitsafe: 1 signal, 100k waiters on it'].median /
  sharedAbort.cases['waitsafe: 100 signals, 1k waiters on each'].median;
const targets = [
  {
    target: 'Event wait+set, 1 waiter',
    limit: '<= 1.25x floor',
    value: ratio(oneWaiter, 'waitsafe: ev.wait(); ev.set(); ev.clear(); await'),
    max: 1.25,
  },
  {
    target: 'wake per waiter, 100 waiters per set',
    limit: '<= 1.8x floor',
    value: ratio(hundred, 'waitsafe: 100 x wait(), set(), 100 x await'),
    max: 1.8,
  },
  {
    target: 'wait with timeout, satisfied in time',
    limit: '<= 3x floor',
    value: ratio(withTimeout, 'waitsafe: wait({ timeout: 60_000 })'),
    max: 3,
  },
  {
    target: 'wait with a shared signal',
    limit: '<= 2x floor',
    value: ratio(sharedSignal, 'waitsafe: wait({ signal })'),
    max: 2,
  },
].map((t) => ({ ...t, measured: formatRatio(t.value), pass: t.value <= t.max }));
for (const [target, label, max] of [
  ['bytes per pending waiter, plain', 'waitsafe: wait()', 272],
  ['bytes per pending waiter, with signal', 'waitsafe: wait({ signal }), one shared signal', 320],
  ['bytes per pending waiter, with timeout', 'waitsafe: wait({ timeout: 60_000 })', 350],
]) {
  targets.push({ target, limit: `<= ${max} B`, measured: formatBytes(bytes(label)), pass: bytes(label) <= max });
}
targets.push({
  target: 'unlink on abort O(1): per abort, queue depth 100k / depth 1k',
  limit: '<= 2x (O(n): ~100x)',
  measured: `${formatRatio(depthGrowth)} (${formatNs(perCancel('waitsafe: 1 Event, queue depth 100k'))} / ${formatNs(
    perCancel('waitsafe: 100 Events, queue depth 1k'),
  )} ns)`,
  pass: depthGrowth <= 2,
});
targets.push({
  target: 'abort of a shared signal O(n): per waiter, 100k on 1 signal / 1k on each of 100',
  limit: '<= 2x',
  measured: formatRatio(sharedGrowth),
  pass: sharedGrowth <= 2,
});
printTargets(targets);
{
  const cold = afterGc.cases['waitsafe: ev.wait(); ev.set(); ev.clear(); await'];
  const naive = afterGc.cases['naive Event (array of resolvers)'];
  console.log(
    `\nnot a target: the first 20,000 waits right after a full gc() cost ${formatRatio(cold.ratio)} the floor ` +
      `(naive Event: ${formatRatio(naive.ratio)}); warm: ${formatRatio(
        ratio(oneWaiter, 'waitsafe: ev.wait(); ev.set(); ev.clear(); await'),
      )}.`,
  );
}
console.log(
  `\nfloor in this process (median of the suites' floors): ${formatNs(
    median([oneWaiter, hundred, withTimeout, sharedSignal].map((s) => s.cases[FLOOR_LABEL].median)),
  )} ns; bench/event.mjs ran ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
