/**
 * Permits in shared memory: the common part of `SharedLock` and `SharedSemaphore`.
 *
 * Kind words: A = TOTAL (the permits there are: 1 for a lock; a semaphore's initial value plus
 * what `release()` added beyond the holds), B = IN_USE (a cache: the holds of every agent plus
 * the weights of granted slots not yet collected). The value is TOTAL - IN_USE.
 *
 * @module
 */

import { invalidStateError, timeoutError } from '../core/dom-errors.js';
import { checkFunction, type WaitOptions } from '../core/options.js';
import { disposeSymbol, type Releaser, type ReleaseTarget } from '../core/releaser.js';
import {
  A_HOLDS,
  A_TAG,
  AGENT,
  agentAt,
  agentBase,
  FREE,
  freeSlot,
  GRANTED,
  grantSlot,
  H_A,
  H_B,
  H_CAPACITY,
  H_QUEUED,
  head,
  type KindName,
  S_AGENT,
  S_STATE,
  S_WEIGHT,
  slotAt,
} from './memory.js';
import { type SharedFromOptions, type SharedOptions, SharedPrimitive } from './primitive.js';

const TOTAL = H_A;
const IN_USE = H_B;
/** The largest number of permits. */
export const MAX_PERMITS = 0x3fffffff;

const promiseThen = Promise.prototype.then;

/**
 * A releaser of `weight` permits of `owner`. Unlike the in-process one, it counts as used only
 * once the release went through: a release that throws (the section stuck by a dead thread) can
 * be called again after `recover()`.
 */
function releaserOf(owner: ReleaseTarget, weight: number): Releaser {
  let held = true;
  const release = (() => {
    if (!held) return;
    owner.releasePermits(weight);
    held = false;
  }) as Releaser;
  release[disposeSymbol] = release;
  return release;
}

/** Whether agent `agent` (index) owns a slot. Inside a section. */
function ownsSlots(memory: Int32Array, agent: number): boolean {
  const capacity = memory[H_CAPACITY] as number;
  // Stryker disable next-line EqualityOperator: i <= capacity also reads agent 0's TAG and HOLDS as a slot's STATE and AGENT, and agent 0 holds 0 here (releaseOthers calls this for the first agent that held, its hold now 0); i >= capacity is the `false` mutant, which a test kills
  for (let i = 0; i < capacity; i++) {
    if (memory[slotAt(i, S_STATE)] !== FREE && memory[slotAt(i, S_AGENT)] === agent + 1) return true;
  }
  return false;
}

/** Base class of SharedLock and SharedSemaphore. Not exported from the package. */
export abstract class SharedPermits extends SharedPrimitive<Releaser> implements ReleaseTarget {
  constructor(kind: KindName, permits: number, options: SharedOptions | SharedFromOptions | undefined) {
    super(kind, options, 'acquire');
    // An adopted primitive keeps its memory's TOTAL.
    if (!this.adopted) Atomics.store(this.memory, TOTAL, permits);
  }

  /** Over-release check of the subclass (inside a section, which the caller leaves on a throw). @internal */
  protected abstract overRelease(weight: number): Error | undefined;

  /**
   * Takes `weight` permits, waiting in FIFO order across all threads. The caller has validated
   * `options` (the signal is not aborted) and `weight`. @internal
   */
  protected take_(weight: number, options: WaitOptions | undefined): Promise<Releaser> {
    const memory = this.memory;
    try {
      this.enter();
    } catch (error) {
      return Promise.reject(error);
    }
    if ((memory[H_QUEUED] as number) === 0 && (memory[IN_USE] as number) + weight <= (memory[TOTAL] as number)) {
      const agent = this.ensureAgent();
      if (agent === -1) {
        this.exit();
        return Promise.reject(this.full());
      }
      memory[agentAt(memory, agent, A_HOLDS)] = (memory[agentAt(memory, agent, A_HOLDS)] as number) + weight;
      memory[IN_USE] = (memory[IN_USE] as number) + weight;
      this.exit();
      return Promise.resolve(releaserOf(this, weight));
    }
    const timeout = options?.timeout;
    if (timeout === 0) {
      this.exit();
      return Promise.reject(timeoutError(this, 'acquire', 0));
    }
    return this.queue(weight, options?.signal, timeout);
  }

  /** Takes `weight` permits if they are free and nobody waits. @internal */
  protected tryTake(weight: number): Releaser | undefined {
    const memory = this.memory;
    this.enter();
    try {
      if ((memory[H_QUEUED] as number) !== 0 || (memory[IN_USE] as number) + weight > (memory[TOTAL] as number))
        return undefined;
      const agent = this.ensureAgent();
      if (agent === -1) throw this.full();
      memory[agentAt(memory, agent, A_HOLDS)] = (memory[agentAt(memory, agent, A_HOLDS)] as number) + weight;
      memory[IN_USE] = (memory[IN_USE] as number) + weight;
    } finally {
      this.exit();
    }
    return releaserOf(this, weight);
  }

  /** Runs `fn` holding `weight` permits; releases them when it settles. @internal */
  protected runWith<T>(weight: number, fn: () => T | PromiseLike<T>, options: WaitOptions | undefined): Promise<T> {
    return this.take_(weight, options).then((release) => {
      let result: T | PromiseLike<T>;
      try {
        result = fn();
      } catch (error) {
        release();
        throw error;
      }
      return promiseThen.call(
        Promise.resolve(result),
        (value) => {
          release();
          return value;
        },
        (error: unknown) => {
          release();
          throw error;
        },
      ) as Promise<T>;
    });
  }

