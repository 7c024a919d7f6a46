/**
 * bench/harness.mjs: the runner shared by every waitsafe benchmark.
 *
 * It follows the method described in docs/benchmarks.md: the process runs under `node --expose-gc`; each suite warms
 * up, then runs >= 9 rounds; within a round every case runs once, in an order that rotates from
 * round to round; before each timed run the harness lets pending macrotasks finish and calls
 * `gc()`; each timed run is an inner loop of >= 1,000 operations; and every suite times the
 * **floor** (`new Promise` + resolve + `await`, one tick) in the same rounds as its cases, so
 * every figure is also given as a ratio to a floor measured in the same process, same round.
 *
 * ## Time: a suite is a table of cases
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
 *   table: { rate: true, peers: ['@esfx AsyncQueue'] },  // how to print it (see printSuite)
 *   cases: [
 *     // Perform n operations; the harness times the call and divides by n.
 *     { label: 'waitsafe Event', setup: () => ({ ev: new Event() }), async run(n) { const { ev } = this; ... } },
 *     {
 *       label: 'cancel 100k',
 *       n: 100_000,                // the case's own n
 *       rewarm: 0,                 // per-case override of the suite's rewarm
 *       run: async (n, clock) => {
 *         const setup = build(n);  // not timed
 *         clock.start();
 *         for (const c of setup) c.abort();
 *         clock.stop();            // only start..stop is timed (segments add up); without
 *                                  // start/stop, the whole call is timed
 *         await cleanup(setup);    // not timed
 *       },
 *     },
 *   ],
 * });
 * const result = await runSuite(suite); // prints a markdown table, returns the figures and `seconds`
 * result.cases['waitsafe Event'];       // { n, median, min, max, ratio, samples, ratios } in ns/op
 * ```
 *
 * A case is `{ label, n?, rewarm?, setup?, fresh?, run, teardown? }` (`cases` may also be an
 * object of label -> case or label -> run). `setup()` (may be async) builds what the case works
 * on, once before the suite's warm-up; its value is `this` of every `run(n, clock)` and is kept
 * alive until the suite ends, then passed to `teardown` and dropped. With `fresh: true`,
 * `setup()` runs before every run instead, after its `gc()`, and its value is dropped after the
 * run: nothing of the case is alive while the `gc()` runs. `this`, not a third parameter: an
 * async function saves and restores its parameters at every await, and a third one costs 3-5%
 * on an Event wait, so a timed loop declares only the parameters it uses.
 *
 * ### One copy of a loop per library: specialize()
 *
 * V8 keeps type feedback per function literal (per closure cell), not per call: one loop
 * shared by several libraries makes its call sites polymorphic and slows every library down
 * alike, and closures made by one factory share their feedback too. `specialize(template,
 * label, ops)` compiles a fresh copy of a template from its source text, with its own feedback
 * and optimized code, so each case runs its own monomorphic loop, as if written out by hand. A
 * template may use only its parameters and globals (it is compiled outside its module). What
 * differs between libraries is `ops`, one-line functions of one library (`acquire: (lock) =>
 * lock.acquire()`): the template is a factory `({ acquire, release }) => async function (n) {
 * ... }`, and each op it calls with arguments named as the op's parameters is written into the
 * copy in place of the call. Calling the op instead costs time: through a variable of the loop,
 * 5 ns more per Event wait (+8%: an async function saves and restores its live variables at
 * every await), through the factory's closure 1 ns (+1.5%). Written in, it costs nothing.
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
 * `roundRatio(a, b)` gives the same kind of ratio between any two cases of a suite.
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
 * `printSuite(result, options)` prints a suite (runSuite does, with the suite's `table`):
 * `unit` ('op'), `rate` (an ops/s column), `base`/`baseName` (the case the ratio column refers
 * to, default the floor), `peers` (one column per peer label: case / peer in the same round;
 * `peerName(label)` names it), `notes` (label -> text after the label), `labels` (which rows),
 * `title`. `printTargets(rows)` prints `{ target, limit, value, max | min, format }` rows (or
 * `{ target, limit, measured, pass }`) as a table with pass/MISS and returns the misses.
 * `banner(note)` prints the date, Node version and command; `footer(file, suites, started)`
 * the floor of the process and the run time. `printTable` is the markdown layout of them all;
 * `formatNs`, `formatRatio`, `formatBytes` and `formatOps` format figures. Helpers: `floor(n)`
 * (the floor itself), `median(values)`, and `shuffle(array, seed?)`, a seeded Fisher-Yates
 * shuffle, so "random order" is the same order in every run.
 *
 * Environment: `BENCH_ROUNDS` overrides the number of rounds (for quick checks only; the method
 * needs >= 9); `BENCH_SHOW_COPIES=1` prints the source of every copy specialize() makes.
 *
 * @module
 */

