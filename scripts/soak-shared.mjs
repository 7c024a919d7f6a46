// The waitsafe/shared part of the soak run (scripts/soak.mjs). The main thread creates a
// SharedLock, a SharedSemaphore(4), a SharedEvent and a SharedBarrier(3) and starts 2-4 worker
// threads running this file; each maps them once (`from(handle)`) and runs async actors on them
// with random waits, aborts, timeouts and releases, and the same model and checks as the main
// thread (scripts/soak-lib.mjs), plus one of its own: in the critical section, the slots of the
// shared memory this thread owns equal its pending waits. The main thread reads the memory of
// every primitive at each checkpoint (checkMemory): no slot whose agent is free, caches that
// agree with the slots, permits in use = holds + granted slots, and none of anything at a
// quiescent checkpoint.
import { isMainThread, parentPort, threadId, Worker, workerData } from 'node:worker_threads';
import { SharedBarrier, SharedEvent, SharedLock, SharedSemaphore } from '../dist/esm/shared/index.js';
import {
  A_HOLDS,
  A_TAG,
  AGENT,
  agentAt,
  enter,
  exit,
  FREE,
  GRANTED,
  H_A,
  H_B,
  H_CAPACITY,
  H_FREE,
  H_HEAD,
  H_QUEUED,
  H_TAIL,
  HEADER,
  QUEUED,
  S_AGENT,
  S_NEXT,
  S_STATE,
  S_WEIGHT,
  SLOT,
  slotAt,
  TAG,
} from '../dist/esm/shared/memory.js';
import { pendingPlatformWaits } from '../dist/esm/shared/primitive.js';
import { client, Env, Rec, serve } from './soak-lib.mjs';

/** Words of the control buffer: holders inside the lock, permits inside the semaphore. */
const LOCK_INSIDE = 0;
const SEM_INSIDE = 1;
const SEM_PERMITS = 4;
const BARRIER_PARTIES = 3;
const KINDS = { lock: SharedLock, semaphore: SharedSemaphore, event: SharedEvent, barrier: SharedBarrier };

// ---------------------------------------------------------------------------------------------
// Main thread

/** Creates the primitives and starts `threads` workers; resolves once they all run. */
export async function startShared({ threads, seed, k, onViolation }) {
  const prims = {
    lock: new SharedLock({ name: 'soak' }),
    semaphore: new SharedSemaphore(SEM_PERMITS, { name: 'soak' }),
    event: new SharedEvent({ name: 'soak' }),
    barrier: new SharedBarrier(BARRIER_PARTIES, { name: 'soak' }),
  };
  const handles = Object.fromEntries(Object.entries(prims).map(([key, p]) => [key, p.handle]));
  const ctl = new Int32Array(new SharedArrayBuffer(16));
  const workers = [];
  for (let i = 0; i < threads; i++) {
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { handles, ctl, seed: (seed + 1000 * (i + 1)) >>> 0, index: i, k },
    });
    const id = worker.threadId;
    const endpoint = {
      send: (message) => worker.postMessage(message),
      on: (listener) => worker.on('message', listener),
    };
    const rpc = client(endpoint);
    worker.on('message', (message) => {
      if (message?.type === 'violation') onViolation(`thread ${id}`, message.check, message.message);
    });
    worker.on('error', (error) => onViolation(`thread ${id}`, 'errors', `worker error: ${error?.stack ?? error}`));
    worker.on('exit', (code) => rpc.fail(new Error(`worker thread ${id} exited (${code})`)));
    workers.push({ worker, id, rpc, latest: undefined });
  }
  await Promise.all(workers.map((w) => w.rpc.call('ready')));
  const stuck = { owner: 0, epoch: 0 };
  const tags = new Set(workers.map((w) => w.id + 1));
  return {
    prims,
    workers,
    /** The memory checks (see checkMemory) of every primitive; `quiet`: everything must be zero. */
    check(quiet) {
      const results = {};
      for (const [key, p] of Object.entries(prims)) {
        results[key] = checkMemory(new Int32Array(p.handle.buffer), p.label, stuck, tags, key, quiet);
      }
      if (Atomics.load(ctl, LOCK_INSIDE) !== 0 && quiet)
        results.lock.problems.push('a holder is still inside the lock');
      if (Atomics.load(ctl, SEM_INSIDE) !== 0 && quiet) results.semaphore.problems.push('permits still inside');
      return results;
    },
    /** Ends what parked workers would otherwise have ended (the main thread sets and aborts). */
    drain() {
      prims.event.set();
      prims.barrier.abort();
    },
    resume() {
      prims.event.clear();
      prims.barrier.reset();
    },
    async stop() {
      await Promise.all(workers.map((w) => w.rpc.call('stop').catch(() => undefined)));
      await Promise.all(workers.map((w) => w.worker.terminate()));
    },
  };
}

