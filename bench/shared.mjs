// waitsafe/shared SharedLock across real worker_threads, against the cross-thread locks people
// build on Node, in the same run. Run with `npm run bench -- shared` (builds dist/ first) or, with
// dist/ built, `node bench/shared.mjs`. The threads are bench/shared-worker.mjs.
//
// The locks (one row each):
//
//   waitsafe/shared SharedLock   SharedLock.from(handle) in each thread; `await lock.acquire()`.
//   blocking Atomics.wait mutex (the design of atomics-sync's Mutex; the package is not on this
//     registry)   written in bench/shared-worker.mjs as Drepper's "mutex2" (states 0 unlocked,
//     1 locked, 2 locked with waiters; compareExchange to lock, Atomics.wait on contention,
//     Atomics.notify on unlock). It BLOCKS the waiting worker thread (its event loop, timers and
//     messages stop while it waits): that is its design. Not FIFO: a thread that unlocks and
//     locks again at once often takes it back before the woken waiter runs.
//   MessagePort mutex (FIFO queue in the main thread; written for this bench)   what people
//     build with postMessage: each worker has a MessageChannel to the main thread, which owns a
//     FIFO queue; a worker posts "acquire" and awaits a "granted" message, then posts "release";
//     the main thread hands the lock to the next in its queue. Two message hops per hand-off.
//   waitsafe Lock, in one thread (for scale)   the in-process Lock: 2 or 4 async tasks in one
//     worker thread; no thread boundary at all.
//   floor: Atomics.notify -> Atomics.waitAsync   no lock: a baton passed round robin; the holder
//     stores 1 in the next thread's word and notifies it, and that thread's pending
//     Atomics.waitAsync resolves. Per hand-off, the least any lock whose waiters wait with
//     Atomics.waitAsync (as SharedLock's do) can take; in the throughput table, the most such a
//     lock can do when every op goes to the next thread (as a FIFO lock's do under contention).
//
// Clock. Every time is process.hrtime (CLOCK_MONOTONIC), read in the thread where the event
// happens: one kernel clock for every thread of the process, in ns, so a release time stamped in
// thread A and a grant time stamped in thread B subtract exactly. performance.now() is relative to
// each thread's own performance.timeOrigin (set when the thread starts), so timeOrigin + now()
// of two threads agree only as well as their origins were stamped; the run prints how far apart
// they are here (the "clock check" line), but the figures do not depend on it.
//
// 1. Hand-off latency, contended: 2 threads (1 waiting) and 4 threads (3 waiting). Each thread
//    loops: acquire; hold 2 ms (a timer: the holder's event loop is idle); stamp the time; call
//    release(); let its microtasks run (setImmediate); wait 1 ms (idle); acquire again, so it
//    queues behind the new holder. On each grant, the new holder stamps the time (right after
//    its await of acquire() resumes; for the blocking mutex, after lock() returns) and takes the
//    previous holder's release stamp from shared memory: the sample is grant - release, if the
//    previous holder was another thread and this one had asked before that release (it was
//    waiting; else the grant is no hand-off: skipped, and counted). The first 20 samples of a
//    run are dropped (warm-up); then p50/p90/p99/max of 500 samples (BENCH_SHARED_SCALE scales
//    them). The waiting thread is idle, parked in its event loop (Atomics.waitAsync, MessagePort)
//    or blocked in Atomics.wait: the figure includes waking it. For the in-process Lock the next
//    holder is a task of the same thread, resumed by the microtasks that run after the release.
// 2. Throughput, contended: 2 and 4 threads loop acquire -> increment a plain (non-atomic)
//    counter in shared memory -> release; 300 ms warm-up, then 2 s measured (the main thread
//    flips a shared phase word that every loop reads). ops/s in total and per thread over the
//    measured 2 s; how often the holder changed thread from one op to the next, and its inverse,
//    ops in a row per turn; and whether the counter equals the sum of every thread's ops (exact:
//    yes), which a lock that let two threads in at once would break.
// 3. Synchronous time: the throughput loops of SharedLock, the floor and the MessagePort mutex
//    again, 1 s, with performance.now() around each acquire() call (until it returns its
//    promise) and each release() call: the share of each thread's time spent inside the calls,
//    and the p50, p99.9 and longest acquire() + release() pair, and how many pairs took over
//    1 ms. That time the thread's event loop can run nothing else. A spin for SharedLock's
//    critical section counts, and so does any time the OS takes the core away during a call; on
//    a loaded machine the bench cannot tell them apart. (A separate run, so the throughput
//    figures are not slowed by the clock reads.)
// 4. Leak check: thread H holds a SharedLock; thread W starts 10,000 acquires that give up
//    after 1 ms ({ timeout: 1 }, or { signal: AbortSignal.timeout(1) }) and waits until all
//    have settled. Then: W's waiterCount; W's Timeout handles (process.getActiveResourcesInfo)
//    beyond those before; the shared memory, scanned from the main thread with the layout
//    constants of the build (dist/esm/shared/memory.js: HEADER, SLOT, AGENT...; the scan checks
//    that the buffer's size matches them): slots in use (STATE != FREE), agents in use (TAG !=
//    0: H's is the one expected), the QUEUED cache; and the platform waits still pending on the
//    agents' MAILBOX words: Atomics.notify(view, mailbox) returns how many waiters it woke,
//    summed over every agent (used or not), and must be 0. Then H releases and W acquires once
//    more: how long that took, and the memory again. Three rows: all 10,000 pending at once
//    (capacity: 16,384, since the default 256 slots would reject all but 256 of them with a
//    RangeError), with a timeout and with a signal; and 50 batches of 200 within the default
//    capacity of 256 (each batch settles before the next), which checks that the slots and
//    agents of the waits that gave up are reused. W maps the lock with { maxWaiters: Infinity }
//    (10,000 pending waits are the point, not a leak to warn about).
//
// Targets: SharedLock hand-off p50 below 20 µs (1 and 3 waiting); SharedLock throughput higher
// than the MessagePort mutex's (2 and 4 threads); and, as checks, every counter exact and the
// leak check all zero.
//
// This machine: 2 cores, shared and noisy; 4 threads (and the main thread, which is the
// MessagePort mutex's coordinator) share them. BENCH_SHARED_SCALE=0.2 scales the samples and the
// run times down for a quick check. It prints the targets with pass/MISS and exits 0 either way
// (1 only if a run fails: a worker error, a wrong counter is reported, not an exit): a
// measurement, not a test.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import { SharedLock } from '../dist/esm/shared/index.js';
// The layout of the shared memory, from the build (src/shared/memory.ts), for the leak check's scan.
import {
  A_MAILBOX,
  A_TAG,
  AGENT,
  H_CAPACITY,
  H_QUEUED,
  HEADER,
  S_STATE,
  SLOT,
  wordsFor,
} from '../dist/esm/shared/memory.js';
import { banner, command, printTable, printTargets } from './harness.mjs';
import { ACQUIRE, BATON, COUNTER, CTL_WORDS, GO, HOLD_MS, PHASE, REQUEUE_MS, WARM } from './shared-worker.mjs';

