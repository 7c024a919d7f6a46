/**
 * Leak-invariant helpers shared by the test files, the same on every runtime the suite runs on.
 *
 * "Nothing left behind" (README: the rules every wait follows) means: no pending waiter, no timer and no abort listener.
 * Shared timers and listeners may outlive a wait until the next macrotask, so every check first
 * lets one macrotask pass: 1 ms of fake time under fake timers, a real macrotask after waitsafe's
 * sweep with real ones. Listeners and real timers are counted by the probe (`probe.ts`).
 */

import { expect, vi } from 'vitest';
import { probe } from './probe.js';

/** Anything with a `waiterCount`: every waitsafe primitive. */
export interface HasWaiters {
  readonly waiterCount: number;
}

/** The number of `abort` listeners on `signal` now. */
export function abortListeners(signal: AbortSignal): number {
  return probe.listenerCount(signal, 'abort');
}

/**
 * Resolves on a real macrotask after the sweep waitsafe scheduled (the contract's "next macrotask"):
 * `setImmediate` where the runtime has it, as waitsafe does, else after the zero-delay timers
 * pending now. Real timers even while fake ones are installed.
 */
export function nextMacrotask(): Promise<void> {
  return probe.nextMacrotask();
}

/**
 * Whether `done()` holds within some macrotasks and full GCs (it returns as soon as it does).
 * A WeakRef target touched in this job stays alive until the job ends, so macrotasks must pass;
 * and Bun's collector scans the stack conservatively, so a stale slot can keep a target a few
 * more rounds on a loaded machine: every other round is V8's asynchronous major GC where the
 * runtime's `gc()` takes options, which runs off this stack.
 */
export async function afterGc(done: () => boolean, rounds = 50): Promise<boolean> {
  const gc = (globalThis as { gc?: (options?: object) => unknown }).gc;
  if (typeof gc !== 'function') throw new Error('needs gc(): vitest.config.ts exposes it on every runtime');
  for (let i = 0; i < rounds && !done(); i++) {
    await nextMacrotask();
    const collecting = gc(i % 2 === 1 ? { type: 'major', execution: 'async' } : undefined);
    if (typeof (collecting as Promise<void> | undefined)?.then === 'function') await collecting;
  }
  return done();
}

/** Runs every pending microtask chain a few levels deep (rejections take three hops). */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** The number of real `setTimeout` timers that have neither fired nor been cleared. */
export function activeTimeouts(): number {
  return probe.pendingTimers();
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

/** The parts of Node's `process` the helpers use. */
interface NodeProcess {
  on?: (event: string, listener: (value: never) => void) => unknown;
  off?: (event: string, listener: (value: never) => void) => unknown;
  emitWarning?: unknown;
}

/** `process`, where the runtime has Node's (Node, Bun, Deno; not a browser). */
export const nodeProcess = (globalThis as unknown as { process?: NodeProcess }).process;

/**
 * Collects the warnings emitted while `fn` runs plus one macrotask (Node emits them on nextTick):
 * `process` 'warning' events where the runtime has them, and `console.warn` calls everywhere
 * (which is where waitsafe warns without `process.emitWarning`, and where a browser would).
 */
export async function collectWarnings(fn: () => void | Promise<void>): Promise<Error[]> {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => {
    warnings.push(warning);
  };
  const consoleWarn = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    warnings.push(new Error(args.map(String).join(' ')));
  });
  const events = typeof nodeProcess?.on === 'function' && typeof nodeProcess.off === 'function';
  if (events) nodeProcess?.on?.('warning', onWarning);
  try {
    await fn();
    await nextMacrotask();
  } finally {
    if (events) nodeProcess?.off?.('warning', onWarning);
    consoleWarn.mockRestore();
  }
  return warnings;
}

/**
 * Spies on the channel waitsafe's leak warning goes through on this runtime, without printing:
 * `process.emitWarning` where it exists, else `console.warn`. The first argument of each call is
 * the message.
 */
export function spyOnWarnings() {
  if (typeof nodeProcess?.emitWarning === 'function') {
    return vi
      .spyOn(nodeProcess as { emitWarning: (message: string, options?: object) => void }, 'emitWarning')
      .mockImplementation(() => {});
  }
  return vi.spyOn(console, 'warn').mockImplementation(() => {});
}

/**
 * Checks that `call`, a call recorded by a `spyOnWarnings()` spy, is a leak warning whose message
 * contains `text`: with type WaiterLeakWarning and code WAITSAFE_MAX_WAITERS on
 * `process.emitWarning`, prefixed `WaiterLeakWarning: ` on `console.warn`.
 */
export function expectLeakWarning(call: readonly unknown[] | undefined, text: string): void {
  expect(call).toBeDefined();
  const [message, options] = call as readonly unknown[];
  expect(String(message)).toContain(text);
  if (typeof nodeProcess?.emitWarning === 'function') {
    expect(options).toEqual({ type: 'WaiterLeakWarning', code: 'WAITSAFE_MAX_WAITERS' });
  } else {
    expect(String(message)).toMatch(/^WaiterLeakWarning: /);
  }
}

/**
 * Runs `fn` and one macrotask and returns the promise rejections nobody handled meanwhile:
 * `process` 'unhandledRejection' events where the runtime has them (Node processes them before
 * the next macrotask), else the global 'unhandledrejection' events of a browser.
 */
export async function unhandledRejectionsDuring(fn: () => void | Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  if (typeof nodeProcess?.on === 'function' && typeof nodeProcess.off === 'function') {
    const listener = (reason: unknown) => {
      seen.push(reason);
    };
    nodeProcess.on('unhandledRejection', listener);
    try {
      await fn();
      await flushMicrotasks();
      await nextMacrotask();
    } finally {
      nodeProcess.off('unhandledRejection', listener);
    }
    return seen;
  }
  // A browser reports the rejections left unhandled by a microtask checkpoint in a task it queues
  // then, in order. So once a canary rejection left unhandled after `fn` is reported, every
  // rejection `fn` left is too. The canary is stopped before the test runner's own listener.
  const canary = { canary: true };
  let canarySeen: () => void = () => {};
  const canaryReported = new Promise<void>((resolve) => {
    canarySeen = resolve;
  });
  const listener = (event: PromiseRejectionEvent) => {
    if (event.reason === canary) {
      event.preventDefault();
      event.stopImmediatePropagation();
      canarySeen();
    } else {
      seen.push(event.reason);
    }
  };
  globalThis.addEventListener('unhandledrejection', listener, { capture: true });
  try {
    await fn();
    await flushMicrotasks();
    void Promise.reject(canary);
    await canaryReported;
  } finally {
    globalThis.removeEventListener('unhandledrejection', listener, { capture: true });
  }
  return seen;
}
