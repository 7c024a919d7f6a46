/**
 * Timeouts and signals: `sleep`, `timeout`, `timeoutAt`, `Deadline` and `linkSignals`, on the
 * engine's shared timers and its one-listener-per-signal registry. No `AbortSignal.timeout`,
 * no `AbortSignal.any`, and no listener per call on a long-lived signal.
 *
 * @module
 */

import { invalidStateError } from './core/errors.js';
import { badValue, checkFunction, invalidOptions, isAbortSignal, SIGNAL_KEYS } from './core/options.js';
import { disposeSymbol } from './core/releaser.js';
import { now } from './core/timers.js';
import { rejectWaiter, type Waiter } from './core/waiter.js';
import { WaiterQueue, type WaitOwner, watch } from './core/waiters.js';

/**
 * The owner of the helpers' registrations. Not a Primitive: it has no waiters of its own to
 * report, never warns, and is never tracked by the inspector.
 */
class Registrations implements WaitOwner {
  constructor(readonly label: string) {}

  checkWaiters(): void {}
}

function checkMs(ms: unknown, what: string): number {
  if (typeof ms !== 'number') throw badValue(`The "${what}" argument`, 'a number of milliseconds', ms);
  if (!(ms >= 0)) throw badValue(`The "${what}" argument`, '>= 0 or Infinity', ms, true);
  return ms;
}

/** Checks a `{ signal }` options argument (strictly: no other key) and returns its signal. */
function checkSignalOption(options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  const error = invalidOptions(options, SIGNAL_KEYS);
  if (error !== undefined) throw error;
  return (options as { signal?: AbortSignal }).signal;
}

function ignore(): void {}

function deadlineError(what: string, ms: number): DOMException {
  return new DOMException(`${what} timed out after ${ms} ms`, 'TimeoutError');
}

// ---------------------------------------------------------------------------------------------
// sleep

class Sleeps extends WaiterQueue<void> {
  override onExpire(node: Waiter<void>): void {
    node.resolve(undefined);
  }
}

const sleepOwner = new Registrations('sleep');

// Each call gets its own small queue rather than one module-wide list: a registration is then
// held only by its signal's listener and its timer, so a call whose signal becomes garbage
// (and that has no timer) is garbage too, instead of being kept by a global list forever.

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
 *
 * @example
 * ```ts
 * import { sleep } from 'waitsafe';
 * await sleep(100);
 * await sleep(60_000, { signal: shutdown.signal }); // rejects with the reason on shutdown
 * ```
 */
export function sleep(ms: number, options?: { signal?: AbortSignal | undefined }): Promise<void> {
  let signal: AbortSignal | undefined;
  try {
    checkMs(ms, 'ms');
    signal = checkSignalOption(options);
  } catch (error) {
    return Promise.reject(error);
  }
  if (signal?.aborted) return Promise.reject(signal.reason);
  // Nothing could ever end it: register nothing that would stay behind.
  if (ms === Infinity && signal === undefined) return new Promise<void>(() => {});
  return new Promise<void>((resolve) => {
    watch(new Sleeps(sleepOwner, 'sleep'), signal, ms, undefined, resolve);
  });
}

// ---------------------------------------------------------------------------------------------
// timeout / timeoutAt

/** What a `timeout()` call's registration settles. */
interface TimeoutCall {
  readonly controller: AbortController;
  readonly ms: number;
}

class TimeoutCalls extends WaiterQueue<unknown> {
  /** The outer signal aborted: abort `fn`'s signal with its reason, and reject with it. */
  override onCancel(node: Waiter<unknown>, reason: unknown): void {
    (node.data as TimeoutCall).controller.abort(reason);
    rejectWaiter(node, reason);
  }

  /** The deadline: abort `fn`'s signal with a TimeoutError, and reject with it. */
  override onExpire(node: Waiter<unknown>): void {
    const call = node.data as TimeoutCall;
    const error = deadlineError('timeout()', call.ms);
    call.controller.abort(error);
    rejectWaiter(node, error);
  }
}

const timeoutOwner = new Registrations('timeout');

