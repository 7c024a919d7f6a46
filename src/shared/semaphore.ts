import { badValue, checkInteger, rejectInvalid, type WaitOptions, WEIGHTED_KEYS } from '../core/options.js';
import type { Releaser } from '../core/releaser.js';
import type { SharedHandle } from './memory.js';
import { MAX_PERMITS, SharedPermits } from './permits.js';
import { fromHandle, type SharedFromOptions, type SharedOptions } from './primitive.js';

/**
 * The options of a weighted {@link SharedSemaphore.acquire}: the wait options and how many
 * permits to take.
 *
 * @example
 * ```ts
 * const options: SharedWeightedWaitOptions = { weight: 2, timeout: 1_000 };
 * ```
 */
export interface SharedWeightedWaitOptions extends WaitOptions {
  /** Permits to take at once: an integer from 1 to 2^30 - 1 (default 1). The Releaser returns them all. */
  weight?: number | undefined;
}

/**
 * A counting semaphore shared by threads over a `SharedArrayBuffer`: the in-process
 * {@link Semaphore}'s methods and rules (weights included: FIFO without barging, a heavy head
 * blocks lighter waiters), across threads.
 *
 * @example
 * ```ts
 * import { SharedSemaphore } from 'waitsafe/shared';
 *
 * const gpu = new SharedSemaphore(2, { name: 'gpu' }); // in the main thread
 * for (const worker of workers) worker.postMessage({ gpu: gpu.handle });
 *
 * // in a worker
 * const mapped = SharedSemaphore.from(data.gpu);
 * await mapped.runExclusive(() => render(), { timeout: 30_000 });
 * ```
 */
export class SharedSemaphore extends SharedPermits {
  /**
   * @param value Permits available at first: an integer from 0 to 2^30 - 1 (default 1).
   * @param options `name`, `maxWaiters` and `capacity` (see {@link SharedOptions}).
   * @throws {TypeError} If `value`, `options`, `name`, `maxWaiters` or `capacity` has the wrong
   *   type, `options` has a key it does not know, or the runtime has no `SharedArrayBuffer`.
   * @throws {RangeError} If `value` is out of range, `maxWaiters` is not an integer `>= 0` or
   *   `Infinity`, or `capacity` is not an integer from 1 to 65,536.
   */
  constructor(value = 1, options?: SharedOptions) {
    super('SharedSemaphore', checkValue(value), options);
  }

  /**
   * The same semaphore, in this thread, from the {@link SharedSemaphore.handle | handle}
   * another thread passed.
   *
   * @param handle A SharedSemaphore's `handle`.
   * @param options The local `maxWaiters`.
   * @throws {TypeError} If `handle` is not the handle of a SharedSemaphore.
   *
   * @example
   * ```ts
   * const gpu = SharedSemaphore.from(workerData.gpu);
   * ```
   */
  static from(handle: SharedHandle, options?: SharedFromOptions): SharedSemaphore {
    return fromHandle(handle, 'SharedSemaphore', options, () => new SharedSemaphore(0, options as SharedOptions));
  }

  /**
   * Permits free now, across all threads.
   *
   * @example
   * ```ts
   * new SharedSemaphore(3).value; // 3
   * ```
   */
  get value(): number {
    return this.free();
  }

  /**
   * Takes `weight` permits (default 1), waiting in FIFO order behind the waiters of every
   * thread unless they are free and nobody waits.
   *
   * *Cancellation.* If `signal` aborts or `timeout` elapses first, the promise rejects (with the
   * abort reason, or a `TimeoutError` DOMException), the wait leaves the shared queue in that
   * same step, and the waiters behind it that now fit are granted. A grant another thread made
   * before this thread saw the abort wins. `timeout: 0` takes free permits or rejects at once.
   *
   * @returns A promise of a releaser that returns all `weight` permits. It never throws synchronously.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal`, `timeout` and `weight`, or one of them has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN, `weight` is out of
   *   range, or every shared slot is in use.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts.
   *
   * @example
   * ```ts
   * using release = await gpu.acquire({ weight: 2, timeout: 5_000 });
   * ```
   */
  acquire(options?: SharedWeightedWaitOptions): Promise<Releaser> {
    if (options === undefined) return this.take_(1, undefined);
    const rejected = rejectInvalid(options, WEIGHTED_KEYS, (o: SharedWeightedWaitOptions) =>
      o.weight === undefined ? undefined : weightError(o.weight, 'The "weight" option'),
    );
    if (rejected !== undefined) return rejected;
    return this.take_(options.weight ?? 1, options);
  }

