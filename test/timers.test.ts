/**
 * Waits with a timeout on the runtime's own `setTimeout` and `clearTimeout`, with real timers.
 *
 * waitsafe keeps the `setTimeout` and `clearTimeout` it found on `globalThis` and calls them
 * later. A browser throws `TypeError: Illegal invocation` when they are called with a `this` that
 * is neither the global object nor undefined, so calling them as methods of the object that
 * stores them broke every wait with a timeout in Chromium (fixed in 4fff762). Node ignores
 * `this`, so only a real browser shows that bug; the last test checks the calls on every runtime.
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { Event, Lock, sleep } from '../src/index.js';
import { activeTimeouts, expectTimeoutError, flushMicrotasks, nextMacrotask, rejectionOf, track } from './helpers.js';

describe("shared timers on the runtime's own setTimeout", () => {
  it('a wait with a timeout rejects with a TimeoutError when the real timer fires', async () => {
    const event = new Event({ name: 'never set' });
    const baseline = activeTimeouts();
    const outcome = event.wait({ timeout: 5 });
    expect(event.waiterCount).toBe(1);
    expect(activeTimeouts()).toBe(baseline + 1);
    const error = await rejectionOf(outcome);
    expectTimeoutError(error);
    expect(error.message).toContain('Event "never set"');
    expect(event.waiterCount).toBe(0);
    await nextMacrotask();
    expect(activeTimeouts()).toBeLessThanOrEqual(baseline);
  });

  it('a wait satisfied before its timeout has its real timer cleared by the next macrotask', async () => {
    const lock = new Lock();
    const release = await lock.acquire();
    const baseline = activeTimeouts();
    const outcome = lock.acquire({ timeout: 60_000 });
    expect(activeTimeouts()).toBe(baseline + 1);
    release();
    const next = await outcome;
    await nextMacrotask();
    expect(activeTimeouts()).toBeLessThanOrEqual(baseline);
    next();
    expect(lock.isLocked()).toBe(false);
  });

  it('sleep resolves when the real timer fires, and leaves no timer', async () => {
    const baseline = activeTimeouts();
    const start = performance.now();
    await sleep(5);
    expect(performance.now() - start).toBeGreaterThanOrEqual(4);
    await nextMacrotask();
    expect(activeTimeouts()).toBeLessThanOrEqual(baseline);
  });

  it('calls setTimeout and clearTimeout as plain functions, never as methods of another object', async () => {
    const realSetTimeout = globalThis.setTimeout;
    const realClearTimeout = globalThis.clearTimeout;
    const receivers: unknown[] = [];
    // Stand-ins that record their `this` and hand over to the real functions; waitsafe keeps one
    // set of shared timers per setTimeout function, so waits made now use these.
    globalThis.setTimeout = function (this: unknown, ...args: Parameters<typeof setTimeout>) {
      receivers.push(this);
      return realSetTimeout(...args);
    } as typeof setTimeout;
    globalThis.clearTimeout = function (this: unknown, handle: Parameters<typeof clearTimeout>[0]) {
      receivers.push(this);
      realClearTimeout(handle);
    } as typeof clearTimeout;
    try {
      const event = new Event();
      const timedOut = event.wait({ timeout: 1 });
      expectTimeoutError(await rejectionOf(timedOut));
      const satisfied = event.wait({ timeout: 60_000 });
      event.set();
      await satisfied;
      await nextMacrotask();
    } finally {
      globalThis.setTimeout = realSetTimeout;
      globalThis.clearTimeout = realClearTimeout;
    }
    // At least: a timer for each wait and the clearing of the second one.
    expect(receivers.length).toBeGreaterThanOrEqual(3);
    for (const receiver of receivers) expect(receiver === undefined || receiver === globalThis).toBe(true);
  });
});

describe('timeouts at the edges of the timer', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('a timeout longer than setTimeout takes (2^31 - 1 ms) does not fire at once', async () => {
    // setTimeout runs a longer delay after 1 ms (Node, browsers): the shared timer is armed for
    // at most 2^31 - 1 ms and re-armed for the rest.
    const event = new Event();
    const controller = new AbortController();
    const wait = track(event.wait({ timeout: 2 ** 31, signal: controller.signal }));
    // A 1 ms timer armed before this 5 ms one fires first.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await flushMicrotasks();
    expect(wait.status).toBe('pending');
    controller.abort();
    await flushMicrotasks();
    expect(wait.status).toBe('rejected');
    await nextMacrotask();
  });

  it('a timeout duration keeps one timer when the timer functions were swapped meanwhile', async () => {
    // A wait on the real timers, then the same duration on fake ones (a test runner's): two
    // timers. Once the real one is dropped, further waits of that duration join the fake one.
    // The idle sweep runs on the real timers, here and in browsers (no setImmediate there).
    const realSetTimeout = globalThis.setTimeout;
    const realMacrotask = () => new Promise((resolve) => realSetTimeout(resolve, 5));
    vi.stubGlobal('setImmediate', (callback: () => void) => realSetTimeout(callback, 0));
    const event = new Event();
    const controller = new AbortController();
    const onReal = event.wait({ timeout: 50_000, signal: controller.signal });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const onFake = track(event.wait({ timeout: 50_000 }));
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    await rejectionOf(onReal);
    await realMacrotask();
    const alsoOnFake = track(event.wait({ timeout: 50_000 }));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(50_000);
    await flushMicrotasks();
    expect([onFake.status, alsoOnFake.status]).toEqual(['rejected', 'rejected']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a wait due 1 ms after time 0 on a fake clock expires at 1 ms', async () => {
    vi.useFakeTimers({ now: 0 });
    const wait = track(new Event().wait({ timeout: 1 }));
    vi.advanceTimersByTime(1);
    await flushMicrotasks();
    expect(wait.status).toBe('rejected');
    expectTimeoutError(wait.reason);
  });
});
