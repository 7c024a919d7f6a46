// npm run leak: the waiter leak that started waitsafe, reproduced next to the fix.
//
// The story: a long-running service polled an id with "wait for the event, but give up after
// 10 s", written as `await Promise.race([event.wait(), sleep(10_000)])`. Every give-up left a
// waiter registered in the event forever, and the service ran out of memory.
//
// This script runs that poll loop three ways against an event that is never set, so every poll
// gives up:
//
//   naive       an asyncio-style Event ported to JS, polled through Promise.race (the leak);
//   timeout     waitsafe's Event, polled with event.wait({ timeout });
//   signal      waitsafe's Event, polled with event.wait({ signal }) and a fresh AbortController
//               per poll that is aborted to give up.
//
// Every 10,000 polls it collects garbage and samples the heap and the event's waiterCount, then
// fits a least-squares line through heap vs polls: its slope is what each poll leaves behind.
// It prints a table and draws the chart into .bench-tmp/leak.svg (untracked, git-ignored), so a
// run leaves the working tree clean; with --update-docs it writes docs/leak.svg instead, the
// chart the README shows.
//
// Run with `npm run leak` (it builds first; bench/leak-run.mjs passes --expose-gc), or
// `npm run leak -- --update-docs` to refresh docs/leak.svg. It then runs
// bench/leak-signals.mjs: what the usual ways to give up on a wait (Promise.race with a sleep,
// AbortSignal.any, a listener per call, a timer never cleared) leave behind, next to waitsafe's.

import { mkdirSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Event } from '../dist/esm/index.js';
import { formatInt, formatMb, MB, nextMacrotask, printColumns, slope } from './stats.mjs';

// Waiting 10 s per poll would take days. What matters is that each poll gives up, so the
// 10 s timer is stood in for by a real 1 ms timer, and polls run concurrently to get through
// them quickly. Every variant uses the same give-up delay, concurrency and sampling.
const GIVE_UP_MS = 1;
const CONCURRENCY = 100;
const POLLS = 200_000;
const SAMPLE_EVERY = 10_000;
// A few untracked polls first on a throwaway event, so that compiling and warming up the code
// is not counted as growth.
const WARMUP_POLLS = 20_000;
// The verdict: a variant leaks if waiters are left, or if each poll leaves 1 byte or more behind
// (waitsafe's target: less than 1 byte per timed-out wait).
const LEAK_THRESHOLD = 1;

const GAVE_UP = 'gave up';
const ID = 'id-42';

// Where the chart goes: an untracked, git-ignored folder by default, so that running the
// benchmark does not modify a tracked file; docs/leak.svg only when asked.
const UPDATE_DOCS_FLAG = '--update-docs';
const DOCS_SVG = new URL('../docs/leak.svg', import.meta.url);
const OUT_DIR = new URL('../.bench-tmp/', import.meta.url);
const OUT_SVG = new URL('leak.svg', OUT_DIR);

/**
 * asyncio.Event, ported as people port it: a flag and a queue of waiters. asyncio's waiters are
 * futures in a deque, and a task that gives up cancels its future, whose `finally` removes it
 * from the deque. A JS promise cannot be cancelled: a waiter that nobody awaits any more stays
 * in `_waiters`, with everything its continuation references, until the next `set()`.
 *
 * `wait()` hands out the waiter's promise itself rather than awaiting it inside an `async`
 * method: that is the leanest port, so the leak measured here is a lower bound. (An `async
 * wait()` also keeps its suspended frame and a second promise per orphan: about twice as much.)
 */
class NaiveEvent {
  _value = false;
  _waiters = [];

  wait() {
    if (this._value) return Promise.resolve(true);
    return new Promise((resolve) => this._waiters.push(resolve));
  }

  set() {
    if (this._value) return;
    this._value = true;
    for (const resolve of this._waiters) resolve(true);
    this._waiters = [];
  }

  isSet() {
    return this._value;
  }

  get waiterCount() {
    return this._waiters.length;
  }
}

// --- The three ways to poll -------------------------------------------------------------------

/** The helper that leaked: race the wait against a timer, and walk away if the timer wins. */
async function getIdNaive(event) {
  const gaveUp = new Promise((resolve) => setTimeout(resolve, GIVE_UP_MS, GAVE_UP));
  // When the timer wins, event.wait() is still pending, and still in event._waiters.
  const winner = await Promise.race([event.wait(), gaveUp]);
  return winner === GAVE_UP ? GAVE_UP : ID;
}

/** The same helper with waitsafe: the wait owns its timeout, and unlinks itself when it fires. */
async function getIdWithTimeout(event) {
  try {
    await event.wait({ timeout: GIVE_UP_MS });
    return ID;
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TimeoutError') return GAVE_UP;
    throw error;
  }
}

