// One worker thread of bench/shared.mjs (see its header for what is measured and how). The parent
// starts it with workerData { role, ... }:
//
//   handoff      one thread of the hand-off run of one lock (lib); posts { samples, skipped }
//   throughput   one thread of the throughput run of one lock (lib); posts { ops, measured, hands }
//   inproc-*     the same, for the in-process waitsafe Lock: `tasks` async tasks in this one thread
//   clock        offsets of this thread's clocks, for the clock check
//   hold         leak check: holds the SharedLock on request (RPC: acquire, release)
//   abandon      leak check: starts acquires that give up (RPC: abandon, next)
//
// Every time is process.hrtime (CLOCK_MONOTONIC, one clock for every thread of the process), in
// µs. Shared words (ctl, an Int32Array over a SharedArrayBuffer of the parent) are the constants
// below; the parent uses the same ones.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Lock } from '../dist/esm/index.js';
import { SharedLock } from '../dist/esm/shared/index.js';

/** Words of ctl. */
export const GO = 0; // 0 until the parent starts the run
export const PHASE = 1; // throughput: 0 warm-up, 1 measured, 2 stop. Hand-off: 1 = stop
export const COUNTER = 2; // the plain (non-atomic) counter incremented under the lock
export const LAST = 3; // the last holder (1-based thread or task number), under the lock
export const TAKEN = 4; // hand-off: samples taken so far, under the lock
export const FUTEX = 8; // the lock word of the blocking mutex
export const BATON = 16; // floor: BATON + i is thread i's word (1-based)
export const CTL_WORDS = 32;
/** Words of times (a Float64Array over another SharedArrayBuffer). */
export const RELEASED = 0; // hand-off: when the holder called release(), µs

/** Hand-off: how long a holder holds (ms, timer), and how long it waits before asking again. */
export const HOLD_MS = 2;
export const REQUEUE_MS = 1;
/** Hand-off: samples dropped at the start of each run (warm-up). */
export const WARM = 20;

/** Messages of the MessagePort mutex. */
export const ACQUIRE = 0;
export const RELEASE = 1;

const now = () => Number(process.hrtime.bigint()) / 1e3;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// The locks

/**
 * Blocking Atomics.wait mutex: the design of atomics-sync's Mutex (the package is not on this
 * registry), written as Drepper's "mutex2" ("Futexes Are Tricky", mutex take 2). The word is 0
 * (unlocked), 1 (locked) or 2 (locked, maybe with waiters). lock() blocks the whole thread in
 * Atomics.wait while another thread holds it; unlock() notifies one waiter if there may be one.
 * Not FIFO: a thread that unlocks and locks again at once can take it before the woken waiter.
 */
export function futexLock(m, i) {
  let c = Atomics.compareExchange(m, i, 0, 1);
  if (c === 0) return;
  do {
    if (c === 2 || Atomics.compareExchange(m, i, 1, 2) !== 0) Atomics.wait(m, i, 2);
    c = Atomics.compareExchange(m, i, 0, 2);
  } while (c !== 0);
}

export function futexUnlock(m, i) {
  if (Atomics.sub(m, i, 1) !== 1) {
    Atomics.store(m, i, 0);
    Atomics.notify(m, i, 1);
  }
}

/** The worker's side of the MessagePort mutex: ask the coordinator, await its grant. */
function portMutex(port) {
  let granted;
  port.on('message', () => granted());
  return {
    acquire: () =>
      new Promise((resolve) => {
        granted = resolve;
        port.postMessage(ACQUIRE);
      }),
    release: () => port.postMessage(RELEASE),
  };
}

/**
 * A lock for the hand-off loop: { acquire, release, sync? }. `me` is this thread's number
 * (1-based) of `threads`.
 */
