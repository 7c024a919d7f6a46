import type { WaitOptions } from '../core/options.js';
import { rejectInvalid } from '../core/options.js';
import type { Releaser } from '../core/releaser.js';
import type { SharedHandle } from './memory.js';
import { SharedPermits } from './permits.js';
import { fromHandle, type SharedFromOptions, type SharedOptions } from './primitive.js';

/**
 * A mutual exclusion lock shared by threads (worker_threads, Web Workers) over a
 * `SharedArrayBuffer`: the in-process {@link Lock}'s methods and rules, across threads. One holder
 * at a time among all threads; waiters of every thread served in FIFO order; `release()` hands
 * the lock straight to the next waiter, whichever thread it is in. Waiting never blocks a thread:
 * it is an `Atomics.waitAsync`, at most one per thread and instance, ended as soon as the
 * thread's last wait ends.
 *
 * Make it in one thread, pass its {@link SharedLock.handle | handle} to the others (with
 * `postMessage`, or `workerData`), and map it there with {@link SharedLock.from}.
 *
 * @example
 * ```ts
 * import { SharedLock } from 'waitsafe/shared';
 *
 * // main thread (worker: a worker_threads Worker)
 * const lock = new SharedLock({ name: 'cache' });
 * worker.postMessage(lock.handle);
 * const id = worker.threadId; // read it now: in the 'exit' event it is -1
 * worker.on('exit', () => lock.recover(id)); // never blocked by a dead worker
 *
 * // in the worker, with the handle it received
 * const cache = SharedLock.from(handle);
 * {
 *   using release = await cache.acquire({ timeout: 5_000 });
 *   updateSharedCache();
 * }
 * ```
 */
export class SharedLock extends SharedPermits {
  /**
   * @param options `name`, `maxWaiters` and `capacity` (see {@link SharedOptions}).
   * @throws {TypeError} If `options`, `name`, `maxWaiters` or `capacity` has the wrong type, or
   *   `options` has a key it does not know, or the runtime has no `SharedArrayBuffer`.
   * @throws {RangeError} If `maxWaiters` is not an integer `>= 0` or `Infinity`, or `capacity` is
   *   not an integer from 1 to 65,536.
   */
  constructor(options?: SharedOptions) {
    super('SharedLock', 1, options);
  }

  /**
   * The same lock, in this thread, from the {@link SharedLock.handle | handle} another thread
   * passed. Each call makes a new instance (one per thread is enough: it multiplexes all the
   * thread's waits on one platform wait).
   *
   * @param handle A SharedLock's `handle`.
   * @param options The local `maxWaiters`.
   * @throws {TypeError} If `handle` is not the handle of a SharedLock: not an object, its buffer
   *   not a SharedArrayBuffer or too small, or the handle of another kind.
   *
   * @example
   * ```ts
   * const lock = SharedLock.from(workerData.lock);
   * ```
   */
  static from(handle: SharedHandle, options?: SharedFromOptions): SharedLock {
    return fromHandle(handle, 'SharedLock', options, () => new SharedLock(options as SharedOptions));
  }

  /**
   * Acquires the lock, waiting in FIFO order behind the waiters of every thread. Resolves with a
   * {@link Releaser}: call it (or `using`) to release.
   *
   * *Cancellation.* If `signal` aborts or `timeout` elapses first, the promise rejects (with the
   * abort reason, or a `TimeoutError` DOMException) and the wait is gone from the shared queue in
   * that same step; if it was the thread's last wait, the thread's platform wait ends too. A grant
   * that another thread made before this thread saw the abort wins: the wait resolves with the
   * lock. `timeout: 0` takes the lock only if it is free and nobody waits.
   *
   * @returns A promise of the releaser. It never throws synchronously.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN, or every shared slot
   *   is in use (the `capacity` option).
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts.
   *
   * @example
   * ```ts
   * using release = await lock.acquire({ signal: request.signal });
   * ```
   */
  acquire(options?: WaitOptions): Promise<Releaser> {
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    return this.take_(1, options);
  }

  /**
   * Takes the lock if it is free and nobody waits in any thread.
   *
   * @returns A releaser, or `undefined`.
   * @throws {RangeError} If every shared slot is in use (the `capacity` option).
   *
   * @example
   * ```ts
   * const release = lock.tryAcquire();
   * if (release) try { work(); } finally { release(); }
   * ```
   */
  tryAcquire(): Releaser | undefined {
    return this.tryTake(1);
  }

  /**
   * Releases the lock, asyncio style (any thread may): hands it to the first waiter of any
   * thread, or unlocks it. Prefer the {@link Releaser}; do not mix both for one hold.
   *
   * @throws {DOMException} `InvalidStateError` if the lock is not locked.
   *
   * @example
   * ```ts
   * await lock.acquire();
   * lock.release();
   * ```
   */
  release(): void {
    this.releasePermits(1);
  }

  /**
   * Whether some thread holds the lock.
   *
   * @example
   * ```ts
   * new SharedLock().isLocked(); // false
   * ```
   */
  isLocked(): boolean {
    return this.free() < 1;
  }

  /**
   * Runs `fn` holding the lock, and releases it when `fn` settles (returns, throws, or its
   * promise settles).
   *
   * *Cancellation.* `signal` and `timeout` apply to the wait for the lock only, as for
   * {@link SharedLock.acquire}; once `fn` runs they change nothing.
   *
   * @returns A promise of what `fn` returns.
   * @throws {TypeError} (as a rejection) If `fn` is not a function, or `options` is invalid as for `acquire`.
   *
   * @example
   * ```ts
   * const row = await lock.runExclusive(() => readRow(), { timeout: 1_000 });
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

  protected overRelease(): Error | undefined {
    return this.notHeld() ? this.notLocked() : undefined;
  }

  /** `'SharedLock'`. */
  get [Symbol.toStringTag](): string {
    return 'SharedLock';
  }

  protected describeState(): string {
    return `${this.isLocked() ? 'locked' : 'unlocked'}, waiters:${this.waiterCount}`;
  }
}
