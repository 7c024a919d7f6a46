import { timeoutError } from '../core/dom-errors.js';
import { badValue, checkInteger, rejectInvalid, type WaitOptions } from '../core/options.js';
import { BrokenBarrierError } from '../errors.js';
import {
  BROKEN,
  breakSlot,
  DEFAULT_CAPACITY,
  freeSlot,
  GRANTED,
  grantSlot,
  H_A,
  H_B,
  H_C,
  H_CAPACITY,
  H_QUEUED,
  MAX_CAPACITY,
  QUEUED,
  queued,
  S_AGENT,
  S_STATE,
  S_VALUE,
  S_WEIGHT,
  type SharedHandle,
  slotAt,
} from './memory.js';
import { fromHandle, type SharedFromOptions, type SharedOptions, SharedPrimitive } from './primitive.js';

/** Kind words: A = PARTIES, B = ROUND (bumped by every trip: the commit), C = BROKEN (1 after abort()). */
const PARTIES = H_A;
const ROUND = H_B;
const IS_BROKEN = H_C;
/** S_VALUE of a broken slot: why. */
const RESET = 1;
const ABORTED = 2;

/**
 * A barrier shared by threads over a `SharedArrayBuffer`: the in-process {@link Barrier}'s
 * methods and rules, across threads. `parties` waits, in any threads, make a round; each gets an
 * arrival index unique in its round, assigned when the barrier trips.
 *
 * @example
 * ```ts
 * import { SharedBarrier } from 'waitsafe/shared';
 *
 * const step = new SharedBarrier(4); // main thread, 4 workers
 * for (const worker of workers) worker.postMessage({ step: step.handle });
 *
 * // in each worker, every iteration
 * const index = await SharedBarrier.from(data.step).wait({ timeout: 60_000 });
 * ```
 */
export class SharedBarrier extends SharedPrimitive<number> {
  /**
   * @param parties How many parties make a round: an integer from 1 to `capacity + 1` (the
   *   last party to arrive needs no slot).
   * @param options `name`, `maxWaiters` and `capacity` (see {@link SharedOptions}).
   * @throws {TypeError} If `parties`, `options`, `name`, `maxWaiters` or `capacity` has the
   *   wrong type, `options` has a key it does not know, or the runtime has no `SharedArrayBuffer`.
   * @throws {RangeError} If `parties` is out of range (above `capacity + 1`), or `maxWaiters` or
   *   `capacity` is out of range.
   */
  constructor(parties: number, options?: SharedOptions) {
    checkInteger(parties, 'The "parties" argument', 1);
    // Before anything is made (from() passes 1): the last party to arrive needs no slot.
    const capacity = (options as { capacity?: unknown } | undefined)?.capacity;
    const slots = Number.isInteger(capacity) ? (capacity as number) : DEFAULT_CAPACITY;
    if (parties - 1 > slots && slots >= 1 && slots <= MAX_CAPACITY) {
      throw badValue('The "parties" argument', `an integer from 1 to the capacity + 1 (${slots + 1})`, parties, true);
    }
    super('SharedBarrier', options, 'wait');
    if (!this.adopted) Atomics.store(this.memory, PARTIES, parties);
  }

  /**
   * The same barrier, in this thread, from the {@link SharedBarrier.handle | handle} another
   * thread passed.
   *
   * @param handle A SharedBarrier's `handle`.
   * @param options The local `maxWaiters`.
   * @throws {TypeError} If `handle` is not the handle of a SharedBarrier.
   *
   * @example
   * ```ts
   * const step = SharedBarrier.from(workerData.step);
   * ```
   */
  static from(handle: SharedHandle, options?: SharedFromOptions): SharedBarrier {
    return fromHandle(handle, 'SharedBarrier', options, () => new SharedBarrier(1, options as SharedOptions));
  }

