/**
 * The weighted permit pool behind `Lock`, `Semaphore`, `BoundedSemaphore` and
 * `ReaderWriterLock` (as tokio's Mutex, Semaphore and RwLock share one batch semaphore).
 *
 * A wait asks for a weight (1 for a Lock or a read hold; the whole capacity for a write hold).
 * Waiters are served strictly in FIFO order without barging: a newcomer takes permits at once
 * only if they are free *and nobody waits*, and a heavy waiter at the head blocks lighter ones
 * behind it (no starvation). Whenever permits come back (a release) or the head leaves (an
 * abort or a timeout), {@link PermitCore.grant} hands permits to every waiter at the head that
 * now fits, in that same synchronous step, so a waiter that gave up at the head never leaves
 * the ones behind it stuck (golang/go#37852 was that bug). A granted waiter owns its permits
 * even if its signal aborts a moment later.
 *
 * @module
 */

import { timeoutError } from './dom-errors.js';
import { checkFunction, type PrimitiveOptions, rejectInvalid, type WaitOptions } from './options.js';
import { Primitive } from './primitive.js';
import { makeReleaser, type Releaser } from './releaser.js';
import { resolveHead, type Waiter, WaiterQueue } from './waiters.js';

const promiseThen = Promise.prototype.then;

/** The data of a `runExclusive` waiter of weight 1: it is granted without a Releaser. */
export const BARE = {};

/** The data of a waiter of weight > 1 granted without a Releaser (`runWrite`). */
export class Bare {
  declare readonly weight: number;
  // Stryker disable next-line BlockStatement: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/reader-writer-lock.test.ts (its one instance is made at load)
  constructor(weight: number) {
    this.weight = weight;
  }
}

/**
 * What a waiter's `data` says: `undefined` (weight 1, granted a Releaser), {@link BARE} (weight 1,
 * granted `undefined`), a number (that weight, granted a Releaser) or a {@link Bare} (its weight,
 * granted `undefined`).
 */
export type PermitData = undefined | typeof BARE | number | Bare;

// Stryker disable next-line ArrowFunction: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/weighted.test.ts
const weightOf = (data: PermitData): number =>
  data === undefined || data === BARE ? 1 : typeof data === 'number' ? data : (data as Bare).weight;

/**
 * Runs `fn` while `pool` holds a permit for it, and releases the permit once `fn`'s result (or
 * the promise it returned) settles: the value, or a rejection with its error.
 */
function runHeld<T>(pool: PermitCore, weight: number, fn: () => T | PromiseLike<T>): T | Promise<T> {
  let result: T | PromiseLike<T>;
  try {
    result = fn();
  } catch (error) {
    pool.releasePermits(weight);
    return Promise.reject(error);
  }
  // A plain value: release now. Anything else may be a thenable: release once it settles.
  if (Object(result) !== result) {
    pool.releasePermits(weight);
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
        pool.releasePermits(weight);
        return value;
      },
      (error: unknown) => {
        pool.releasePermits(weight);
        throw error;
      },
    ) as Promise<T>;
  } catch (error) {
    pool.releasePermits(weight);
    return Promise.reject(error);
  }
}

/**
 * The queue of a permit pool: when a waiter gives up (abort, timeout), the ones behind it that
 * now fit are granted in the same step.
 */
class PermitQueue extends WaiterQueue<Releaser | undefined> {
  declare readonly pool: PermitCore;

  constructor(pool: PermitCore, verb: string) {
    super(pool, verb);
    this.pool = pool;
  }

  override onCancel(node: Waiter<Releaser | undefined>, reason: unknown): void {
    super.onCancel(node, reason);
    this.pool.grant();
  }

  override onExpire(node: Waiter<Releaser | undefined>, ms: number): void {
    this.onCancel(node, timeoutError(this.owner, this.pool.verbOf(node.data as PermitData), ms));
  }
}

/**
 * Weighted permits with FIFO hand-off, for the primitives to build their methods on. Not
 * exported from the package.
 *
 * Who writes what: `#value` only the methods here. Subclasses wait through {@link take} and
 * {@link runWith}, and release through {@link releasePermits} (which checks over-release with
 * their {@link checkRelease}).
 */
export abstract class PermitCore extends Primitive {
  /** Permits free now. */
  #value: number;
  /** Waiting acquires, in FIFO order; their `data` is a {@link PermitData}. */
  protected readonly waiters: WaiterQueue<Releaser | undefined>;

  constructor(value: number, options: PrimitiveOptions | undefined) {
    super(options);
    this.#value = value;
    this.waiters = new PermitQueue(this, 'acquire');
  }