  /** Checks `fn` of runExclusive: a rejection naming it, or undefined. @internal */
  protected static badFn(fn: unknown): Promise<never> | undefined {
    try {
      checkFunction(fn, 'The "fn" argument');
    } catch (error) {
      return Promise.reject(error);
    }
    return undefined;
  }

  /** Returns `weight` permits and hands them on. (ReleaseTarget) @internal */
  releasePermits(weight: number): void {
    const memory = this.memory;
    let woken: number[];
    this.enter();
    try {
      const error = this.overRelease(weight);
      if (error !== undefined) throw error;
      let rest = weight;
      const agent = this.ownAgent();
      const own = agent === -1 ? 0 : (memory[agentAt(memory, agent, A_HOLDS)] as number);
      const mine = Math.min(own, rest);
      if (mine > 0) {
        memory[agentAt(memory, agent, A_HOLDS)] = own - mine;
        memory[IN_USE] = (memory[IN_USE] as number) - mine;
        rest -= mine;
      }
      // Stryker disable next-line ConditionalExpression,EqualityOperator: speed only: releaseOthers(0) changes nothing (a lock's holds and grants are all 0 once its holder released, a semaphore adds 0)
      if (rest > 0) this.releaseOthers(rest);
      woken = this.grant();
      this.releaseAgent();
    } finally {
      this.exit();
    }
    this.notify(woken);
  }

  /**
   * The lock released by an instance that does not hold it (asyncio style): its one permit is
   * taken from the agent that holds it, or else from the granted slot whose thread has not
   * collected it yet (which then collects a hold of nothing). A semaphore adds the permits
   * instead (see SharedSemaphore). Inside a section. @internal
   */
  protected releaseOthers(_rest: number): void {
    // A lock's IN_USE is 1 here (overRelease checked it is not 0): one agent's hold, or one
    // granted slot's weight. An agent that is free holds nothing.
    const memory = this.memory;
    const capacity = memory[H_CAPACITY] as number;
    memory[IN_USE] = 0;
    for (let i = 0, at = agentBase(memory); i < capacity; i++, at += AGENT) {
      if (memory[at + A_HOLDS] === 0) continue;
      memory[at + A_HOLDS] = 0;
      // It waits for nothing: free it (its instance notices by the NONCE).
      // Stryker disable next-line ArithmeticOperator: A_TAG is 0, so at - A_TAG is at + A_TAG
      if (!ownsSlots(memory, i)) memory[at + A_TAG] = 0;
      return;
    }
    for (let i = 0; i < capacity; i++) if (memory[slotAt(i, S_STATE)] === GRANTED) memory[slotAt(i, S_WEIGHT)] = 0;
  }

  /** Grants the head waiters that fit, in order. Returns the agents to wake. Inside a section. @internal */
  protected grant(): number[] {
    const memory = this.memory;
    const woken: number[] = [];
    for (;;) {
      const slot = head(memory);
      if (slot === -1) break;
      const weight = memory[slotAt(slot, S_WEIGHT)] as number;
      if ((memory[IN_USE] as number) + weight > (memory[TOTAL] as number)) break;
      grantSlot(memory, slot); // the commit
      memory[IN_USE] = (memory[IN_USE] as number) + weight;
      const agent = (memory[slotAt(slot, S_AGENT)] as number) - 1;
      if (!woken.includes(agent)) woken.push(agent);
    }
    return woken;
  }

  protected take(slot: number, _state: number): { value: Releaser } {
    const memory = this.memory;
    const weight = memory[slotAt(slot, S_WEIGHT)] as number;
    memory[agentAt(memory, this.agent, A_HOLDS)] = (memory[agentAt(memory, this.agent, A_HOLDS)] as number) + weight;
    freeSlot(memory, slot);
    return { value: releaserOf(this, weight) };
  }

  protected left(): number[] {
    // The head may have blocked lighter waiters behind it.
    return this.grant();
  }

  protected override dropHolds(agent: number): number {
    return this.memory[agentAt(this.memory, agent, A_HOLDS)] as number;
  }

  protected override grantedHolds(slot: number): number {
    return this.memory[slotAt(slot, S_WEIGHT)] as number;
  }

  protected override repair(): number[] {
    const live = super.repair();
    const memory = this.memory;
    let inUse = 0;
    for (const agent of live) inUse += memory[agentAt(memory, agent, A_HOLDS)] as number;
    const capacity = memory[H_CAPACITY] as number;
    for (let i = 0; i < capacity; i++)
      if ((memory[slotAt(i, S_STATE)] as number) === GRANTED) inUse += memory[slotAt(i, S_WEIGHT)] as number;
    memory[IN_USE] = inUse;
    this.grant();
    return live;
  }

  /** Permits free now (TOTAL - IN_USE). @internal */
  protected free(): number {
    return Atomics.load(this.memory, TOTAL) - Atomics.load(this.memory, IN_USE);
  }

  /** Whether an acquire of `weight` would wait now. @internal */
  protected wouldWait(weight: number): boolean {
    return Atomics.load(this.memory, H_QUEUED) > 0 || this.free() < weight;
  }

  /** Adds `n` permits (a semaphore's release beyond its holds). Inside a section. @internal */
  protected addPermits(n: number): void {
    this.memory[TOTAL] = (this.memory[TOTAL] as number) + n;
  }

  /** The lock is not held: for a lock's release(). Inside a section. @internal */
  protected notHeld(): boolean {
    return (this.memory[IN_USE] as number) === 0;
  }

  /** An InvalidStateError for a release with nothing held. @internal */
  protected notLocked(): DOMException {
    return invalidStateError(`${this.label}: release() called while the lock is not locked`);
  }
}
