/**
 * The permit pool behind `Lock`, `Semaphore` and `BoundedSemaphore` (as tokio's Mutex and
 * Semaphore share one batch semaphore).
 *
 * Release hands the permit straight to the first waiter, in the same synchronous step, so a
 * permit is never free while someone waits: `value > 0` implies no waiters, a newcomer can never
 * barge ahead of the queue, and a waiter that was granted owns its permit even if its signal
 * aborts a moment later.
 *
 * @module
 */

import { checkFunction, type PrimitiveOptions, rejectInvalid, type WaitOptions } from './options.js';
import { Primitive } from './primitive.js';
import { makeReleaser, type Releaser } from './releaser.js';
import { resolveHead, WaiterQueue } from './waiters.js';

const promiseThen = Promise.prototype.then;

/** The data of a `runExclusive` waiter: it is granted the permit without a Releaser. */
const BARE = {};

/**
 * Runs `fn` while `pool` holds a permit for it, and releases the permit once `fn`'s result (or
 * the promise it returned) settles: the value, or a rejection with its error.
 */
function runHeld<T>(pool: PermitPool, fn: () => T | PromiseLike<T>): T | Promise<T> {
  let result: T | PromiseLike<T>;
  try {
    result = fn();
  } catch (error) {
    pool.release();
    return Promise.reject(error);
  }
  // A plain value: release now. Anything else may be a thenable: release once it settles.
  if (Object(result) !== result) {
    pool.release();
    return result as T;
  }
  // `then`, not `finally`: that makes three more promises and two more hops. `Promise.resolve`
  // returns a native promise as it is (no extra promise) but reads its `constructor`, which may
  // throw: that rejects like a throwing `fn`. The built-in `then` (not one the result may carry)
  // never calls back synchronously, so the permit is released exactly once.
  try {
    return promiseThen.call(
      Promise.resolve(result),
      (value) => {
        pool.release();
        return value;
      },
      (error: unknown) => {
        pool.release();
        throw error;
      },
    ) as Promise<T>;
  } catch (error) {
    pool.release();
    return Promise.reject(error);
  }
}

/** Base class of the permit primitives. Not exported from the package. */
export abstract class PermitPool extends Primitive {
  /** Permits free now. */
  #value: number;
  /** Acquires waiting; a `runExclusive` waiter (data {@link BARE}) is granted without a Releaser. */
  readonly #waiters: WaiterQueue<Releaser | undefined> = new WaiterQueue<Releaser | undefined>(this, 'acquire');

  constructor(value: number, options: PrimitiveOptions | undefined) {
    super(options);
    this.#value = value;
  }

  /** Permits free now. @internal */
  protected get freePermits(): number {
    return this.#value;
  }

  /**
   * Takes a permit, waiting in FIFO order if none is free.
   *
   * *Cancellation.* With `signal`, the wait rejects with `signal.reason` when it aborts (at once,
   * registering nothing and taking nothing, if it is already aborted — even if a permit is
   * free). With `timeout`, it rejects with a `TimeoutError` DOMException after that many
   * milliseconds; `timeout: 0` takes a free permit or rejects at once. Giving up loses only the
   * place in the queue: nothing is taken, and no later release hands anything to the abandoned
   * wait. Once a permit was handed to the wait, a later abort changes nothing: the caller owns it
   * and must release it.
   *
   * @param options `signal` and/or `timeout` (milliseconds; `Infinity` or absent: no limit).
   * @returns A promise of a {@link Releaser} for the permit. It never throws synchronously.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   *
   * @example
   * ```ts
   * const release = await lock.acquire({ timeout: 1_000 });
   * try {
   *   await work();
   * } finally {
   *   release();
   * }
   * ```
   */
  acquire(options?: WaitOptions): Promise<Releaser> {
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    if (this.#value > 0) {
      this.#value--;
      return Promise.resolve(makeReleaser(this));
    }
    return this.#waiters.wait(options) as Promise<Releaser>;
  }

  /**
   * Takes a permit if one is free and nobody waits; never waits and never barges ahead of a
   * queued waiter.
   *
   * @returns A {@link Releaser}, or `undefined` if no permit is free now.
   *
   * @example
   * ```ts
   * const release = lock.tryAcquire();
   * if (release) {
   *   try { await work(); } finally { release(); }
   * }
   * ```
   */
  tryAcquire(): Releaser | undefined {
    if (this.#value === 0) return undefined;
    this.#value--;
    return makeReleaser(this);
  }

  /**
   * Returns a permit: hands it to the first waiter if any, else frees it.
   *
   * @throws {DOMException} `InvalidStateError` (Lock) or {@link RangeError} (BoundedSemaphore)
   *   when the release does not match an acquire; the state is unchanged then.
   *
   * @example
   * ```ts
   * await semaphore.acquire();
   * semaphore.release();
   * ```
   */
  release(): void {
    // Checked also when a waiter takes the permit: handing it over raises the count as much as
    // freeing it would (a BoundedSemaphore(0) has no permit to give).
    this.checkRelease(this.#value);
    const head = this.#waiters.head;
    if (head === null) this.#value++;
    else resolveHead(this.#waiters, head.data === BARE ? undefined : makeReleaser(this));
  }

  /** Throws if freeing one more permit (with `value` free now) would be an over-release. */
  protected abstract checkRelease(value: number): void;

  /**
   * Whether an acquire now would wait. With hand-off, a Lock released while others wait stays
   * locked (the next waiter holds it).
   *
   * @example
   * ```ts
   * const lock = new Lock();
   * lock.isLocked(); // false
   * lock.tryAcquire();
   * lock.isLocked(); // true
   * ```
   */
  isLocked(): boolean {
    return this.#value === 0;
  }

  /**
   * Runs `fn` while holding a permit, and releases it however `fn` ends. If a permit is free,
   * `fn` runs at once, before `runExclusive` returns; otherwise once the permit is handed over.
   *
   * *Cancellation.* `options` applies to the acquire only: if it gives up, `fn` is never called
   * and the promise rejects with the abort reason or the TimeoutError. Once `fn` runs, it is not
   * interrupted.
   *
   * @returns What `fn` returns (awaited), or its error.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   *
   * @example
   * ```ts
   * const row = await lock.runExclusive(() => db.read(id), { timeout: 2_000 });
   * ```
   */
  runExclusive<T>(fn: () => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    // The permit is released by release() itself: no Releaser is made for the hold, and a waiter
    // is granted with `undefined` (which a promise resolves without looking for a `then`).
    try {
      checkFunction(fn, 'The "fn" argument');
    } catch (error) {
      return Promise.reject(error);
    }
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    if (this.#value > 0) {
      this.#value--;
      return Promise.resolve(runHeld(this, fn));
    }
    return this.#waiters.wait(options, BARE).then(() => runHeld(this, fn));
  }

  /**
   * Number of acquires waiting now.
   *
   * @example
   * ```ts
   * const lock = new Lock();
   * lock.tryAcquire();
   * void lock.acquire();
   * lock.waiterCount; // 1
   * ```
   */
  get waiterCount(): number {
    return this.#waiters.size;
  }
}