/**
 * Reads one primitive's memory inside its critical section: returns { slots (in use), queued,
 * agents (in use), problems }. Problems: a slot in use whose agent is free (an orphan: nothing
 * would ever free it), a cache (QUEUED, the queue's links, the free list) that disagrees with the
 * slots, an agent of a thread that does not exist, permits in use != holds + granted slots; and
 * with `quiet`, anything in use at all.
 */
export function checkMemory(memory, label, stuck, tags, kind, quiet) {
  const problems = [];
  enter(memory, label, stuck);
  try {
    const capacity = memory[H_CAPACITY];
    let free = 0;
    let queued = 0;
    let granted = 0;
    let orphans = 0;
    let agents = 0;
    let holds = 0;
    for (let a = 0; a < capacity; a++) {
      const tag = memory[agentAt(memory, a, A_TAG)];
      if (tag === 0) continue;
      agents++;
      holds += memory[agentAt(memory, a, A_HOLDS)];
      if (!tags.has(tag)) problems.push(`agent ${a} belongs to thread ${tag - 1}, which is not one of the soak's`);
    }
    for (let slot = 0; slot < capacity; slot++) {
      const state = memory[slotAt(slot, S_STATE)];
      if (state === FREE) {
        free++;
        continue;
      }
      if (state === QUEUED) queued++;
      if (state === GRANTED) granted += memory[slotAt(slot, S_WEIGHT)];
      const agent = memory[slotAt(slot, S_AGENT)] - 1;
      if (agent < 0 || agent >= capacity || memory[agentAt(memory, agent, A_TAG)] === 0) orphans++;
    }
    if (orphans > 0) problems.push(`${orphans} slots in use by a free agent (orphans)`);
    if (memory[H_QUEUED] !== queued) problems.push(`QUEUED says ${memory[H_QUEUED]}, the slots ${queued}`);
    let walked = 0;
    for (let slot = memory[H_HEAD] - 1; slot !== -1 && walked <= capacity; slot = memory[slotAt(slot, S_NEXT)] - 1) {
      if (memory[slotAt(slot, S_STATE)] !== QUEUED) problems.push(`slot ${slot} is linked in the queue but not queued`);
      walked++;
    }
    if (walked !== queued) problems.push(`the queue links ${walked} slots, ${queued} are queued`);
    let freeWalked = 0;
    for (
      let slot = memory[H_FREE] - 1;
      slot !== -1 && freeWalked <= capacity;
      slot = memory[slotAt(slot, S_NEXT)] - 1
    ) {
      freeWalked++;
    }
    if (freeWalked !== free) problems.push(`the free list has ${freeWalked} slots, ${free} are free`);
    if (kind === 'lock' || kind === 'semaphore') {
      const total = memory[H_A];
      const inUse = memory[H_B];
      const expected = kind === 'lock' ? 1 : SEM_PERMITS;
      if (total !== expected) problems.push(`${total} permits, made with ${expected}`);
      if (inUse !== holds + granted) problems.push(`IN_USE ${inUse} != ${holds} held + ${granted} granted`);
      if (inUse > total) problems.push(`IN_USE ${inUse} > ${total} permits`);
      if (quiet && inUse !== 0) problems.push(`${inUse} permits in use`);
    }
    if (quiet) {
      if (free !== capacity) problems.push(`${capacity - free} slots in use`);
      if (agents !== 0) problems.push(`${agents} agents in use`);
      if (memory[H_HEAD] !== 0 || memory[H_TAIL] !== 0) problems.push('the queue links are not empty');
    }
    return { slots: capacity - free, queued, agents, problems };
  } finally {
    exit(memory);
  }
}

// ---------------------------------------------------------------------------------------------
// Worker thread

