/**
 * The thread-local side of every `waitsafe/shared` primitive: the waits of this thread, each a
 * local waiter (so signals, timeouts, `waiterCount` and leak warnings work as for every wait) tied
 * to one slot in the shared memory, and the one platform wait that watches them all.
 *
 * ## How a thread waits
 *
 * An instance with pending waits owns an agent in the shared memory and keeps exactly one
 * `Atomics.waitAsync` on the agent's MAILBOX word. Whoever grants one of its slots (another
 * thread's release, set or arrival) changes the slot's state, then adds 1 to the mailbox and
 * notifies it. The waiting thread wakes, collects every slot of its own that was granted (in
 * its local FIFO order), and waits again if it still has waits. The mailbox is read before the
 * slots are checked, so a grant in between makes `waitAsync` return at once ("not-equal").
 *
 * When the last local wait ends (granted, aborted, timed out), the instance wakes its own
 * mailbox: that ends its pending `waitAsync` at once, so no platform wait is left that nothing
 * would notify (V8 keeps those forever). While the platform wait is pending, a ref'd handle
 * keeps the thread alive: a message port with a listener (Node lets a thread whose only work is
 * a `waitAsync` exit).
 *
 * Where `Atomics.waitAsync` is missing, the mailbox is polled on a timer instead (1 ms, backing
 * off to 16 ms).
 *
 * @module
 */

import { badValue, checkInteger, type PrimitiveOptions } from '../core/options.js';
import { Primitive } from '../core/primitive.js';
import { state } from '../core/state.js';
import { rejectWaiter, type Waiter } from '../core/waiter.js';
import { WaiterQueue, watch } from '../core/waiters.js';
import {
  A_HOLDS,
  A_MAILBOX,
  A_NONCE,
  A_TAG,
  AGENT,
  adopt,
  agentAt,
  agentBase,
  allocate,
  BROKEN,
  claimAgent,
  DEFAULT_CAPACITY,
  enqueue,
  enter,
  exit,
  FREE,
  freeSlot,
  GRANTED,
  H_CAPACITY,
  H_SPIN,
  type KindName,
  MAX_CAPACITY,
  QUEUED,
  rebuild,
  S_AGENT,
  S_STATE,
  type SharedHandle,
  type Stuck,
  slotAt,
  TAG,
  wake,
} from './memory.js';

/**
 * Options of the `waitsafe/shared` constructors: `name` and `maxWaiters` as every primitive, and
 * `capacity`.
 *
 * @example
 * ```ts
 * const lock = new SharedLock({ name: 'cache', capacity: 1024 });
 * ```
 */
export interface SharedOptions extends PrimitiveOptions {
  /**
   * How many waits can be pending at once across all threads, and how many instances (one per
   * thread, normally) can hold or wait at once: an integer from 1 to 65,536, default 256. It
   * sizes the shared memory: 44 bytes per unit, plus 64. A wait past it rejects with a RangeError.
   */
  capacity?: number | undefined;
}

/** Options of `from()`: the local `maxWaiters`. */
export interface SharedFromOptions {
  /** The leak warning's limit for this thread's waits (see `maxWaiters` of every primitive). */
  maxWaiters?: number | undefined;
}

/** The buffer that `from()` hands to the constructor it calls. */
let adopting: { memory: Int32Array; name: string | undefined } | undefined;

/** Constructs a primitive of class `make` over the memory of `handle`. @internal */
export function fromHandle<T>(handle: unknown, kind: KindName, options: unknown, make: () => T): T {
  const adopted = adopt(handle, kind);
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null) {
      throw badValue(`${kind}.from(): the "options" argument`, 'an object', options);
    }
    for (const key in options) {
      if (key !== 'maxWaiters') throw new TypeError(`${kind}.from(): unknown option "${key}" (known: maxWaiters)`);
    }
  }
  adopting = adopted;
  try {
    return make();
  } finally {
    adopting = undefined;
  }
}

const noop = (): void => {};

/** How often a thread that found the section stuck tries again (ms). */
const RETRY_MS = 100;

/**
 * Numbers the instances of this thread, for their agents' NONCE: in the state every copy of
 * waitsafe in the thread shares, so that two copies (an ESM and a CommonJS build) never give two
 * instances the same one.
 */
