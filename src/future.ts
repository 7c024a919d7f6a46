import { invalidStateError } from './core/dom-errors.js';
import type { PrimitiveOptions, WaitOptions } from './core/options.js';
import { rejectInvalid } from './core/options.js';
import { keepShape, Primitive } from './core/primitive.js';
import { cancelAll, WaiterQueue } from './core/waiters.js';

/** `Future#state`: no outcome yet. */
const PENDING = 0;
/** `Future#state`: `setResult()` was called. */
const DONE = 1;
/** `Future#state`: `setException()` was called. */
const FAILED = 2;

type State = typeof PENDING | typeof DONE | typeof FAILED;

/**
 * A one-shot value that any number of tasks wait for, like `asyncio.Future` without callbacks
 * (and without `cancel()`: a waiter gives up through its own `signal` or `timeout`, the Future
 * is not affected). It is set once, with a value (`setResult`) or an exception
 * (`setException`); every pending wait settles with it, and waits made afterwards settle with
 * it at once.
 *
 * It replaces the usual "an Event plus a field" (set the field, then the event) and the usual
 * "a promise plus its resolve function": unlike a bare promise, each wait can give up on its own,
 * and a wait that gives up leaves nothing behind: its waiter is unlinked in O(1) at that moment,
 * and no timer or abort listener holds it. A Future failed with `setException()` that nobody
 * waits for raises no unhandled rejection (a wait made later rejects, for that caller).
 *
 * @example Wait for an id, give up after 10 s
 * ```ts
 * import { Future } from 'waitsafe';
 *
 * const sessionId = new Future<string>({ name: 'sessionId' });
 * setTimeout(() => sessionId.setResult('s-42'), 100); // the id service answers
 * await sessionId.wait({ timeout: 10_000 }); // 's-42', or a TimeoutError after 10 s
 * String(sessionId); // 'Future "sessionId" [done]'
 * ```
 */
export class Future<T> extends Primitive {
  #state: State = PENDING;
  /** The result once done, the exception once failed. */
  #outcome: unknown = undefined;
  readonly #waiters: WaiterQueue<T> = new WaiterQueue<T>(this, 'wait');

  /**
   * @param options `name` (shown in messages and `String(future)`) and `maxWaiters` (warn once
   *   when more waits than this are pending; default {@link getDefaultMaxWaiters}).
   * @throws {TypeError} If `options`, `name` or `maxWaiters` has the wrong type, or `options` has a key it does not know.
   * @throws {RangeError} If `maxWaiters` is not an integer `>= 0` or `Infinity`.
   */
  constructor(options?: PrimitiveOptions) {
    super(options);
  }

