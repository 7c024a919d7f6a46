import {
  badValue,
  checkInteger,
  type PrimitiveOptions,
  rejectInvalid,
  type WaitOptions,
  WEIGHTED_KEYS,
} from './core/options.js';
import { PermitPool } from './core/permits.js';
import type { Releaser } from './core/releaser.js';

/**
 * The options of a weighted {@link Semaphore.acquire}: the {@link WaitOptions} and how many
 * permits to take.
 *
 * @example
 * ```ts
 * const options: WeightedWaitOptions = { weight: 3, timeout: 1_000 };
 * const release = await new Semaphore(4).acquire(options);
 * release();
 * ```
 */
export interface WeightedWaitOptions extends WaitOptions {
  /**
   * Permits to take at once: an integer `>= 1` (default 1). The Releaser returns them all.
   *
   * @example
   * ```ts
   * const s = new Semaphore(4);
   * await s.acquire({ weight: 3 });
   * s.value; // 1
   * ```
   */
  weight?: number | undefined;
}

/**
 * A counting semaphore, like `asyncio.Semaphore`: `value` permits, waiters served in FIFO order.
 *
 * `release()` hands the permit straight to the first waiter, and `tryAcquire()` never barges
 * ahead of a queued waiter. A wait that gives up (through its `signal` or `timeout`) leaves the
 * queue at once and is never handed a permit.
 *
 * Weighted: `acquire({ weight: 3 })`, `tryAcquire(3)` and `release(3)` take and return several
 * permits at once, FIFO without barging: a waiter for 3 at the head blocks a later waiter for 1
 * even while 1 is free (so heavy waiters never starve), and when the head gives up, every waiter
 * behind it that now fits is granted in that same step.
 *
 * @example
 * ```ts
 * import { Semaphore } from 'waitsafe';
 *
 * const connections = new Semaphore(10, { name: 'pool' });
 * async function query(sql: string, signal: AbortSignal) {
 *   using release = await connections.acquire({ signal, timeout: 2_000 });
 *   return run(sql);
 * }
 * ```
 */
export class Semaphore extends PermitPool {
  /**
   * @param value Permits available at first: an integer `>= 0` (default 1).
   * @param options `name` and `maxWaiters` (see {@link PrimitiveOptions}).
   * @throws {TypeError} If `value`, `options`, `name` or `maxWaiters` has the wrong type, or
   *   `options` has a key it does not know.
   * @throws {RangeError} If `value` is not an integer `>= 0`, or `maxWaiters` is not an integer
   *   `>= 0` or `Infinity`.
   */
  constructor(value = 1, options?: PrimitiveOptions) {
    super(checkInteger(value, 'The "value" argument', 0), options);
  }

  /**
   * Permits free now. With hand-off, a release with waiters goes to them first: unlike asyncio,
   * it shows up here only if the head of the queue waits for more than is free.
   *
   * @example
   * ```ts
   * const s = new Semaphore(2);
   * s.tryAcquire();
   * s.value; // 1
   * ```
   */
  get value(): number {
    return this.freePermits;
  }

  /**
   * Takes `weight` permits (default 1), waiting in FIFO order unless they are free and nobody
   * waits.
   *
   * *Cancellation.* With `signal`, the wait rejects with `signal.reason` when it aborts (at once,
   * registering nothing and taking nothing, if it is already aborted). With `timeout`, it rejects
   * with a `TimeoutError` DOMException after that many milliseconds; `timeout: 0` takes free
   * permits or rejects at once. Giving up loses only the place in the queue: nothing is taken,
   * and the waiters behind it that now fit are granted at once. Once the permits were handed
   * over, a later abort changes nothing: the caller owns them and must release them.
   *
   * @param options `signal`, `timeout` (milliseconds; `Infinity` or absent: no limit) and
   *   `weight` (an integer `>= 1`, default 1).
   * @returns A promise of a {@link Releaser} that returns all `weight` permits. It never throws
   *   synchronously.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal`, `timeout` and `weight`, or one of them has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN, or `weight` is not an
   *   integer `>= 1` (on a BoundedSemaphore: or above its bound, which no release could reach).
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   *
   * @example
   * ```ts
   * const budget = new Semaphore(10);
   * using release = await budget.acquire({ weight: 4, timeout: 1_000 });
   * budget.value; // 6
   * ```
   */
  override acquire(options?: WeightedWaitOptions): Promise<Releaser> {
    if (options === undefined) return this.take(1, undefined, undefined);
    const rejected = rejectInvalid(options, WEIGHTED_KEYS, (o: WeightedWaitOptions) =>
      o.weight === undefined ? undefined : this.weightError(o.weight, 'The "weight" option'),
    );
    if (rejected !== undefined) return rejected;
    const weight = options.weight ?? 1;
    // Stryker disable next-line ConditionalExpression: data 1 and undefined both mean weight 1 granted a Releaser; release()'s shortcut for undefined does what grant() does for 1, as no permit is free while a weight-1 waiter is at the head
    return this.take(weight, options, weight === 1 ? undefined : weight);
  }

