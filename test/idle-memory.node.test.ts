/**
 * A tight loop of waits keeps nothing per wait, even before the next macrotask (README: "Every
 * wait takes { signal, timeout }"): the listener on a long-lived signal and the timer of a timeout
 * are shared, and each is put on the idle list once, not once per wait that leaves it. Measured
 * on the heap within one synchronous run, where `process.memoryUsage()` exists (Node, Bun, Deno).
 * An entry per wait would be 8 bytes here: 3.2 MB for the 400,000 below.
 */

import { describe, expect, it } from 'vitest';
import { Event } from '../src/index.js';
import { nextMacrotask } from './helpers.js';

const WAITS = 400_000;

/** Heap in use after full GCs, in bytes. Synchronous: nothing else runs in between. */
function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  expect(gc, 'needs gc(): vitest.config.ts exposes it on every runtime').toBeTypeOf('function');
  for (let i = 0; i < 3; i++) (gc as () => void)();
  return process.memoryUsage().heapUsed;
}

/** Starts a wait on `event` with `options` and ends it at once by setting the event. */
function waitAndSet(event: Event, options: { signal?: AbortSignal; timeout?: number }): void {
  void event.wait(options);
  event.set();
  event.clear();
}

describe('the idle list within one synchronous run', () => {
  it.each([
    ['one long-lived signal', () => ({ signal: new AbortController().signal })],
    ['one timeout duration', () => ({ timeout: 60_000 })],
  ])(
    'keeps nothing per wait that leaves %s',
    async (_, makeOptions) => {
      const event = new Event();
      const options = makeOptions();
      for (let i = 0; i < 5000; i++) waitAndSet(event, options);
      const before = heapAfterGc();
      for (let i = 0; i < WAITS; i++) waitAndSet(event, options);
      const after = heapAfterGc();
      // Well under the 3.2 MB an entry per wait would take.
      expect(after - before).toBeLessThan(1_000_000);
      expect(event.waiterCount).toBe(0);
      await nextMacrotask();
    },
    // 400,000 waits: seconds where the code is instrumented (mutation testing, coverage).
    60_000,
  );
});