/** The same helper, giving up through an AbortSignal, as a caller with its own deadline would. */
async function getIdWithSignal(event) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), GIVE_UP_MS);
  try {
    await event.wait({ signal: controller.signal });
    return ID;
  } catch (error) {
    if (error === controller.signal.reason) return GAVE_UP;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

const VARIANTS = [
  {
    key: 'naive',
    label: 'naive: Promise.race([event.wait(), timer])',
    color: '#d62728',
    stroke: { width: 2.5, dash: '' },
    newEvent: () => new NaiveEvent(),
    poll: getIdNaive,
  },
  {
    key: 'timeout',
    label: 'waitsafe: event.wait({ timeout })',
    color: '#1f77b4',
    stroke: { width: 6, dash: '' },
    newEvent: () => new Event({ name: 'id' }),
    poll: getIdWithTimeout,
  },
  {
    key: 'signal',
    label: 'waitsafe: event.wait({ signal })',
    color: '#2ca02c',
    stroke: { width: 2.5, dash: '7 5' },
    newEvent: () => new Event({ name: 'id' }),
    poll: getIdWithSignal,
  },
];

// --- Measuring --------------------------------------------------------------------------------

/**
 * Heap in use after a full collection. One macrotask passes first, so that anything released
 * "by the next macrotask" (waitsafe's idle timers and listeners) is gone, as it would be in a
 * service between two polls.
 */
async function heapAfterGc() {
  await nextMacrotask();
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

/** Runs `count` polls as CONCURRENCY sequential pollers; resolves once all of them are done. */
async function runPolls(event, poll, count) {
  let gaveUp = 0;
  async function poller(n) {
    for (let i = 0; i < n; i++) {
      if ((await poll(event)) === GAVE_UP) gaveUp++;
    }
  }
  const pollers = [];
  for (let i = 0; i < CONCURRENCY; i++) pollers.push(poller(count / CONCURRENCY));
  await Promise.all(pollers);
  // The event is never set: a poll that did not give up would mean the demo is broken.
  if (gaveUp !== count) throw new Error(`expected ${count} polls to give up, ${gaveUp} did`);
}

/** Counts of the kinds of handles that would keep Node alive ("Timeout", "Immediate", ...). */
function activeResources() {
  const counts = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

async function measure(variant) {
  await runPolls(variant.newEvent(), variant.poll, WARMUP_POLLS);

  // Polls happen in batches between samples so that no poll is in flight while the heap is
  // measured: what is left then is only what finished polls left behind.
  const event = variant.newEvent();
  const samples = [{ polls: 0, heap: await heapAfterGc(), waiters: event.waiterCount }];
  for (let polls = SAMPLE_EVERY; polls <= POLLS; polls += SAMPLE_EVERY) {
    await runPolls(event, variant.poll, SAMPLE_EVERY);
    samples.push({ polls, heap: await heapAfterGc(), waiters: event.waiterCount });
  }
  const bytesPerPoll = slope(samples.map((s) => ({ x: s.polls, y: s.heap })));
  const waitersLeft = samples.at(-1).waiters;
  const leaks = waitersLeft > 0 || bytesPerPoll >= LEAK_THRESHOLD;
  return { variant, samples, bytesPerPoll, waitersLeft, leaks };
}

// --- Reporting --------------------------------------------------------------------------------

function printTable(results) {
  printColumns([
    ['variant', 'polls', 'waiters left', 'heap start MB', 'heap end MB', 'slope B/poll', 'verdict'],
    ...results.map((r) => [
      r.variant.label,
      formatInt(POLLS),
      formatInt(r.waitersLeft),
      formatMb(r.samples[0].heap),
      formatMb(r.samples.at(-1).heap),
      r.bytesPerPoll.toFixed(2),
      r.leaks ? 'LEAKS' : 'no leak',
    ]),
  ]);
}

const escapeXml = (text) =>
  String(text).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);

/** The smallest of 1, 2, 5 x 10^k that is at least `value`: a round axis maximum. */
function niceCeil(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function renderSvg(results) {
  const width = 760;
  const height = 420;
  const margin = { top: 56, right: 24, bottom: 56, left: 64 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const maxMb = niceCeil(Math.max(...results.flatMap((r) => r.samples.map((s) => s.heap / MB))));
  const x = (polls) => margin.left + (polls / POLLS) * plotW;
  const y = (mb) => margin.top + plotH - (mb / maxMb) * plotH;
  const fmt = (n) => n.toFixed(1);

  const parts = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
    // An opaque background keeps the chart readable on dark-themed pages.
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="600">Heap after gc() while polling an event that is never set</text>`,
    `<text x="${width / 2}" y="42" text-anchor="middle" fill="#555">every poll gives up after ${GIVE_UP_MS} ms (a real timer standing in for 10 s), ${CONCURRENCY} concurrent pollers</text>`,
  );

  const yTicks = 5;
  for (let i = 0; i <= yTicks; i++) {
    const mb = (maxMb * i) / yTicks;
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${fmt(y(mb))}" y2="${fmt(y(mb))}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 8}" y="${fmt(y(mb) + 4)}" text-anchor="end">${mb}</text>`,
    );
  }
  const xStep = 50_000;
  for (let polls = 0; polls <= POLLS; polls += xStep) {
    parts.push(
      `<line x1="${fmt(x(polls))}" x2="${fmt(x(polls))}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 5}" stroke="#333"/>`,
      `<text x="${fmt(x(polls))}" y="${margin.top + plotH + 19}" text-anchor="middle">${polls === 0 ? '0' : `${polls / 1000}k`}</text>`,
    );
  }
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${margin.top + plotH + 38}" text-anchor="middle">polls (each one gave up)</text>`,
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">heap used, MB</text>`,
  );

  // Both waitsafe lines lie flat on top of each other: one is drawn wide and the other dashed
  // over it, so that both stay visible.
  const lineStyle = ({ color, stroke }) =>
    `fill="none" stroke="${color}" stroke-width="${stroke.width}"${stroke.dash ? ` stroke-dasharray="${stroke.dash}"` : ''}`;
  for (const r of results) {
    const points = r.samples.map((s) => `${fmt(x(s.polls))},${fmt(y(s.heap / MB))}`).join(' ');
    parts.push(`<polyline points="${points}" ${lineStyle(r.variant)} stroke-linejoin="round"/>`);
  }

  // The legend sits in the empty upper-left corner of the plot: the leaking line rises to the
  // right, the others stay at the bottom.
  const legendX = margin.left + 16;
  const legendTop = margin.top + 12;
  const rowH = 20;
  parts.push(
    `<rect x="${legendX - 8}" y="${legendTop - 8}" width="430" height="${results.length * rowH + 8}" fill="#ffffff" stroke="#cccccc"/>`,
  );
  results.forEach((r, i) => {
    const ly = legendTop + i * rowH + 10;
    const slopeText = `${r.bytesPerPoll.toFixed(r.leaks ? 0 : 2)} B/poll, ${formatInt(r.waitersLeft)} waiters left`;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 28}" y1="${ly - 4}" y2="${ly - 4}" ${lineStyle(r.variant)}/>`,
      `<text x="${legendX + 36}" y="${ly}">${escapeXml(`${r.variant.label}: ${slopeText}`)}</text>`,
    );
  });

  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

