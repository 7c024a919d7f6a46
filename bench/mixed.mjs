// The mixed process: the waits of every other suite side by side in one process, as a service
// uses them, checked against the performance targets. Run with `npm run bench -- mixed` (builds
// dist/ first); see docs/benchmarks.md.
//
// The per-suite scenarios time one kind of wait at a time, so while a table runs, waitsafe's
// code has seen only the options shapes and primitives of the tables before it. Here one suite
// holds every case, so each call site inside waitsafe sees every shape in every round: plain
// Event waits (1 and 100 waiters per set()), waits with `{ timeout }` and waits with
// `{ signal }` (many waits on one long-lived signal), Lock and Semaphore(1) contended hand-off at
// queue depths 1, 1,000 and 100,000 (with `acquire()` + Releaser and with `runExclusive`, next
// to @henrygd/semaphore's acquire/release, the fastest peer of bench/lock.mjs), a Queue
// hand-off, and the uncontended `tryAcquire()` + Releaser. Each case's primitive (a hand-off's
// lock too) is made once and lives for the whole suite; the method is the harness's (gc()
// before each timed run, rotating order, the floor in the same rounds, medians over >= 9
// rounds). The cases are the tables of bench/cases.mjs, the same as in bench/event.mjs and
// bench/lock.mjs (each case runs its own copy of the loop).
//
// Then, in the same process: bytes per pending waiter (measureBytes), and the cost right after a
// full GC that found no live primitive at all: every primitive of the suite is dropped (checked
// with WeakRefs), and each timed run creates a fresh Event after its gc() and times its first
// 20,000 waits (rewarm: 0; the header of bench/harness.mjs explains why V8 deoptimizes then).
//
// It prints the targets as a markdown table with pass/MISS and exits 0 either way: it is a
// measurement, not a test. A target passes or misses on the value as printed.
import { Event, Lock, Queue, Semaphore } from '../dist/esm/index.js';
import {
  EVENT_CASES,
  handOffCase,
  LOCKS,
  PER_SET,
  queueHandOffCase,
  tick,
  uncontendedCase,
  WAIT_SET_LABEL,
  WAITER_BYTES,
  waitsafeQueue,
} from './cases.mjs';
import {
  banner,
  command,
  defineSuite,
  formatBytes,
  formatNs,
  formatRatio,
  LIST_NODE_FLOOR,
  measureBytes,
  printTargets,
  roundRatio,
  runSuite,
  WAITER_FLOOR_CASES,
} from './harness.mjs';

banner('every case in one process; figures in ns per operation unless noted');
const started = performance.now();

// ---------------------------------------------------------------------------------------------
// The cases, and a WeakRef to every primitive their setup() makes (checked before the cold case)

const PRIMITIVES = [Event, Lock, Semaphore, Queue];
const made = [];
/** `c` with `label`, its setup() recording the primitives it makes. */
const tracked = (c, label = c.label) => ({
  ...c,
  label,
  setup:
    c.setup &&
    (async () => {
      const state = await c.setup();
      for (const value of Object.values(state)) {
        if (PRIMITIVES.some((P) => value instanceof P)) made.push(new WeakRef(value));
      }
      return state;
    }),
});
/** The case labelled `label` in a case table. */
const pick = (cases, label) => cases.find((c) => c.label === label);

const EVENT = {
  one: 'Event: wait() + set(), 1 waiter',
  hundred: `Event: ${PER_SET} waiters per set(), per woken waiter`,
  timeout: 'Event: wait({ timeout: 60_000 }) satisfied by set()',
  signal: 'Event: wait({ signal }), one long-lived signal',
};
const QUEUE = 'Queue: p = get(); putNowait(i); await p';
const TRY = 'Lock: tryAcquire() + Releaser, free lock';
const DEPTHS = [1, 1_000, 100_000];
const HAND_OFF_N = 100_000;
/** The hand-off cases: [label prefix, library row, method]; the peer last. */
const HAND_OFFS = [
  ['Lock acquire() + Releaser', LOCKS.lock, 'acquire'],
  ['Lock runExclusive', LOCKS.lock, 'runExclusive'],
  ['Semaphore(1) acquire() + Releaser', LOCKS.semaphore, 'acquire'],
  ['Semaphore(1) runExclusive', LOCKS.semaphore, 'runExclusive'],
  ['@henrygd/semaphore acquire/release', LOCKS.henrygd, 'acquire'],
];
const PEER = HAND_OFFS.at(-1)[0];
const handOffLabel = (prefix, depth) => `${prefix}, depth ${depth.toLocaleString('en-US')}`;

