// LockManager's per-name state: what a million distinct names used once leave on the heap, and
// what a held name and a waiting request cost. Run after `npm run build`:
//
//   node --expose-gc bench/lock-manager-names.mjs
//
// 1. Names used once: requests and releases 1,000,000 distinct names (`name-0` ... `name-999999`),
//    10,000 at a time, and prints the heap in use (after full GCs) before and after. A name's
//    state exists only while the name is held or requested, so the difference should be noise.
// 2. Bytes per held name: 100,000 distinct names held at once (each by a callback whose promise
//    is pending), and per waiting request: 100,000 requests queued on one held name, plain, with
//    a shared signal, and with a timeout. Each the median of 5 repetitions, heap after full GCs.
//
// It takes a few seconds and exits on its own.
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { Lock, LockManager } from '../dist/esm/index.js';
import { measureBytes } from './harness.mjs';

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc bench/lock-manager-names.mjs (after npm run build).');
  process.exit(1);
}

const NAMES = 1_000_000;
const BATCH = 10_000;
const COUNT = 100_000;
const REPS = 5;

async function heapUsed() {
  await nextMacrotask();
  await nextMacrotask();
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;

/** Requests and releases `count` distinct names once each, `BATCH` at a time. */
async function useNamesOnce(manager, prefix, count) {
  for (let start = 0; start < count; start += BATCH) {
    const batch = [];
    for (let i = start; i < start + BATCH; i++) batch.push(manager.request(`${prefix}-${i}`, () => i));
    await Promise.all(batch);
  }
}

// 1. A million names used once.
{
  const manager = new LockManager();
  await useNamesOnce(manager, 'warm-up', 100_000);
  const before = await heapUsed();
  const started = performance.now();
  await useNamesOnce(manager, 'name', NAMES);
  const elapsed = performance.now() - started;
  const after = await heapUsed();
  const { held, pending } = await manager.query();
  console.log(`${NAMES.toLocaleString('en-US')} distinct names, each requested and released once:`);
  console.log(`  heap used before: ${mb(before)}`);
  console.log(`  heap used after:  ${mb(after)}`);
  console.log(`  difference:       ${mb(after - before)} (${((after - before) / NAMES).toFixed(3)} B per name)`);
  console.log(`  left: held ${held.length}, pending ${pending.length}, ${String(manager)}`);
  console.log(`  time: ${(elapsed / 1000).toFixed(2)} s (${((elapsed * 1e6) / NAMES).toFixed(0)} ns per request)`);
}

// 2. Bytes per held name and per waiting request. Each case holds its locks with a promise of its
// own that never settles, so what a case made is garbage once the case is done with.
function holder() {
  const never = new Promise(() => {});
  return { never, hold: () => never };
}

const cases = {
  'held name (one exclusive hold per name)': (count) => {
    const { never, hold } = holder();
    const manager = new LockManager();
    for (let i = 0; i < count; i++) manager.request(`held-${i}`, hold);
    return { manager, never };
  },
  'waiting request, plain': (count) => {
    const { never, hold } = holder();
    const manager = new LockManager({ maxWaiters: 0 });
    manager.request('x', hold);
    for (let i = 0; i < count; i++) manager.request('x', hold);
    return { manager, never };
  },
  // Never aborted: the signal and its listener go with the case (an abort would reject every
  // request, and a handler on each would be counted too).
  'waiting request, shared signal': (count) => {
    const { never, hold } = holder();
    const manager = new LockManager({ maxWaiters: 0 });
    const controller = new AbortController();
    manager.request('x', hold);
    const options = { signal: controller.signal };
    for (let i = 0; i < count; i++) manager.request('x', options, hold);
    return { manager, never, controller };
  },
  'waiting request, timeout': (count) => {
    // These stay on their hour-long timer until the process exits.
    const { never, hold } = holder();
    const manager = new LockManager({ maxWaiters: 0 });
    manager.request('x', hold);
    const options = { timeout: 3_600_000 };
    for (let i = 0; i < count; i++) manager.request('x', options, hold);
    return { manager, never };
  },
};

await measureBytes({
  name: 'LockManager: bytes per held name and per waiting request',
  count: COUNT,
  reps: REPS,
  floor: 'Lock.acquire() waiting (for comparison)',
  cases: {
    'Lock.acquire() waiting (for comparison)': {
      create: (count) => {
        const lock = new Lock({ maxWaiters: 0 });
        lock.tryAcquire();
        for (let i = 0; i < count; i++) lock.acquire();
        return lock;
      },
    },
    ...Object.fromEntries(Object.entries(cases).map(([label, create]) => [label, { create }])),
  },
});
// The timeout case leaves hour-long timers on managers nobody references: do not wait for them.
process.exit(0);
