import { timeoutError } from '../core/dom-errors.js';
import { rejectInvalid, type WaitOptions } from '../core/options.js';
import {
  freeSlot,
  GRANTED,
  grantSlot,
  H_A,
  H_B,
  H_CAPACITY,
  QUEUED,
  queued,
  S_AGENT,
  S_STATE,
  S_WEIGHT,
  type SharedHandle,
  slotAt,
} from './memory.js';
import { fromHandle, type SharedFromOptions, type SharedOptions, SharedPrimitive } from './primitive.js';

/** Kind words: A = SET (1 while set), B = GENERATION (bumped by every set: the commit). */
const SET = H_A;
const GENERATION = H_B;

/**
 * An event shared by threads over a `SharedArrayBuffer`: the in-process {@link Event}'s methods
 * and rules, across threads. `set()` in one thread wakes the waiters of every thread.
 *
 * @example
 * ```ts
 * import { SharedEvent } from 'waitsafe/shared';
 *
 * const ready = new SharedEvent({ name: 'ready' }); // main thread
 * worker.postMessage({ ready: ready.handle });
 * await ready.wait({ timeout: 10_000 });            // set by the worker
 *
 * // in the worker
 * SharedEvent.from(data.ready).set();
 * ```
 */
export class SharedEvent extends SharedPrimitive<true> {
  /**
   * @param options `name`, `maxWaiters` and `capacity` (see {@link SharedOptions}).
   * @throws {TypeError} If `options`, `name`, `maxWaiters` or `capacity` has the wrong type, or
   *   `options` has a key it does not know, or the runtime has no `SharedArrayBuffer`.
   * @throws {RangeError} If `maxWaiters` or `capacity` is out of range.
   */
  constructor(options?: SharedOptions) {
    super('SharedEvent', options, 'wait');
  }

  /**
   * The same event, in this thread, from the {@link SharedEvent.handle | handle} another thread
   * passed.
   *
   * @param handle A SharedEvent's `handle`.
   * @param options The local `maxWaiters`.
   * @throws {TypeError} If `handle` is not the handle of a SharedEvent.
   *
   * @example
   * ```ts
   * const ready = SharedEvent.from(workerData.ready);
   * ```
   */
  static from(handle: SharedHandle, options?: SharedFromOptions): SharedEvent {
    return fromHandle(handle, 'SharedEvent', options, () => new SharedEvent(options as SharedOptions));
  }

  /**
   * Whether the event is set.
   *
   * @example
   * ```ts
   * new SharedEvent().isSet(); // false
   * ```
   */
  isSet(): boolean {
    return Atomics.load(this.memory, SET) === 1;
  }

  /**
   * Sets the event and wakes every waiter of every thread; later waits resolve at once until
   * `clear()`. Idempotent. `set(); clear();` does not un-wake the waiters `set()` released.
   *
   * @example
   * ```ts
   * ready.set();
   * ```
   */
  set(): void {
    const memory = this.memory;
    const woken: number[] = [];
    this.enter();
    try {
      if ((memory[SET] as number) === 1) return;
      memory[SET] = 1;
      memory[GENERATION] = ((memory[GENERATION] as number) + 1) | 0; // the commit
      this.grantAll(woken);
    } finally {
      this.exit();
    }
    this.notify(woken);
  }

  /**
   * Clears the event: later waits wait for the next `set()`.
   *
   * @example
   * ```ts
   * ready.clear();
   * ```
   */
  clear(): void {
    Atomics.store(this.memory, SET, 0);
  }

  /**
   * Waits until the event is set (resolves at once if it is).
   *
   * *Cancellation.* If `signal` aborts or `timeout` elapses first, the promise rejects (with the
   * abort reason, or a `TimeoutError` DOMException) and the wait's shared slot is freed in that
   * same step; if it was the thread's last wait, its platform wait ends too. A `set()` in another
   * thread before this thread saw the abort wins. `timeout: 0` resolves only if the event is set.
   *
   * @returns A promise of `true`. It never throws synchronously.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN, or every shared slot is in use.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts.
   *
   * @example
   * ```ts
   * await ready.wait({ signal: AbortSignal.timeout(5_000) });
   * ```
   */
  wait(options?: WaitOptions): Promise<true> {
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    const memory = this.memory;
    if (Atomics.load(memory, SET) === 1) return Promise.resolve(true);
    try {
      this.enter();
    } catch (error) {
      return Promise.reject(error);
    }
    if ((memory[SET] as number) === 1) {
      this.exit();
      return Promise.resolve(true);
    }
    if (options?.timeout === 0) {
      this.exit();
      return Promise.reject(timeoutError(this, 'wait', 0));
    }
    return this.queue(memory[GENERATION] as number, options?.signal, options?.timeout);
  }

  /** Grants every queued slot. Inside a section. */
  private grantAll(woken: number[]): void {
    const memory = this.memory;
    for (const slot of queued(memory)) {
      grantSlot(memory, slot);
      const agent = (memory[slotAt(slot, S_AGENT)] as number) - 1;
      if (!woken.includes(agent)) woken.push(agent);
    }
  }

  protected take(slot: number): { value: true } {
    freeSlot(this.memory, slot);
    return { value: true };
  }

  protected left(): number[] {
    return [];
  }

  protected override repair(): number[] {
    const memory = this.memory;
    // A set whose grants a dead thread did not finish: waits from before its generation are over.
    const capacity = memory[H_CAPACITY] as number;
    for (let i = 0; i < capacity; i++) {
      if (
        (memory[slotAt(i, S_STATE)] as number) === QUEUED &&
        (memory[slotAt(i, S_WEIGHT)] as number) !== (memory[GENERATION] as number)
      ) {
        memory[slotAt(i, S_STATE)] = GRANTED;
      }
    }
    return super.repair();
  }

  /** `'SharedEvent'`. */
  get [Symbol.toStringTag](): string {
    return 'SharedEvent';
  }

  protected describeState(): string {
    return `${this.isSet() ? 'set' : 'unset'}, waiters:${this.waiterCount}`;
  }
}