function runWorker() {
  const { handles, ctl, seed, index, k } = workerData;
  const n = (count) => Math.max(1, Math.round(count * k));
  const env = new Env({ seed, label: `thread ${threadId}` });
  env.onViolation = (check, message, count) => {
    if (count <= 3) parentPort.postMessage({ type: 'violation', check, message });
  };
  process.on('unhandledRejection', (reason) =>
    env.violation('errors', `unhandled rejection: ${reason?.stack ?? reason}`),
  );
  env.initSignals();
  const prims = Object.fromEntries(Object.entries(handles).map(([key, h]) => [key, KINDS[key].from(h)]));
  const memories = Object.fromEntries(Object.entries(prims).map(([key, p]) => [key, new Int32Array(p.handle.buffer)]));
  const recs = {};
  for (const [key, p] of Object.entries(prims)) recs[key] = new Rec(env, p[Symbol.toStringTag], [p]);
  const stuck = { owner: 0, epoch: 0 };

  /** In the section: the slots of this thread's agent (its one instance) must equal its waits. */
  const checkSlots = () => {
    let slots = 0;
    for (const [key, memory] of Object.entries(memories)) {
      let mine = 0;
      enter(memory, prims[key].label, stuck);
      try {
        const capacity = memory[H_CAPACITY];
        const base = HEADER + capacity * SLOT;
        for (let s = 0; s < capacity; s++) {
          if (memory[slotAt(s, S_STATE)] === FREE) continue;
          const agent = memory[slotAt(s, S_AGENT)] - 1;
          if (memory[base + agent * AGENT + A_TAG] === TAG) mine++;
        }
      } finally {
        exit(memory);
      }
      slots += mine;
      if (mine !== prims[key].waiterCount) {
        env.violation('shared', `${prims[key].label}: ${mine} slots of this thread, ${prims[key].waiterCount} waits`);
      }
    }
    let waiting = 0;
    for (const p of Object.values(prims)) if (p.waiterCount > 0) waiting++;
    const platform = pendingPlatformWaits();
    if (platform > waiting) env.violation('shared', `${platform} platform waits, ${waiting} instances with waits`);
    env.last.shared = { slots, platform };
  };

  const lockSection = async (release, inside, weight, limit) => {
    const now = Atomics.add(ctl, inside, weight) + weight;
    if (now > limit) env.violation('exclusion', `shared: ${now} held of ${limit} across threads`);
    await env.hold();
    Atomics.sub(ctl, inside, weight);
    if (release) {
      env.ops++;
      release();
    }
  };
  const permits = (key, inside, limit) => async () => {
    const p = prims[key];
    const rec = recs[key];
    const weight = key === 'semaphore' ? 1 + env.int(2) : 1;
    const r = env.random();
    if (r < 0.1) {
      env.ops++;
      const release = key === 'semaphore' ? p.tryAcquire(weight) : p.tryAcquire();
      if (release) await lockSection(release, inside, weight, limit);
    } else if (r < 0.25) {
      const options = env.options();
      const w = env.begin(rec, options);
      await env.settle(
        w,
        p.runExclusive(() => {
          env.end(w);
          return lockSection(undefined, inside, 1, limit);
        }, options),
      );
    } else {
      const options = env.options();
      if (key === 'semaphore') options.weight = weight;
      const out = await env.wait(rec, options, (o) => p.acquire(o));
      if (out.ok) await lockSection(out.value, inside, weight, limit);
    }
    await env.hold();
  };
  for (let a = 0; a < n(6); a++) {
    env.spawn('shared lock actor', permits('lock', LOCK_INSIDE, 1));
    env.spawn('shared semaphore actor', permits('semaphore', SEM_INSIDE, SEM_PERMITS));
    env.spawn('shared event waiter', async () => {
      await env.wait(recs.event, env.options(), (o) => prims.event.wait(o));
      await env.hold();
    });
  }
  for (let a = 0; a < n(4); a++) {
    env.spawn('shared barrier party', async () => {
      await env.wait(recs.barrier, env.options({ plain: false }), (o) => prims.barrier.wait(o));
      await env.hold();
    });
  }
  env.spawn('shared event setter', async () => {
    await env.delay(1 + env.int(30));
    env.ops++;
    prims.event.set();
    await env.hold();
    env.ops++;
    prims.event.clear();
  });
  if (index === 0) {
    env.spawn('shared barrier breaker', async () => {
      await env.nap(50 + env.int(500));
      env.ops++;
      if (env.chance(0.5)) prims.barrier.reset();
      else {
        prims.barrier.abort();
        await env.delay(env.int(20));
        env.ops++;
        prims.barrier.reset();
      }
    });
  }
  startChurn(env);
  const sampler = () => {
    env.sample();
    checkSlots();
    if (env.running) env.timer(sampler, env.sampleDelay());
  };
  env.timer(sampler, 100);

  const endpoint = {
    send: (message) => parentPort.postMessage(message),
    on: (listener) => parentPort.on('message', listener),
  };
  serve(endpoint, {
    ready: () => true,
    report: ({ gc }) => {
      let heap;
      if (gc && typeof globalThis.gc === 'function') {
        globalThis.gc();
        heap = process.memoryUsage().heapUsed;
      }
      return { ...env.report(), heap };
    },
    quiesce: async () => {
      await env.quiesce(() => env.abortAll());
      env.sample();
      checkSlots();
      const problems = env.quietCheck();
      if (pendingPlatformWaits() !== 0) problems.push(`${pendingPlatformWaits()} platform waits pending`);
      return { ...env.report(), problems };
    },
    resume: () => {
      env.unpause();
      return true;
    },
    stop: async () => {
      env.stop();
      for (let i = 0; i < 200 && env.actors > 0; i++) await env.delay(10);
      return env.report();
    },
  });
}

/** The signal churn every Env runs: pool signals aborted and replaced, long-lived ones replaced. */
export function startChurn(env) {
  env.spawn('signal churn', async () => {
    await env.delay(2 + env.int(30));
    env.abortPool();
  });
  env.spawn('long-lived signals', async () => {
    await env.nap(3000 + env.int(7000));
    env.retireLongLived();
  });
}

if (!isMainThread && workerData?.handles) runWorker();
