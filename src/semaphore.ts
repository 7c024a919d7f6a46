import { checkInteger, type PrimitiveOptions } from './core/options.js';
import { PermitPool } from './core/permits.js';

/**
 * A counting semaphore, like `asyncio.Semaphore`: `value` permits, waiters served in FIFO order.
 *
 * `release()` hands the permit straight to the first waiter (so `value` stays 0 while anyone
 * waits), and `tryAcquire()` never barges ahead of a queued waiter. A wait that gives up
 * (through its `signal` or `timeout`) leaves the queue at once and is never handed a permit.
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
   * Permits free now. With hand-off it stays 0 while anyone waits: unlike asyncio, a release
   * with waiters never shows up here.
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
   * Returns a permit: hands it to the first waiter, or adds it to `value`. A plain Semaphore
   * never checks for over-release (use {@link BoundedSemaphore} for that).
   *
   * @example
   * ```ts
   * const s = new Semaphore(0);
   * s.release();
   * s.value; // 1
   * ```
   */
  override release(): void {
    super.release();
  }

  protected checkRelease(_value: number): void {}

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
   * Returns a permit, like {@link Semaphore.release}.
   *
   * @throws {RangeError} If that would make more permits free than the initial value.
   *
   * @example
   * ```ts
   * const slots = new BoundedSemaphore(1);
   * await slots.acquire();
   * slots.release();
   * slots.release(); // throws RangeError: the value is back at its initial value of 1
   * ```
   */
  override release(): void {
    super.release();
  }

  protected override checkRelease(value: number): void {
    if (value >= this.#bound) {
      throw new RangeError(`${this.label}: release() would raise the value above its initial value of ${this.#bound}`);
    }
  }

  /** `'BoundedSemaphore'`. */
  override get [Symbol.toStringTag](): string {
    return 'BoundedSemaphore';
  }
}
