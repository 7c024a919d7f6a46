import { invalidStateError, timeoutError } from './core/dom-errors.js';
import {
  badValue,
  checkInteger,
  invalidKeys,
  invalidOptions,
  PRIMITIVE_KEYS,
  type PrimitiveOptions,
  type WaitOptions,
} from './core/options.js';
import { createOwned, Primitive } from './core/primitive.js';
import type { Releaser } from './core/releaser.js';
import { timerNow } from './core/timers.js';
import type { Waiter } from './core/waiter.js';
import { WaiterQueue } from './core/waiters.js';
import { Lock } from './lock.js';

// Stryker disable next-line ArrowFunction: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/condition.test.ts
const returnTrue = (): true => true;

/** A Lock of this or of another copy of waitsafe loaded in the process (ESM and CJS builds). */
function isLock(value: unknown): value is Lock {
  return value instanceof Lock || Object.prototype.toString.call(value) === '[object Lock]';
}

/**
 * The waits of a Condition. However a wait ends, it settles only once it holds the lock again:
 * a notified wait queues for the lock at once (it owns its notification), and an aborted or
 * timed-out wait re-acquires the lock before it rejects.
 */
class ConditionWaiters extends WaiterQueue<true> {
  declare readonly lock: Lock;

  constructor(owner: Condition, lock: Lock) {
    super(owner, 'wait');
    this.lock = lock;
  }

  override onCancel(node: Waiter<true>, reason: unknown): void {
    node.resolve(
      this.lock.acquire().then(() => {
        throw reason;
      }),
    );
  }

  /** Wakes the first waiter: it resolves once it holds the lock. */
  notifyHead(): boolean {
    const node = this.head;
    if (node === null) return false;
    this.detach(node);
    node.resolve(this.lock.acquire().then(returnTrue));
    return true;
  }
}

/**
 * A condition variable, like `asyncio.Condition`: tasks that hold its lock wait to be notified,
 * and re-acquire the lock before their wait settles.
 *
 * Unlike asyncio, a notification is handed to a waiter at `notify()` time: a waiter that gives up
 * before it is notified never takes a notification (no lost wakeup), and giving up never wakes
 * anyone else (no spurious wakeup).
 *
 * @example
 * ```ts
 * import { Condition } from 'waitsafe';
 *
 * const cond = new Condition();
 * const items: string[] = [];
 *
 * async function consume(signal: AbortSignal): Promise<string | undefined> {
 *   return cond.runExclusive(async () => {
 *     await cond.waitFor(() => items.length > 0, { signal, timeout: 5_000 });
 *     return items.shift();
 *   });
 * }
 *
 * async function produce(item: string) {
 *   await cond.runExclusive(() => {
 *     items.push(item);
 *     cond.notify();
 *   });
 * }
 *
 * await Promise.all([consume(request.signal), produce('hello')]); // ['hello', undefined]
 * ```
 */
export class Condition extends Primitive {
  readonly #lock: Lock;
  readonly #waiters: ConditionWaiters;

  /**
   * A condition with its own {@link Lock}, which carries the condition's `name` and `maxWaiters`.
   *
   * @param options `name` and `maxWaiters` (see {@link PrimitiveOptions}).
   * @throws {TypeError} If `options` is not a plain object or undefined, `name` or `maxWaiters`
   *   has the wrong type, or `options` has a key it does not know.
   * @throws {RangeError} If `maxWaiters` is not an integer `>= 0` or `Infinity`.
   */
  constructor(options?: PrimitiveOptions);
  /**
   * A condition over `lock`, for several conditions that share one lock.
   *
   * @param lock The lock to use: a {@link Lock} from any copy of waitsafe in the process; by
   *   default (`undefined`) a new Lock with this condition's `name` and `maxWaiters`.
   * @param options `name` and `maxWaiters` (see {@link PrimitiveOptions}).
   * @throws {TypeError} If `lock` is not a Lock, or `options`, `name` or `maxWaiters` has the
   *   wrong type, or `options` has a key it does not know.
   * @throws {RangeError} If `maxWaiters` is not an integer `>= 0` or `Infinity`.
   */
  constructor(lock?: Lock, options?: PrimitiveOptions);
  constructor(lock?: Lock | PrimitiveOptions, options?: PrimitiveOptions) {
    // Before super(): a Condition that failed to construct must not reach the inspector.
    if (lock !== undefined && !isLock(lock)) {
      const error = invalidKeys(lock, PRIMITIVE_KEYS);
      // Only a plain object stands in for the options: not another primitive, whose own keys
      // (`name`) would pass for options.
      if (
        error !== undefined ||
        options !== undefined ||
        ![Object.prototype, null].includes(Object.getPrototypeOf(lock))
      ) {
        throw new TypeError(
          `The "lock" argument must be a Lock, an options object or undefined${error ? ` (${error.message})` : ''}`,
        );
      }
      options = lock;
      lock = undefined;
    }
    super(options);
    // Its own lock carries its name and limit: notified and aborting waiters queue there. For
    // the inspector, it is created where this condition is.
    this.#lock =
      (lock as Lock | undefined) ?? createOwned(() => new Lock({ name: this.name, maxWaiters: options?.maxWaiters }));
    this.#waiters = new ConditionWaiters(this, this.#lock);
  }

