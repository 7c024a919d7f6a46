/**
 * Timeouts and signals: `sleep`, `timeout`, `timeoutAt`, `Deadline` and `linkSignals`, on the
 * engine's shared timers and its one-listener-per-signal registry. No `AbortSignal.timeout`,
 * no `AbortSignal.any`, and no listener per call on a long-lived signal.
 *
 * Each call (each Deadline) registers in a small queue of its own rather than in one module-wide
 * list: a registration is then held only by its signal's listener and its timer, so a call whose
 * signal becomes garbage (and that has no timer) is garbage too, instead of being kept by a global
 * list forever.
 *
 * @module
 */

import { invalidStateError } from './core/dom-errors.js';
import { badValue, checkFunction, invalidOptions, isAbortSignal, SIGNAL_KEYS } from './core/options.js';
import { disposeSymbol } from './core/releaser.js';
import { now } from './core/timers.js';
import { rejectWaiter, type Waiter } from './core/waiter.js';
import { WaiterQueue, type WaitOwner, watch } from './core/waiters.js';

function ignore(): void {}

/**
 * The owner of the helpers' registrations. Not a Primitive: it has no waiters of its own to
 * report, never warns, and is never tracked by the inspector. Its label, with the helper's name
 * as the verb, makes `timeout()`'s TimeoutError message.
 */
// Stryker disable next-line ObjectLiteral,StringLiteral: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/timeouts-mutants.test.ts
const helpers: WaitOwner = { label: 'waitsafe', checkWaiters: ignore };

function checkMs(ms: unknown): void {
  if (typeof ms !== 'number') throw badValue('The "ms" argument', 'a number of milliseconds', ms);
  if (!(ms >= 0)) throw badValue('The "ms" argument', '>= 0 or Infinity', ms, true);
}

/** Checks a `{ signal }` options argument (strictly: no other key) and returns its signal. */
function checkSignalOption(options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  const error = invalidOptions(options, SIGNAL_KEYS);
  if (error !== undefined) throw error;
  return (options as { signal?: AbortSignal }).signal;
}

// ---------------------------------------------------------------------------------------------
// sleep

/** A `sleep()` call: its timeout is the event it waits for. */
class Sleep extends WaiterQueue<void> {
  override onExpire(node: Waiter<void>): void {
    node.resolve(undefined);
  }
}

/**
 * Resolves after `ms` milliseconds, like `timers/promises`' `setTimeout` but on shared timers:
 * concurrent sleeps of one duration share one timer, and sleeps on one signal share one
 * listener.
 *
 * *Cancellation.* If `signal` aborts first, the sleep rejects with `signal.reason` at once and
 * its timer and listener are released; an already-aborted signal rejects at once.
 *
 * @param ms Milliseconds, `>= 0`; `Infinity` sleeps until aborted. `0` resolves from a timer,
 *   never synchronously.
 * @returns A promise that never throws synchronously.
 * @throws {TypeError} (as a rejection) If `ms` is not a number, or `options` is not an object or
 *   undefined, has a key other than `signal`, or its `signal` is not an AbortSignal.
 * @throws {RangeError} (as a rejection) If `ms` is negative or NaN.
 * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
 *   (at once if it is already aborted).
 *
 * @example
 * ```ts
 * import { sleep } from 'waitsafe';
 * await sleep(100);
 *
 * const shutdown = new AbortController();
 * setTimeout(() => shutdown.abort(new Error('shutting down')), 100);
 * await sleep(60_000, { signal: shutdown.signal }).catch((error) => error.message); // 'shutting down'
 * ```
 */
export function sleep(ms: number, options?: { signal?: AbortSignal | undefined }): Promise<void> {
  // What the executor throws rejects the promise: a bad argument, or an aborted signal's reason.
  return new Promise<void>((resolve) => {
    checkMs(ms);
    const signal = checkSignalOption(options);
    if (signal?.aborted) throw signal.reason;
    // With no deadline and no signal nothing could ever end it: register nothing that would stay.
    // Stryker disable next-line ConditionalExpression,StringLiteral: registered anyway, such a sleep has no timer and no listener, so it is garbage with its promise all the same, which never settles either way; and Sleep's verb would only name a TimeoutError, which a sleep never makes (its onExpire resolves)
    if (ms !== Infinity || signal !== undefined) watch(new Sleep(helpers, 'sleep'), signal, ms, undefined, resolve);
  });
}