const SCALE = Number(process.env.BENCH_SHARED_SCALE ?? 1); // < 1 for a quick check
const SAMPLES = Math.max(40, Math.round(500 * SCALE));
const WARM_MS = Math.round(300 * SCALE);
const LOOP_MS = Math.max(200, Math.round(2_000 * SCALE));
const SYNC_MS = Math.max(200, Math.round(1_000 * SCALE));
const ABANDONED = 10_000;
const THREADS = [2, 4];
const WORKER = new URL('./shared-worker.mjs', import.meta.url);

const LOCKS = [
  { lib: 'shared', label: 'waitsafe/shared SharedLock', waitsafe: true },
  { lib: 'baton', label: 'floor: Atomics.notify -> Atomics.waitAsync in the next thread', floor: true },
  {
    lib: 'futex',
    label: "blocking Atomics.wait mutex (the design of atomics-sync's Mutex; the package is not on this registry)",
  },
  { lib: 'port', label: 'MessagePort mutex (FIFO queue in the main thread; written for this bench)' },
  { lib: 'inproc', label: 'waitsafe Lock, in one thread (async tasks, for scale)', inProcess: true },
];

const now = () => Number(process.hrtime.bigint()) / 1e3; // µs
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const quantile = (sorted, q) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
const us = (v) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US'));
const int = (v) => Math.round(v).toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------
// Threads

const live = new Set();