  /** Permits free now. @internal */
  protected get freePermits(): number {
    return this.#value;
  }

  /**
   * Takes `weight` permits, waiting in FIFO order unless they are free and nobody waits. The
   * caller has validated `options` and `weight`; `data` is the waiter's {@link PermitData}.
   */
  protected take(weight: number, options: WaitOptions | undefined, data: PermitData): Promise<Releaser> {
    if (this.#value >= weight && this.waiters.head === null) {
      this.#value -= weight;
      return Promise.resolve(makeReleaser(this, weight));
    }
    if (options?.timeout === 0) return Promise.reject(timeoutError(this, this.verbOf(data), 0));
    return this.waiters.wait(options, data) as Promise<Releaser>;
  }

  /** Takes `weight` permits if they are free and nobody waits; never waits, never barges. */
  protected tryTake(weight: number): Releaser | undefined {
    if (this.#value < weight || this.waiters.head !== null) return undefined;
    this.#value -= weight;
    return makeReleaser(this, weight);
  }

  /**
   * Runs `fn` holding `weight` permits (taken like {@link take}, the waiter's data `data`), and
   * releases them however `fn` ends. The caller has validated `fn` and `options`.
   */
  protected runWith<T>(
    weight: number,
    fn: () => T | PromiseLike<T>,
    options: WaitOptions | undefined,
    data: PermitData,
  ): Promise<T> {
    // No Releaser is made for the hold: runHeld releases the permits itself, and a waiter is
    // granted with `undefined` (which a promise resolves without looking for a `then`).
    if (this.#value >= weight && this.waiters.head === null) {
      this.#value -= weight;
      return Promise.resolve(runHeld(this, weight, fn));
    }
    if (options?.timeout === 0) return Promise.reject(timeoutError(this, this.verbOf(data), 0));
    return this.waiters.wait(options, data).then(() => runHeld(this, weight, fn));
  }

  /** The waiting method a waiter with `data` came from, for timeout messages. @internal */
  verbOf(_data: PermitData): string {
    return this.waiters.verb;
  }

  /**
   * Returns `weight` permits and hands them to the waiters at the head that now fit. Throws
   * (changing nothing) if `checkRelease` says it is an over-release. For the Releasers.
   * @internal
   */
  releasePermits(weight: number): void {
    this.checkRelease(this.#value, weight);
    const head = this.waiters.head;
    // The common hand-off: one permit back, the head wants one (so none is free: it would have
    // had it). The same as `grant()` below, without its loop.
    // Stryker disable next-line ConditionalExpression,EqualityOperator,LogicalOperator,BlockStatement: grant() below does the same for this case
    if (weight === 1 && head !== null && (head.data === undefined || head.data === BARE)) {
      // Stryker disable next-line ConditionalExpression: a Releaser given to a runExclusive wait is never used (runHeld releases), only allocated
      resolveHead(this.waiters, head.data === BARE ? undefined : makeReleaser(this, 1));
      return;
    }
    this.#value += weight;
    this.grant();
  }

  /**
   * Grants every waiter at the head of the queue that fits in the free permits, in order. For
   * the queue, when a waiter leaves.
   * @internal
   */
  grant(): void {
    const queue = this.waiters;
    for (let head = queue.head; head !== null; head = queue.head) {
      const data = head.data as PermitData;
      const weight = weightOf(data);
      if (weight > this.#value) return;
      this.#value -= weight;
      // Stryker disable next-line ConditionalExpression,LogicalOperator: a Releaser given to a runExclusive or runWrite wait is never used (they release themselves), only allocated
      resolveHead(queue, data === BARE || data instanceof Bare ? undefined : makeReleaser(this, weight));
    }
  }

  /**
   * Throws if returning `weight` permits (with `value` free now) would be an over-release.
   * @internal
   */
  protected abstract checkRelease(value: number, weight: number): void;

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
    return this.waiters.size;
  }
}

/** Base class of Lock, Semaphore and BoundedSemaphore: their shared public methods. */
export abstract class PermitPool extends PermitCore {
  // Written out, not implied: V8 leaves implied constructors out of stack traces, and the
  // inspector counts one frame per class where it cannot skip them by function
  // (`callerFrames` in src/inspect/stacks.ts).
  constructor(value: number, options: PrimitiveOptions | undefined) {
    super(value, options);
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
    return this.take(1, options, undefined);
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
    return this.tryTake(1);
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
    this.releasePermits(1);
  }

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
    return this.freePermits === 0 || this.waiters.head !== null;
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
    try {
      checkFunction(fn, 'The "fn" argument');
    } catch (error) {
      return Promise.reject(error);
    }
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    return this.runWith(1, fn, options, BARE);
  }
}