const nextNonce = (): number => {
  // Stryker disable next-line ArithmeticOperator: counting down numbers the instances just as uniquely (-1, -2, ...)
  state.sharedInstances = ((state.sharedInstances ?? 0) + 1) | 0;
  return state.sharedInstances;
};

/** `setTimeout` and `clearTimeout`, looked up at call time (fake timers apply). */
// Stryker disable next-line ArrowFunction: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/shared-local.test.ts
const setTimer = (callback: () => void, ms: number): unknown =>
  (globalThis as unknown as { setTimeout: (fn: () => void, ms: number) => unknown }).setTimeout(callback, ms);
// Stryker disable next-line ArrowFunction: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/shared-local.test.ts
const clearTimer = (handle: unknown): void =>
  (globalThis as unknown as { clearTimeout: (handle: unknown) => void }).clearTimeout(handle);

/**
 * What keeps this thread alive while any instance has a platform wait pending: a message port
 * with a listener (Node keeps a thread with one running; it is not a timer, so a test's fake
 * timers neither see nor fire it), or, where there is no MessageChannel, a long interval.
 */
let keepers = 0;
let keeper: { close(): void } | undefined;
function keepAlive(delta: 1 | -1): void {
  keepers += delta;
  if (keepers === 1 && delta === 1) {
    const Channel = (
      globalThis as {
        MessageChannel?: new () => { port1: { onmessage: unknown; close(): void }; port2: { close(): void } };
      }
    ).MessageChannel;
    if (typeof Channel === 'function') {
      // Both ends stay referenced: Bun closes a channel whose other end is collected.
      const { port1, port2 } = new Channel();
      port1.onmessage = noop;
      keeper = {
        close() {
          port1.close();
          port2.close();
        },
      };
    } else {
      const handle = (globalThis as unknown as { setInterval: (fn: () => void, ms: number) => unknown }).setInterval(
        noop,
        0x3fffffff,
      );
      const clear = (globalThis as unknown as { clearInterval: (handle: unknown) => void }).clearInterval;
      keeper = { close: () => clear(handle) };
    }
  } else if (keepers === 0) {
    (keeper as { close(): void }).close();
    keeper = undefined;
  }
}

/** How many platform waits (or polls) this thread has pending: for tests and the docs' proof. @internal */
export function pendingPlatformWaits(): number {
  return keepers;
}

type WaitAsync = (
  memory: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };

/** This thread's local queue: a wait that gives up leaves its slot too. */
class SharedWaiters<T> extends WaiterQueue<T> {
  declare readonly host: SharedPrimitive<T>;

  constructor(host: SharedPrimitive<T>, verb: string) {
    super(host, verb);
    this.host = host;
  }

  override onCancel(node: Waiter<T>, reason: unknown): void {
    this.host.gaveUp(node, reason);
  }

  override detach(node: Waiter<T>): boolean {
    // Stryker disable next-line BooleanLiteral: never called for a settled node: every path detaches a linked node once (collect() only its linked ones, in one synchronous step)
    if (!super.detach(node)) return false;
    this.host.detached(node);
    return true;
  }
}

/** Base class of the `waitsafe/shared` primitives. Not exported from the package. */
export abstract class SharedPrimitive<T> extends Primitive {
  /** The shared memory. @internal */
  protected readonly memory: Int32Array;
  /** This instance's agent index while it has waits or holds, else -1. @internal */
  protected agent = -1;
  /** This thread's waits. @internal */
  protected readonly waiters: SharedWaiters<T>;
  /** Made by `from()` over another thread's memory, not by the constructor. @internal */
  protected readonly adopted: boolean;
  readonly #handle: SharedHandle;
  /** Bumped to make a pending platform wait's settlement stale. */
  #armed = 0;
  #waiting = false;
  #pollTimer: unknown = undefined;
  /** The slots this instance owns (queued, or granted and not yet collected), and their waits. */
  readonly #mine = new Map<number, Waiter<T> | null>();
  /**
   * Waits detached without a grant whose slot is not let go yet: the rest of one abort's batch
   * (an abort detaches all its waits before it settles any), let go together by the first.
   */
  // Stryker disable next-line ArrayDeclaration: gaveUp() skips an element that is no wait of this instance (#mine never maps a slot to it) and empties the array
  #cancelling: Waiter<T>[] = [];
  /** The owner of the section when it was last found stuck (0: not stuck). */
  // Stryker disable next-line ObjectLiteral: enter() reads a missing owner as "not stuck" too (undefined is never SPIN's value)
  readonly #stuck: Stuck = { owner: 0, epoch: 0 };
  readonly #nonce = nextNonce();