  /**
   * Acquires the underlying lock ({@link Lock.acquire}).
   *
   * *Cancellation.* As for {@link Lock.acquire}: giving up loses only the place in the queue.
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
   * using release = await cond.acquire({ timeout: 1_000 }); // released at the end of the scope
   * ```
   */
  acquire(options?: WaitOptions): Promise<Releaser> {
    return this.#lock.acquire(options);
  }

  /**
   * Releases the underlying lock ({@link Lock.release}).
   *
   * @throws {DOMException} `InvalidStateError` if the lock is not locked.
   *
   * @example
   * ```ts
   * await cond.acquire();
   * cond.release();
   * ```
   */
  release(): void {
    this.#lock.release();
  }

  /**
   * Whether the underlying lock is locked.
   *
   * @example
   * ```ts
   * new Condition().isLocked(); // false
   * ```
   */
  isLocked(): boolean {
    return this.#lock.isLocked();
  }

  /**
   * Runs `fn` while holding the underlying lock ({@link Lock.runExclusive}).
   *
   * *Cancellation.* `options` applies to acquiring the lock only.
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
   * await cond.runExclusive(() => cond.notifyAll());
   * ```
   */
  runExclusive<T>(fn: () => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    return this.#lock.runExclusive(fn, options);
  }

  /**
   * Releases the lock, waits to be notified, and re-acquires the lock before it settles. The
   * caller must hold the lock.
   *
   * *Cancellation.* If the signal aborts or the timeout elapses before a notification, the wait
   * leaves the queue at once (`waiterCount` drops), re-acquires the lock, and only then rejects
   * with the abort reason or a `TimeoutError` DOMException: the caller holds the lock again
   * either way. A waiter that gives up never takes a notification from another, and never
   * wakes another. Once notified, a later abort or timeout changes nothing: the wait re-acquires
   * the lock and resolves. An already-aborted signal rejects at once, without releasing the lock;
   * so does `timeout: 0` (a wait for a notification can never complete at once).
   *
   * @returns A promise of `true`. It never throws synchronously.
   * @throws {DOMException} (as a rejection) `InvalidStateError` if the lock is not held.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   *
   * @example
   * ```ts
   * let ready = false;
   * setTimeout(() => cond.runExclusive(() => { ready = true; cond.notifyAll(); }), 100);
   *
   * await cond.acquire();
   * try {
   *   while (!ready) await cond.wait({ timeout: 1_000 });
   * } finally {
   *   cond.release();
   * }
   * ```
   */
  wait(options?: WaitOptions): Promise<true> {
    const rejected = this.#check(options, 'wait');
    if (rejected !== undefined) return rejected;
    const waiting = this.#waiters.wait(options);
    // `timeout: 0` has rejected at once, registering nothing: the caller keeps the lock.
    if (options?.timeout !== 0) this.#lock.release();
    return waiting;
  }

