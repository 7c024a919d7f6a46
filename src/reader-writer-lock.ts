import { checkFunction, type PrimitiveOptions, rejectInvalid, type WaitOptions } from './core/options.js';
import { BARE, Bare, PermitCore, type PermitData } from './core/permits.js';
import type { Releaser } from './core/releaser.js';

/**
 * The permits of a ReaderWriterLock: a read hold takes 1, a write hold takes them all, so a
 * writer excludes everyone and readers share. The largest small integer V8 keeps unboxed, so the
 * count stays fast; about a billion read holds at once is the limit.
 */
// Stryker disable next-line ArithmeticOperator: evaluated while the module loads (a static mutant); 2 ** 30 + 1 differs only past a billion read holds at once, and in speed (it is not a small integer); applied by hand, every test of test/reader-writer-lock*.test.ts passes
const ALL = 2 ** 30 - 1;
/** The data of a queued `runWrite`: all the permits, granted without a Releaser. */
const RUN_WRITE = new Bare(ALL);

/**
 * A reader-writer lock: any number of readers share it, a writer holds it alone. Writers never
 * starve: one FIFO queue serves both kinds, and a waiting writer blocks the readers that come
 * after it.
 *
 * A reader is granted at once only if no writer holds the lock and nobody waits ahead of it.
 * When a writer releases, or the last reader releases, the head of the queue is granted: one
 * writer, or the whole run of consecutive readers at the head. A wait that gives up (through its
 * `signal` or `timeout`) leaves the queue at once; if it was at the head, whoever now fits is
 * granted in that same step. Every hold is a {@link Releaser}; there is no `release()` method.
 *
 * Read holds are not re-entrant: a reader that waits for a second read hold while a writer
 * waits deadlocks, as in every fair reader-writer lock (asyncio has none; tokio's `RwLock` and
 * Go's `sync.RWMutex` behave the same).
 *
 * @example
 * ```ts
 * import { ReaderWriterLock } from 'waitsafe';
 *
 * const rw = new ReaderWriterLock({ name: 'config' });
 * let config = { retries: 3 };
 *
 * const read = () => rw.runRead(() => config.retries);
 * const update = (retries: number) =>
 *   rw.runWrite(() => {
 *     config = { retries };
 *   });
 *
 * await Promise.all([read(), read(), update(5)]);
 * await read(); // 5
 * ```
 */
export class ReaderWriterLock extends PermitCore {
  /**
   * @param options `name` and `maxWaiters` (see {@link PrimitiveOptions}).
   * @throws {TypeError} If `options`, `name` or `maxWaiters` has the wrong type, or `options` has
   *   a key it does not know.
   * @throws {RangeError} If `maxWaiters` is not an integer `>= 0` or `Infinity`.
   */
  constructor(options?: PrimitiveOptions) {
    super(ALL, options);
  }

  /**
   * Takes a shared (read) hold: at once if no writer holds the lock and nobody waits, else in
   * FIFO order.
   *
   * *Cancellation.* With `signal`, the wait rejects with `signal.reason` when it aborts (at once,
   * registering nothing, if it is already aborted). With `timeout`, it rejects with a
   * `TimeoutError` DOMException after that many milliseconds; `timeout: 0` takes the hold if it
   * is free now or rejects at once. Giving up loses only the place in the queue, and whoever now
   * fits behind it is granted at once. Once granted, a later abort changes nothing: the caller
   * holds the lock and must release it.
   *
   * @param options `signal` and/or `timeout` (milliseconds; `Infinity` or absent: no limit).
   * @returns A promise of a {@link Releaser} for the read hold. It never throws synchronously.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   *
   * @example
   * ```ts
   * const rw = new ReaderWriterLock();
   * const a = await rw.acquireRead();
   * const b = await rw.acquireRead({ timeout: 1_000 });
   * rw.readers; // 2
   * a();
   * b();
   * ```
   */
  acquireRead(options?: WaitOptions): Promise<Releaser> {
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    return this.take(1, options, undefined);
  }

  /**
   * Takes the exclusive (write) hold: at once if nobody holds the lock and nobody waits, else in
   * FIFO order. While it waits, readers that come later wait behind it.
   *
   * *Cancellation.* As {@link acquireRead}: with `signal` it rejects with `signal.reason`, with
   * `timeout` with a `TimeoutError` DOMException (`timeout: 0`: now or never), and giving up lets
   * the readers queued behind it in at once if they now fit.
   *
   * @param options `signal` and/or `timeout` (milliseconds; `Infinity` or absent: no limit).
   * @returns A promise of a {@link Releaser} for the write hold. It never throws synchronously.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   *
   * @example
   * ```ts
   * const rw = new ReaderWriterLock();
   * {
   *   using release = await rw.acquireWrite({ timeout: 1_000 });
   *   rw.isWriteLocked(); // true
   * }
   * rw.isWriteLocked(); // false
   * ```
   */
  acquireWrite(options?: WaitOptions): Promise<Releaser> {
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    return this.take(ALL, options, ALL);
  }

