// `npm run soak -- --minutes N`: a soak run of every waitsafe primitive, with its invariants
// checked as it goes. It builds dist/ (the npm script does), then drives:
//
// - in process (scripts/soak-local.mjs): Event, Lock, Semaphore and BoundedSemaphore (weights),
//   Condition, Barrier, Queue / PriorityQueue / LifoQueue (put, get, join, taskDone, shutdown),
//   ReaderWriterLock, LockManager, Future, and sleep / timeout / Deadline / linkSignals: a few
//   hundred async actors with random waits, signals (some shared by many waits), timeouts,
//   releases and shutdowns, while other actors recreate primitives;
// - waitsafe/shared (scripts/soak-shared.mjs): the same kind of load from 2-4 worker threads on a
//   SharedLock, SharedSemaphore, SharedEvent and SharedBarrier;
// - waitsafe/redis (scripts/soak-redis.mjs): if /usr/bin/redis-server exists, a server on a free
//   loopback port (stopped at the end, also on a crash) and RedisLock / RedisSemaphore / RedisEvent
//   through the ioredis adapter, from this process and a child process.
//
// Every few seconds it prints one line: elapsed time, operations (total and per second), pending
// waits, and the value of each check. Every thread and process checks, in a macrotask (where the
// model is exact, see scripts/soak-lib.mjs), every 100-300 ms:
//
//   waiters    each primitive's waiterCount = the model's count of its pending waits;
//   inspect    (main thread) waitsafe/inspect's snapshot().waiters = the model's total;
//   timers     waits linked to waitsafe's shared timers <= pending waits with a finite timeout;
//              no empty timer bucket unless the idle sweep will release it; ref'd Timeout
//              resources <= the soak's own timers + waitsafe's armed buckets (one per distinct
//              duration in use) + the redis adapter's idle timer;
//   listeners  on every signal the soak made: at most one abort listener (waitsafe's), none once
//              aborted, waits linked <= its pending waits + live Deadlines / linkSignals on it, and
//              a listener with no wait only while the sweep is pending;
//   shared     (worker threads) in the critical section, the slots of the thread = its waits;
//              platform waits <= instances with waits; (main) the memory of each primitive: no
//              orphaned slot, caches that agree with the slots, permits in use = held + granted;
//   exclusion, items, errors: a Lock / Semaphore / ReaderWriterLock / LockManager / Condition /
//              shared or Redis lock never has more holders than it allows; a queue's items put =
//              got + held + discarded; no unexpected rejection or throw.
//
// Every --quiet-every seconds, and at the end, a quiescent checkpoint: no new waits, everything
// settles, then nothing at all may be left: no waiter, timer bucket, listener, shared slot or
// agent, LockManager name; the soak's own timers only; in Redis, no key but the counters, no
// subscriber on the grant channels (PUBSUB NUMSUB), no extra connection. Then the load resumes.
//
// The heap: after a forced gc() at each checkpoint, in this thread, in every worker thread (summed)
// and in the child; at the end, for each, the least-squares slope over the second half of the
// run, in bytes per operation (its own operations) and per minute (see HEAP_* below for the bound).
//
// Exits 1 on any violation (printing which), 0 otherwise, after a summary line:
//   soak: <minutes> min, <ops> ops, <ops/s> ops/s, heap slope <B/op> B/op, violations: <n>
//
// Options: --minutes N (default 2), --seed S (default random; printed: the random choices of the
// run follow from it, their interleaving with real time does not), --quiet-every N seconds
// (default 60; 0: only at the end), --threads N (2-4, default 2), --interval N seconds between
// lines (default 5), --scale K (actors per part, default 1). SOAK_DEBUG=1 also prints what a
// quiescent checkpoint is waiting for, once a second, and every heap sample at the end;
// SOAK_SAMPLE_MS=N samples every 0-N ms instead of 100-300 ms (to hunt races; costs CPU).
import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { snapshot, trackWaiters } from '../dist/esm/inspect/index.js';
import { PROCESS } from '../dist/esm/redis/common.js';
import { ioredis, RedisEvent, RedisLock, RedisSemaphore } from '../dist/esm/redis/index.js';
import { Env, Rec, client as rpcClient, slope } from './soak-lib.mjs';
import { startLocal } from './soak-local.mjs';
import {
  connect,
  grantChannels,
  IDLE_TIMEOUT,
  quietProblems,
  serverState,
  startRedisLoad,
  startRedisServer,
} from './soak-redis.mjs';
import { startChurn, startShared } from './soak-shared.mjs';

