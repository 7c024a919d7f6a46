/**
 * The shared timer of a timeout duration goes, with its bucket, once no wait uses it (README:
 * "Every wait takes { signal, timeout }"): waits with 100,000 distinct timeouts leave nothing
 * behind after the next macrotask. Measured on the heap, where `process.memoryUsage()` exists
 * (Node, Bun, Deno). Buckets kept would be about 5 MB here.
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { Event } from '../src/index.js';
import { nextMacrotask } from './helpers.js';

const DURATIONS = 100_000;

/** Heap in use after full GCs, in bytes. */
function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  expect(gc, 'needs gc(): vitest.config.ts exposes it on every runtime').toBeTypeOf('function');
  for (let i = 0; i < 3; i++) (gc as () => void)();
  return process.memoryUsage().heapUsed;
}

/** Waits with `count` distinct timeouts from `first` ms on, each ended at once. */
async function waitsWithDistinctTimeouts(first: number, count: number): Promise<void> {
  const event = new Event();
  for (let i = 0; i < count; i++) {
    void event.wait({ timeout: first + i });
    event.set();
    event.clear();
  }
  await nextMacrotask();
}

describe('timer buckets on the heap', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('keeps nothing of 100,000 timeout durations once their waits ended', async () => {
    // Timers that never fire (the waits end at once): the runtime's own, and a test runner's
    // fakes, keep memory of their own after they are cleared (Bun, Deno). The idle sweep stays
    // on the real setImmediate.
    let armed = 0;
    vi.stubGlobal('setTimeout', () => ++armed);
    vi.stubGlobal('clearTimeout', () => {
      armed--;
    });
    // A first run of the same size: Bun gives back the heap of a large table that the sweep
    // freed only some runs later, so the run measured is the second.
    await waitsWithDistinctTimeouts(1_000_000, DURATIONS);
    const before = heapAfterGc();
    await waitsWithDistinctTimeouts(2_000_000, DURATIONS);
    const after = heapAfterGc();
    expect(armed).toBe(0);
    // Well under the ~5 MB that kept buckets take.
    expect(after - before).toBeLessThan(1_500_000);
  }, 60_000); // 100,000 timers armed and cleared: seconds where the code is instrumented (mutation testing).
});