// ---------------------------------------------------------------------------------------------
// timeout / timeoutAt

/**
 * A `timeout()` call. Its registration's data is the controller of `fn`'s signal. At the
 * deadline, the inherited `onExpire` calls `onCancel` with a fresh TimeoutError
 * (`waitsafe: timeout() timed out after 50 ms`).
 */
class TimeoutCall extends WaiterQueue<unknown> {
  /** The outer signal aborted, or the deadline passed: abort `fn`'s signal, and reject, with `reason`. */
  override onCancel(node: Waiter<unknown>, reason: unknown): void {
    (node.data as AbortController).abort(reason);
    rejectWaiter(node, reason);
  }
}

/**
 * Runs `fn` with a signal that aborts after `ms` milliseconds, and rejects with a `TimeoutError`
 * DOMException at that moment if `fn` has not settled: the leak-free `Promise.race(work, sleep)`
 * and asyncio's `wait_for`.
 *
 * *Cancellation.* At the deadline, `fn`'s signal aborts with the TimeoutError, so every wait
 * inside `fn` that takes it ends and cleans up; `fn`'s later outcome is ignored without an
 * unhandled rejection. If `options.signal` aborts first, `fn`'s signal aborts with its reason and
 * the promise rejects with it; if it is already aborted, `fn` is not called. Whatever wins,
 * nothing of the call is held by a timer or listener once the promise settles.
 *
 * @param ms Milliseconds, `>= 0`; `Infinity`: no deadline. `timeout(0, fn)` calls `fn` at once
 *   with a signal that is not aborted yet, and a result that settles before the timer runs wins.
 * @returns `fn`'s result, or its error. Never throws synchronously (a synchronous throw from
 *   `fn` rejects the promise).
 * @throws {TypeError} (as a rejection) If `ms` is not a number or `fn` not a function, or `options` is not an object or
 *   undefined, has a key other than `signal`, or its `signal` is not an AbortSignal.
 * @throws {RangeError} (as a rejection) If `ms` is negative or NaN.
 * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
 *   (at once if it is already aborted).
 * @throws {DOMException} (as a rejection) `TimeoutError` at the deadline, if `fn` has not settled.
 *
 * @example
 * ```ts
 * import { timeout } from 'waitsafe';
 *
 * const body = await timeout(5_000, async (signal) => {
 *   using release = await lock.acquire({ signal }); // ends at the deadline, nothing left queued
 *   const res = await fetch(url, { signal });
 *   return res.text();
 * }, { signal: request.signal });
 * ```
 */
export function timeout<T>(
  ms: number,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  options?: { signal?: AbortSignal | undefined },
): Promise<T> {
  // What the executor throws rejects the promise: a bad argument, or an aborted signal's reason
  // (then `fn` is not called).
  return new Promise<T>((resolve) => {
    checkMs(ms);
    checkFunction(fn, 'The "fn" argument');
    const signal = checkSignalOption(options);
    if (signal?.aborted) throw signal.reason;
    const controller = new AbortController();
    const call = new TimeoutCall(helpers, 'timeout');
    const node = watch(call, signal, ms, controller, resolve as (value: unknown) => void);
    // Whatever settles first wins; a later outcome of fn is ignored (and handled here, so it
    // never becomes an unhandled rejection).
    const fail = (error: unknown): void => {
      if (call.detach(node)) rejectWaiter(node, error);
    };
    try {
      // Throws if fn throws, or returns a promise whose `constructor` getter throws.
      Promise.resolve(fn(controller.signal)).then((value) => {
        if (call.detach(node)) node.resolve(value);
      }, fail);
    } catch (error) {
      fail(error);
    }
  });
}

/**
 * Like {@link timeout}, with an absolute deadline on `performance.now()`'s clock. A deadline in
 * the past behaves like `timeout(0)`: `fn` still runs, and loses only to a timer.
 *
 * *Cancellation.* As for {@link timeout}.
 *
 * @param deadline A `performance.now()` time; any number but NaN (`Infinity`: no deadline).
 * @throws {TypeError} / {RangeError} (as a rejection) As for {@link timeout}, with `deadline` in
 *   the place of `ms` (a RangeError only for NaN).
 *
 * @example
 * ```ts
 * const deadline = performance.now() + 10_000; // one budget for several steps
 * await timeoutAt(deadline, (signal) => stepOne(signal));
 * await timeoutAt(deadline, (signal) => stepTwo(signal));
 * ```
 */
