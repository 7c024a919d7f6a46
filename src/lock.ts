import { invalidStateError } from './core/dom-errors.js';
import type { PrimitiveOptions } from './core/options.js';
import { PermitPool } from './core/permits.js';

/**
 * A mutual exclusion lock, like `asyncio.Lock`: one holder at a time, waiters served in FIFO
 * order. It has no owner: any code may release it, as in asyncio.
 *
 * `release()` hands the lock straight to the first waiter, so a Lock with waiters stays locked
 * across `release()`, and nobody can take it in between. A wait that gives up (through its
 * `signal` or `timeout`) leaves the queue at once and is never handed the lock afterwards.
 *
 * @example
 * ```ts
 * import { Lock } from 'waitsafe';
 *
 * const lock = new Lock({ name: 'db' });
 * {
 *   using release = await lock.acquire({ timeout: 5_000 });
 *   await writeRow();
 * } // released here, also on throw
 *
 * await lock.runExclusive(() => writeRow(), { signal: request.signal });
 * ```
 */
export class Lock extends PermitPool {
  /**
   * @param options `name` and `maxWaiters` (see {@link PrimitiveOptions}).
   * @throws {TypeError} If `options`, `name` or `maxWaiters` has the wrong type, or `options` has a key it does not know.
   * @throws {RangeError} If `maxWaiters` is not an integer `>= 0` or `Infinity`.
   */
  constructor(options?: PrimitiveOptions) {
    super(1, options);
  }

  /**
   * Releases the lock, asyncio style: hands it to the first waiter, or unlocks it. Prefer the
   * {@link Releaser} that `acquire()` returns; do not mix both for one hold.
   *
   * @throws {DOMException} `InvalidStateError` if the lock is not locked.
   *
   * @example
   * ```ts
   * await lock.acquire();
   * lock.release();
   * ```
   */
  override release(): void {
    super.release();
  }

  protected checkRelease(value: number): void {
    if (value !== 0) throw invalidStateError(`${this.label}: release() called while the lock is not locked`);
  }

  /** `'Lock'`. */
  get [Symbol.toStringTag](): string {
    return 'Lock';
  }

  protected describeState(): string {
    return `${this.isLocked() ? 'locked' : 'unlocked'}, waiters:${this.waiterCount}`;
  }
}
