// What waitsafe/inspect costs: constructing an Event, and wait+set on an Event, with tracking
// off, on, and on with stacks, next to an "untracked build" (a copy of dist/esm whose primitives
// have no tracker hook at all). Run with `npm run bench -- inspect` (builds dist/ first); the
// figures go to docs/benchmarks.md ("Inspector overhead").
//
// trackWaiters() affects primitives created while it is on, so:
// - construction: each case turns its mode on, constructs inside the timed loop, and turns it off
//   again (only the loop is timed);
// - wait+set: each case uses an Event created under its mode, with that mode on while it runs.
// Every case runs in the same rounds as the others, so the ratios to "tracking off" (the median
// over the rounds of case / off in the same round) cancel most of the drift of a shared machine.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Event } from '../dist/esm/index.js';
import { trackWaiters } from '../dist/esm/inspect/index.js';
import { eventLoop } from './cases.mjs';
import {
  banner,
  defineSuite,
  formatNs,
  formatRatio,
  measureBytes,
  printTable,
  roundRatio,
  runSuite,
  specialize,
} from './harness.mjs';

banner();
const started = performance.now();

// ---------------------------------------------------------------------------------------------
// The untracked build: dist/esm copied to a temporary directory, with the tracker hook removed
// from the Primitive constructor: `const track = state.track;` and
// `if (track !== undefined) track(this, ...);`. (The copy shares waitsafe's process-wide state
// with dist/esm, see src/core/state.ts; without the hook it never reads the tracker.)

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'esm');
const copy = mkdtempSync(join(tmpdir(), 'waitsafe-untracked-'));
process.on('exit', () => rmSync(copy, { recursive: true, force: true }));
cpSync(dist, copy, { recursive: true });
{
  const file = join(copy, 'core', 'primitive.js');
  const source = readFileSync(file, 'utf8');
  const hook = /(?:const track = state\.track;\s*)?if \(track !== undefined\)\s*track\(this\b[^;]*\);/g;
  const found = source.match(hook)?.length ?? 0;
  if (found !== 1) throw new Error(`expected the tracker hook once in ${file}, found it ${found} times`);
  writeFileSync(file, source.replace(hook, ''));
}
const { Event: UntrackedEvent } = await import(pathToFileURL(join(copy, 'index.js')).href);

/**
 * Modes, in table order: label, how to turn the mode on (returns the stop function), the Event
 * class, and the number of constructions per timed run (more for the fast ones, so that a run
 * lasts a few milliseconds and the two figures that should be equal are not lost in noise).
 * Each mode runs its own copy of each loop (the harness's specialize()): the untracked build's
 * Event is another class, and one shared loop would be polymorphic for every mode.
 */
const MODES = [
  ['untracked build (no hook)', () => () => {}, UntrackedEvent, 200_000],
  ['tracking off', () => () => {}, Event, 200_000],
  ['trackWaiters()', () => trackWaiters(), Event, 20_000],
  ['trackWaiters({ stacks: true })', () => trackWaiters({ stacks: true }), Event, 5_000],
].map(([label, on, EventClass, n]) => ({ label, on, EventClass, n }));
const OFF = 'tracking off';

/** Keeps each constructed Event reachable for a moment, so the allocation cannot be elided. */
const sink = [undefined];
const CONSTRUCT = ({ EventClass }) =>
  async function (n, clock) {
    const { on, sink } = this;
    const stop = on();
    clock.start();
    for (let i = 0; i < n; i++) sink[0] = new EventClass();
    clock.stop();
    stop();
  };

// ---------------------------------------------------------------------------------------------
// 1. construction
//
// The harness runs a case's re-warm runs and its timed run in one macrotask, so the cases above
// construct 100,000+ Events in one burst. With tracking on, that costs more per Event than
// constructing a few at a time: each WeakRef keeps its target alive until the current job ends,
// and the tracker's entries of collected Events are dropped by a FinalizationRegistry callback,
// which runs as a later task. So one more case constructs 100 Events per macrotask (only the
// constructions are timed), the way a service creates them.

const SPREAD = 'trackWaiters(), 100 per macrotask';
const nextMacrotask = () => new Promise((resolve) => setImmediate(resolve));
const construction = await runSuite(
  defineSuite({
    name: 'new Event(), constructed inside the timed loop',
    cases: [
      ...MODES.map((mode) => ({
        ...mode,
        setup: () => ({ ...mode, sink }),
        run: specialize(CONSTRUCT, mode.label, { EventClass: mode.EventClass }),
      })),
      {
        label: SPREAD,
        n: 10_000,
        run: async (n, clock) => {
          const stop = trackWaiters();
          for (let done = 0; done < n; done += 100) {
            clock.start();
            for (let i = 0; i < 100; i++) sink[0] = new Event();
            clock.stop();
            await nextMacrotask();
          }
          stop();
        },
      },
    ],
  }),
);

// ---------------------------------------------------------------------------------------------
// 2. wait + set + await, 1 waiter, on an Event created under each mode (the mode stays on)

const waitSet = await runSuite(
  defineSuite({
    name: 'Event: ev.wait(); ev.set(); ev.clear(); await, on an Event created under each mode',
    cases: MODES.map(({ label, on, EventClass }) => {
      const loop = eventLoop('waitSet', label, { wait: (ev) => ev.wait() });
      return {
        label,
        setup() {
          const stop = on();
          const ev = new EventClass();
          stop();
          return { ev };
        },
        async run(n, clock) {
          const stop = on();
          await loop.call(this, n, clock);
          stop();
        },
      };
    }),
  }),
);

// ---------------------------------------------------------------------------------------------
// 3. memory: bytes per live Event under each mode (the tracker's WeakRef, registry entry and,
//    with stacks, the site string)

const memory = await measureBytes({
  name: 'bytes per live Event (no waiter)',
  count: 50_000,
  reps: 5,
  floor: OFF,
  cases: Object.fromEntries(
    MODES.map(({ label, on, EventClass }) => [
      label,
      {
        create(count) {
          const stop = on();
          const events = new Array(count);
          for (let i = 0; i < count; i++) events[i] = new EventClass();
          stop();
          return events;
        },
      },
    ]),
  ),
});

// ---------------------------------------------------------------------------------------------
// Summary: each mode as a ratio to "tracking off", per round (median over the rounds).

const toOff = (result, label) => roundRatio(result.cases[label], result.cases[OFF]);
const rows = MODES.map(({ label }) => [
  label,
  formatNs(construction.cases[label].median),
  formatRatio(toOff(construction, label)),
  formatNs(waitSet.cases[label].median),
  formatRatio(toOff(waitSet, label)),
  `${Math.round(memory.cases[label].median)} B`,
  formatRatio(memory.cases[label].ratio),
]);
rows.splice(3, 0, [SPREAD, formatNs(construction.cases[SPREAD].median), formatRatio(toOff(construction, SPREAD))]);
printTable(
  '### waitsafe/inspect overhead: each mode / "tracking off" in the same round',
  ['mode', 'new Event() ns', 'x off', 'wait+set ns', 'x off', 'bytes/Event', 'x off'],
  ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
  rows.map((row) => [...row, '', '', '', ''].slice(0, 7)),
);

const untracked = 'untracked build (no hook)';
console.log(
  `\ntracking off / untracked build: construction ${formatRatio(1 / toOff(construction, untracked))}, ` +
    `wait+set ${formatRatio(1 / toOff(waitSet, untracked))}, bytes ${formatRatio(1 / memory.cases[untracked].ratio)} ` +
    `(equal within noise: without trackWaiters() the hook is one comparison); ` +
    `bench/inspect.mjs ran ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
