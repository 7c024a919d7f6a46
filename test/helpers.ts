/**
 * Leak-invariant helpers shared by the test files.
 *
 * "Nothing left behind" (API.md §1) means: no pending waiter, no timer and no abort listener.
 * Shared timers and listeners may outlive a wait until the next macrotask, so every check first
 * lets one macrotask pass: 1 ms of fake time under fake timers, one `setImmediate` with real ones.
 */

import { getEventListeners } from 'node:events';
import { expect, vi } from 'vitest';

/** Anything with a `waiterCount`: every waitsafe primitive. */
export interface HasWaiters {
  readonly waiterCount: number;
}

/** The number of `abort` listeners on `signal`, as Node's `EventTarget` counts them. */
export function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

/** Resolves after one macrotask turn with real timers (the §1 "next macrotask"). */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs every pending microtask chain a few levels deep (rejections take three hops). */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** The number of ref'ed Node timers now (real timers only). */
export function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

/**
 * Under fake timers: lets 1 ms of fake time pass (the next macrotask), then checks that no
 * waiter, no fake timer and no abort listener on `signals` is left.
 */
export function expectNothingLeftFake(primitive: HasWaiters, signals: readonly AbortSignal[] = []): void {
  vi.advanceTimersByTime(1);
  expect(primitive.waiterCount).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
  for (const signal of signals) expect(abortListeners(signal)).toBe(0);
}

/**
 * With real timers: after one macrotask, checks that no waiter is left, that there are no more
 * ref'ed timers than `baselineTimeouts` (taken before the waits), and no listener on `signals`.
 */
export async function expectNothingLeftReal(
  primitive: HasWaiters,
  signals: readonly AbortSignal[],
  baselineTimeouts: number,
): Promise<void> {
  await nextMacrotask();
  expect(primitive.waiterCount).toBe(0);
  expect(activeTimeouts()).toBeLessThanOrEqual(baselineTimeouts);
  for (const signal of signals) expect(abortListeners(signal)).toBe(0);
}

/** How a tracked promise settled, observed through its callbacks. */
export interface Tracked<T> {
  /** How many times a callback ran (a promise settles once: this must end at 0 or 1). */
  settlements: number;
  status: 'pending' | 'fulfilled' | 'rejected';
  value: T | undefined;
  reason: unknown;
  /** `performance.now()` when the callback ran (the fake clock under fake timers). */
  at: number | undefined;
}

/** Observes `promise` without letting a rejection go unhandled. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked: Tracked<T> = { settlements: 0, status: 'pending', value: undefined, reason: undefined, at: undefined };
  promise.then(
    (value) => {
      tracked.settlements++;
      tracked.status = 'fulfilled';
      tracked.value = value;
      tracked.at = performance.now();
    },
    (reason: unknown) => {
      tracked.settlements++;
      tracked.status = 'rejected';
      tracked.reason = reason;
      tracked.at = performance.now();
    },
  );
  return tracked;
}

/** The rejection reason of `promise`; fails the test if it fulfils. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  let fulfilled = false;
  let value: unknown;
  const reason = await promise.then(
    (result) => {
      fulfilled = true;
      value = result;
    },
    (error: unknown) => error,
  );
  if (fulfilled) expect.unreachable(`expected a rejection, got a fulfilment with ${String(value)}`);
  return reason;
}

/** Calls a method that returns a promise; fails the test if it throws synchronously. */
export function callWithoutThrowing<T>(fn: () => Promise<T>): Promise<T> {
  let result: Promise<T>;
  try {
    result = fn();
  } catch (error) {
    expect.unreachable(`threw synchronously: ${String(error)}`);
  }
  expect(result).toBeInstanceOf(Promise);
  return result;
}

/** Checks that `error` is a fresh-looking `TimeoutError` DOMException. */
export function expectTimeoutError(error: unknown): asserts error is DOMException {
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe('TimeoutError');
  expect((error as DOMException).code).toBe(DOMException.TIMEOUT_ERR);
}

/** Collects `process` warnings emitted while `fn` runs plus one macrotask (they are emitted on nextTick). */
export async function collectWarnings(fn: () => void | Promise<void>): Promise<Error[]> {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => {
    warnings.push(warning);
  };
  process.on('warning', onWarning);
  try {
    await fn();
    await nextMacrotask();
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}
