/**
 * bench/harness.mjs: a small benchmark runner shared by every waitsafe benchmark.
 *
 * It follows the method described in docs/benchmarks.md: the process runs under `node --expose-gc`; each suite warms
 * up, then runs >= 9 rounds; within a round every case runs once, in an order that rotates from
 * round to round; before each timed run the harness lets pending macrotasks finish and calls
 * `gc()`; each timed run is an inner loop of >= 1,000 operations; and every suite times the
 * **floor** (`new Promise` + resolve + `await`, one tick) in the same rounds as its cases, so
 * every figure is also given as a ratio to a floor measured in the same process, same round.
 *
 * ## Time
 *
 * ```js
 * import { defineSuite, runSuite } from './harness.mjs';
 *
 * const suite = defineSuite({
 *   name: 'Event: wait+set, 1 waiter',  // table title
 *   n: 20_000,                          // ops per timed run (default 20,000; >= 1,000)
 *   rounds: 11,                         // default 11 (>= 9); BENCH_ROUNDS overrides it
 *   warmup: 2,                          // untimed runs of every case first (default 2)
 *   rewarm: 5,                          // untimed runs after each gc(), before the timed run
 *   cases: {
 *     // Perform n operations; the harness times the call and divides by n.
 *     'waitsafe Event': async (n) => { for (let i = 0; i < n; i++) {  ...  } },
 *     // Per-case options: its own n, and a timed region that excludes the setup.
 *     'cancel 100k': {
 *       n: 100_000,
 *       rewarm: 0,                 // per-case override of the suite's rewarm
 *       fn: async (n, clock) => {
 *         const setup = build(n);  // not timed
 *         clock.start();
 *         for (const c of setup) c.abort();
 *         clock.stop();            // only start..stop is timed (segments add up); without
 *                                  // start/stop, the whole call is timed
 *         await cleanup(setup);    // not timed
 *       },
 *     },
 *   },
 * });
 * const result = await runSuite(suite); // prints a markdown table, returns the figures and `seconds`
 * result.cases['waitsafe Event'];       // { n, median, min, max, ratio, samples, ratios } in ns/op
 * ```
 *
 * ### Why a re-warm after gc()
 *
 * A full GC frees the hidden classes (maps) of objects that have no live instance at that moment,
 * and V8 then throws away the optimized code that depends on them ("reason: weak objects" in
 * `--trace-deopt`). A run timed right after `gc()` would mostly measure re-optimization (in
 * Node 20, tens of thousands of operations), for waitsafe and for Node's own timers and
 * EventTarget alike. So by default each timed run is preceded by `gc()` and then `rewarm` (5)
 * untimed runs of the same case and a minor GC (`gc({ type: 'minor' })`, which frees no map): the
 * heap is clean of garbage, and the code is hot again.
 * `rewarm: 0` (per suite or per case) times the first run after `gc()` instead, which is how
 * the "after a full GC" figures are made.
 *
 * The floor case (label {@link FLOOR_LABEL}, n = the suite's n) is added to every suite. A case's
 * `ratio` is the median over the rounds of (case ns/op / floor ns/op of the same round), which
 * cancels most of the drift of a shared machine; `median`, `min` and `max` are ns/op over the
 * rounds. `floor: false` in a suite's options leaves the floor out (ratios are then omitted).
 *
 * ## Memory
 *
 * ```js
 * const mem = await measureBytes({
 *   name: 'bytes per pending waiter',
 *   count: 100_000,                  // items per repetition (default 100,000)
 *   reps: 5,                         // repetitions (default 5)
 *   floor: 'floor: list node',       // the case the ratios refer to
 *   cases: {
 *     'floor: list node': { create: (count) => holder, dispose: (holder) => {} },
 *     ...
 *   },
 * });
 * mem.cases['floor: list node'];     // { median, min, max, ratio, samples } in bytes per item
 * ```
 *
 * Each repetition (cases in rotating order) calls `gc()` three times, reads `heapUsed`, calls
 * `create(count)` and keeps what it returns, calls `gc()` three times, reads `heapUsed` again,
 * then calls `dispose(holder)` (may be async). Bytes per item = difference / count; the figure is
 * the median over the repetitions. A warm-up repetition with a small count runs first, so code
 * and feedback are not counted.
 *
 * ## Reporting
 *
 * `printTargets(rows)` prints `{ target, limit, measured, pass }` rows as a table with pass/MISS;
 * `formatNs`, `formatRatio` and `formatBytes` format figures the same way as the tables.
 * Helpers: `floor(n)` (the floor itself), `median(values)`, and `shuffle(array, seed?)`, a
 * seeded Fisher-Yates shuffle, so "random order" is the same order in every run.
 *
 * Environment: `BENCH_ROUNDS` overrides the number of rounds (for quick checks only; the method
 * needs >= 9).
 *
 * @module
 */

