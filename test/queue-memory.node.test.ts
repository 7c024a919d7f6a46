/**
 * A Queue's storage follows what it holds (README: `new Queue(options?)`): a queue drained after
 * a burst lets the burst's storage go, and a queue that is never empty does not grow with the
 * items that went through it. Measured on the heap, where `process.memoryUsage()` exists (Node,
 * Bun, Deno). Storage kept would be 8 bytes per slot here: 3.2 MB for the 400,000 below.
 */

import { describe, expect, it } from 'vitest';
import { Queue } from '../src/index.js';

const ITEMS = 400_000;

/** Heap in use after full GCs, in bytes. */
function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  expect(gc, 'needs gc(): vitest.config.ts exposes it on every runtime').toBeTypeOf('function');
  for (let i = 0; i < 3; i++) (gc as () => void)();
  return process.memoryUsage().heapUsed;
}

describe('Queue storage on the heap', () => {
  it('lets the storage of a drained burst go', () => {
    const queue = new Queue<number>();
    // Warm up: the code paths compiled.
    for (let i = 0; i < 5000; i++) queue.putNowait(i);
    while (!queue.isEmpty()) queue.getNowait();
    const before = heapAfterGc();
    for (let i = 0; i < ITEMS; i++) queue.putNowait(i);
    while (!queue.isEmpty()) queue.getNowait();
    const after = heapAfterGc();
    expect(queue.size).toBe(0);
    // Well under the 3.2 MB a kept array of 400,000 slots takes.
    expect(after - before).toBeLessThan(1_000_000);
  }, 60_000);

  it('does not grow with the items that go through a queue that is never empty', () => {
    const queue = new Queue<number>();
    queue.putNowait(-1);
    for (let i = 0; i < 5000; i++) {
      queue.putNowait(i);
      queue.getNowait();
    }
    const before = heapAfterGc();
    for (let i = 0; i < ITEMS; i++) {
      queue.putNowait(i);
      queue.getNowait();
    }
    const after = heapAfterGc();
    expect(queue.size).toBe(1);
    expect(queue.getNowait()).toBe(ITEMS - 1);
    expect(after - before).toBeLessThan(1_000_000);
  }, 60_000);
});