  /**
   * Arrives at the barrier and waits for the other parties, in any thread. Resolves with this
   * party's arrival index, `0` to `parties - 1`, unique in the round.
   *
   * *Cancellation.* A party whose signal aborts or whose timeout elapses leaves the round at once
   * (its shared slot is freed, the count drops, the barrier is not broken) and rejects with the
   * abort reason or a `TimeoutError` DOMException. A trip in another thread before this thread
   * saw the abort wins: the wait resolves with its index. `timeout: 0` succeeds only for the
   * party that completes the round.
   *
   * @returns A promise of the arrival index. It never throws synchronously.
   * @throws {BrokenBarrierError} (as a rejection) If the barrier is broken, or is reset or
   *   aborted while this party waits.
   * @throws {TypeError} (as a rejection) If `options` is not an object or undefined, has a key
   *   other than `signal` and `timeout`, or its `signal` or `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN, or every shared slot is in use.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts.
   *
   * @example
   * ```ts
   * const index = await step.wait();
   * ```
   */
  wait(options?: WaitOptions): Promise<number> {
    if (options !== undefined) {
      const rejected = rejectInvalid(options);
      if (rejected !== undefined) return rejected;
    }
    const memory = this.memory;
    try {
      this.enter();
    } catch (error) {
      return Promise.reject(error);
    }
    if ((memory[IS_BROKEN] as number) === 1) {
      this.exit();
      return Promise.reject(this.#broken('is broken'));
    }
    if ((memory[H_QUEUED] as number) + 1 < (memory[PARTIES] as number)) {
      if (options?.timeout === 0) {
        this.exit();
        return Promise.reject(timeoutError(this, 'wait', 0));
      }
      return this.queue(memory[ROUND] as number, options?.signal, options?.timeout); // leaves the section
    }
    // The last party trips the barrier: indices in arrival order, the last one its own.
    const round = queued(memory);
    round.forEach((slot, i) => {
      memory[slotAt(slot, S_VALUE)] = i;
    });
    memory[ROUND] = ((memory[ROUND] as number) + 1) | 0; // the commit
    const woken: number[] = [];
    for (const slot of round) {
      grantSlot(memory, slot);
      const agent = (memory[slotAt(slot, S_AGENT)] as number) - 1;
      if (!woken.includes(agent)) woken.push(agent);
    }
    this.exit();
    const index = round.length;
    this.notify(woken);
    return Promise.resolve(index);
  }

  /**
   * Rejects every waiting party, in every thread, with a {@link BrokenBarrierError} and makes the
   * barrier usable again (also after `abort()`).
   *
   * @example
   * ```ts
   * step.reset();
   * ```
   */
  reset(): void {
    this.#break(false);
  }

  /**
   * Breaks the barrier: every waiting party, in every thread, and every party that arrives until
   * `reset()`, rejects with a {@link BrokenBarrierError}.
   *
   * @example
   * ```ts
   * step.abort();
   * step.isBroken(); // true
   * ```
   */
  abort(): void {
    this.#break(true);
  }

  /**
   * Whether the barrier is broken (aborted and not reset since).
   *
   * @example
   * ```ts
   * new SharedBarrier(2).isBroken(); // false
   * ```
   */
  isBroken(): boolean {
    return Atomics.load(this.memory, IS_BROKEN) === 1;
  }

  /**
   * How many parties make a round.
   *
   * @example
   * ```ts
   * new SharedBarrier(3).parties; // 3
   * ```
   */
  get parties(): number {
    return Atomics.load(this.memory, PARTIES);
  }

  #break(broken: boolean): void {
    const memory = this.memory;
    let woken: number[];
    this.enter();
    try {
      // An abort's commit. A reset may clear it first: waits are queued only while it is 0 (a
      // broken barrier rejects arrivals at once), so its breaks are its commit.
      memory[IS_BROKEN] = broken ? 1 : 0;
      woken = this.#breakQueued(broken ? ABORTED : RESET);
    } finally {
      this.exit();
    }
    this.notify(woken);
  }

  /** Breaks every queued slot. Inside a section. */
  #breakQueued(why: number): number[] {
    const memory = this.memory;
    const woken: number[] = [];
    for (const slot of queued(memory)) {
      breakSlot(memory, slot, why);
      const agent = (memory[slotAt(slot, S_AGENT)] as number) - 1;
      if (!woken.includes(agent)) woken.push(agent);
    }
    return woken;
  }

  #broken(what: string): BrokenBarrierError {
    return new BrokenBarrierError(`${this.label} ${what}`);
  }

  protected take(slot: number, state: number): { value: number } | { error: unknown } {
    const memory = this.memory;
    const value = memory[slotAt(slot, S_VALUE)] as number;
    freeSlot(memory, slot);
    if (state === GRANTED) return { value };
    return { error: this.#broken(value === ABORTED ? 'was aborted' : 'was reset') };
  }

  protected left(): number[] {
    return [];
  }

  protected override repair(): number[] {
    const memory = this.memory;
    const capacity = memory[H_CAPACITY] as number;
    const round = memory[ROUND] as number;
    const aborted = memory[IS_BROKEN] === 1;
    for (let i = 0; i < capacity; i++) {
      if (memory[slotAt(i, S_STATE)] !== QUEUED) continue;
      if (memory[slotAt(i, S_WEIGHT)] !== round) {
        // A trip a dead thread committed (ROUND bumped, indices written) but did not finish.
        memory[slotAt(i, S_STATE)] = GRANTED;
      } else if (aborted) {
        memory[slotAt(i, S_VALUE)] = ABORTED;
        memory[slotAt(i, S_STATE)] = BROKEN;
      }
    }
    return super.repair();
  }

  /** `'SharedBarrier'`. */
  get [Symbol.toStringTag](): string {
    return 'SharedBarrier';
  }

  protected describeState(): string {
    return `${this.isBroken() ? 'broken, ' : ''}parties:${this.parties}, waiting:${this.waiterCount}`;
  }
}