import { setImmediate as nextMacrotask } from 'node:timers/promises';

/** Label of the floor case that every suite times alongside its own cases. */
export const FLOOR_LABEL = 'floor: new Promise + resolve + await';

/**
 * The floor: `new Promise` + resolve + `await`, one tick, `n` times. The executor is a closure
 * that captures the resolve function, the way application code writes it.
 *
 * @param {number} n
 */
export async function floor(n) {
  for (let i = 0; i < n; i++) {
    let resolve;
    const promise = new Promise((r) => {
      resolve = r;
    });
    resolve();
    await promise;
  }
}

const gc = globalThis.gc;
if (typeof gc !== 'function') {
  throw new Error('The benchmarks need gc(): run them with `node --expose-gc` (npm run bench does).');
}

const envRounds = Number.parseInt(process.env.BENCH_ROUNDS ?? '', 10);

/**
 * Checks and normalises a suite definition.
 *
 * @param {{ name: string, n?: number, rounds?: number, warmup?: number, rewarm?: number, floor?: boolean,
 *   cases: Record<string, ((n: number, clock: Clock) => unknown)
 *     | { n?: number, rewarm?: number, fn: (n: number, clock: Clock) => unknown }> }} spec
 */
export function defineSuite(spec) {
  const { name, n = 20_000, rounds = 11, warmup = 2, rewarm = 5, floor: withFloor = true, cases } = spec;
  if (typeof name !== 'string') throw new TypeError('suite name must be a string');
  const list = [];
  if (withFloor) list.push({ label: FLOOR_LABEL, n, rewarm, fn: floor });
  for (const [label, value] of Object.entries(cases)) {
    const c =
      typeof value === 'function'
        ? { n, rewarm, fn: value }
        : { n: value.n ?? n, rewarm: value.rewarm ?? rewarm, fn: value.fn };
    if (typeof c.fn !== 'function') throw new TypeError(`case ${label}: fn must be a function`);
    if (!(c.n >= 1_000)) throw new RangeError(`case ${label}: n must be >= 1,000 (got ${c.n})`);
    list.push({ label, ...c });
  }
  return {
    name,
    n,
    rounds: Number.isInteger(envRounds) && envRounds > 0 ? envRounds : rounds,
    warmup,
    withFloor,
    cases: list,
  };
}

/**
 * Marks the timed regions of a run: the sum of its start..stop segments is timed (so a case can
 * set up, time, and set up again in a loop). Without `start()`, the whole call is timed.
 *
 * @typedef {{ start(): void, stop(): void }} Clock
 */
class RunClock {
  /** Sum of the closed start..stop segments, in ns; -1n while no segment was started. */
  total = -1n;
  t0 = -1n;
  start() {
    if (this.total < 0n) this.total = 0n;
    this.t0 = process.hrtime.bigint();
  }
  stop() {
    const t1 = process.hrtime.bigint();
    if (this.t0 < 0n) throw new Error('clock.stop() without clock.start()');
    this.total += t1 - this.t0;
    this.t0 = -1n;
  }
}

/** Lets pending macrotasks (deferred releases, timers due) run, then collects garbage. */
async function settle() {
  await nextMacrotask();
  await nextMacrotask();
  gc();
}

