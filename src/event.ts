import type { PrimitiveOptions, WaitOptions } from './core/options.js';
import { rejectInvalid } from './core/options.js';
import { keepShape, Primitive } from './core/primitive.js';
import { WaiterQueue } from './core/waiters.js';

// Stryker disable next-line BooleanLiteral: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/event.test.ts
const RESOLVED_TRUE: Promise<true> = Promise.resolve(true);

/**
 * A flag that tasks can wait on, like `asyncio.Event`: `set()` wakes every waiter, and waits
 * made while it is set resolve at once, until `clear()`.
 *
 * Unlike a hand-rolled `Promise.race([event.wait(), sleep(ms)])`, a wait that gives up (through
 * its `signal` or `timeout`) leaves nothing behind: its waiter is unlinked in O(1) at that
 * moment, and no timer or abort listener holds it.
 *
 * @example Waiting with a timeout
 * ```ts
 * import { Event } from 'waitsafe';
 *
 * const ready = new Event({ name: 'ready' });
 * setTimeout(() => ready.set(), 100);
 * await ready.wait({ timeout: 10_000 }); // true, or a TimeoutError after 10 s
 * String(ready); // 'Event "ready" [set, waiters:0]'
 * ```
 */
export class Event extends Primitive {
  #isSet = false;
  readonly #waiters: WaiterQueue<true> = new WaiterQueue<true>(this, 'wait');

  /**
   * @param options `name` (shown in messages and `String(event)`) and `maxWaiters` (warn once
   *   when more waits than this are pending; default {@link getDefaultMaxWaiters}).
   * @throws {TypeError} If `options`, `name` or `maxWaiters` has the wrong type, or `options` has a key it does not know.
   * @throws {RangeError} If `maxWaiters` is not an integer `>= 0` or `Infinity`.
   */
  constructor(options?: PrimitiveOptions) {
    super(options);
  }

  /**
   * Whether the event is set.
   *
   * @example
   * ```ts
   * const e = new Event();
   * e.isSet(); // false
   * e.set();
   * e.isSet(); // true
   * ```
   */
  isSet(): boolean {
    return this.#isSet;
  }

  /**
   * Sets the event and resolves every pending wait with `true`, in the order they started.
   * Idempotent. Waits made while the event is set resolve at once.
   *
   * @example
   * ```ts
   * const e = new Event();
   * const waiting = e.wait();
   * e.set();
   * await waiting; // true
   * ```
   */
  set(): void {
    // Stryker disable next-line ConditionalExpression: while the event is set no wait is pending (set() resolved them all, and wait() queues none then), so going on would resolve nobody
    if (this.#isSet) return;
    this.#isSet = true;
    this.#waiters.resolveAll(true);
  }

  /**
   * Clears the event: later waits block until the next `set()`. Waits that a `set()` already
   * resolved stay resolved, even in the same tick.
   *
   * @example
   * ```ts
   * const e = new Event();
   * const waiting = e.wait();
   * e.set();
   * e.clear(); // too late for `waiting`: set() already released it
   * await waiting; // true
   * ```
   */
  clear(): void {
    this.#isSet = false;
  }

  /**
   * Waits until the event is set. Resolves with `true` at once if it is set now.
   *
   * *Cancellation.* With `signal`, the wait rejects with `signal.reason` (the exact value) when
   * the signal aborts; if it is already aborted, the call rejects at once and registers nothing,
   * even if the event is set. With `timeout`, it rejects with a `TimeoutError` DOMException
   * after that many milliseconds (`timeout: 0` rejects at once unless the event is set).
   * Either way the waiter is unlinked in the same synchronous step and `waiterCount` drops;
   * giving up loses nothing but the place in the queue. Once `set()` has resolved a wait, a
   * later abort changes nothing.
   *
   * @param options `signal` and/or `timeout` (milliseconds; `Infinity` or absent: no limit).
   * @returns A promise of `true`. It never throws synchronously.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   *
   * @example Give up after 10 s, or when the request is aborted
   * ```ts
   * const ready = new Event();
   * setTimeout(() => ready.set(), 100); // what the wait is for
   * try {
   *   await ready.wait({ timeout: 10_000, signal: request.signal });
   * } catch (error) {
   *   if ((error as Error).name === 'TimeoutError') console.log('not ready in time');
   *   else throw error;
   * }
   * ```
   */
  wait(options?: WaitOptions): Promise<true> {
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    if (this.#isSet) return RESOLVED_TRUE;
    return this.#waiters.wait(options);
  }

  /**
   * Number of waits currently pending.
   *
   * @example
   * ```ts
   * const e = new Event();
   * void e.wait();
   * e.waiterCount; // 1
   * ```
   */
  get waiterCount(): number {
    return this.#waiters.size;
  }

  /**
   * `'Event'`, as `Object.prototype.toString` shows it.
   *
   * @example
   * ```ts
   * Object.prototype.toString.call(new Event()); // '[object Event]'
   * ```
   */
  get [Symbol.toStringTag](): string {
    return 'Event';
  }

  protected describeState(): string {
    return `${this.#isSet ? 'set' : 'unset'}, waiters:${this.#waiters.size}`;
  }
}

// One Event (and its waiter queue) stays alive, so a full GC that finds none of the caller's
// Events alive does not deoptimize the wait path (see keepShape).
// Stryker disable next-line ArrowFunction: the Event kept alive only keeps optimized code from deoptimizing after a full GC, a matter of speed (bench/profile.mjs after-gc); applied by hand, no test of the suite fails
keepShape(() => new Event());