/** A worker; `result` settles with its posted result (or rejects on its error, exit or `deadline` ms). */
function start(data, transferList = [], deadline = 60_000) {
  const worker = new Worker(WORKER, { workerData: data, transferList });
  live.add(worker);
  let timer;
  const ready = new Promise((resolve, reject) => {
    worker.on('message', (m) => m.ready && resolve());
    worker.once('error', reject);
  });
  const result = new Promise((resolve, reject) => {
    worker.on('message', (m) => {
      if ('result' in m) resolve(m.result);
      else if ('error' in m && !('id' in m)) reject(new Error(`worker ${data.role} ${data.lib ?? ''}: ${m.error}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker ${data.role} ${data.lib ?? ''} exited (${code})`)));
    timer = setTimeout(
      () => reject(new Error(`worker ${data.role} ${data.lib ?? ''}: no result after ${deadline / 1000} s (hang?)`)),
      deadline,
    );
  }).finally(() => {
    clearTimeout(timer);
    live.delete(worker);
    worker.terminate();
  });
  result.catch(() => {});
  ready.catch(() => {});
  return { worker, ready, result };
}

/** A worker driven by requests: call(op, args) resolves with its answer. */
function rpc(data) {
  const worker = new Worker(WORKER, { workerData: data });
  live.add(worker);
  const pending = new Map();
  let next = 0;
  const ready = new Promise((resolve, reject) => {
    worker.on('message', (m) => m.ready && resolve());
    worker.once('error', reject);
  });
  worker.on('message', ({ id, value, error }) => {
    if (id === undefined) return;
    pending.get(id)?.[error === undefined ? 0 : 1](error === undefined ? value : new Error(error));
    pending.delete(id);
  });
  worker.once('exit', () => {
    for (const [, reject] of pending.values()) reject(new Error(`worker ${data.role} exited`));
  });
  return {
    ready,
    call: (op, args) =>
      new Promise((resolve, reject) => {
        pending.set(next, [resolve, reject]);
        worker.postMessage({ id: next++, op, args });
      }),
    stop: () => {
      live.delete(worker);
      return worker.terminate();
    },
  };
}

/** The main thread's side of the MessagePort mutex, for `count` workers: their ports. */
function portCoordinator(count) {
  const queue = [];
  let first = 0;
  let holder = null;
  const mine = [];
  const theirs = [];
  for (let i = 0; i < count; i++) {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (m) => {
      if (m === ACQUIRE) {
        if (holder === null) {
          holder = port1;
          port1.postMessage(1);
        } else queue.push(port1);
        return;
      }
      holder = first < queue.length ? queue[first++] : null;
      if (first > 1024 && first * 2 > queue.length) {
        queue.splice(0, first);
        first = 0;
      }
      holder?.postMessage(1);
    });
    mine.push(port1);
    theirs.push(port2);
  }
  return {
    ports: theirs,
    close: () => {
      for (const p of mine) p.close();
    },
  };
}

/** Shared words for one run, and what each thread of `lock` needs. */
function setup(l, threads) {
  const ctl = new SharedArrayBuffer(CTL_WORDS * 4);
  const times = new SharedArrayBuffer(8);
  const view = new Int32Array(ctl);
  view[BATON + 1] = 1; // the baton floor: thread 1 starts with it
  const shared = l.lib === 'shared' ? new SharedLock({ name: 'bench' }) : undefined;
  const coordinator = l.lib === 'port' ? portCoordinator(threads) : undefined;
  const perThread = (me) => {
    const data = { lib: l.lib, me, threads, ctl, times, handle: shared?.handle };
    if (coordinator === undefined) return [data, []];
    data.port = coordinator.ports[me - 1];
    return [data, [data.port]];
  };
  return { ctl, times, view, perThread, close: () => coordinator?.close() };
}

/** Starts the threads of one run (one thread for the in-process Lock), waits until all are ready, starts them. */
async function launch(l, threads, role, extra, deadline) {
  const s = setup(l, threads);
  let runs;
  if (l.inProcess) {
    runs = [start({ role: `inproc-${role}`, tasks: threads, ctl: s.ctl, ...extra }, [], deadline)];
  } else {
    runs = Array.from({ length: threads }, (_, i) => {
      const [data, transfer] = s.perThread(i + 1);
      return start({ role, ...data, ...extra }, transfer, deadline);
    });
  }
  await Promise.all(runs.map((r) => r.ready));
  Atomics.store(s.view, GO, 1);
  Atomics.notify(s.view, GO);
  return { s, runs };
}

