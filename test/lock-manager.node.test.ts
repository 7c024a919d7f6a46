/**
 * LockManager keeps per-name state only while a name is held or requested (README: LockManager):
 * measured on the heap, where `process.memoryUsage()` exists (Node, Bun, Deno). The same run
 * with each name's state kept after use holds about 150 bytes per name, 15 MB here.
 */

import { describe, expect, it } from 'vitest';
import { LockManager } from '../src/index.js';

const NAMES = 100_000;

/** Heap in use after full GCs, in bytes. */
function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  expect(gc, 'needs gc(): vitest.config.ts exposes it on every runtime').toBeTypeOf('function');
  for (let i = 0; i < 3; i++) (gc as () => void)();
  return process.memoryUsage().heapUsed;
}

/** Requests and releases `count` distinct names once each, in batches of 10,000 at a time. */
async function useNamesOnce(manager: LockManager, prefix: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 10_000) {
    const batch: Array<Promise<unknown>> = [];
    for (let i = start; i < start + 10_000; i++) batch.push(manager.request(`${prefix}-${i}`, (lock) => lock));
    await Promise.all(batch);
  }
}

describe('LockManager per-name state on the heap', () => {
  it('keeps nothing of 100,000 distinct names used once', async () => {
    const manager = new LockManager();
    // Warm up: the code paths compiled, their caches full.
    await useNamesOnce(manager, 'warm-up', 20_000);
    const before = heapAfterGc();
    await useNamesOnce(manager, 'name', NAMES);
    const after = heapAfterGc();
    expect(await manager.query()).toEqual({ held: [], pending: [] });
    // Well under the ~15 MB that kept states take; leaves room for the runtime's own noise.
    expect(after - before).toBeLessThan(2_000_000);
  }, 60_000);
});