export function timeoutAt<T>(
  deadline: number,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  options?: { signal?: AbortSignal | undefined },
): Promise<T> {
  if (typeof deadline !== 'number') {
    return Promise.reject(badValue('The "deadline" argument', 'a number', deadline));
  }
  if (Number.isNaN(deadline)) {
    return Promise.reject(badValue('The "deadline" argument', 'a number other than NaN', deadline, true));
  }
  // Whole milliseconds, rounded up (never early), so that calls share timers more often.
  // Stryker disable next-line ConditionalExpression: for an Infinity deadline the other branch gives Infinity too (Infinity - now() is Infinity)
  const ms = deadline === Infinity ? deadline : Math.max(0, Math.ceil(deadline - now()));
  return timeout(ms, fn, options);
}

// ---------------------------------------------------------------------------------------------
// Deadline

/**
 * A Deadline's registration while armed (on its outer signal, and its timer), one per Deadline.
 * Its data is the Deadline's controller, which it aborts as a `timeout()` call does its own (the
 * registration's `resolve` does nothing); it remembers whether the deadline passed.
 */
class DeadlineRegistration extends TimeoutCall {
  expired = false;

  override onExpire(node: Waiter<unknown>, ms: number): void {
    this.expired = true;
    this.onCancel(node, new DOMException(`Deadline timed out after ${ms} ms`, 'TimeoutError'));
  }
}

/**
 * A deadline as an `AbortSignal` source: asyncio's `Timeout` (`async with asyncio.timeout(5)`),
 * for JavaScript's `using`. Its `signal` aborts with a `TimeoutError` DOMException when the
 * deadline passes, or with the outer signal's reason if that aborts first. The deadline can be
 * moved while it has not passed.
 *
 * Its timer keeps the process alive until it fires or the Deadline is disposed, like
 * `setTimeout`. Disposing clears its timer and its listener on the outer signal.
 *
 * @example
 * ```ts
 * import { Deadline } from 'waitsafe';
 *
 * {
 *   using deadline = new Deadline(5_000, { signal: request.signal });
 *   using release = await lock.acquire({ signal: deadline.signal });
 *   deadline.reschedule(10_000);          // more time for the slow part
 *   await queue.get({ signal: deadline.signal });
 * } // timer and listener released here
 * ```
 */
export class Deadline implements Disposable {
  readonly #controller = new AbortController();
  // Stryker disable next-line StringLiteral: the verb would only name the default TimeoutError, and DeadlineRegistration's onExpire makes its own
  readonly #registration = new DeadlineRegistration(helpers, 'Deadline');
  readonly #outer: AbortSignal | undefined;
  #when = Infinity;
  #disposed = false;

  /**
   * @param ms Milliseconds from now, `>= 0`; `Infinity`: no deadline until rescheduled.
   * @param options `signal`: an outer signal whose abort aborts this one (with its reason).
   * @throws {TypeError} If `ms` is not a number, or `options` is not an object or undefined, has
   *   a key other than `signal`, or its `signal` is not an AbortSignal.
   * @throws {RangeError} If `ms` is negative or NaN.
   */
  constructor(ms: number, options?: { signal?: AbortSignal | undefined }) {
    checkMs(ms);
    const outer = checkSignalOption(options);
    this.#outer = outer;
    if (outer?.aborted) this.#controller.abort(outer.reason);
    else this.#arm(ms);
  }

  /**
   * Aborts with a `TimeoutError` at the deadline, or with the outer signal's reason.
   *
   * @example
   * ```ts
   * using deadline = new Deadline(1_000);
   * await event.wait({ signal: deadline.signal });
   * ```
   */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * The deadline, on `performance.now()`'s clock; `Infinity` when there is none.
   *
   * @example
   * ```ts
   * using d = new Deadline(1_000);
   * d.when - performance.now(); // about 1000
   * ```
   */
  get when(): number {
    return this.#when;
  }

  /**
   * Whether the deadline itself passed (not an outer abort).
   *
   * @example
   * ```ts
   * try { await work(deadline.signal); } catch (e) { if (deadline.expired()) console.log('too slow'); }
   * ```
   */
  expired(): boolean {
    return this.#registration.expired;
  }