import { relative } from 'node:path';
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

function gc(options) {
  if (typeof globalThis.gc !== 'function') {
    throw new Error('The benchmarks need gc(): run them with `node --expose-gc` (npm run bench does).');
  }
  globalThis.gc(options);
}

const envRounds = Number.parseInt(process.env.BENCH_ROUNDS ?? '', 10);
let copies = 0;

/** Identifiers an inlined body may use besides its parameters: keywords, and globals. */
const KEYWORDS = new Set(['new', 'typeof', 'void', 'true', 'false', 'null', 'undefined', 'this', 'in', 'instanceof']);

/**
 * `op` as `{ params, body }` if it is an arrow with an expression body that uses nothing but its
 * parameters and globals (so its body means the same anywhere); else undefined.
 */
function inlinable(op) {
  const match = /^\(?([\w$\s,]*?)\)?\s*=>\s*([^{\s][\s\S]*)$/.exec(op.toString());
  if (match === null || /[`'"/]/.test(match[2])) return undefined;
  const params = match[1].split(',').map((p) => p.trim());
  // Identifiers that are neither a property (a.b) nor an object key ({ b: 1 }).
  for (const [id] of match[2].matchAll(/(?<![\w$.])[A-Za-z_$][\w$]*(?![\w$]|\s*:)/g)) {
    if (!params.includes(id) && !KEYWORDS.has(id) && !(id in globalThis)) return undefined;
  }
  return { params, body: match[2] };
}

/**
 * A fresh copy of `template`, compiled from its source with its own feedback; see the header.
 * With `ops`, `template` is a factory `(ops) => loop` and the copy is the loop it returns. Each op
 * the template calls as `name(a, b)` is written into the copy in place of the call, as if typed
 * there, if it is an arrow with an expression body that uses only its parameters and globals;
 * the call's arguments must then be named as the op's parameters (an `_` parameter may be
 * anything), else specialize throws. Other ops are called through the factory's closure.
 *
 * @template T
 * @param {Function} template an arrow or function expression that uses only its parameters and
 *   globals
 * @param {string} label names the copy (in a comment of its source, which also keeps V8 from
 *   sharing one compiled copy between two identical sources)
 * @param {Record<string, Function>} [ops]
 * @returns {T}
 */
export function specialize(template, label, ops) {
  // Comments out (none of them is inside a string of a template), so only code is matched.
  let source = template.toString().replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '');
  for (const [name, op] of Object.entries(ops ?? {})) {
    const macro = typeof op === 'function' ? inlinable(op) : undefined;
    if (macro === undefined) continue;
    source = source.replace(new RegExp(`(?<![\\w$.])${name}\\(([\\w$\\s,]*)\\)`, 'g'), (call, list) => {
      const args = list.split(',').map((a) => a.trim());
      if (macro.params.every((p, i) => p === '' || p.startsWith('_') || p === args[i])) return `(${macro.body})`;
      throw new Error(`${label}: the template calls ${call}, the op is ${op}: name their arguments alike`);
    });
  }
  if (process.env.BENCH_SHOW_COPIES) console.error(`// ${label}\n${source}\n`);
  const copy = new Function(`'use strict';\nreturn (${source});\n// ${label.replace(/[\r\n]/g, ' ')} #${++copies}`)();
  return ops === undefined ? copy : copy(ops);
}

/**
 * Checks and normalises a suite definition (see the header).
 *
 * @param {{ name: string, n?: number, rounds?: number, warmup?: number, rewarm?: number, floor?: boolean,
 *   table?: object, cases: object[] | Record<string, Function | object> }} spec
 */
export function defineSuite(spec) {
  const { name, n = 20_000, rounds = 11, warmup = 2, rewarm = 5, floor: withFloor = true, table = {} } = spec;
  if (typeof name !== 'string') throw new TypeError('suite name must be a string');
  const given = Array.isArray(spec.cases)
    ? spec.cases
    : Object.entries(spec.cases).map(([label, c]) => (typeof c === 'function' ? { label, run: c } : { label, ...c }));
  const list = withFloor ? [{ label: FLOOR_LABEL, n, rewarm, run: floor }] : [];
  for (const value of given) {
    const c = { ...value, n: value.n ?? n, rewarm: value.rewarm ?? rewarm };
    if (typeof c.run !== 'function') throw new TypeError(`case ${c.label}: run must be a function`);
    if (!(c.n >= 1_000)) throw new RangeError(`case ${c.label}: n must be >= 1,000 (got ${c.n})`);
    if (list.some((other) => other.label === c.label)) throw new Error(`two cases named ${c.label}`);
    list.push(c);
  }
  return {
    name,
    n,
    rounds: Number.isInteger(envRounds) && envRounds > 0 ? envRounds : rounds,
    warmup,
    withFloor,
    table,
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
async function runOnce(c, state) {
  const clock = new RunClock();
  await settle();
  if (c.rewarm > 0) {
    for (let i = 0; i < c.rewarm; i++) await c.run.call(c.fresh ? await c.setup() : state, c.n, new RunClock());
    // Empties the young generation and frees no map. No macrotask runs between the re-warm and
    // the timed run, so shared timers and listeners it set up are still in place, as in a burst.
    gc({ type: 'minor' });
  }
  const value = c.fresh ? await c.setup() : state;
  const t0 = process.hrtime.bigint();
  await c.run.call(value, c.n, clock);
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

/** Median over the rounds of (a / b) in the same round, for two cases of one suite result. */
export function roundRatio(a, b) {
  return median(a.samples.map((s, r) => s / b.samples[r]));
}

/**
 * Runs a suite: setup, warm-up, then `rounds` rounds in rotating order. Prints a markdown table
 * (unless `print: false`) and returns `{ name, n, rounds, seconds, floor, table, cases }` where
 * `cases[label]` is `{ n, median, min, max, ratio, samples, ratios }` (ns/op; ratio to the same
 * round's floor).
 *
 * @param {ReturnType<typeof defineSuite>} suite
 * @param {{ print?: boolean }} [options]
 */
export async function runSuite(suite, { print = true } = {}) {
  const started = performance.now();
  const { cases, rounds, warmup } = suite;
  let states = [];
  for (const c of cases) states.push(c.setup !== undefined && !c.fresh ? await c.setup() : undefined);
  for (let w = 0; w < warmup; w++) {
    for (let i = 0; i < cases.length; i++) await runOnce(cases[i], states[i]);
  }
  const samples = cases.map(() => []);
  const ratios = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const round = new Array(cases.length);
    for (let k = 0; k < cases.length; k++) {
      const i = (k + r) % cases.length;
      round[i] = await runOnce(cases[i], states[i]);
      samples[i].push(round[i]);
    }
    if (suite.withFloor) {
      for (let i = 0; i < cases.length; i++) ratios[i].push(round[i] / round[0]);
    }
  }
  for (let i = 0; i < cases.length; i++) await cases[i].teardown?.(states[i]);
  states = undefined;
  const seconds = (performance.now() - started) / 1000;
  const result = { name: suite.name, n: suite.n, rounds, seconds, floor: undefined, table: suite.table, cases: {} };
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

/** Formats operations per second from ns per operation: 6.61 M, 796 k. */
export function formatOps(ns) {
  const ops = 1e9 / ns;
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(2)} M`;
  if (ops >= 1e3) return `${(ops / 1e3).toFixed(ops >= 1e5 ? 0 : 1)} k`;
  return ops.toFixed(0);
}

/**
 * Prints a markdown table: `align[j]` is 'l' or 'r'.
 *
 * @param {string} title
 * @param {string[]} header
 * @param {string[]} align
 * @param {string[][]} rows
 */
export function printTable(title, header, align, rows) {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((row) => row[j].length)));
  const line = (cells) =>
    `| ${cells.map((cell, j) => (align[j] === 'r' ? cell.padStart(widths[j]) : cell.padEnd(widths[j]))).join(' | ')} |`;
  const rule = `|${widths.map((w, j) => (align[j] === 'r' ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(rule);
  for (const row of rows) console.log(line(row));
}

/** The library part of a label, for a peer column: 'async-mutex' for 'async-mutex Mutex'. */
const firstWord = (label) => label.split(' ')[0];

/**
 * Prints a suite result as a markdown table; `options` (default: the suite's `table`) are listed
 * in the header. The ratio column is the median over the rounds of (case / base) in the same
 * round; each peer column likewise (case / peer: below 1.00x the case is faster than that peer).
 */
export function printSuite(result, options = result.table ?? {}) {
  const { unit = 'op', rate = false, peers = [], peerName = firstWord, notes = {}, title = result.name } = options;
  const { base = FLOOR_LABEL, baseName = 'x floor', labels = Object.keys(result.cases), secondsNote = '' } = options;
  const baseCase = result.cases[base];
  const rows = labels.map((label) => {
    const c = result.cases[label];
    return [
      notes[label] === undefined ? label : `${label} ${notes[label]}`,
      formatNs(c.median),
      `${formatNs(c.min)}..${formatNs(c.max)}`,
      ...(rate ? [formatOps(c.median)] : []),
      baseCase === undefined ? '' : formatRatio(roundRatio(c, baseCase)),
      ...peers.map((p) => (p === label ? '1' : formatRatio(roundRatio(c, result.cases[p])))),
    ];
  });
  const ns = [...new Set(labels.map((label) => result.cases[label].n))].map((n) => n.toLocaleString('en-US'));
  printTable(
    `### ${title}  (${ns.join(' / ')} ${unit}s per run, ${result.rounds} rounds, ${result.seconds.toFixed(0)} s${secondsNote})`,
    [
      'case',
      `median ns/${unit}`,
      'min..max',
      ...(rate ? [`${unit}s/s`] : []),
      baseName,
      ...peers.map((p) => `x ${peerName(p)}`),
    ],
    ['l', 'r', 'r', ...(rate ? ['r'] : []), 'r', ...peers.map(() => 'r')],
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
 * Prints target rows as a table with pass/MISS and returns the rows that missed. A row gives
 * either `measured` (text) and `pass`, or `value` with `max` (pass if value <= max) or `min`
 * (pass if value >= min), and `format` (default formatRatio) to print the value.
 *
 * @param {{ target: string, limit: string, measured?: string, pass?: boolean, value?: number,
 *   max?: number, min?: number, format?: (value: number) => string }[]} rows
 * @param {string} [title]
 */
export function printTargets(rows, title = '### Targets') {
  const checked = rows.map((row) => ({
    ...row,
    measured: row.measured ?? (row.format ?? formatRatio)(row.value),
    pass: row.pass ?? (row.max !== undefined ? row.value <= row.max : row.value >= row.min),
  }));
  printTable(
    title,
    ['target', 'limit', 'measured', 'result'],
    ['l', 'l', 'r', 'l'],
    checked.map((row) => [row.target, row.limit, row.measured, row.pass ? 'pass' : 'MISS']),
  );
  return checked.filter((row) => !row.pass);
}

/** The command that ran this scenario, as bench/run.mjs was called (else the node command). */
export function command() {
  return process.env.BENCH_COMMAND ?? `node --expose-gc ${relative(process.cwd(), process.argv[1])}`;
}

/** Prints the first line of a scenario: date, Node, command, and what the figures are. */
export function banner(note = 'figures in ns per operation unless noted') {
  console.log(
    `${new Date().toISOString()}; node ${process.version} (V8 ${process.versions.v8}), ${process.arch}; ` +
      `\`${command()}\`; ${note}`,
  );
}

/** Prints the last line of a scenario: the median of its suites' floors, and its run time. */
export function footer(file, suites, started) {
  console.log(
    `\nfloor in this process (median of the suites' floors): ${formatNs(
      median(suites.map((s) => s.cases[FLOOR_LABEL].median)),
    )} ns; bench/${file} ran ${((performance.now() - started) / 1000).toFixed(0)} s`,
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
  [LIST_NODE_FLOOR]: {
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