  /**
   * Takes a read hold if no writer holds the lock and nobody waits; never waits.
   *
   * @returns A {@link Releaser}, or `undefined`.
   *
   * @example
   * ```ts
   * const rw = new ReaderWriterLock();
   * const release = rw.tryAcquireRead();
   * rw.tryAcquireWrite(); // undefined
   * release?.();
   * ```
   */
  tryAcquireRead(): Releaser | undefined {
    return this.tryTake(1);
  }

  /**
   * Takes the write hold if nobody holds the lock and nobody waits; never waits.
   *
   * @returns A {@link Releaser}, or `undefined`.
   *
   * @example
   * ```ts
   * const rw = new ReaderWriterLock();
   * const release = rw.tryAcquireWrite();
   * rw.tryAcquireRead(); // undefined
   * release?.();
   * ```
   */
  tryAcquireWrite(): Releaser | undefined {
    return this.tryTake(ALL);
  }

  /**
   * Runs `fn` under a read hold, and releases it however `fn` ends. If the hold is free now,
   * `fn` runs at once, before `runRead` returns.
   *
   * *Cancellation.* `options` applies to the acquire only: if it gives up, `fn` is never called
   * and the promise rejects with the abort reason or the TimeoutError. Once `fn` runs, it is not
   * interrupted.
   *
   * @returns What `fn` returns (awaited), or its error.
   * @throws {TypeError} (as a rejection) If `fn` is not a function, or `options` is not an object
   *   or undefined, has a key other than `signal` and `timeout`, or its `signal` or `timeout` has
   *   the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   *
   * @example
   * ```ts
   * const rw = new ReaderWriterLock();
   * await rw.runRead(() => 42, { timeout: 1_000 }); // 42
   * ```
   */
  runRead<T>(fn: () => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    return this.#run(1, fn, options, BARE);
  }

  /**
   * Runs `fn` under the write hold, and releases it however `fn` ends. If the lock is free now,
   * `fn` runs at once, before `runWrite` returns.
   *
   * *Cancellation.* As {@link runRead}: `options` applies to the acquire only.
   *
   * @returns What `fn` returns (awaited), or its error.
   * @throws {TypeError} (as a rejection) If `fn` is not a function, or `options` is not an object
   *   or undefined, has a key other than `signal` and `timeout`, or its `signal` or `timeout` has
   *   the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted).
   *
   * @example
   * ```ts
   * const rw = new ReaderWriterLock();
   * let hits = 0;
   * await rw.runWrite(() => ++hits); // 1
   * ```
   */
  runWrite<T>(fn: () => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    return this.#run(ALL, fn, options, RUN_WRITE);
  }

  #run<T>(
    weight: number,
    fn: () => T | PromiseLike<T>,
    options: WaitOptions | undefined,
    data: PermitData,
  ): Promise<T> {
    try {
      checkFunction(fn, 'The "fn" argument');
    } catch (error) {
      return Promise.reject(error);
    }
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    return this.runWith(weight, fn, options, data);
  }

  /**
   * Read holds now (0 while a writer holds the lock).
   *
   * @example
   * ```ts
   * const rw = new ReaderWriterLock();
   * rw.tryAcquireRead();
   * rw.readers; // 1
   * ```
   */
  get readers(): number {
    const free = this.freePermits;
    return free === 0 ? 0 : ALL - free;
  }

  /**
   * Whether a writer holds the lock now.
   *
   * @example
   * ```ts
   * const rw = new ReaderWriterLock();
   * rw.isWriteLocked(); // false
   * ```
   */
  isWriteLocked(): boolean {
    return this.freePermits === 0;
  }

  /** @internal */
  override verbOf(data: PermitData): string {
    return data === ALL || data === RUN_WRITE ? 'acquireWrite' : 'acquireRead';
  }

  /** Releasers release once, so a ReaderWriterLock can never be over-released. @internal */
  protected checkRelease(): void {}

  /** `'ReaderWriterLock'`. */
  get [Symbol.toStringTag](): string {
    return 'ReaderWriterLock';
  }

  protected describeState(): string {
    const state = this.isWriteLocked() ? 'writing' : this.readers > 0 ? `readers:${this.readers}` : 'unlocked';
    return `${state}, waiters:${this.waiterCount}`;
  }
}