function makeLock(lib, data, ctl, me, threads) {
  switch (lib) {
    case 'shared': {
      const lock = SharedLock.from(data.handle);
      return { acquire: () => lock.acquire(), release: () => lock.release() };
    }
    case 'futex':
      return { sync: true, acquire: () => futexLock(ctl, FUTEX), release: () => futexUnlock(ctl, FUTEX) };
    case 'port':
      return portMutex(data.port);
    case 'baton': {
      // The floor: no queue, no state; the holder stores 1 in the next thread's word and
      // notifies it, and that thread's Atomics.waitAsync resolves.
      const next = BATON + (me % threads) + 1;
      return {
        async acquire() {
          while (Atomics.load(ctl, BATON + me) === 0) {
            const r = Atomics.waitAsync(ctl, BATON + me, 0);
            if (r.async) await r.value;
          }
          Atomics.store(ctl, BATON + me, 0);
        },
        release() {
          Atomics.store(ctl, next, 1);
          Atomics.notify(ctl, next);
        },
      };
    }
    default:
      throw new Error(`unknown lock ${lib}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Hand-off

/**
 * Holds HOLD_MS, stamps times[RELEASED], releases, lets its microtasks run (setImmediate), waits
 * REQUEUE_MS (idle), asks again. On each
 * grant: if the previous holder was another thread and this one asked before that release, the
 * sample is grant time - release time. Stops everyone (ctl[PHASE] = 1) after WARM + want samples.
 */
async function handOffLoop(lock, me, ctl, times, want) {
  const samples = [];
  let skipped = 0;
  for (;;) {
    const asked = now();
    if (lock.sync) lock.acquire();
    else await lock.acquire();
    const granted = now();
    if (ctl[PHASE] !== 0) {
      lock.release();
      break;
    }
    const previous = ctl[LAST];
    if (previous !== 0 && previous !== me) {
      if (asked < times[RELEASED]) {
        const seq = ctl[TAKEN]++;
        if (seq >= WARM) samples.push(granted - times[RELEASED]);
        if (seq + 1 >= WARM + want) ctl[PHASE] = 1;
      } else skipped++; // it was not waiting when the lock was released: not a hand-off
    }
    ctl[LAST] = me;
    await sleep(HOLD_MS);
    times[RELEASED] = now();
    lock.release();
    // Let this thread's microtasks run first (in one thread, the next holder's), then idle.
    await new Promise((resolve) => setImmediate(resolve));
    await sleep(REQUEUE_MS);
  }
  return { samples, skipped };
}

function ready(ctl) {
  parentPort.postMessage({ ready: true });
  Atomics.wait(ctl, GO, 0);
}

/**
 * Keeps this thread alive while it runs a role: Node ends a thread whose only pending work is an
 * Atomics.waitAsync (the floor's waits; SharedLock keeps its own timer for its waits).
 */
const keepAlive = setInterval(() => {}, 0x3fffffff);

const ROLES = {
  async handoff(data) {
    const ctl = new Int32Array(data.ctl);
    const lock = makeLock(data.lib, data, ctl, data.me, data.threads);
    ready(ctl);
    return handOffLoop(lock, data.me, ctl, new Float64Array(data.times), data.want);
  },

  async 'inproc-handoff'(data) {
    const ctl = new Int32Array(data.ctl);
    const lock = new Lock();
    const mine = new Int32Array(CTL_WORDS); // this thread's own words: the tasks share them
    const times = new Float64Array(1);
    ready(ctl);
    const lib = { acquire: () => lock.acquire(), release: () => lock.release() };
    const runs = await Promise.all(
      Array.from({ length: data.tasks }, (_, i) => handOffLoop(lib, i + 1, mine, times, data.want)),
    );
    return { samples: runs.flatMap((r) => r.samples), skipped: runs.reduce((s, r) => s + r.skipped, 0) };
  },

  // Throughput: acquire -> ctl[COUNTER] + 1 (plain) -> release, until ctl[PHASE] is 2. One loop
  // per lock, written out (each thread runs one lock, so its call sites stay monomorphic).
  async throughput(data) {
    const ctl = new Int32Array(data.ctl);
    const me = data.me;
    let ops = 0;
    let mark = 0;
    let hands = 0;
    let phase = 0;
    if (data.lib === 'shared') {
      const lock = SharedLock.from(data.handle);
      ready(ctl);
      for (;;) {
        const p = Atomics.load(ctl, PHASE);
        if (p !== phase) {
          if (p === 2) break;
          phase = p;
          mark = ops;
        }
        const release = await lock.acquire();
        ctl[COUNTER] = ctl[COUNTER] + 1;
        if (ctl[LAST] !== me) {
          ctl[LAST] = me;
          hands++;
        }
        release();
        ops++;
      }
    } else if (data.lib === 'futex') {
      ready(ctl);
      for (;;) {
        const p = Atomics.load(ctl, PHASE);
        if (p !== phase) {
          if (p === 2) break;
          phase = p;
          mark = ops;
        }
        futexLock(ctl, FUTEX);
        ctl[COUNTER] = ctl[COUNTER] + 1;
        if (ctl[LAST] !== me) {
          ctl[LAST] = me;
          hands++;
        }
        futexUnlock(ctl, FUTEX);
        ops++;
      }
    } else if (data.lib === 'port') {
      const lock = portMutex(data.port);
      ready(ctl);
      for (;;) {
        const p = Atomics.load(ctl, PHASE);
        if (p !== phase) {
          if (p === 2) break;
          phase = p;
          mark = ops;
        }
        await lock.acquire();
        ctl[COUNTER] = ctl[COUNTER] + 1;
        if (ctl[LAST] !== me) {
          ctl[LAST] = me;
          hands++;
        }
        lock.release();
        ops++;
      }
    } else if (data.lib === 'baton') {
      // The phase is read with the baton in hand: a thread that left without it would strand
      // the baton passed to it, and every thread after it.
      const lock = makeLock('baton', data, ctl, me, data.threads);
      ready(ctl);
      for (;;) {
        await lock.acquire();
        const p = Atomics.load(ctl, PHASE);
        if (p !== phase) {
          if (p === 2) {
            lock.release();
            break;
          }
          phase = p;
          mark = ops;
        }
        ctl[COUNTER] = ctl[COUNTER] + 1;
        if (ctl[LAST] !== me) {
          ctl[LAST] = me;
          hands++;
        }
        lock.release();
        ops++;
      }
    } else throw new Error(`unknown lock ${data.lib}`);
    return { ops: [ops], measured: [ops - mark], hands };
  },

  /**
   * An instrumented throughput loop (a separate run, so the figures above are not slowed): how
   * long each acquire() call (until it returns its promise) and each release() call takes,
   * synchronously, in this thread.
   */
  async 'sync-time'(data) {
    const ctl = new Int32Array(data.ctl);
    const me = data.me;
    let acquire;
    if (data.lib === 'shared') {
      const lock = SharedLock.from(data.handle);
      acquire = () => lock.acquire();
    } else {
      const lock = data.lib === 'port' ? portMutex(data.port) : makeLock(data.lib, data, ctl, me, data.threads);
      acquire = async () => {
        await lock.acquire();
        return lock.release;
      };
    }
    const calls = new Float64Array(4_000_000); // ms per acquire() + release() pair
    ready(ctl);
    const started = performance.now();
    let ops = 0;
    let inside = 0;
    for (;;) {
      const t0 = performance.now();
      const pending = acquire();
      const t1 = performance.now();
      const release = await pending;
      if (Atomics.load(ctl, PHASE) === 2) {
        release(); // read holding the lock (the floor's baton must be passed on)
        break;
      }
      ctl[COUNTER] = ctl[COUNTER] + 1;
      if (ctl[LAST] !== me) ctl[LAST] = me;
      const t2 = performance.now();
      release();
      const took = t1 - t0 + performance.now() - t2;
      inside += took;
      if (ops < calls.length) calls[ops] = took;
      ops++;
    }
    const elapsed = performance.now() - started;
    return { ops, inside, elapsed, calls: calls.slice(0, Math.min(ops, calls.length)) };
  },

  async 'inproc-throughput'(data) {
    const ctl = new Int32Array(data.ctl);
    const lock = new Lock();
    let hands = 0;
    const loop = async (me) => {
      let ops = 0;
      let mark = 0;
      let phase = 0;
      for (;;) {
        const p = Atomics.load(ctl, PHASE);
        if (p !== phase) {
          if (p === 2) break;
          phase = p;
          mark = ops;
        }
        const release = await lock.acquire();
        ctl[COUNTER] = ctl[COUNTER] + 1;
        if (ctl[LAST] !== me) {
          ctl[LAST] = me;
          hands++;
        }
        release();
        ops++;
      }
      return [ops, ops - mark];
    };
    ready(ctl);
    const runs = await Promise.all(Array.from({ length: data.tasks }, (_, i) => loop(i + 1)));
    return { ops: runs.map((r) => r[0]), measured: runs.map((r) => r[1]), hands };
  },

  /** performance.timeOrigin + performance.now() minus process.hrtime, in µs (median of 9). */
  async clock() {
    const offsets = [];
    for (let i = 0; i < 9; i++) {
      const hr = now();
      const wall = (performance.timeOrigin + performance.now()) * 1e3;
      offsets.push(wall - hr);
    }
    offsets.sort((a, b) => a - b);
    return { offset: offsets[4] };
  },
};

/** Leak check: RPC roles, driven by { id, op, args } messages. */
const RPC = {
  hold(data) {
    const lock = SharedLock.from(data.handle);
    let release;
    return {
      async acquire() {
        release = await lock.acquire();
      },
      release() {
        release();
      },
    };
  },

  abandon(data) {
    // maxWaiters: Infinity: 10,000 pending waits are the point here (no leak warning).
    const lock = SharedLock.from(data.handle, { maxWaiters: Infinity });
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    return {
      async abandon({ count, batch, mode }) {
        const timersBefore = timers();
        const started = now();
        let timedOut = 0;
        let granted = 0;
        const errors = [];
        for (let done = 0; done < count; done += batch) {
          const pending = [];
          for (let i = 0; i < Math.min(batch, count - done); i++) {
            pending.push(lock.acquire(mode === 'signal' ? { signal: AbortSignal.timeout(1) } : { timeout: 1 }));
          }
          for (const r of await Promise.allSettled(pending)) {
            if (r.status === 'fulfilled') {
              granted++;
              r.value();
            } else if (r.reason?.name === 'TimeoutError') timedOut++;
            else if (errors.length < 3) errors.push(String(r.reason));
          }
        }
        const settled = (now() - started) / 1e3;
        await sleep(20);
        return { timedOut, granted, errors, settled, waiterCount: lock.waiterCount, timers: timers() - timersBefore };
      },
      /** After the holder released: one acquire (5 s timeout); how long it took, in ms. */
      async next() {
        const started = now();
        const release = await lock.acquire({ timeout: 5_000 });
        const took = (now() - started) / 1e3;
        release();
        return { took, waiterCount: lock.waiterCount, locked: lock.isLocked() };
      },
    };
  },
};

// The parent imports this module for its constants and the mutex: only a worker runs a role.
const role = isMainThread ? undefined : workerData.role;
if (role === undefined) {
  clearInterval(keepAlive); // imported by bench/shared.mjs
} else if (role in RPC) {
  const api = RPC[role](workerData);
  parentPort.on('message', async ({ id, op, args }) => {
    try {
      parentPort.postMessage({ id, value: await api[op](args) });
    } catch (error) {
      parentPort.postMessage({ id, error: String(error?.stack ?? error) });
    }
  });
  parentPort.postMessage({ ready: true });
} else {
  try {
    parentPort.postMessage({ result: await ROLES[role](workerData) });
  } catch (error) {
    parentPort.postMessage({ error: String(error?.stack ?? error) });
  }
  clearInterval(keepAlive);
}