// The heap bound. A leak shows as a positive slope of heapUsed (after gc()) over operations. Both
// must be exceeded:
// - 0.1 B/op: the smallest thing waitsafe could leak is a waiter node or a link, about 100 bytes
//   (240-304 B per pending wait, docs/benchmarks.md), so this is one leaked object per 1,000
//   operations;
// - 1 MB of growth over the fitted half (slope x its operations): what is alive at a sampling
//   moment (a few hundred pending waits, queued items, signals, in-flight Redis replies) moves
//   heapUsed by a few hundred KB from one sample to the next, so a short run's slope can reach
//   any value in B/op without a leak; 1 MB is over that.
const HEAP_BYTES_PER_OP = 0.1;
const HEAP_GROWTH = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
if (typeof globalThis.gc !== 'function') {
  // Run again with --expose-gc (the npm script passes it already).
  const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...argv], { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
  await new Promise(() => {});
}
function option(name, fallback) {
  const at = argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(argv[at + 1]);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`soak: --${name} needs a number >= 0, got ${argv[at + 1]}`);
    process.exit(2);
  }
  return value;
}
const MINUTES = option('minutes', 2);
const SEED = option('seed', Math.floor(Math.random() * 2 ** 32)) >>> 0;
const QUIET_EVERY = option('quiet-every', 60);
const THREADS = Math.min(4, Math.max(2, Math.round(option('threads', 2))));
const INTERVAL = Math.max(1, option('interval', 5));
const SCALE = option('scale', 1) || 1;

// ---------------------------------------------------------------------------------------------
// Output

const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const stamp = () => `[${elapsed().toFixed(0).padStart(4)}s]`;
const int = (v) => Math.round(v).toLocaleString('en-US');
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
/** Violations seen by this process; those of threads and the child come with their reports. */
const printed = new Map();
function onViolation(where, check, message) {
  const key = `${where} ${check}`;
  const count = (printed.get(key) ?? 0) + 1;
  printed.set(key, count);
  if (count <= 3) console.log(`${stamp()} VIOLATION ${check} (${where}): ${message}`);
  if (count === 3) console.log(`${stamp()} (further ${check} violations of ${where} are counted, not printed)`);
}

// ---------------------------------------------------------------------------------------------
// Start

console.log(
  `soak: ${MINUTES} min, seed ${SEED}, ${THREADS} threads, quiescent every ${QUIET_EVERY || 'end only'}${QUIET_EVERY ? ' s' : ''}, line every ${INTERVAL} s, Node ${process.version}`,
);
const stopTracking = trackWaiters();
const env = new Env({ seed: SEED, label: 'main' });
env.onViolation = (check, message) => onViolation('main', check, message);
process.on('unhandledRejection', (reason) =>
  env.violation('errors', `unhandled rejection: ${reason?.stack ?? reason}`),
);
env.initSignals();
const local = startLocal(env, SCALE);
startChurn(env);
const k = (count) => Math.max(1, Math.round(count * SCALE));

const shared = await startShared({ threads: THREADS, seed: SEED, k: SCALE, onViolation });
// The main thread's instances of the shared primitives: tracked by the inspector, never waited on here.
new Rec(env, 'shared primitives (main thread)', Object.values(shared.prims));