  /**
   * Takes `weight` permits (default 1) if they are free and nobody waits; never waits and never
   * barges ahead of a queued waiter.
   *
   * @returns A {@link Releaser} that returns all `weight` permits, or `undefined`.
   * @throws {TypeError} If `weight` is not a number.
   * @throws {RangeError} If `weight` is not an integer `>= 1` (on a BoundedSemaphore: or above
   *   its bound).
   *
   * @example
   * ```ts
   * const s = new Semaphore(3);
   * const release = s.tryAcquire(2);
   * s.value; // 1
   * s.tryAcquire(2); // undefined
   * release?.();
   * s.value; // 3
   * ```
   */
  override tryAcquire(weight?: number): Releaser | undefined {
    if (weight === undefined) return this.tryTake(1);
    const error = this.weightError(weight, 'The "weight" argument');
    if (error !== undefined) throw error;
    return this.tryTake(weight);
  }

  /**
   * An error if `weight` cannot be a weight here, else `undefined`.
   * @internal
   */
  protected weightError(weight: unknown, what: string): Error | undefined {
    if (typeof weight !== 'number') return badValue(what, 'a number', weight);
    if (!Number.isInteger(weight) || weight < 1) return badValue(what, 'an integer >= 1', weight, true);
    return undefined;
  }

  /**
   * Returns `weight` permits (default 1): hands them to the waiters at the head of the queue that
   * now fit, in order, and adds the rest to `value`. A plain Semaphore never checks for
   * over-release (use {@link BoundedSemaphore} for that).
   *
   * @throws {TypeError} If `weight` is not a number.
   * @throws {RangeError} If `weight` is not an integer `>= 1`.
   *
   * @example
   * ```ts
   * const s = new Semaphore(0);
   * s.release();
   * s.release(2);
   * s.value; // 3
   * ```
   */
  override release(weight?: number): void {
    if (weight !== undefined) {
      const error = this.weightError(weight, 'The "weight" argument');
      if (error !== undefined) throw error;
    }
    this.releasePermits(weight ?? 1);
  }

  protected checkRelease(_value: number, _weight: number): void {}

  /** `'Semaphore'`. */
  get [Symbol.toStringTag](): string {
    return 'Semaphore';
  }

  protected describeState(): string {
    return `value:${this.value}, waiters:${this.waiterCount}`;
  }
}

/**
 * A semaphore that refuses to be released above its initial value, like
 * `asyncio.BoundedSemaphore`: an extra `release()` throws a `RangeError` and changes nothing.
 *
 * @example
 * ```ts
 * import { BoundedSemaphore } from 'waitsafe';
 *
 * const slots = new BoundedSemaphore(2);
 * const release = await slots.acquire();
 * release();
 * slots.release(); // throws RangeError: above the initial value of 2
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  readonly #bound: number;

  /**
   * @param value Permits available at first, and the most there can ever be free: an integer
   *   `>= 0` (default 1).
   * @param options `name` and `maxWaiters` (see {@link PrimitiveOptions}).
   */
  constructor(value = 1, options?: PrimitiveOptions) {
    super(value, options);
    this.#bound = value;
  }

  /**
   * Returns `weight` permits (default 1), like {@link Semaphore.release}.
   *
   * @throws {TypeError} If `weight` is not a number.
   * @throws {RangeError} If `weight` is not an integer `>= 1`, or returning it would make more
   *   permits free than the initial value (the state is unchanged then).
   *
   * @example
   * ```ts
   * const slots = new BoundedSemaphore(1);
   * await slots.acquire();
   * slots.release();
   * slots.release(); // throws RangeError: the value is back at its initial value of 1
   * ```
   */
  override release(weight?: number): void {
    super.release(weight);
  }

  protected override checkRelease(value: number, weight: number): void {
    if (value + weight > this.#bound) {
      throw new RangeError(`${this.label}: release() would raise the value above its initial value of ${this.#bound}`);
    }
  }

  /**
   * A weight above the bound can never be granted: a RangeError at once. A weight of 1 is never
   * refused, so that it always means what no weight means (a `BoundedSemaphore(0)` waits, as in
   * asyncio). @internal
   */
  protected override weightError(weight: unknown, what: string): Error | undefined {
    const error = super.weightError(weight, what);
    if (error !== undefined || (weight as number) <= Math.max(this.#bound, 1)) return error;
    return new RangeError(`${what} must be <= ${this.#bound}, the bound of ${this.label}, got ${weight}`);
  }

  /** `'BoundedSemaphore'`. */
  override get [Symbol.toStringTag](): string {
    return 'BoundedSemaphore';
  }
}