// ---------------------------------------------------------------------------------------------
// 1. Hand-off

async function handOff(l, threads) {
  const { s, runs } = await launch(l, threads, 'handoff', { want: SAMPLES }, 120_000);
  const results = await Promise.all(runs.map((r) => r.result));
  s.close();
  const samples = results.flatMap((r) => r.samples).sort((a, b) => a - b);
  return {
    n: samples.length,
    skipped: results.reduce((sum, r) => sum + r.skipped, 0),
    p50: quantile(samples, 0.5),
    p90: quantile(samples, 0.9),
    p99: quantile(samples, 0.99),
    max: samples[samples.length - 1],
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Throughput

async function throughput(l, threads) {
  const { s, runs } = await launch(l, threads, 'throughput', {}, WARM_MS + LOOP_MS + 60_000);
  await sleep(WARM_MS);
  Atomics.store(s.view, PHASE, 1);
  const t0 = now();
  await sleep(LOOP_MS);
  Atomics.store(s.view, PHASE, 2);
  const seconds = (now() - t0) / 1e6;
  const results = await Promise.all(runs.map((r) => r.result));
  s.close();
  const ops = results.flatMap((r) => r.ops);
  const measured = results.flatMap((r) => r.measured);
  const total = ops.reduce((a, b) => a + b, 0);
  const counter = Atomics.load(s.view, COUNTER);
  return {
    opsPerSecond: measured.reduce((a, b) => a + b, 0) / seconds,
    perThread: measured.map((m) => m / seconds),
    handShare: results.reduce((sum, r) => sum + r.hands, 0) / total,
    total,
    counter,
    exact: counter === total,
  };
}

/** The instrumented run: time inside acquire() and release() calls (see shared-worker.mjs). */
async function syncTime(l, threads) {
  const { s, runs } = await launch(l, threads, 'sync-time', {}, SYNC_MS + 60_000);
  await sleep(SYNC_MS);
  Atomics.store(s.view, PHASE, 2);
  const results = await Promise.all(runs.map((r) => r.result));
  s.close();
  const calls = new Float64Array(results.reduce((sum, r) => sum + r.calls.length, 0));
  let at = 0;
  for (const r of results) {
    calls.set(r.calls, at);
    at += r.calls.length;
  }
  calls.sort();
  let over1ms = 0;
  for (let i = calls.length - 1; i >= 0 && calls[i] > 1; i--) over1ms++;
  const ops = results.reduce((sum, r) => sum + r.ops, 0);
  return {
    opsPerSecond: (ops * 1e3) / Math.max(...results.map((r) => r.elapsed)),
    share: results.reduce((sum, r) => sum + r.inside / r.elapsed, 0) / results.length,
    p50: quantile(calls, 0.5),
    p999: quantile(calls, 0.999),
    longest: calls[calls.length - 1],
    over1ms,
    exact: Atomics.load(s.view, COUNTER) === ops,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Leak check

/** The shared memory of a SharedLock, read from this thread (layout: src/shared/memory.ts). */
function scan(buffer) {
  const m = new Int32Array(buffer);
  const capacity = m[H_CAPACITY];
  if (m.length !== wordsFor(capacity)) throw new Error(`layout mismatch: ${m.length} words, capacity ${capacity}`);
  const agents = HEADER + capacity * SLOT;
  let slots = 0;
  let tags = 0;
  let waits = 0;
  for (let i = 0; i < capacity; i++) {
    if (m[HEADER + i * SLOT + S_STATE] !== 0) slots++;
    if (m[agents + i * AGENT + A_TAG] !== 0) tags++;
    waits += Atomics.notify(m, agents + i * AGENT + A_MAILBOX);
  }
  return { slots, agents: tags, queued: m[H_QUEUED], waits };
}

async function leakCheck({ mode, batch, capacity }) {
  const lock = new SharedLock({ name: 'leak', capacity });
  const holder = rpc({ role: 'hold', handle: lock.handle });
  const abandoner = rpc({ role: 'abandon', handle: lock.handle });
  await Promise.all([holder.ready, abandoner.ready]);
  await holder.call('acquire');
  const r = await abandoner.call('abandon', { count: ABANDONED, batch, mode });
  const held = scan(lock.handle.buffer);
  await holder.call('release');
  const next = await abandoner.call('next');
  const after = scan(lock.handle.buffer);
  await Promise.all([holder.stop(), abandoner.stop()]);
  return { ...r, held, next, after, capacity: lock.handle.buffer.byteLength };
}

/** /proc/stat's first line (Linux): [busy, all] ticks of the whole machine; undefined elsewhere. */
function machineTicks() {
  try {
    const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const all = ticks.reduce((a, b) => a + b, 0);
    return [all - ticks[3] - ticks[4], all];
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Run

banner('times in µs unless noted; real worker_threads in this process');
const started = performance.now();
const cpuAtStart = [machineTicks(), process.cpuUsage()];
console.log(
  `scale ${SCALE}: ${SAMPLES} hand-off samples per row (after ${WARM}), throughput ${WARM_MS} ms warm-up + ${LOOP_MS} ms measured`,
);

// The clock check: per-thread performance.timeOrigin + now() against process.hrtime.
{
  const clocks = await Promise.all(Array.from({ length: 3 }, () => start({ role: 'clock' }).result));
  const offsets = clocks.map((c) => c.offset);
  const spread = Math.max(...offsets) - Math.min(...offsets);
  console.log(
    `clock check: performance.timeOrigin + performance.now() minus process.hrtime, in 3 worker threads: ` +
      `${offsets.map((o) => us(o - Math.min(...offsets))).join(' / ')} µs apart (spread ${us(spread)} µs); ` +
      'the figures below use process.hrtime in every thread',
  );
}

const hand = {};
const failed = [];
async function attempt(what, fn) {
  try {
    return await fn();
  } catch (error) {
    failed.push(`${what}: ${error.message}`);
    console.error(`\n${what} FAILED: ${error.stack ?? error}`);
    return undefined;
  }
}

for (const l of LOCKS) {
  for (const threads of THREADS) {
    hand[`${l.lib} ${threads}`] = await attempt(`hand-off, ${l.label}, ${threads} threads`, () => handOff(l, threads));
  }
}
const floorOf = (threads) => hand[`baton ${threads}`]?.p50;
printTable(
  `### Hand-off: release() in one thread to the grant in the next (holder holds ${HOLD_MS} ms, then asks again after ${REQUEUE_MS} ms), µs`,
  ['lock', 'threads', 'waiting', 'samples (skipped)', 'p50', 'p90', 'p99', 'max', 'p50 x floor'],
  ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  LOCKS.flatMap((l) =>
    THREADS.map((threads) => {
      const h = hand[`${l.lib} ${threads}`];
      const label = l.inProcess ? `${l.label}: ${threads} tasks` : l.label;
      if (h === undefined) return [label, String(threads), String(threads - 1), 'FAILED', '', '', '', '', ''];
      return [
        label,
        l.inProcess ? '1' : String(threads),
        String(threads - 1),
        `${h.n} (${h.skipped})`,
        us(h.p50),
        us(h.p90),
        us(h.p99),
        us(h.max),
        l.floor || l.inProcess || floorOf(threads) === undefined ? '' : `${(h.p50 / floorOf(threads)).toFixed(2)}x`,
      ];
    }),
  ),
);
console.log(
  "\nx floor: p50 over the floor's p50 with as many threads. Skipped: grants to a thread that had not asked " +
    'before the release (no hand-off; see the header).',
);

const LOADED = LOCKS;
const load = {};
for (const l of LOADED) {
  for (const threads of THREADS) {
    load[`${l.lib} ${threads}`] = await attempt(`throughput, ${l.label}, ${threads} threads`, () =>
      throughput(l, threads),
    );
  }
}
printTable(
  `### Contended throughput: acquire -> counter + 1 (plain, in shared memory) -> release, ${LOOP_MS / 1000} s`,
  ['lock', 'threads', 'ops/s', 'ops/s per thread', 'next holder another thread', 'ops per turn', 'counter', 'exact'],
  ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  LOADED.flatMap((l) =>
    THREADS.map((threads) => {
      const t = load[`${l.lib} ${threads}`];
      const label = l.inProcess ? `${l.label}: ${threads} tasks` : l.label;
      if (t === undefined) return [label, String(threads), 'FAILED', '', '', '', '', ''];
      return [
        label,
        l.inProcess ? '1' : String(threads),
        int(t.opsPerSecond),
        t.perThread.map(int).join(' / '),
        `${(t.handShare * 100).toFixed(t.handShare < 0.01 ? 2 : 0)}%`,
        t.handShare > 0 ? (1 / t.handShare >= 100 ? int(1 / t.handShare) : (1 / t.handShare).toFixed(1)) : '-',
        `${int(t.counter)} of ${int(t.total)} ops`,
        t.exact ? 'yes' : 'NO',
      ];
    }),
  ),
);
console.log(
  '\nops/s over the measured time; the counter and the ops include the warm-up. Ops per turn: ops in a row by ' +
    'one thread (task) before another takes the lock. A FIFO lock alternates (1.0) while the others are queued; ' +
    'above 1, a thread that released found the lock free with nobody queued (the others were not waiting yet, ' +
    'e.g. off the CPU) and took it again; the blocking mutex also lets a thread take it back past a woken waiter. ' +
    "The blocking mutex's waiters block their threads in Atomics.wait.",
);

const SYNCED = LOCKS.filter((l) => l.lib === 'shared' || l.lib === 'baton' || l.lib === 'port');
const sync = {};
for (const l of SYNCED) {
  for (const threads of THREADS) {
    sync[`${l.lib} ${threads}`] = await attempt(`synchronous time, ${l.label}, ${threads} threads`, () =>
      syncTime(l, threads),
    );
  }
}
printTable(
  `### Time inside acquire() and release() calls, synchronously (the throughput loop, instrumented, ${SYNC_MS / 1000} s)`,
  [
    'lock',
    'threads',
    'ops/s (instrumented)',
    "share of each thread's time",
    'acquire + release p50',
    'p99.9',
    'longest',
    'pairs over 1 ms',
    'exact',
  ],
  ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  SYNCED.flatMap((l) =>
    THREADS.map((threads) => {
      const t = sync[`${l.lib} ${threads}`];
      if (t === undefined) return [l.label, String(threads), 'FAILED', '', '', '', '', '', ''];
      return [
        l.label,
        String(threads),
        int(t.opsPerSecond),
        `${(t.share * 100).toFixed(1)}%`,
        `${us(t.p50 * 1e3)} µs`,
        `${us(t.p999 * 1e3)} µs`,
        `${t.longest.toFixed(2)} ms`,
        int(t.over1ms),
        t.exact ? 'yes' : 'NO',
      ];
    }),
  ),
);
console.log(
  '\nperformance.now() around each acquire() call (until it returns its promise) and each release() call: ' +
    "time the thread's event loop can run nothing else. A call is long if it spins for the critical section " +
    '(SharedLock) or if the OS takes the core away during it (any lock, more often the larger the share); ' +
    'the bench cannot tell the two apart. The blocking mutex is left out: its lock() call is its whole wait.',
);

const LEAKS = [
  { mode: 'timeout', batch: ABANDONED, capacity: 16_384, how: 'acquire({ timeout: 1 }), all at once; capacity 16,384' },
  {
    mode: 'signal',
    batch: ABANDONED,
    capacity: 16_384,
    how: 'acquire({ signal: AbortSignal.timeout(1) }), all at once; capacity 16,384',
  },
  { mode: 'timeout', batch: 200, capacity: undefined, how: 'acquire({ timeout: 1 }), 50 batches of 200; capacity 256' },
];
const leaks = [];
for (const spec of LEAKS) leaks.push(await attempt(`leak check, ${spec.how}`, () => leakCheck(spec)));
const memory = (m) => `${m.slots} / ${m.agents} / ${m.queued} / ${m.waits}`;
printTable(
  `### Leak check: ${int(ABANDONED)} SharedLock acquires in thread W that give up while thread H holds the lock (slot i's STATE: word ${HEADER} + i*${SLOT}; agent i's TAG: ${HEADER} + capacity*${SLOT} + i*${AGENT}, MAILBOX + ${A_MAILBOX})`,
  [
    'W gave up with',
    'timed out / granted',
    'settled in',
    'W waiterCount',
    'W timers',
    'slots / agents / QUEUED / platform waits (H holds)',
    'next acquire after H releases',
    'slots / agents / QUEUED / platform waits (after)',
  ],
  ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  LEAKS.map((spec, i) => {
    const r = leaks[i];
    if (r === undefined) return [spec.how, 'FAILED', '', '', '', '', '', ''];
    return [
      spec.how + (r.errors.length ? ` (errors: ${r.errors.join('; ')})` : ''),
      `${int(r.timedOut)} / ${int(r.granted)}`,
      `${r.settled.toFixed(0)} ms`,
      String(r.waiterCount),
      `${r.timers > 0 ? '+' : ''}${r.timers}`,
      memory(r.held),
      `${r.next.took.toFixed(2)} ms`,
      memory(r.after),
    ];
  }),
);
console.log(
  "\nslots: STATE != FREE; agents: TAG != 0 (H's agent is expected while H holds); QUEUED: the header's cache; " +
    "platform waits: the sum of Atomics.notify() over every agent's MAILBOX word (each wakes and counts any wait " +
    'still pending there). W timers: Timeout handles in W beyond those before its acquires.',
);

// ---------------------------------------------------------------------------------------------
// Targets

const targets = [];
for (const threads of THREADS) {
  const h = hand[`shared ${threads}`];
  targets.push({
    target: `SharedLock hand-off p50, ${threads - 1} waiting (${threads} threads)`,
    limit: '< 20 µs',
    measured: h === undefined ? 'FAILED' : `${us(h.p50)} µs`,
    pass: h !== undefined && h.p50 < 20,
  });
}
for (const threads of THREADS) {
  const [mine, theirs] = [load[`shared ${threads}`], load[`port ${threads}`]];
  const ok = mine !== undefined && theirs !== undefined;
  targets.push({
    target: `SharedLock throughput vs MessagePort mutex, ${threads} threads`,
    limit: 'higher',
    measured: ok
      ? `${(mine.opsPerSecond / theirs.opsPerSecond).toFixed(2)}x (${int(mine.opsPerSecond)} vs ${int(theirs.opsPerSecond)} ops/s)`
      : 'FAILED',
    pass: ok && mine.opsPerSecond > theirs.opsPerSecond,
  });
}
const runsDone = Object.values(load).filter(Boolean);
targets.push({
  target: 'check: every throughput counter exact',
  limit: 'counter = ops, every row',
  measured: `${runsDone.filter((t) => t.exact).length} of ${Object.keys(load).length} rows exact`,
  pass: runsDone.length === Object.keys(load).length && runsDone.every((t) => t.exact),
});
const leaksDone = leaks.filter(Boolean);
const clean = (r) =>
  r.waiterCount === 0 &&
  r.granted === 0 &&
  r.timedOut === ABANDONED &&
  r.timers <= 0 &&
  r.held.slots === 0 &&
  r.held.agents === 1 &&
  r.held.queued === 0 &&
  r.held.waits === 0 &&
  r.after.slots === 0 &&
  r.after.agents === 0 &&
  r.after.waits === 0;
targets.push({
  target: 'check: leak check all zero',
  limit: 'waiterCount, slots, QUEUED, platform waits, timers 0; all time out',
  measured: `${leaksDone.filter(clean).length} of ${LEAKS.length} rows clean`,
  pass: leaksDone.length === LEAKS.length && leaksDone.every(clean),
});

console.log(`\nMeasured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, \`${command()}\`.`);
const missed = printTargets(targets, '### Targets (waitsafe/shared)');
console.log(
  missed.length === 0 ? `\nall ${targets.length} targets pass` : `\nMISS: ${missed.length} of ${targets.length}`,
);
for (const f of failed) console.log(`FAILED: ${f}`);
for (const w of live) w.terminate();
const wall = performance.now() - started;
const mine = process.cpuUsage(cpuAtStart[1]);
const ticks = machineTicks();
const cores = availableParallelism();
const busy =
  ticks === undefined || cpuAtStart[0] === undefined
    ? ''
    : `; the machine (${cores} cores) was ${(((ticks[0] - cpuAtStart[0][0]) / (ticks[1] - cpuAtStart[0][1])) * cores * 100).toFixed(0)}% busy of ${cores * 100}%`;
console.log(
  `\nbench/shared.mjs ran ${(wall / 1000).toFixed(0)} s, using ${(((mine.user + mine.system) / 1e3 / wall) * 100).toFixed(0)}% of a core${busy}`,
);
if (failed.length > 0) process.exitCode = 1;