  /**
   * Moves the deadline to `ms` milliseconds from now (`Infinity`: no deadline).
   *
   * @throws {DOMException} `InvalidStateError` once the deadline passed, the outer signal
   *   aborted, or the Deadline was disposed.
   * @throws {TypeError} / {RangeError} For a bad `ms`, as the constructor.
   *
   * @example
   * ```ts
   * deadline.reschedule(30_000);
   * ```
   */
  reschedule(ms: number): void {
    checkMs(ms);
    if (this.#disposed) throw invalidStateError('Deadline: reschedule() after dispose');
    if (this.#controller.signal.aborted) {
      const why = this.#registration.expired ? 'passed' : 'was aborted';
      throw invalidStateError(`Deadline: reschedule() after the deadline ${why}`);
    }
    this.#disarm();
    this.#arm(ms);
  }

  /**
   * Clears the timer and the listener on the outer signal. The signal is not aborted.
   *
   * @example
   * ```ts
   * const deadline = new Deadline(5_000);
   * try { await work(deadline.signal); } finally { deadline[Symbol.dispose](); }
   * ```
   */
  [disposeSymbol](): void {
    this.#disposed = true;
    this.#disarm();
  }

  #arm(ms: number): void {
    // Stryker disable next-line ConditionalExpression: for Infinity the other branch gives Infinity too (now() + Infinity)
    this.#when = ms === Infinity ? ms : now() + ms;
    // With no deadline and no outer signal there is nothing to register.
    // Stryker disable next-line ConditionalExpression: registered anyway, it has no timer and no listener, and disarming drops it without a trace (its resolve is ignore)
    if (ms !== Infinity || this.#outer !== undefined) {
      watch(this.#registration, this.#outer, ms, this.#controller, ignore);
    }
  }

  /** Drops its registration, if armed (settling it calls `ignore`). */
  #disarm(): void {
    this.#registration.resolveAll(undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// linkSignals

/** A `linkSignals()` call: one registration per input. Their data is the call's controller. */
class LinkedSignal extends WaiterQueue<void> {
  /** An input aborted: drop the registrations on the others, and abort with its reason. */
  override onCancel(node: Waiter<void>, reason: unknown): void {
    this.resolveAll(undefined);
    (node.data as AbortController).abort(reason);
  }
}

/**
 * The leak-free `AbortSignal.any`: a signal that aborts with the reason of the first input that
 * aborts. When that happens it drops its listeners from every input at once, and disposing it
 * (`using`, or `[Symbol.dispose]()`) drops them too: nothing of it stays on a long-lived input.
 * `undefined` entries are skipped. If an input is already aborted, the result is aborted at once
 * with the first such input's reason (in argument order), and nothing is registered.
 *
 * @example
 * ```ts
 * import { linkSignals } from 'waitsafe';
 *
 * async function handle(request: Request, shutdown: AbortSignal) {
 *   using signal = linkSignals(request.signal, shutdown);
 *   await queue.put(job, { signal });
 * } // its listeners on request.signal and shutdown are gone here
 * ```
 */
export function linkSignals(...signals: (AbortSignal | undefined)[]): AbortSignal & Disposable {
  signals.forEach((signal, i) => {
    if (signal !== undefined && !isAbortSignal(signal)) {
      throw badValue(`Argument ${i} of linkSignals()`, 'an AbortSignal or undefined', signal);
    }
  });
  const controller = new AbortController();
  // Stryker disable next-line StringLiteral: the verb would only name a TimeoutError, and a link has no timeout
  const link = new LinkedSignal(helpers, 'linkSignals');
  const linked = controller.signal as AbortSignal & Disposable;
  // Resolving a registration calls `ignore`: this just drops them all.
  Object.defineProperty(linked, disposeSymbol, { value: () => link.resolveAll(undefined), configurable: true });
  const aborted = signals.find((signal) => signal?.aborted);
  if (aborted !== undefined) {
    controller.abort(aborted.reason);
    return linked;
  }
  for (const signal of signals) {
    // Stryker disable next-line ConditionalExpression: a registration without a signal has no listener and no timer; the link's abort or dispose drops it with the others, calling ignore
    if (signal !== undefined) watch(link, signal, undefined, controller, ignore);
  }
  return linked;
}