// --- Main -------------------------------------------------------------------------------------

/** `--update-docs`, or nothing. Anything else is a usage error. */
function parseArgs(args) {
  const unknown = args.filter((arg) => arg !== UPDATE_DOCS_FLAG);
  if (unknown.length > 0) {
    console.error(`bench/leak.mjs: unknown argument ${unknown.join(' ')}; the only option is ${UPDATE_DOCS_FLAG}`);
    process.exit(2);
  }
  return { updateDocs: args.includes(UPDATE_DOCS_FLAG) };
}

async function main() {
  const { updateDocs } = parseArgs(process.argv.slice(2));
  if (typeof globalThis.gc !== 'function') {
    console.error('bench/leak.mjs needs gc(): run it with `node --expose-gc bench/leak.mjs` (or `npm run leak`).');
    process.exitCode = 1;
    return;
  }
  const started = performance.now();
  console.log(
    `Polling an event that is never set, ${formatInt(POLLS)} polls per variant, ${CONCURRENCY} concurrent pollers.`,
  );
  console.log(
    `Stand-in for the 10 s timer: a real ${GIVE_UP_MS} ms timer (setTimeout(…, ${GIVE_UP_MS}) in the naive race and` +
      ` to abort the signal; timeout: ${GIVE_UP_MS} in waitsafe).\n`,
  );

  const results = [];
  for (const variant of VARIANTS) {
    const result = await measure(variant);
    results.push(result);
    if (variant.key === 'naive') {
      // The orphaned waiters live exactly as long as the event does: in the service, forever.
      // Dropping it here gives the memory back, so the next variants start from a clean heap.
      console.log(
        `naive: ${formatInt(result.waitersLeft)} orphaned waiters; once the event itself is dropped the heap is back to ${formatMb(await heapAfterGc())} MB`,
      );
    } else {
      // heapAfterGc() already let one macrotask pass: by now waitsafe must hold no timer.
      const active = activeResources();
      const timers = (active.Timeout ?? 0) + (active.Immediate ?? 0);
      console.log(
        `${variant.key}: after one macrotask, pending timers = ${timers} (expected 0); active resources: ${JSON.stringify(active)}`,
      );
      if (timers !== 0) result.leaks = true;
    }
  }

  console.log('');
  printTable(results);
  let svgPath = DOCS_SVG;
  if (!updateDocs) {
    mkdirSync(OUT_DIR, { recursive: true });
    svgPath = OUT_SVG;
  }
  writeFileSync(svgPath, renderSvg(results));
  const shown = relative(process.cwd(), fileURLToPath(svgPath));
  console.log(
    `\nChart: ${shown}${updateDocs ? '' : ` (docs/leak.svg is unchanged; \`npm run leak -- ${UPDATE_DOCS_FLAG}\` rewrites it)`}.` +
      ` Run time: ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  );
  // Nothing is left to keep the process alive: it exits on its own once this returns.
}

await main();