/** Runs one case once, after gc() and `c.rewarm` untimed runs; returns ns per op. */
async function runOnce(c) {
  const clock = new RunClock();
  await settle();
  if (c.rewarm > 0) {
    for (let i = 0; i < c.rewarm; i++) await c.fn(c.n, new RunClock());
    // Empties the young generation and frees no map. No macrotask runs between the re-warm and
    // the timed run, so shared timers and listeners it set up are still in place, as in a burst.
    gc({ type: 'minor' });
  }
  const t0 = process.hrtime.bigint();
  await c.fn(c.n, clock);
  const t1 = process.hrtime.bigint();
  if (clock.t0 >= 0n) throw new Error(`${c.label}: clock.start() without clock.stop()`);
  return Number(clock.total >= 0n ? clock.total : t1 - t0) / c.n;
}

/** Median of an array of numbers (for an even count, the mean of the two middle values). */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Runs a suite: warm-up, then `rounds` rounds in rotating order. Prints a markdown table and
 * returns `{ name, n, rounds, floor, cases }` where `cases[label]` is
 * `{ n, median, min, max, ratio, samples, ratios }` (ns/op; ratio to the same round's floor).
 *
 * @param {ReturnType<typeof defineSuite>} suite
 * @param {{ print?: boolean }} [options]
 */
export async function runSuite(suite, { print = true } = {}) {
  const started = performance.now();
  const { cases, rounds, warmup } = suite;
  for (let w = 0; w < warmup; w++) {
    for (const c of cases) await runOnce(c);
  }
  const samples = cases.map(() => []);
  const ratios = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const round = new Array(cases.length);
    for (let k = 0; k < cases.length; k++) {
      const i = (k + r) % cases.length;
      round[i] = await runOnce(cases[i]);
      samples[i].push(round[i]);
    }
    if (suite.withFloor) {
      for (let i = 0; i < cases.length; i++) ratios[i].push(round[i] / round[0]);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const result = { name: suite.name, n: suite.n, rounds, seconds, floor: undefined, cases: {} };
  cases.forEach((c, i) => {
    result.cases[c.label] = {
      n: c.n,
      median: median(samples[i]),
      min: Math.min(...samples[i]),
      max: Math.max(...samples[i]),
      ratio: suite.withFloor ? median(ratios[i]) : undefined,
      samples: samples[i],
      ratios: ratios[i],
    };
  });
  if (suite.withFloor) result.floor = result.cases[FLOOR_LABEL];
  if (print) printSuite(result);
  return result;
}

/** Formats nanoseconds with a sensible precision: 43.1, 353, 22,700. */
export function formatNs(ns) {
  if (ns < 100) return ns.toFixed(1);
  return Math.round(ns).toLocaleString('en-US');
}

/** Formats a ratio: 1.19x. */
export function formatRatio(ratio) {
  if (ratio === undefined) return '';
  return ratio < 100 ? `${ratio.toFixed(2)}x` : `${Math.round(ratio).toLocaleString('en-US')}x`;
}

/** Formats bytes: 272 B. */
export function formatBytes(bytes) {
  return `${Math.round(bytes).toLocaleString('en-US')} B`;
}

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

/** Prints a suite result as a markdown table. */
export function printSuite(result) {
  const rows = Object.entries(result.cases).map(([label, c]) => [
    label,
    formatNs(c.median),
    `${formatNs(c.min)}..${formatNs(c.max)}`,
    formatRatio(c.ratio),
  ]);
  const ns = [...new Set(Object.values(result.cases).map((c) => c.n))].map((n) => n.toLocaleString('en-US'));
  printTable(
    `### ${result.name}  (${ns.join(' / ')} ops per run, ${result.rounds} rounds, ${result.seconds.toFixed(0)} s)`,
    ['case', 'median ns/op', 'min..max', 'x floor'],
    ['l', 'r', 'r', 'r'],
    rows,
  );
}

function heapUsed() {
  gc();
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Measures bytes per item held by what `create(count)` returns; see the header. Prints a
 * markdown table and returns `{ name, count, reps, cases }`, `cases[label]` being
 * `{ median, min, max, ratio, samples }` (bytes per item; ratio to the `floor` case's median).
 *
 * @param {{ name: string, count?: number, reps?: number, floor?: string,
 *   cases: Record<string, { create: (count: number) => unknown, dispose?: (holder: unknown) => unknown }> }} spec
 * @param {{ print?: boolean }} [options]
 */
export async function measureBytes(spec, { print = true } = {}) {
  const { name, count = 100_000, reps = 5, floor: floorLabel, cases } = spec;
  const list = Object.entries(cases).map(([label, c]) => ({ label, ...c }));
  if (floorLabel !== undefined && !(floorLabel in cases)) throw new Error(`no case named ${floorLabel}`);
  const once = async (c, size) => {
    await nextMacrotask();
    await nextMacrotask();
    const before = heapUsed();
    let holder = c.create(size);
    const after = heapUsed();
    await c.dispose?.(holder);
    holder = undefined;
    return (after - before) / size;
  };
  for (const c of list) await once(c, Math.min(count, 10_000));
  const samples = list.map(() => []);
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < list.length; k++) {
      const i = (k + r) % list.length;
      samples[i].push(await once(list[i], count));
    }
  }
  const result = { name, count, reps, cases: {} };
  list.forEach((c, i) => {
    result.cases[c.label] = {
      median: median(samples[i]),
      min: Math.min(...samples[i]),
      max: Math.max(...samples[i]),
      ratio: undefined,
      samples: samples[i],
    };
  });
  if (floorLabel !== undefined) {
    const base = result.cases[floorLabel].median;
    for (const c of Object.values(result.cases)) c.ratio = c.median / base;
  }
  if (print) {
    printTable(
      `### ${name}  (${count.toLocaleString('en-US')} pending per repetition, ${reps} repetitions${
        floorLabel === undefined ? '' : `; ratio to "${floorLabel}"`
      })`,
      ['case', 'median bytes/item', 'min..max', floorLabel === undefined ? '' : 'x floor'],
      ['l', 'r', 'r', 'r'],
      Object.entries(result.cases).map(([label, c]) => [
        label,
        formatBytes(c.median),
        `${Math.round(c.min)}..${Math.round(c.max)}`,
        formatRatio(c.ratio),
      ]),
    );
  }
  return result;
}

/**
 * Prints target rows as a table.
 *
 * @param {{ target: string, limit: string, measured: string, pass: boolean }[]} rows
 * @param {string} [title]
 */
export function printTargets(rows, title = '### Targets') {
  printTable(
    title,
    ['target', 'limit', 'measured', 'result'],
    ['l', 'l', 'r', 'l'],
    rows.map((row) => [row.target, row.limit, row.measured, row.pass ? 'pass' : 'MISS']),
  );
}

/** Shuffles an array in place (Fisher-Yates) with a seeded PRNG, so runs are comparable. */
export function shuffle(array, seed = 0x9e3779b9) {
  let s = seed >>> 0;
  const random = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = array[i];
    array[i] = array[j];
    array[j] = tmp;
  }
  return array;
}

/** The label of the list-node floor in {@link WAITER_FLOOR_CASES}. */
export const LIST_NODE_FLOOR = 'floor: list node {prev,next,resolve,reject}';

/**
 * The platform floors for bytes per pending waiter, as `measureBytes` cases: a
 * resolver in an array, and a list node {prev,next,resolve,reject}.
 */
export const WAITER_FLOOR_CASES = {
  'floor: resolver in an array': {
    create(count) {
      const resolvers = [];
      for (let i = 0; i < count; i++) {
        new Promise((resolve) => {
          resolvers.push(resolve);
        });
      }
      return resolvers;
    },
  },
  'floor: list node {prev,next,resolve,reject}': {
    create(count) {
      const list = { head: null, tail: null };
      for (let i = 0; i < count; i++) {
        new Promise((resolve, reject) => {
          const node = { prev: list.tail, next: null, resolve, reject };
          if (list.tail === null) list.head = node;
          else list.tail.next = node;
          list.tail = node;
        });
      }
      return list;
    },
  },
};
