// Event benchmarks: wait+set, wake-ups, waits with a timeout or a shared signal, cancellation,
// and bytes per pending waiter, each next to the floor measured in this process (method: docs/benchmarks.md).
// Run with `npm run bench -- event` (builds dist/ first); see docs/benchmarks.md. The wait cases
// are the tables of bench/cases.mjs (shared with bench/mixed.mjs).
import { Event } from '../dist/esm/index.js';
import { EVENT_CASES, NAIVE_EVENT_LABEL, PER_SET, tick, WAIT_SET_LABEL, WAITER_BYTES } from './cases.mjs';
import {
  banner,
  defineSuite,
  footer,
  formatBytes,
  formatNs,
  formatRatio,
  LIST_NODE_FLOOR,
  measureBytes,
  printTargets,
  runSuite,
  shuffle,
  WAITER_FLOOR_CASES,
} from './harness.mjs';

const noop = () => {};
/** A preallocated abort reason, so the figures do not include building a DOMException per abort. */
const REASON = new Error('bench abort');

banner();
const started = performance.now();
const suite = (name, cases, options) => runSuite(defineSuite({ name, cases, ...options }));

// 1. wait + set, 1 waiter; the same timed right after a full gc() (no re-warm): a full GC that
//    finds no live instance of a class frees its hidden class, and V8 discards the optimized
//    code that embeds it. 2. 100 waiters per set, per woken waiter. 3. a wait with
//    { timeout: 60_000 } satisfied in time, against a timer or a listener per wait. 4. waits
//    sharing one long-lived signal, satisfied by set.
const oneWaiter = await suite('Event: wait + set + await, 1 waiter', EVENT_CASES.oneWaiter());
const afterGc = await suite(
  'After a full GC: first 20,000 ops timed right after gc() (no re-warm)',
  EVENT_CASES.oneWaiter(),
  { rewarm: 0 },
);
const hundred = await suite(`Event: ${PER_SET} waiters per set(), per woken waiter`, EVENT_CASES.hundred());
const withTimeout = await suite('Event: wait({ timeout: 60_000 }) satisfied by set()', EVENT_CASES.timeout());
const sharedSignal = await suite(
  'Event: wait({ signal }) on one long-lived signal, satisfied by set()',
  EVENT_CASES.signal(),
);

// 5. bytes per pending waiter

