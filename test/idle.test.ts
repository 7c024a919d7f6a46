/**
 * When shared listeners and timers go (README: "Every wait takes { signal, timeout }"): a
 * listener or timer that no wait uses any more is dropped by the next macrotask, through
 * `setImmediate` where the runtime has one, else through a zero-delay `setTimeout` (browsers).
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { Event } from '../src/index.js';
import { abortListeners } from './helpers.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

/** A wait on `signal` that ends at once (the event is set), leaving the signal's listener idle. */
async function waitThatEnds(signal: AbortSignal): Promise<void> {
  const event = new Event();
  const wait = event.wait({ signal });
  event.set();
  expect(await wait).toBe(true);
}

describe('the idle sweep', () => {
  it('runs through setImmediate where the runtime has it', async () => {
    const scheduled: Array<() => void> = [];
    vi.stubGlobal('setImmediate', (callback: () => void) => {
      scheduled.push(callback);
    });
    const { signal } = new AbortController();
    await waitThatEnds(signal);
    expect(abortListeners(signal)).toBe(1);
    expect(scheduled).toHaveLength(1);
    (scheduled[0] as () => void)();
    expect(abortListeners(signal)).toBe(0);
  });

  it('runs through a zero-delay setTimeout where there is no setImmediate (browsers)', async () => {
    vi.stubGlobal('setImmediate', undefined);
    const { signal } = new AbortController();
    await waitThatEnds(signal);
    expect(abortListeners(signal)).toBe(1);
    // A 5 ms timer armed after the sweep's fires after it.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(abortListeners(signal)).toBe(0);
  });
});