let redis;
const server = await startRedisServer();
if (server.skipped) {
  console.log(`waitsafe/redis: skipped: ${server.skipped}`);
} else {
  const client = await connect(Redis, server.port);
  const probe = await connect(Redis, server.port);
  for (const c of [client, probe]) c.on('error', (error) => env.violation('redis', `client error: ${error.message}`));
  const version = /redis_version:(\S+)/.exec(await probe.info('server'))[1];
  await probe.flushall();
  const load = startRedisLoad(
    env,
    ioredis(client, { idleTimeout: IDLE_TIMEOUT }),
    { RedisEvent, RedisLock, RedisSemaphore },
    k,
  );
  env.extraTimers = () => 1; // the adapter's idle timer: at most one at a time (src/redis/adapters.ts)
  const child = fork(fileURLToPath(new URL('./soak-redis-child.mjs', import.meta.url)), [
    String(server.port),
    String((SEED + 77) >>> 0),
    String(SCALE),
  ]);
  const rpc = rpcClient({ send: (message) => child.send(message), on: (listener) => child.on('message', listener) });
  child.on('message', (message) => {
    if (message?.type === 'violation') onViolation('redis child', message.check, message.message);
  });
  child.on('exit', (code) => rpc.fail(new Error(`the redis child exited (${code})`)));
  const { process: childProcess } = await rpc.call('ready');
  redis = {
    server,
    client,
    probe,
    load,
    child,
    rpc,
    latest: undefined,
    grants: [...grantChannels(PROCESS), ...grantChannels(childProcess)],
    baseClients: 3, // this process's client and probe, the child's client
  };
  console.log(
    `waitsafe/redis: redis-server ${version} on 127.0.0.1:${server.port} (--save '' --appendonly no), this process and child ${child.pid}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Checks

/** The inspector's total of waiters against the model's, at this moment. */
function checkInspector() {
  let expected = 0;
  for (const rec of env.records) if (rec.prims !== null) expected += rec.pending;
  const snap = snapshot();
  const seen = snap.waiters;
  if (seen !== expected)
    env.violation('inspect', `snapshot() counts ${seen} waiters, the model ${expected}: ${inspectDiff(snap)}`);
  env.last.inspect = { seen, expected };
}

/** Where the inspector and the primitives the model knows disagree, by kind and name. */
function inspectDiff(snap) {
  const known = new Map();
  for (const rec of env.records) {
    if (rec.prims === null) continue;
    for (const p of rec.prims) {
      const key = `${p[Symbol.toStringTag]} ${p.name}`;
      known.set(key, (known.get(key) ?? 0) + p.waiterCount);
    }
  }
  const rows = [];
  for (const row of snap.rows) {
    const key = `${row.kind} ${row.name}`;
    if ((known.get(key) ?? 0) !== row.waiters) rows.push(`${key}: ${row.waiters} seen, ${known.get(key) ?? 0} known`);
  }
  return rows.join(', ');
}

function sampler() {
  env.sample();
  checkInspector();
  if (env.running) env.timer(sampler, env.sampleDelay());
}
env.timer(sampler, 100);

/** Resolves with `promise`, or with undefined after `ms` (a violation: a thread or child did not answer). */
function within(promise, ms, what) {
  return new Promise((resolve) => {
    const cancel = env.timer(() => {
      env.violation('unresponsive', `${what} did not answer within ${ms} ms`);
      resolve(undefined);
    }, ms);
    promise.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (error) => {
        cancel();
        env.violation('errors', `${what}: ${error.message}`);
        resolve(undefined);
      },
    );
  });
}

/** Every violation count: this process's, and the latest of each thread's and the child's. */
function violationTotals() {
  const totals = new Map();
  const add = (list) => {
    for (const [check, count, first] of list) {
      const t = totals.get(check) ?? { count: 0, first: [] };
      t.count += count;
      for (const message of first) if (t.first.length < 5) t.first.push(message);
      totals.set(check, t);
    }
  };
  add([...env.violations].map(([check, v]) => [check, v.count, v.first]));
  for (const w of shared.workers) if (w.latest) add(w.latest.violations);
  if (redis?.latest) add(redis.latest.violations);
  return totals;
}

const heap = { main: [], workers: [], child: [] };
let lastLine = { t: 0, ops: 0 };

function totalOps() {
  let ops = env.ops;
  for (const w of shared.workers) ops += w.latest?.ops ?? 0;
  return ops + (redis?.latest?.ops ?? 0);
}

async function checkpoint() {
  env.sample();
  checkInspector();
  // Reports first (each thread and the child run gc() before reading their heap), then our own heap.
  const reports = await Promise.all(
    shared.workers.map((w) => within(w.rpc.call('report', { gc: true }), 5_000, `thread ${w.id}`)),
  );
  shared.workers.forEach((w, i) => {
    if (reports[i]) w.latest = reports[i];
  });
  if (redis) {
    const report = await within(redis.rpc.call('report', { gc: true }), 5_000, 'the redis child');
    if (report) redis.latest = report;
  }
  env.sample(); // also drops the model's records of signals no longer in use, before the heap is read
  globalThis.gc();
  const heapUsed = process.memoryUsage().heapUsed;
  const t = elapsed();
  heap.main.push([env.ops, heapUsed, t]);
  if (reports.every((r) => r?.heap !== undefined)) {
    heap.workers.push([reports.reduce((a, r) => a + r.ops, 0), reports.reduce((a, r) => a + r.heap, 0), t]);
  }
  if (redis?.latest?.heap !== undefined) heap.child.push([redis.latest.ops, redis.latest.heap, t]);
  // Tracked primitives after gc(): those the model knows, plus at most one per actor (a suspended
  // actor's frame may still hold the primitive it used), no more.
  const snap = snapshot();
  let known = 0;
  for (const rec of env.records) if (rec.prims !== null) known += rec.prims.length;
  if (snap.primitives > known + env.actors) {
    env.violation('inspect', `${snap.primitives} primitives alive after gc(), ${known} known + ${env.actors} actors`);
  }
  // The shared memory, read in each primitive's critical section.
  const memory = shared.check(false);
  let slots = 0;
  let agents = 0;
  for (const [key, r] of Object.entries(memory)) {
    slots += r.slots;
    agents += r.agents;
    for (const problem of r.problems) env.violation('shared', `${shared.prims[key].label}: ${problem}`);
  }
  let redisPart = 'skipped';
  if (redis) {
    const state = await redis.probe.call('ZCARD', 'waitsafe:{soak-lock}:queue');
    const queued = Number(state) + Number(await redis.probe.call('ZCARD', 'waitsafe:{soak-semaphore}:queue'));
    let waits = 0;
    for (const rec of env.records) if (rec.name.startsWith('Redis')) waits += rec.pending;
    redisPart = `${waits}+${redis.latest?.pending ?? '?'} waits, ${queued} queued, lost ${redis.load.m.lost + (redis.latest?.lost ?? 0)}`;
  }

  const ops = totalOps();
  const rate = (ops - lastLine.ops) / Math.max(1e-9, t - lastLine.t);
  lastLine = { t, ops };
  let pending = env.pending;
  for (const w of shared.workers) pending += w.latest?.pending ?? 0;
  pending += redis?.latest?.pending ?? 0;
  const totals = violationTotals();
  const v = (...checks) => {
    const n = checks.reduce((a, c) => a + (totals.get(c)?.count ?? 0), 0);
    return n === 0 ? 'ok' : `FAIL(${n})`;
  };
  const tm = env.last.timers;
  const sg = env.last.signals;
  const ins = env.last.inspect;
  const threadSlots = shared.workers.reduce((a, w) => a + (w.latest?.last?.shared?.slots ?? 0), 0);
  const samples =
    env.samples + shared.workers.reduce((a, w) => a + (w.latest?.samples ?? 0), 0) + (redis?.latest?.samples ?? 0);
  console.log(
    [
      `${stamp()} ops ${int(ops)} (${int(rate)}/s) pending ${int(pending)}`,
      `waiters ${v('waiters', 'quiesce')} (${env.last.primitives} prims, ${int(samples)} samples)`,
      `inspect ${ins.seen}=${ins.expected} ${v('inspect')}`,
      `timers ${tm.active}<=${tm.own}+${tm.armed}+${tm.extra}, links ${tm.links}<=${tm.timedBound} ${v('timers')}`,
      `listeners ${sg.listeners}/${sg.count} signals, links ${sg.linked} ${v('listeners')}`,
      `shared ${slots} slots (threads ${threadSlots}), ${agents} agents ${v('shared')}`,
      `redis ${redisPart} ${v('redis')}`,
      `exclusion ${v('exclusion')} items ${v('items')} errors ${v('errors', 'unresponsive')}`,
      `heap ${mb(heapUsed)}`,
    ].join(' | '),
  );
}

/** Stop starting waits everywhere, let everything settle, check that nothing is left, resume. */
async function quiescent(final) {
  const t0 = performance.now();
  const others = shared.workers.map((w) => within(w.rpc.call('quiesce'), 30_000, `thread ${w.id} (quiesce)`));
  if (redis) others.push(within(redis.rpc.call('quiesce'), 30_000, 'the redis child (quiesce)'));
  // The main thread sets the shared event and aborts the shared barrier until every thread is parked.
  let othersDone = false;
  const all = Promise.all(others).then((replies) => {
    othersDone = true;
    return replies;
  });
  const helper = async () => {
    while (!othersDone) {
      shared.drain();
      redis?.load.drain();
      await env.delay(10);
    }
  };
  const helping = helper();
  await env.quiesce(() => {
    local.drain();
    shared.drain();
    redis?.load.drain();
  });
  const replies = await all;
  await helping;
  if (redis) {
    await redis.load.settle();
    await env.delay(IDLE_TIMEOUT + 200); // the adapter closes its subscription connection
  }
  const settled = (performance.now() - t0) / 1000;
  env.sample();
  checkInspector();
  const problems = [...env.quietCheck()];
  for (const problem of await local.quiet()) {
    problems.push(problem);
    env.violation('quiesce', `quiescent: ${problem}`);
  }
  const seen = snapshot().waiters;
  if (seen !== 0) {
    problems.push(`snapshot() counts ${seen} waiters`);
    env.violation('inspect', `quiescent: snapshot() counts ${seen} waiters`);
  }
  let slots = 0;
  for (const [key, r] of Object.entries(shared.check(true))) {
    slots += r.slots;
    for (const problem of r.problems) {
      problems.push(`${shared.prims[key].label}: ${problem}`);
      env.violation('shared', `quiescent: ${shared.prims[key].label}: ${problem}`);
    }
  }
  shared.workers.forEach((w, i) => {
    const reply = replies[i];
    if (reply === undefined) return;
    w.latest = reply;
    for (const problem of reply.problems) problems.push(`thread ${w.id}: ${problem}`);
  });
  let redisPart = '';
  if (redis) {
    const reply = replies[shared.workers.length];
    if (reply) {
      redis.latest = reply;
      for (const problem of reply.problems) problems.push(`redis child: ${problem}`);
    }
    const state = await serverState(redis.probe, redis.grants);
    for (const problem of quietProblems(state, redis.baseClients)) {
      problems.push(`redis: ${problem}`);
      env.violation('redis', `quiescent: ${problem}`);
    }
    redisPart = `, redis ${Object.keys(state.keys).length} keys (counters), NUMSUB ${state.grantSubscribers}, ${state.channels.length} channels, ${state.clients} connections`;
  }
  const tm = env.last.timers;
  globalThis.gc();
  const heapUsed = process.memoryUsage().heapUsed;
  console.log(
    `${stamp()} quiescent: heap ${mb(heapUsed)}, settled in ${settled.toFixed(1)} s; waiters ${env.pending}, timers ${tm.active} (own ${tm.own}), buckets ${tm.buckets}, listeners ${env.last.signals.listeners}, shared slots ${slots}${redisPart}: ${problems.length === 0 ? 'ok' : `${problems.length} problems: ${problems.join('; ')}`}`,
  );
  if (final) return;
  local.resume();
  shared.resume();
  env.unpause();
  await Promise.all(shared.workers.map((w) => within(w.rpc.call('resume'), 5_000, `thread ${w.id} (resume)`)));
  if (redis) await within(redis.rpc.call('resume'), 5_000, 'the redis child (resume)');
}

// ---------------------------------------------------------------------------------------------
// Run

const end = MINUTES * 60;
let nextQuiet = QUIET_EVERY > 0 ? QUIET_EVERY : Infinity;
let crashed;
try {
  for (let next = INTERVAL; next < end; next += INTERVAL) {
    await env.delay(Math.max(0, (next - elapsed()) * 1000));
    await checkpoint();
    if (elapsed() >= nextQuiet && elapsed() + INTERVAL < end) {
      await quiescent(false);
      nextQuiet += QUIET_EVERY;
      // The lines go on from now: the rate of the next one counts the load's time only.
      next = Math.ceil(elapsed() / INTERVAL) * INTERVAL - INTERVAL;
      lastLine = { t: elapsed(), ops: totalOps() };
    }
  }
  await env.delay(Math.max(0, (end - elapsed()) * 1000));
  await checkpoint();
  await quiescent(true);
} catch (error) {
  crashed = error;
  console.log(`${stamp()} soak crashed: ${error?.stack ?? error}`);
}
const runMinutes = elapsed() / 60;

// Stop everything: threads and the child report their final counts.
env.stop();
const finals = await Promise.all(
  shared.workers.map((w) => within(w.rpc.call('stop'), 10_000, `thread ${w.id} (stop)`)),
);
shared.workers.forEach((w, i) => {
  if (finals[i]) w.latest = finals[i];
});
await Promise.all(shared.workers.map((w) => w.worker.terminate()));
if (redis) {
  const last = await within(redis.rpc.call('stop'), 10_000, 'the redis child (stop)');
  if (last) redis.latest = last;
  redis.child.kill();
  redis.client.disconnect();
  redis.probe.disconnect();
  redis.server.stop();
}
stopTracking();

// ---------------------------------------------------------------------------------------------
// Heap slope and summary

/** Fits the second half of `samples` ([ops, heap, t]): { perOp, perMinute, growth, n }. */
function fitHeap(samples) {
  const half = samples.slice(Math.floor(samples.length / 2));
  if (half.length < 3) return undefined;
  const perOp = slope(
    half.map((s) => s[0]),
    half.map((s) => s[1]),
  );
  const perMinute = slope(
    half.map((s) => s[2] / 60),
    half.map((s) => s[1]),
  );
  const growth = perOp * (half[half.length - 1][0] - half[0][0]);
  return { perOp, perMinute, growth, n: half.length };
}
if (process.env.SOAK_DEBUG) {
  for (const [part, samples] of Object.entries(heap)) {
    console.log(
      `heap samples (${part}): ${samples.map(([o, h]) => `${int(o)}:${(h / 1024 / 1024).toFixed(2)}`).join(' ')}`,
    );
  }
}
const fits = { main: fitHeap(heap.main), workers: fitHeap(heap.workers), child: fitHeap(heap.child) };
for (const [part, f] of Object.entries(fits)) {
  if (f === undefined) continue;
  const line = `heap slope (${part}, last ${f.n} samples): ${f.perOp.toFixed(3)} B/op, ${(f.perMinute / 1024).toFixed(1)} KB/min, ${mb(f.growth)} over the fitted half`;
  console.log(line);
  if (f.perOp > HEAP_BYTES_PER_OP && f.growth > HEAP_GROWTH) {
    env.violation(
      'heap',
      `${part}: ${f.perOp.toFixed(2)} B/op and ${mb(f.growth)} of growth (bound: ${HEAP_BYTES_PER_OP} B/op and ${mb(HEAP_GROWTH)})`,
    );
  }
}
if (fits.main === undefined) console.log('heap slope: too few checkpoints for a fit (it needs 6)');
if (crashed) env.violation('errors', `the soak crashed: ${crashed?.message ?? crashed}`);

const totals = violationTotals();
let violations = 0;
for (const [check, t] of totals) {
  violations += t.count;
  console.log(`violations of ${check}: ${t.count}`);
  for (const message of t.first) console.log(`  ${message}`);
}
const ops = totalOps();
const outcomes = { ...env.outcomes };
for (const r of [...shared.workers.map((w) => w.latest), redis?.latest]) {
  if (r) for (const [key, value] of Object.entries(r.outcomes)) outcomes[key] = (outcomes[key] ?? 0) + value;
}
console.log(
  `waits ended: ${Object.entries(outcomes)
    .map(([key, value]) => `${key} ${int(value)}`)
    .join(', ')}`,
);
console.log(
  `soak: ${runMinutes.toFixed(2)} min, ${int(ops)} ops, ${int(ops / (runMinutes * 60))} ops/s, heap slope ${fits.main ? fits.main.perOp.toFixed(3) : 'n/a'} B/op, violations: ${violations}`,
);
process.exit(violations === 0 ? 0 : 1);