const cases = [
  tracked(pick(EVENT_CASES.oneWaiter(), WAIT_SET_LABEL), EVENT.one),
  tracked(EVENT_CASES.hundred()[0], EVENT.hundred),
  tracked(pick(EVENT_CASES.timeout(), 'waitsafe: wait({ timeout: 60_000 })'), EVENT.timeout),
  tracked(pick(EVENT_CASES.signal(), 'waitsafe: wait({ signal })'), EVENT.signal),
  tracked(queueHandOffCase(QUEUE, waitsafeQueue(Queue))),
  ...DEPTHS.flatMap((depth) =>
    HAND_OFFS.map(([prefix, lib, method]) =>
      tracked(
        handOffCase({
          label: handOffLabel(prefix, depth),
          lib,
          method,
          depth,
          n: HAND_OFF_N,
          // At depth 100k each run fills a queue of 100k workers: its 100k hand-offs amortize the
          // re-optimization after gc(), as in bench/lock.mjs.
          rewarm: depth === 100_000 ? 0 : undefined,
          reuse: true,
        }),
      ),
    ),
  ),
  tracked(uncontendedCase(TRY, 'try', LOCKS.lock, 1_000_000)),
];
const mixed = await runSuite(
  defineSuite({
    name: 'Mixed: every case in the same rounds, primitives alive throughout',
    cases,
    table: { rate: true },
  }),
);

// ---------------------------------------------------------------------------------------------
// Bytes per pending waiter

const memory = await measureBytes({
  name: 'bytes per pending waiter',
  floor: LIST_NODE_FLOOR,
  cases: { ...WAITER_FLOOR_CASES, ...WAITER_BYTES },
});

// ---------------------------------------------------------------------------------------------
// After a full GC that found no live primitive

await tick();
await tick();
globalThis.gc();
const live = made.filter((ref) => ref.deref() !== undefined).length;
console.log(`\nprimitives of the mixed suite still alive after it and a full gc(): ${live} of ${made.length}`);
const COLD = 'Event: fresh Event after gc(), first 20,000 waits';
const cold = await runSuite(
  defineSuite({
    name: 'After a full GC that found no live primitive: a fresh Event, its first 20,000 waits timed (no re-warm)',
    rewarm: 0,
    cases: [{ ...pick(EVENT_CASES.oneWaiter({ fresh: true }), WAIT_SET_LABEL), label: COLD }],
  }),
);

// ---------------------------------------------------------------------------------------------
// Targets. A value is judged as printed: ratios to 2 decimals, ns to 0.1, bytes to 1.

const round2 = (value) => Number(value.toFixed(2));
const vsFloor = (target, result, label, max) => ({
  target,
  limit: `<= ${max}x floor`,
  value: round2(result.cases[label].ratio),
  max,
});
const targets = [
  vsFloor('Event wait+set, 1 waiter', mixed, EVENT.one, 1.15),
  vsFloor('wake per waiter, 100 waiters per set', mixed, EVENT.hundred, 1.5),
  vsFloor('wait with { timeout }, satisfied in time', mixed, EVENT.timeout, 2),
  vsFloor('wait with { signal }, many waits on one long-lived signal', mixed, EVENT.signal, 1.5),
];
for (const depth of DEPTHS) {
  const peer = mixed.cases[handOffLabel(PEER, depth)];
  for (const [prefix, , method] of HAND_OFFS.slice(0, -1)) {
    const c = mixed.cases[handOffLabel(prefix, depth)];
    const min = method === 'runExclusive' ? 1 : 0.95;
    targets.push({
      target: `${prefix} hand-off, depth ${depth.toLocaleString('en-US')}, throughput`,
      limit: `>= ${min.toFixed(2)}x @henrygd`,
      // Throughput ratio = peer ns / waitsafe ns, the median over the rounds of the same round's.
      value: round2(roundRatio(peer, c)),
      min,
      format: (v) => `${formatRatio(v)} (${formatNs(c.median)} vs ${formatNs(peer.median)} ns)`,
    });
  }
}
const tryNs = Number(formatNs(mixed.cases[TRY].median).replace(/,/g, ''));
targets.push(
  {
    target: 'uncontended tryAcquire() + Releaser, free Lock',
    limit: '<= 6 ns',
    value: tryNs,
    max: 6,
    format: (ns) => `${formatNs(ns)} ns`,
  },
  vsFloor('after a full GC that found no live primitive: first 20,000 Event waits', cold, COLD, 1.5),
);
for (const [kind, label, max] of [
  ['plain', 'waitsafe: wait()', 240],
  ['with signal', 'waitsafe: wait({ signal }), one shared signal', 296],
  ['with timeout', 'waitsafe: wait({ timeout: 60_000 })', 304],
]) {
  const value = Math.round(memory.cases[label].median);
  targets.push({ target: `bytes per pending waiter, ${kind}`, limit: `<= ${max} B`, value, max, format: formatBytes });
}

console.log(
  `\nMeasured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, \`${command()}\`, ` +
    `${mixed.rounds} rounds (medians; ratios per round to the same round's floor).`,
);
const missed = printTargets(targets, '### Targets (mixed process)');
if (missed.length === 0) console.log(`\nall ${targets.length} targets pass`);
else {
  console.log(`\nMISS: ${missed.length} of ${targets.length} targets`);
  for (const row of missed) console.log(`  MISS  ${row.target}: ${row.measured} (limit ${row.limit})`);
}
console.log(`\nbench/mixed.mjs ran ${((performance.now() - started) / 1000).toFixed(0)} s`);