  // Stryker disable next-line StringLiteral: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/shared-local.test.ts and test/shared-barrier-event.test.ts
  static override optionKeys: readonly string[] = ['name', 'maxWaiters', 'capacity'];

  constructor(kind: KindName, options: SharedOptions | SharedFromOptions | undefined, verb: string) {
    const adopted = adopting;
    adopting = undefined;
    if (adopted !== undefined) {
      super({ ...options, name: adopted.name });
      this.memory = adopted.memory;
      this.adopted = true;
    } else {
      let capacity = DEFAULT_CAPACITY;
      const given = (options as SharedOptions | undefined)?.capacity;
      if (given !== undefined) {
        capacity = checkInteger(given, 'The "capacity" option', 1);
        if (capacity > MAX_CAPACITY)
          throw badValue('The "capacity" option', `an integer from 1 to ${MAX_CAPACITY}`, given, true);
      }
      super(options);
      this.memory = allocate(kind, capacity, this.label);
      this.adopted = false;
    }
    this.#handle = Object.freeze({ kind, name: this.name, buffer: this.memory.buffer as SharedArrayBuffer });
    this.waiters = new SharedWaiters<T>(this, verb);
  }

  /**
   * What another thread passes to `from()` to get this same primitive: structured-cloneable
   * (`postMessage` carries it), the same object every time.
   *
   * @example
   * ```ts
   * const lock = new SharedLock();
   * worker.postMessage({ lock: lock.handle });
   * ```
   */
  get handle(): SharedHandle {
    return this.#handle;
  }

  /**
   * Number of waits pending in this thread on this instance (waits in other threads are not
   * counted).
   *
   * @example
   * ```ts
   * const waiting = lock.acquire({ timeout: 1_000 });
   * lock.waiterCount; // 1 while another thread holds the lock
   * ```
   */
  get waiterCount(): number {
    return this.waiters.size;
  }