function runWithTimeout<T>(
  ms: number,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  const controller = new AbortController();
  const timeoutCalls = new TimeoutCalls(timeoutOwner, 'timeout');
  let node: Waiter<unknown> | undefined;
  const promise = new Promise<T>((resolve) => {
    node = watch(
      timeoutCalls,
      signal,
      ms,
      { controller, ms } satisfies TimeoutCall,
      resolve as (value: unknown) => void,
    );
  });
  const registration = node as Waiter<unknown>;
  let result: T | PromiseLike<T>;
  try {
    result = fn(controller.signal);
  } catch (error) {
    if (timeoutCalls.detach(registration)) rejectWaiter(registration, error);
    return promise;
  }
  // Whatever settles first wins; a later outcome of fn is ignored (and handled here, so it never
  // becomes an unhandled rejection).
  let settled: Promise<T>;
  try {
    settled = Promise.resolve(result);
  } catch (error) {
    // A promise whose `constructor` getter throws.
    if (timeoutCalls.detach(registration)) rejectWaiter(registration, error);
    return promise;
  }
  settled.then(
    (value) => {
      if (timeoutCalls.detach(registration)) registration.resolve(value as never);
    },
    (error: unknown) => {
      if (timeoutCalls.detach(registration)) rejectWaiter(registration, error);
    },
  );
  return promise;
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
 *
 * @example
 * ```ts
 * import { timeout } from 'waitsafe';
 *
 * const body = await timeout(5_000, async (signal) => {
 *   await lock.acquire({ signal });           // ends at the deadline, nothing left queued
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
  let signal: AbortSignal | undefined;
  try {
    checkMs(ms, 'ms');
    checkFunction(fn, 'The "fn" argument');
    signal = checkSignalOption(options);
  } catch (error) {
    return Promise.reject(error);
  }
  if (signal?.aborted) return Promise.reject(signal.reason);
  return runWithTimeout(ms, fn, signal);
}

/**
 * Like {@link timeout}, with an absolute deadline on `performance.now()`'s clock. A deadline in
 * the past behaves like `timeout(0)`: `fn` still runs, and loses only to a timer.
 *
 * *Cancellation.* As for {@link timeout}.
 *
 * @param deadline A `performance.now()` time; any number but NaN (`Infinity`: no deadline).
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
  if (Number.isNaN(deadline)) return Promise.reject(new RangeError('The "deadline" argument must not be NaN'));
  // Whole milliseconds, rounded up (never early), so that calls share timers more often.
  const ms = deadline === Infinity ? deadline : Math.max(0, Math.ceil(deadline - now()));
  return timeout(ms, fn, options);
}

// ---------------------------------------------------------------------------------------------
// Deadline

class DeadlineTimers extends WaiterQueue<void> {
  override onCancel(node: Waiter<void>, reason: unknown): void {
    (node.data as Deadline)[outerAborted](reason);
  }

  override onExpire(node: Waiter<void>): void {
    (node.data as Deadline)[fired]();
  }
}

const deadlineOwner = new Registrations('Deadline');
const outerAborted = Symbol('outerAborted');
const fired = Symbol('fired');

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
 *   await lock.acquire({ signal: deadline.signal });
 *   deadline.reschedule(10_000);          // more time for the slow part
 *   await queue.get({ signal: deadline.signal });
 * } // timer and listener released here
 * ```
 */
export class Deadline implements Disposable {
  readonly #controller = new AbortController();
  readonly #outer: AbortSignal | undefined;
  #node: Waiter<void> | undefined;
  #when: number;
  /** The milliseconds of the last arming, for the TimeoutError message. */
  #ms = 0;
  #expired = false;
  #disposed = false;

  /**
   * @param ms Milliseconds from now, `>= 0`; `Infinity`: no deadline until rescheduled.
   * @param options `signal`: an outer signal whose abort aborts this one (with its reason).
   * @throws {TypeError} If `ms` is not a number or `signal` is not an AbortSignal.
   * @throws {RangeError} If `ms` is negative or NaN.
   */
  constructor(ms: number, options?: { signal?: AbortSignal | undefined }) {
    checkMs(ms, 'ms');
    const outer = checkSignalOption(options);
    this.#outer = outer;
    this.#when = Infinity;
    if (outer?.aborted) {
      this.#controller.abort(outer.reason);
      return;
    }
    this.#arm(ms);
  }

  /**
   * Aborts with a `TimeoutError` at the deadline, or with the outer signal's reason.
   *
   * @example
   * ```ts
   * await event.wait({ signal: new Deadline(1_000).signal });
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
   * const d = new Deadline(1_000);
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
    return this.#expired;
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
    checkMs(ms, 'ms');
    if (this.#disposed) throw invalidStateError('Deadline: reschedule() after dispose');
    if (this.#controller.signal.aborted) {
      throw invalidStateError(`Deadline: reschedule() after the deadline ${this.#expired ? 'passed' : 'was aborted'}`);
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
    this.#ms = ms;
    this.#when = ms === Infinity ? ms : now() + ms;
    // With no deadline and no outer signal there is nothing to register.
    if (ms === Infinity && this.#outer === undefined) return;
    this.#node = watch(new DeadlineTimers(deadlineOwner, 'deadline'), this.#outer, ms, this, ignore);
  }

  #disarm(): void {
    const node = this.#node;
    if (node === undefined) return;
    this.#node = undefined;
    node.queue?.detach(node);
  }

  /** @internal */
  [fired](): void {
    this.#node = undefined;
    this.#expired = true;
    this.#controller.abort(deadlineError('Deadline', this.#ms));
  }

  /** @internal */
  [outerAborted](reason: unknown): void {
    this.#node = undefined;
    this.#controller.abort(reason);
  }
}

// ---------------------------------------------------------------------------------------------
// linkSignals

/** One `linkSignals()` call: its controller and its registration on each input. */
interface Link {
  readonly controller: AbortController;
  readonly nodes: Waiter<void>[];
}

class LinkListeners extends WaiterQueue<void> {
  override onCancel(node: Waiter<void>, reason: unknown): void {
    const link = node.data as Link;
    unlink(link);
    link.controller.abort(reason);
  }
}

const linkOwner = new Registrations('linkSignals');

function unlink(link: Link): void {
  for (const node of link.nodes) node.queue?.detach(node);
  link.nodes.length = 0;
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
  for (let i = 0; i < signals.length; i++) {
    const signal = signals[i];
    if (signal !== undefined && !isAbortSignal(signal)) {
      throw new TypeError(`Argument ${i} of linkSignals() must be an AbortSignal or undefined`);
    }
  }
  const controller = new AbortController();
  const link: Link = { controller, nodes: [] };
  const linked = controller.signal as AbortSignal & Disposable;
  Object.defineProperty(linked, disposeSymbol, { value: () => unlink(link), configurable: true });
  for (const signal of signals) {
    if (signal?.aborted) {
      controller.abort(signal.reason);
      return linked;
    }
  }
  for (const signal of signals) {
    if (signal !== undefined)
      link.nodes.push(watch(new LinkListeners(linkOwner, 'link'), signal, undefined, link, ignore));
  }
  return linked;
}