const memory = await measureBytes({
  name: 'bytes per pending waiter',
  count: 100_000,
  reps: 5,
  floor: LIST_NODE_FLOOR,
  cases: {
    ...WAITER_FLOOR_CASES,
    ...WAITER_BYTES,
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

// 6. cancellation: many waiters on shared signals aborted at once; then pending waiters, each with
//    its own AbortController, aborted in random order (only the aborts are timed). Last, because
//    100k AbortControllers per run leave the process slower for what follows.

const DEEP = 100_000;
const SHALLOW = 1_000; // queue depth (or waiters per signal) of the shallow cases
const NAIVE_CANCELS = 2_000;
/** A seeded random permutation of 0..DEEP-1, the same in every run. */
const ORDER = shuffle(Array.from({ length: DEEP }, (_, i) => i));

/** `n` AbortControllers, each with one pending waiter (or listener) made by `attach(signal, i)`. */
function controllers(n, attach) {
  const list = new Array(n);
  for (let i = 0; i < n; i++) {
    list[i] = new AbortController();
    attach(list[i].signal, i);
  }
  return list;
}

/** Aborts `n` of `list` in the random order, timed. */
function abortTimed(list, n, clock) {
  clock.start();
  for (let i = 0; i < n; i++) list[ORDER[i]].abort(REASON);
  clock.stop();
}

const left = (ev) => {
  if (ev.waiterCount !== 0) throw new Error(`${ev.waiterCount} waiters left after the aborts`);
};

/**
 * `n` waiters, each with its own AbortController, pending on `n / depth` Events of `depth` waiters
 * each; all aborted in one random order. Only the aborts are timed. The heap holds the same
 * `n` waiters at every depth, so what differs between depths is the queue length alone.
 */
async function cancelRandom(n, depth, clock) {
  const events = Array.from({ length: n / depth }, () => new Event({ maxWaiters: 0 }));
  const list = controllers(n, (signal, i) => events[i % events.length].wait({ signal }).catch(noop));
  abortTimed(list, n, clock);
  events.forEach(left);
  await tick();
}

/** The platform's part: abort() of `n` signals that have one listener each, no waiter. */
function abortPlatform(n, clock) {
  const listener = { handleEvent: noop };
  abortTimed(
    controllers(n, (signal) => signal.addEventListener('abort', listener)),
    n,
    clock,
  );
}

/** A naive Event: array of resolvers, a listener per wait that does indexOf + splice. */
async function cancelNaive(n, clock) {
  const waiters = [];
  const list = controllers(DEEP, (signal) =>
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
    }).catch(noop),
  );
  abortTimed(list, n, clock);
  await tick();
}

/** `n` waiters on one Event, `depth` per signal; each signal aborted once (all its waiters). */
async function abortShared(n, depth, clock) {
  const ev = new Event({ maxWaiters: 0 });
  const list = Array.from({ length: n / depth }, () => new AbortController());
  for (let i = 0; i < n; i++) ev.wait({ signal: list[i % list.length].signal }).catch(noop);
  clock.start();
  for (const c of list) c.abort(REASON);
  clock.stop();
  left(ev);
  await tick();
}

const SLOW = { rounds: 9, warmup: 1 };
const sharedAbort = await suite(
  'Event: 100k waiters on shared signals, each abort() cancels all of its waiters, per waiter',
  [
    { label: 'waitsafe: 1 signal, 100k waiters on it', n: DEEP, run: (n, clock) => abortShared(n, DEEP, clock) },
    { label: 'waitsafe: 100 signals, 1k waiters on each', n: DEEP, run: (n, clock) => abortShared(n, SHALLOW, clock) },
  ],
  { ...SLOW, rewarm: 1 },
);
{
  const c = sharedAbort.cases['waitsafe: 1 signal, 100k waiters on it'];
  const ms = (ns) => `${((ns * DEEP) / 1e6).toFixed(1)} ms`;
  console.log(`\none abort() of 100k waiters on one signal: ${ms(c.median)} total (${ms(c.min)}..${ms(c.max)})`);
}

const cancel = await suite(
  'Event: cancel 100k pending waiters (own AbortController each) in random order, per abort',
  [
    { label: 'waitsafe: 1 Event, queue depth 100k', n: DEEP, run: (n, clock) => cancelRandom(n, DEEP, clock) },
    { label: 'waitsafe: 100 Events, queue depth 1k', n: DEEP, run: (n, clock) => cancelRandom(n, SHALLOW, clock) },
    { label: 'platform: abort() of a signal with 1 listener, no waiter', n: DEEP, run: abortPlatform },
    { label: 'naive Event (array, indexOf+splice): 2k of 100k pending', n: NAIVE_CANCELS, run: cancelNaive },
  ],
  { ...SLOW, rewarm: 0 }, // 100k aborts per run amortize the re-optimization after gc()
);

// ---------------------------------------------------------------------------------------------
// Targets (their limits are listed in docs/benchmarks.md)

const ratio = (result, label) => result.cases[label].ratio;
const ns = (result, label) => result.cases[label].median;
const bytes = (label) => ns(memory, label);
const deep = ns(cancel, 'waitsafe: 1 Event, queue depth 100k');
const shallow = ns(cancel, 'waitsafe: 100 Events, queue depth 1k');
const bytesTarget = (kind, label, max) => ({
  target: `bytes per pending waiter, ${kind}`,
  limit: `<= ${max} B`,
  value: bytes(label),
  max,
  format: formatBytes,
});
const ratioTarget = (target, result, label, max) => ({
  target,
  limit: `<= ${max}x floor`,
  value: ratio(result, label),
  max,
});
printTargets([
  ratioTarget('Event wait+set, 1 waiter', oneWaiter, WAIT_SET_LABEL, 1.25),
  ratioTarget('wake per waiter, 100 waiters per set', hundred, 'waitsafe: 100 x wait(), set(), 100 x await', 1.8),
  ratioTarget('wait with timeout, satisfied in time', withTimeout, 'waitsafe: wait({ timeout: 60_000 })', 3),
  ratioTarget('wait with a shared signal', sharedSignal, 'waitsafe: wait({ signal })', 2),
  bytesTarget('plain', 'waitsafe: wait()', 272),
  bytesTarget('with signal', 'waitsafe: wait({ signal }), one shared signal', 320),
  bytesTarget('with timeout', 'waitsafe: wait({ timeout: 60_000 })', 350),
  {
    target: 'unlink on abort O(1): per abort, queue depth 100k / depth 1k',
    limit: '<= 2x (O(n): ~100x)',
    value: deep / shallow,
    max: 2,
    format: (v) => `${formatRatio(v)} (${formatNs(deep)} / ${formatNs(shallow)} ns)`,
  },
  {
    target: 'abort of a shared signal O(n): per waiter, 100k on 1 signal / 1k on each of 100',
    limit: '<= 2x',
    value:
      ns(sharedAbort, 'waitsafe: 1 signal, 100k waiters on it') /
      ns(sharedAbort, 'waitsafe: 100 signals, 1k waiters on each'),
    max: 2,
  },
]);
console.log(
  `\nnot a target: the first 20,000 waits right after a full gc() cost ${formatRatio(ratio(afterGc, WAIT_SET_LABEL))} ` +
    `the floor (naive Event: ${formatRatio(ratio(afterGc, NAIVE_EVENT_LABEL))}); warm: ${formatRatio(
      ratio(oneWaiter, WAIT_SET_LABEL),
    )}.`,
);
footer('event.mjs', [oneWaiter, hundred, withTimeout, sharedSignal], started);