  /** Enters the critical section. @internal */
  protected enter(): void {
    enter(this.memory, this.label, this.#stuck);
  }

  /** Leaves the critical section. @internal */
  protected exit(): void {
    exit(this.memory);
  }

  /**
   * This instance's agent, or -1. An agent with no slots and no holds may have been freed by
   * another instance (a lock released asyncio style) and even claimed again: then it is not
   * ours any more. Inside a section. @internal
   */
  protected ownAgent(): number {
    const agent = this.agent;
    // Stryker disable next-line ConditionalExpression: with no agent, the check below leaves this.agent at -1 either way
    if (agent === -1) return -1;
    const memory = this.memory;
    if (memory[agentAt(memory, agent, A_TAG)] !== TAG || memory[agentAt(memory, agent, A_NONCE)] !== this.#nonce) {
      this.agent = -1;
    }
    return this.agent;
  }

  /** This instance's agent, claimed if it has none; -1 if every agent is taken. Inside a section. @internal */
  protected ensureAgent(): number {
    if (this.ownAgent() === -1) this.agent = claimAgent(this.memory, this.#nonce);
    return this.agent;
  }

  /** Frees the agent if this instance has no slot and no hold. Inside a section. @internal */
  protected releaseAgent(): void {
    const agent = this.ownAgent();
    // (An instance with a platform wait has waits, so slots.)
    if (agent === -1 || this.#mine.size > 0) return;
    const memory = this.memory;
    if ((memory[agentAt(memory, agent, A_HOLDS)] as number) !== 0) return;
    memory[agentAt(memory, agent, A_TAG)] = 0;
    this.agent = -1;
  }

  /** A RangeError for a full memory. @internal */
  protected full(): RangeError {
    return new RangeError(
      `${this.label}: all ${this.memory[H_CAPACITY] as number} shared slots are in use; raise the "capacity" option`,
    );
  }

  /**
   * Queues a wait in a slot (inside a section, which it leaves) and registers its local waiter.
   * Returns the promise, or a rejection if the memory is full. @internal
   */
  protected queue(weight: number, signal: AbortSignal | undefined, timeout: number | undefined): Promise<T> {
    const agent = this.ensureAgent();
    const slot = agent === -1 ? -1 : enqueue(this.memory, agent, weight);
    if (slot === -1) {
      this.releaseAgent();
      this.exit();
      return Promise.reject(this.full());
    }
    this.#mine.set(slot, null);
    this.exit();
    let node: Waiter<T> | undefined;
    const promise = new Promise<T>((resolve) => {
      node = watch(this.waiters, signal, timeout, slot, resolve);
    });
    if ((node as Waiter<T>).queue !== null) {
      this.#mine.set(slot, node as Waiter<T>);
      this.arm(); // collects a grant made since the slot was queued
    } else if (this.#mine.get(slot) === null) {
      // Aborted while it registered (by code that the leak warning ran): its slot goes. (If it was
      // granted then, it is collected, and the slot may be another wait's by now.)
      this.#giveUpLater(slot);
    }
    return promise;
  }

  /**
   * The outcome of a granted or broken slot of this instance, taken out of the memory (inside a
   * section): the value to resolve with, or an Error to reject with. @internal
   */
  protected abstract take(slot: number, state: number): { value: T } | { error: unknown };

  /**
   * A queued slot of this instance left the queue without a grant (its wait gave up): let whoever
   * now fits in (inside a section). Returns the agents to wake. @internal
   */
  protected abstract left(): number[];

  /** Settles every local wait whose slot was granted or broken, in local FIFO order. @internal */
  collect(): void {
    // Stryker disable next-line ConditionalExpression: speed only: with no wait, the loop below finds nothing
    if (this.waiters.size === 0) return;
    const memory = this.memory;
    // Stryker disable next-line ArrayDeclaration: an element that is no node is skipped (detach() refuses it), and #mine is empty only when no wait is left
    const done: [Waiter<T>, { value: T } | { error: unknown }][] = [];
    if (!this.#tryEnter()) {
      // The section is stuck (a thread died inside it): look again until recover() frees it.
      setTimer(() => this.collect(), RETRY_MS);
      return;
    }
    try {
      for (let node = this.waiters.head; node !== null; node = node.next) {
        const slot = node.data as number;
        const state = memory[slotAt(slot, S_STATE)] as number;
        if (state === GRANTED || state === BROKEN) {
          done.push([node, this.take(slot, state)]);
          this.#mine.delete(slot);
        }
      }
      if (this.#mine.size === 0) {
        this.#stopWaiting();
        this.releaseAgent();
      }
    } finally {
      this.exit();
    }
    for (const [node, outcome] of done) {
      if (!this.waiters.detach(node)) continue;
      if ('value' in outcome) node.resolve(outcome.value);
      else rejectWaiter(node, outcome.error);
    }
  }

  /** A local wait was detached: if not by a grant, its slot is let go by `gaveUp`. @internal */
  detached(node: Waiter<T>): void {
    if (this.#mine.get(node.data as number) === node) this.#cancelling.push(node);
  }

  /** A local wait gave up (abort, timeout): its node is detached. @internal */
  gaveUp(node: Waiter<T>, reason: unknown): void {
    const memory = this.memory;
    const slot = node.data as number;
    let outcome: { value: T } | { error: unknown } | undefined;
    let woken: number[];
    if (!this.#tryEnter()) {
      // The section is stuck (a thread died inside it): the wait ends now, as it must; its slot
      // is let go as soon as the section is free again (after recover()). The rest of its batch
      // stays: the section may be free by the time the next of them gives up.
      this.#cancelling = this.#cancelling.filter((other) => other !== node);
      rejectWaiter(node, reason);
      if (this.#mine.get(slot) === node) setTimer(() => this.#giveUpLater(slot), RETRY_MS);
      return;
    }
    try {
      // Let go of the queued slots of every wait this cancellation detached (one abort's batch)
      // before granting anyone: none of them may be granted now.
      for (const other of this.#cancelling) {
        const at = other.data as number;
        if (
          memory[slotAt(at, S_STATE)] !== QUEUED ||
          // Stryker disable next-line ConditionalExpression: the waits of the batch are still this instance's here (pushed by detached(), nothing ran since that could collect them)
          this.#mine.get(at) !== other
        )
          continue;
        freeSlot(memory, at);
        this.#mine.delete(at);
      }
      this.#cancelling.length = 0;
      if (this.#mine.get(slot) === node) {
        // Still this wait's after the loop above, which let go of it if queued (it was in the
        // batch): granted (or broken) in shared memory before this thread saw the abort, which
        // came first.
        outcome = this.take(slot, memory[slotAt(slot, S_STATE)] as number);
        this.#mine.delete(slot);
      }
      // The head may have blocked lighter waits behind it (nothing new fits if no slot left).
      woken = this.left();
      if (this.#mine.size === 0) {
        this.#stopWaiting();
        this.releaseAgent();
      }
    } finally {
      this.exit();
    }
    this.notify(woken);
    if (outcome === undefined) rejectWaiter(node, reason);
    else if ('value' in outcome) node.resolve(outcome.value);
    else rejectWaiter(node, outcome.error);
  }

  /** Enters the section, or returns false if it is stuck (see `enter`). */
  #tryEnter(): boolean {
    try {
      this.enter();
    } catch {
      return false;
    }
    return true;
  }

  /** Gives up `slot`, whose wait already ended, once the section can be entered. */
  #giveUpLater(slot: number): void {
    if (!this.#tryEnter()) {
      setTimer(() => this.#giveUpLater(slot), RETRY_MS);
      return;
    }
    const memory = this.memory;
    let woken: number[] = [];
    let granted: { value: T } | { error: unknown } | undefined;
    try {
      const state = memory[slotAt(slot, S_STATE)] as number;
      // Stryker disable next-line ConditionalExpression: always true: the slot stays this instance's until this runs (its wait is detached, so neither collect() nor a batch of gaveUp() takes it)
      if (this.#mine.has(slot)) {
        this.#mine.delete(slot);
        if (state === QUEUED) {
          freeSlot(memory, slot);
          woken = this.left();
        } else {
          granted = this.take(slot, state); // granted or broken: a slot of this instance is never free
        }
      }
      if (this.#mine.size === 0) {
        this.#stopWaiting();
        this.releaseAgent();
      }
    } finally {
      this.exit();
    }
    this.notify(woken);
    // Granted to nobody: hand it back (a releaser releases its permits).
    if (granted !== undefined && 'value' in granted && typeof granted.value === 'function') {
      (granted.value as () => void)();
    }
  }

  /** Wakes `agents` (after leaving the section); this instance's own grants are collected now. @internal */
  protected notify(agents: number[]): void {
    // Stryker disable next-line BooleanLiteral: speed only: a collect() that is not needed now finds nothing, or what the platform wait would collect a task later
    let self = false;
    for (const agent of agents) {
      if (agent === this.agent) self = true;
      else wake(this.memory, agent);
    }
    // Stryker disable next-line ConditionalExpression: as above
    if (self) this.collect();
  }

  /** Starts the platform wait for this instance's pending waits, unless it has one. */
  protected arm(): void {
    const memory = this.memory;
    for (;;) {
      if (this.#waiting) return;
      const mailbox = agentAt(memory, this.agent, A_MAILBOX);
      const seen = Atomics.load(memory, mailbox);
      this.collect();
      // Waits left: the agent is still this instance's (an agent with slots is never freed).
      if (this.waiters.size === 0) return;
      const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
      const token = ++this.#armed;
      if (typeof waitAsync !== 'function') {
        this.#waiting = true;
        keepAlive(1);
        this.#poll(mailbox, seen, token, 1);
        return;
      }
      const result = waitAsync(memory, mailbox, seen);
      if (!result.async) continue; // changed since it was read: collect again
      this.#waiting = true;
      keepAlive(1);
      result.value.then(() => {
        // Stale: #stopWaiting ended it (and let go of the keep-alive) already.
        if (token !== this.#armed) return;
        keepAlive(-1);
        this.#waiting = false;
        this.arm();
      }, noop);
      return;
    }
  }

  #poll(mailbox: number, seen: number, token: number, ms: number): void {
    this.#pollTimer = setTimer(() => {
      this.#pollTimer = undefined;
      if (token !== this.#armed) return;
      if (Atomics.load(this.memory, mailbox) === seen) {
        this.#poll(mailbox, seen, token, Math.min(ms * 2, 16));
        return;
      }
      keepAlive(-1);
      this.#waiting = false;
      this.arm();
    }, ms);
  }

  /** Ends the platform wait: wakes its own mailbox, so V8 drops the pending `waitAsync` now. Inside a section or not. */
  #stopWaiting(): void {
    if (!this.#waiting) return;
    this.#waiting = false;
    this.#armed++;
    keepAlive(-1);
    clearTimer(this.#pollTimer);
    this.#pollTimer = undefined;
    // Ends the pending waitAsync now: V8 drops it from its list at the notify. (Waiting, it has its agent.)
    wake(this.memory, this.agent);
  }

  /**
   * Recovers what thread `threadId` held and waited for on this primitive: after that thread
   * exited or was terminated (a parent's `worker.on('exit')`, say), so that it never blocks the
   * others. Its holds are released (handed to the next waiters), its waits leave the queue, and
   * if it died inside a critical section, the state is repaired. Call it only for a thread that
   * has ended: a running thread's holds and waits would be taken from under it.
   *
   * @param threadId The thread's id: `worker.threadId` on Node, or the {@link threadId} the
   *   thread reported.
   * @returns How many holds (permits, for a semaphore) and waits were recovered.
   * @throws {TypeError} If `threadId` is not a number.
   * @throws {RangeError} If `threadId` is not an integer from 0 to 2^30 - 1, or is this thread's own.
   *
   * @example
   * ```ts
   * const lock = new SharedLock();
   * worker.postMessage(lock.handle);
   * const id = worker.threadId; // read it now: in the 'exit' event it is -1
   * worker.on('exit', () => lock.recover(id));
   * ```
   */
  recover(threadId: number): number {
    checkInteger(threadId, 'The "threadId" argument', 0);
    if (threadId > 0x3fffffff)
      throw badValue('The "threadId" argument', 'an integer from 0 to 2^30 - 1', threadId, true);
    const tag = threadId + 1;
    if (tag === TAG)
      throw badValue('The "threadId" argument', "another thread's id, not this thread's", threadId, true);
    const memory = this.memory;
    // A thread that died inside its critical section left SPIN set to its tag: take it over.
    if (Atomics.compareExchange(memory, H_SPIN, tag, TAG) !== tag) this.enter();
    let recovered = 0;
    let woken: number[];
    try {
      const capacity = memory[H_CAPACITY] as number;
      const base = agentBase(memory);
      const dead = new Set<number>();
      for (let i = 0, at = base; i < capacity; i++, at += AGENT) {
        if ((memory[at + A_TAG] as number) !== tag) continue;
        dead.add(i + 1);
        recovered += this.dropHolds(i);
        memory[at + A_HOLDS] = 0;
        // Stryker disable next-line ArithmeticOperator: A_TAG is 0
        memory[at + A_TAG] = 0;
        // A platform wait the dead thread left on its mailbox would stay in the engine's list
        // for good (a terminated Web Worker's does, in Chromium): notifying it drops it.
        wake(memory, i);
      }
      for (let i = 0; i < capacity; i++) {
        const state = memory[slotAt(i, S_STATE)] as number;
        // Stryker disable next-line ConditionalExpression: speed only: the body neither counts nor changes a free slot
        if (state === FREE || !dead.has(memory[slotAt(i, S_AGENT)] as number)) continue;
        // A queued wait counts 1, a granted one its holds (a broken one, a barrier's, 0 as granted).
        recovered += state === QUEUED ? 1 : this.grantedHolds(i);
        memory[slotAt(i, S_STATE)] = FREE;
      }
      woken = this.repair();
    } finally {
      this.exit();
    }
    this.notify(woken);
    return recovered;
  }

  /** The holds agent `agent` (index) counts: released by recovery. Inside a section. @internal */
  protected dropHolds(_agent: number): number {
    return 0;
  }

  /** What a granted, uncollected slot counts as when recovered. @internal */
  protected grantedHolds(_slot: number): number {
    return 0;
  }

  /**
   * Recomputes the caches from the slots and agents, completes any change a dead thread
   * committed but did not finish, and grants whoever fits. Returns the agents to wake (all live
   * ones: a spurious wake costs a check). Inside a section. @internal
   */
  protected repair(): number[] {
    const memory = this.memory;
    rebuild(memory);
    const capacity = memory[H_CAPACITY] as number;
    const live: number[] = [];
    const base = agentBase(memory);
    for (let i = 0, at = base; i < capacity; i++, at += AGENT) if ((memory[at + A_TAG] as number) !== 0) live.push(i);
    return live;
  }
}