  /**
   * Waits until `predicate()` returns a truthy value, and returns it. The predicate is called
   * with the lock held: first at once, then after every notification. The caller must hold the
   * lock, and holds it again when the promise settles.
   *
   * *Cancellation.* `timeout` is one deadline for the whole call, not per notification. When it
   * elapses, or the signal aborts, the call re-acquires the lock and rejects with a
   * `TimeoutError` DOMException or the abort reason. An already-aborted signal rejects without
   * calling the predicate.
   *
   * @returns A promise of the predicate's truthy result. It never throws synchronously.
   * @throws {DOMException} (as a rejection) `InvalidStateError` if the lock is not held.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   *
   * @example
   * ```ts
   * const jobs: string[] = [];
   * setTimeout(() => cond.runExclusive(() => { jobs.push('job'); cond.notify(); }), 100);
   *
   * await cond.runExclusive(() => cond.waitFor(() => jobs.length > 0, { timeout: 5_000 })); // true
   * ```
   */
  waitFor<T>(predicate: () => T, options?: WaitOptions): Promise<T> {
    if (typeof predicate !== 'function') {
      return Promise.reject(badValue('The "predicate" argument', 'a function', predicate));
    }
    const rejected = this.#check(options, 'waitFor');
    if (rejected !== undefined) return rejected;
    return this.#waitFor(predicate, options?.signal, options?.timeout);
  }

  async #waitFor<T>(predicate: () => T, signal: AbortSignal | undefined, timeout: number | undefined): Promise<T> {
    let result = predicate();
    const deadline = timeout === undefined ? Infinity : timerNow() + timeout;
    while (!result) {
      const remaining = deadline - timerNow();
      if (remaining <= 0) throw timeoutError(this, 'waitFor', timeout as number);
      try {
        // What is left of the one deadline (`Infinity`: no limit).
        await this.wait({ signal, timeout: Math.ceil(remaining) });
      } catch (error) {
        // Our own per-wait timeout becomes the call's TimeoutError; an abort passes through.
        if (signal?.aborted && signal.reason === error) throw error;
        if (error instanceof DOMException && error.name === 'TimeoutError') {
          throw timeoutError(this, 'waitFor', timeout as number);
        }
        throw error;
      }
      result = predicate();
    }
    return result;
  }

  /**
   * Wakes up to `n` waiters, in FIFO order. Each re-acquires the lock (queued behind the current
   * lock waiters) before its wait resolves. The caller must hold the lock.
   *
   * @param n An integer `>= 0` (default 1); `0` wakes no one.
   * @throws {DOMException} `InvalidStateError` if the lock is not held.
   * @throws {TypeError} If `n` is not a number.
   * @throws {RangeError} If `n` is not an integer `>= 0`.
   *
   * @example
   * ```ts
   * await cond.runExclusive(() => cond.notify(2));
   * ```
   */
  notify(n = 1): void {
    checkInteger(n, 'The "n" argument', 0);
    this.#checkHeld('notify');
    for (let i = 0; i < n && this.#waiters.notifyHead(); i++);
  }

  /**
   * Wakes every waiter. The caller must hold the lock.
   *
   * @throws {DOMException} `InvalidStateError` if the lock is not held.
   *
   * @example
   * ```ts
   * await cond.runExclusive(() => cond.notifyAll());
   * ```
   */
  notifyAll(): void {
    this.#checkHeld('notifyAll');
    while (this.#waiters.notifyHead());
  }

  /**
   * Number of callers waiting to be notified (not counting notified ones that wait for the lock).
   *
   * @example
   * ```ts
   * new Condition().waiterCount; // 0
   * ```
   */
  get waiterCount(): number {
    return this.#waiters.size;
  }

  /** `'Condition'`. */
  get [Symbol.toStringTag](): string {
    return 'Condition';
  }

  // As a Lock's (`lock.ts`), word for word.
  protected describeState(): string {
    return `${this.isLocked() ? 'locked' : 'unlocked'}, waiters:${this.waiterCount}`;
  }

  /**
   * The checks before a wait, in order: bad options (TypeError, RangeError), then the lock not
   * held (a usage error, reported even with an aborted signal), then an already-aborted signal.
   */
  #check(options: WaitOptions | undefined, method: string): Promise<never> | undefined {
    try {
      if (options !== undefined) {
        const error = invalidOptions(options);
        if (error !== undefined) throw error;
      }
      this.#checkHeld(method);
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return undefined;
  }

  /** Throws an `InvalidStateError` naming `method` unless the lock is held. */
  #checkHeld(method: string): void {
    if (!this.#lock.isLocked()) throw invalidStateError(`${this.label}: ${method}() requires the lock to be held`);
  }
}
