// Where the time of one mixed-benchmark case goes: a CPU profile of that case alone, taken after
// every case of the mixed process ran once (so waitsafe's call sites have seen every options
// shape and primitive, as in `npm run bench -- mixed`). Prints the functions with the most self
// time, grouped by file.
//
//   npm run build && node --expose-gc bench/profile.mjs signal
//   node --expose-gc bench/profile.mjs            lists the cases
//
// `after-gc` profiles, over and over, the first 20,000 waits on a fresh Event after a full GC
// that found no live primitive (the mixed benchmark's last target); add `--trace-deopt` to the
// node flags to see the deoptimizations that GC causes (`reason: weak objects`).
//
// It is a diagnostic, not a measurement: figures are shares of the sampled time, and the
// per-operation time it prints includes the profiler's overhead.
import { Session } from 'node:inspector/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENT_CASES, handOffCase, LOCKS, uncontendedCase, WAIT_SET_LABEL } from './cases.mjs';
import { formatNs } from './harness.mjs';

const pick = (cases, label) => cases.find((c) => c.label === label);
const handOff = (lib, method, depth) =>
  handOffCase({ label: `${lib.label} ${method}`, lib, method, depth, n: 100_000 });

/** The cases, by the name given on the command line. */
const CASES = {
  wait: pick(EVENT_CASES.oneWaiter(), WAIT_SET_LABEL),
  wake: EVENT_CASES.hundred()[0],
  timeout: pick(EVENT_CASES.timeout(), 'waitsafe: wait({ timeout: 60_000 })'),
  signal: pick(EVENT_CASES.signal(), 'waitsafe: wait({ signal })'),
  'acquire-1': handOff(LOCKS.lock, 'acquire', 1),
  'acquire-1000': handOff(LOCKS.lock, 'acquire', 1_000),
  'exclusive-1': handOff(LOCKS.lock, 'runExclusive', 1),
  'exclusive-1000': handOff(LOCKS.lock, 'runExclusive', 1_000),
  'henrygd-1000': handOff(LOCKS.henrygd, 'acquire', 1_000),
  try: uncontendedCase('tryAcquire', 'try', LOCKS.lock, 1_000_000),
};
const name = process.argv[2];
const seconds = Number(process.argv[3] ?? 3);
if (name !== 'after-gc' && !(name in CASES)) {
  console.error(
    `usage: node --expose-gc bench/profile.mjs <case> [seconds]\ncases: ${Object.keys(CASES).join(', ')}, after-gc`,
  );
  process.exit(2);
}
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');

const clock = { start() {}, stop() {} };
/** Runs case `c` `times` times on `state` (its setup's, made now if not given); returns ns/op. */
async function runCase(c, times, state) {
  const value = state ?? (c.setup ? await c.setup() : undefined);
  const t0 = performance.now();
  for (let i = 0; i < times; i++) await c.run.call(value, c.n ?? 20_000, clock);
  return ((performance.now() - t0) * 1e6) / (times * (c.n ?? 20_000));
}

// Every case once, so every call site has seen every shape.
for (const c of Object.values(CASES)) await runCase(c, 2);

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });

let perOp;
const until = performance.now() + seconds * 1000;
await session.post('Profiler.start');
if (name === 'after-gc') {
  const cold = pick(EVENT_CASES.oneWaiter({ fresh: true }), WAIT_SET_LABEL);
  const costs = [];
  while (performance.now() < until) {
    await new Promise((resolve) => setImmediate(resolve));
    globalThis.gc();
    costs.push(await runCase({ ...cold, n: 20_000 }, 1));
  }
  perOp = costs.sort((a, b) => a - b)[costs.length >> 1];
} else {
  const c = CASES[name];
  const state = c.setup ? await c.setup() : undefined;
  let runs = 0;
  let total = 0;
  while (performance.now() < until) {
    total += await runCase(c, 1, state);
    runs++;
  }
  perOp = total / runs;
}
const { profile } = await session.post('Profiler.stop');
session.disconnect();

// Self time per function, from the sample counts of the profile's nodes.
const self = new Map();
let sampled = 0;
for (const node of profile.nodes) {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.startsWith('file:') ? relative(process.cwd(), fileURLToPath(url)) : url;
  // The case's loop is a `new Function` copy (bench/harness.mjs, specialize): no URL.
  const key = file
    ? `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`
    : functionName || '(the case loop, with the await and promise work V8 inlined into it)';
  self.set(key, (self.get(key) ?? 0) + node.hitCount);
  sampled += node.hitCount;
}
const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 18);
console.log(`## ${name}: ${formatNs(perOp)} per op under the profiler, ${sampled} samples over ${seconds} s\n`);
console.log('| self time | function |\n|---:|---|');
for (const [key, hits] of top) console.log(`| ${((100 * hits) / sampled).toFixed(1)}% | ${key} |`);
const byFile = new Map();
for (const [key, hits] of self) {
  const file = key.includes(' ') ? key.slice(key.indexOf(' ') + 1).replace(/:\d+$/, '') : key;
  const group = file.startsWith('dist/') ? file : file.startsWith('(') ? file : 'other (bench, node internals)';
  byFile.set(group, (byFile.get(group) ?? 0) + hits);
}
console.log('\n| self time | file |\n|---:|---|');
for (const [file, hits] of [...byFile].sort((a, b) => b[1] - a[1])) {
  console.log(`| ${((100 * hits) / sampled).toFixed(1)}% | ${file} |`);
}
