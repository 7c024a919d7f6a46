import { checkInteger, type PrimitiveOptions, rejectInvalid, type WaitOptions } from './core/options.js';
import { Primitive } from './core/primitive.js';
import { cancelAll, resolveHead, WaiterQueue } from './core/waiters.js';
import { BrokenBarrierError } from './errors.js';

/**
 * A barrier, like `asyncio.Barrier`: `parties` tasks wait until all of them have arrived, then
 * all go on together, and the barrier is ready for the next round.
 *
 * A party that gives up (through its `signal` or `timeout`) leaves the round: the count drops and
 * the barrier is not broken, as in asyncio. Arrival indices are assigned when the barrier trips,
 * so they are unique in every round (asyncio can repeat one after a cancellation).
 *
 * @example
 * ```ts
 * import { Barrier } from 'waitsafe';
 *
 * const start = new Barrier(3);
 * await Promise.all([1, 2, 3].map(async () => {
 *   const index = await start.wait({ timeout: 10_000 }); // 0, 1, 2 in arrival order
 *   await work(index);
 * }));
 * ```
 */
export class Barrier extends Primitive {
  readonly #parties: number;
  #broken = false;
  readonly #waiters: WaiterQueue<number> = new WaiterQueue<number>(this, 'wait');

  /**
   * @param parties How many parties make a round: an integer `>= 1`.
   * @param options `name` and `maxWaiters` (see {@link PrimitiveOptions}).
   * @throws {TypeError} If `parties` is not a number, or `options`, `name` or `maxWaiters` has
   *   the wrong type, or `options` has a key it does not know.
   * @throws {RangeError} If `parties` is not an integer `>= 1`, or `maxWaiters` is not an integer
   *   `>= 0` or `Infinity`.
   */
  constructor(parties: number, options?: PrimitiveOptions) {
    checkInteger(parties, 'The "parties" argument', 1);
    super(options);
    this.#parties = parties;
  }

  /**
   * Arrives at the barrier and waits for the other parties. Resolves with this party's arrival
   * index, `0` to `parties - 1`, unique in the round (with nobody leaving, the arrival order).
   *
   * *Cancellation.* A party whose signal aborts or whose timeout elapses leaves the round at once
   * and rejects with the abort reason or a `TimeoutError` DOMException; the barrier is not broken
   * and the others keep waiting. An already-aborted signal rejects without arriving (even as the
   * last party). `timeout: 0` succeeds only for the party that completes the round. Once the
   * barrier has tripped, a later abort changes nothing.
   *
   * @returns A promise of the arrival index. It never throws synchronously.
   * @throws {BrokenBarrierError} (as a rejection) If the barrier is broken, or is reset or
   *   aborted while this party waits.
   *
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   *
   * @example
   * ```ts
   * const barrier = new Barrier(2);
   * await Promise.all([barrier.wait(), barrier.wait()]); // [0, 1]
   * ```
   */
  wait(options?: WaitOptions): Promise<number> {
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    if (this.#broken) return Promise.reject(this.#brokenError('is broken'));
    const waiters = this.#waiters;
    if (waiters.size + 1 < this.#parties) return waiters.wait(options);
    // The last party trips the barrier: indices in arrival order, the last one its own.
    let index = 0;
    while (resolveHead(waiters, index) !== null) index++;
    return Promise.resolve(index);
  }

  /**
   * Rejects every waiting party with a {@link BrokenBarrierError} and makes the barrier usable
   * again (also after `abort()`).
   *
   * @example
   * ```ts
   * barrier.reset();
   * barrier.isBroken(); // false
   * ```
   */
  reset(): void {
    this.#break(false, 'was reset');
  }

  /**
   * Breaks the barrier: every waiting party, and every party that arrives until `reset()`,
   * rejects with a {@link BrokenBarrierError}.
   *
   * @example
   * ```ts
   * barrier.abort();
   * barrier.isBroken(); // true
   * ```
   */
  abort(): void {
    this.#break(true, 'was aborted');
  }

  /**
   * Whether the barrier is broken (aborted and not reset since).
   *
   * @example
   * ```ts
   * new Barrier(2).isBroken(); // false
   * ```
   */
  isBroken(): boolean {
    return this.#broken;
  }

  /**
   * How many parties make a round.
   *
   * @example
   * ```ts
   * new Barrier(3).parties; // 3
   * ```
   */
  get parties(): number {
    return this.#parties;
  }

  /**
   * Parties waiting in the current round.
   *
   * @example
   * ```ts
   * const b = new Barrier(3);
   * void b.wait();
   * b.waiterCount; // 1
   * ```
   */
  get waiterCount(): number {
    return this.#waiters.size;
  }

  /** `'Barrier'`. */
  get [Symbol.toStringTag](): string {
    return 'Barrier';
  }

  protected describeState(): string {
    return `${this.#broken ? 'broken, ' : ''}parties:${this.#parties}, waiting:${this.#waiters.size}`;
  }

  /** Sets whether the barrier is broken, and rejects every waiting party: the barrier `what`. */
  #break(broken: boolean, what: string): void {
    this.#broken = broken;
    cancelAll(this.#waiters, () => this.#brokenError(what));
  }

  #brokenError(what: string): BrokenBarrierError {
    return new BrokenBarrierError(`${this.label} ${what}`);
  }
}