  /**
   * Sets the result: every pending wait resolves with `value`, in the order they started, in
   * this synchronous step (`waiterCount` is 0 when it returns), and later waits resolve with it
   * at once.
   *
   * As with any promise, the promises `wait()` returns adopt a thenable `value` (they settle as
   * it does); `result()` returns `value` itself.
   *
   * @throws {DOMException} `InvalidStateError` if the Future is already done (by `setResult` or
   *   `setException`); the first outcome stays.
   *
   * @example
   * ```ts
   * const answer = new Future<number>();
   * const waiting = answer.wait();
   * answer.setResult(42);
   * await waiting; // 42
   * answer.setResult(43); // throws InvalidStateError: a Future is set once
   * ```
   */
  setResult(value: T): void {
    if (this.#state !== PENDING) throw this.#alreadyDone('setResult');
    this.#state = DONE;
    this.#outcome = value;
    this.#waiters.resolveAll(value);
  }

  /**
   * Sets an exception: every pending wait rejects with `error` (the exact value), in the order
   * they started, in this synchronous step, and later waits reject with it at once. With nobody
   * waiting this raises no unhandled rejection: no rejected promise exists until a wait asks for
   * one.
   *
   * @param error Anything; an `Error` is the usual choice.
   * @throws {DOMException} `InvalidStateError` if the Future is already done (by `setResult` or
   *   `setException`); the first outcome stays.
   *
   * @example
   * ```ts
   * const user = new Future<string>();
   * user.setException(new Error('lookup failed')); // nobody waits: no unhandled rejection
   * await user.wait(); // throws Error: the exception, for this caller
   * ```
   */
  setException(error: unknown): void {
    if (this.#state !== PENDING) throw this.#alreadyDone('setException');
    this.#state = FAILED;
    this.#outcome = error;
    cancelAll(this.#waiters, () => error);
  }

  /**
   * Whether the Future has an outcome: a result or an exception.
   *
   * @example
   * ```ts
   * const f = new Future<string>();
   * f.done(); // false
   * f.setException(new Error('no'));
   * f.done(); // true
   * ```
   */
  done(): boolean {
    return this.#state !== PENDING;
  }

  /**
   * The result, without waiting: returns the value given to `setResult()`, or throws the
   * exception given to `setException()` (the exact value).
   *
   * @throws {DOMException} `InvalidStateError` if the Future is not done yet.
   * @throws {unknown} The exception given to `setException()`.
   *
   * @example
   * ```ts
   * const f = new Future<string>();
   * f.result(); // throws InvalidStateError: not done yet
   * f.setResult('ok');
   * f.result(); // 'ok'
   * ```
   */
  result(): T {
    if (this.#state === DONE) return this.#outcome as T;
    if (this.#state === FAILED) throw this.#outcome;
    throw invalidStateError(`${this.label}: result() called before the Future is done`);
  }

  /**
   * Waits until the Future is done, and resolves with its result or rejects with its exception
   * (the exact value). Settles at once if the Future is done now: a failed Future makes a fresh
   * rejected promise for each call, so only a caller that ignores it has an unhandled rejection.
   *
   * *Cancellation.* With `signal`, the wait rejects with `signal.reason` (the exact value) when
   * the signal aborts; if it is already aborted, the call rejects at once and registers nothing,
   * even if the Future is done. With `timeout`, it rejects with a `TimeoutError` DOMException
   * after that many milliseconds (`timeout: 0` rejects at once unless the Future is done).
   * Either way the waiter is unlinked in the same synchronous step and `waiterCount` drops;
   * giving up changes nothing for the Future or its other waiters. Once `setResult()` or
   * `setException()` has settled a wait, a later abort changes nothing.
   *
   * @param options `signal` and/or `timeout` (milliseconds; `Infinity` or absent: no limit).
   * @returns A promise of the result. It never throws synchronously.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   * @throws {unknown} (as a rejection) The exception given to `setException()`, the exact value.
   *
   * @example Give up after 10 s, or when the request is aborted
   * ```ts
   * const config = new Future<{ port: number }>();
   * setTimeout(() => config.setResult({ port: 8080 }), 100); // what the wait is for
   * try {
   *   const { port } = await config.wait({ timeout: 10_000, signal: request.signal });
   *   console.log(`listening on ${port}`);
   * } catch (error) {
   *   if (isTimeoutError(error)) console.log('no config in time');
   *   else throw error;
   * }
   * ```
   */
  wait(options?: WaitOptions): Promise<T> {
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    if (this.#state === DONE) return Promise.resolve(this.#outcome as T);
    if (this.#state === FAILED) return Promise.reject(this.#outcome);
    return this.#waiters.wait(options);
  }

  /**
   * Number of waits currently pending. Always 0 once the Future is done.
   *
   * @example
   * ```ts
   * const f = new Future<number>();
   * void f.wait();
   * f.waiterCount; // 1
   * f.setResult(1);
   * f.waiterCount; // 0
   * ```
   */
  get waiterCount(): number {
    return this.#waiters.size;
  }

  /**
   * `'Future'`, as `Object.prototype.toString` shows it.
   *
   * @example
   * ```ts
   * Object.prototype.toString.call(new Future()); // '[object Future]'
   * ```
   */
  get [Symbol.toStringTag](): string {
    return 'Future';
  }

  /** `pending, waiters:N`, then `done` or `failed` (a done Future has no waiters). */
  protected describeState(): string {
    if (this.#state === DONE) return 'done';
    if (this.#state === FAILED) return 'failed';
    return `pending, waiters:${this.#waiters.size}`;
  }

  #alreadyDone(method: string): DOMException {
    const outcome = this.#state === DONE ? 'has a result' : 'failed';
    return invalidStateError(`${this.label}: ${method}() called, but the Future is already done (it ${outcome})`);
  }
}

// One Future (and its waiter queue) stays alive, so a full GC that finds none of the caller's
// Futures alive (per-request Futures that all finished) does not deoptimize the wait path (see
// keepShape).
// Stryker disable next-line ArrowFunction: an instance kept alive only keeps optimized code from deoptimizing after a full GC: a matter of speed, measured by bench/profile.mjs after-gc (and it runs while the module loads, a static mutant)
keepShape(() => new Future());

const objectToString = Object.prototype.toString;

/**
 * Whether `error` is a timeout: a `DOMException` named `'TimeoutError'`, as waitsafe's waits
 * reject with when their `timeout` elapses, and as `AbortSignal.timeout()`, a {@link Deadline}
 * and `fetch` report. A DOMException of another realm (an iframe, jsdom) counts too: it is
 * recognized by its brand as `Object.prototype.toString` shows it (`[object DOMException]`), not
 * by `instanceof`.
 *
 * Anything else is `false`, never an exception: a plain `Error` or any other object merely
 * named `'TimeoutError'` (another library's own TimeoutError class, as in p-timeout: test those
 * with that library's `instanceof`), an `AbortError`, and non-objects.
 *
 * To tell a wait's own timeout from an abort of its signal, when that signal may itself abort
 * with a TimeoutError (`AbortSignal.timeout()`, a Deadline), compare with the signal's reason
 * (`error === signal.reason`) first.
 *
 * @example
 * ```ts
 * import { Event, isTimeoutError } from 'waitsafe';
 *
 * const error = await new Event().wait({ timeout: 1 }).catch((e: unknown) => e);
 * isTimeoutError(error); // true
 * isTimeoutError(new DOMException('stopped', 'AbortError')); // false
 * isTimeoutError(Object.assign(new Error('slow'), { name: 'TimeoutError' })); // false
 * ```
 */
export function isTimeoutError(error: unknown): boolean {
  if (
    typeof error !== 'object' ||
    // Stryker disable next-line ConditionalExpression: a fast path only: null is no instance of DOMException and shows as [object Null], so the checks below return false for it too
    error === null
  ) {
    return false;
  }
  try {
    return (
      (error instanceof DOMException || objectToString.call(error) === '[object DOMException]') &&
      (error as { name?: unknown }).name === 'TimeoutError'
    );
  } catch {
    // A revoked Proxy, or a `name` getter that throws: not a DOMException this can recognize.
    return false;
  }
}