  /**
   * Takes `weight` permits (default 1) if they are free and nobody waits in any thread.
   *
   * @returns A releaser that returns all `weight` permits, or `undefined`.
   * @throws {TypeError} If `weight` is not a number.
   * @throws {RangeError} If `weight` is out of range, or every shared slot is in use.
   *
   * @example
   * ```ts
   * const release = gpu.tryAcquire(2);
   * ```
   */
  tryAcquire(weight?: number): Releaser | undefined {
    if (weight === undefined) return this.tryTake(1);
    const error = weightError(weight, 'The "weight" argument');
    if (error !== undefined) throw error;
    return this.tryTake(weight);
  }

  /**
   * Returns `weight` permits (default 1), asyncio style (any thread may): hands them to the
   * waiters at the head of the queue that now fit, in order, and adds the rest to `value`.
   *
   * @throws {TypeError} If `weight` is not a number.
   * @throws {RangeError} If `weight` is out of range, or the value would pass 2^30 - 1.
   *
   * @example
   * ```ts
   * const s = new SharedSemaphore(0);
   * s.release(2);
   * s.value; // 2
   * ```
   */
  release(weight?: number): void {
    if (weight !== undefined) {
      const error = weightError(weight, 'The "weight" argument');
      if (error !== undefined) throw error;
    }
    this.releasePermits(weight ?? 1);
  }

  /**
   * Whether an acquire of one permit would wait now.
   *
   * @example
   * ```ts
   * new SharedSemaphore(0).isLocked(); // true
   * ```
   */
  isLocked(): boolean {
    return this.wouldWait(1);
  }

  /**
   * Runs `fn` holding one permit, and releases it when `fn` settles.
   *
   * *Cancellation.* `signal` and `timeout` apply to the wait for the permit only, as for
   * {@link SharedSemaphore.acquire}.
   *
   * @returns A promise of what `fn` returns.
   * @throws {TypeError} (as a rejection) If `fn` is not a function, or `options` is invalid.
   *
   * @example
   * ```ts
   * await gpu.runExclusive(() => render());
   * ```
   */
  runExclusive<T>(fn: () => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    const bad = SharedPermits.badFn(fn);
    if (bad !== undefined) return bad;
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    return this.runWith(1, fn, options);
  }

  protected overRelease(weight: number): Error | undefined {
    if (this.free() + weight > MAX_PERMITS) {
      return new RangeError(`${this.label}: release(${weight}) would raise the value past 2^30 - 1`);
    }
    return undefined;
  }

  protected override releaseOthers(rest: number): void {
    this.addPermits(rest);
  }

  /** `'SharedSemaphore'`. */
  get [Symbol.toStringTag](): string {
    return 'SharedSemaphore';
  }

  protected describeState(): string {
    return `value:${this.value}, waiters:${this.waiterCount}`;
  }
}

function checkValue(value: unknown): number {
  checkInteger(value, 'The "value" argument', 0);
  if ((value as number) > MAX_PERMITS)
    throw badValue('The "value" argument', 'an integer from 0 to 2^30 - 1', value, true);
  return value as number;
}

function weightError(weight: unknown, what: string): Error | undefined {
  if (typeof weight !== 'number') return badValue(what, 'a number', weight);
  if (!Number.isInteger(weight) || weight < 1 || weight > MAX_PERMITS) {
    return badValue(what, 'an integer from 1 to 2^30 - 1', weight, true);
  }
  return undefined;
}
