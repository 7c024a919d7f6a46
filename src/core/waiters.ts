/**
 * The waiter engine: every wait of every waitsafe primitive is a {@link Waiter} in a
 * {@link WaiterQueue}.
 *
 * ## How it works
 *
 * A queue is an intrusive doubly linked list of waiter nodes, so adding at the tail, taking the
 * head and unlinking any node are O(1) at any length. A waiter is settled exactly once, by
 * whichever of these comes first:
 *
 * - a grant: the primitive takes the head ({@link WaiterQueue.resolveHead}) or everyone
 *   ({@link WaiterQueue.resolveAll}) and resolves it with what it was given, in the same
 *   synchronous step (hand-off at selection: there is no "woken but not yet running" window);
 * - an abort of its signal, or its timeout, which call `cancelWaiter` (`waiter.ts`);
 * - a primitive-specific end (queue shutdown, broken barrier), which also calls `cancel`.
 *
 * Every path goes through one idempotent step, {@link WaiterQueue.detach}: it unlinks the node,
 * drops it from its signal's and its timer's lists, and marks it settled (`queue === null`), so
 * whichever exit arrives second finds nothing to do.
 *
 * Waits never own a listener or a timer. Waits on one signal hang off one listener
 * (`signals.ts`); waits with the same timeout share one timer over a deadline-ordered list
 * (`timers.ts`). A listener or timer that no pending wait needs any more is released by the next
 * macrotask (`idle.ts`), so a tight loop of waits does not add and remove one every time.
 *
 * ## Invariants
 *
 * - `node.queue !== null` exactly while the node is linked in that queue; `queue.size` counts
 *   linked nodes.
 * - A node is in its signal's list iff `node.sig !== null`, and in its timer's list iff
 *   `node.timer !== null`; both are cleared by `detach`.
 * - After `detach`, nothing reachable from a primitive, a signal or a timer references the node.
 *
 * ## Memory
 *
 * A node keeps only the promise's `resolve` function: rejection resolves it with a thenable
 * that rejects, so the `reject` function (and a field for it) is garbage as soon as the promise
 * is made. Signal and timer membership are small link objects made only for waits that use them,
 * so a plain wait pays nothing for them beyond two null fields.
 *
 * @module
 */

import { timeoutError } from './errors.js';
import type { WaitOptions } from './options.js';
import { unwatchSignal, watchSignal } from './signals.js';
import { unwatchTimeout, watchTimeout } from './timers.js';
import { type AnyWaiter, cancelWaiter, rejectWaiter, type Waiter } from './waiter.js';

export type { AnyWaiter, Waiter } from './waiter.js';

function ignore(): void {}

/** What a queue needs from its owner: a label for messages, and the leak check. */
export interface WaitOwner {
  /** `Kind "name"`, as used in messages. */
  readonly label: string;
  /** Called after every registration (the leak warning). */
  checkWaiters(): void;
}

/**
 * A FIFO queue of waiters owned by one primitive. Primitives never keep waiters anywhere else.
 */
export class WaiterQueue<T> {
  head: Waiter<T> | null = null;
  tail: Waiter<T> | null = null;
  /** Linked (pending) waiters. */
  size = 0;

  /**
   * @param owner The primitive, for messages and the leak warning.
   * @param verb The waiting method's name, for timeout messages (`"wait"`, `"acquire"`).
   */
  constructor(
    readonly owner: WaitOwner,
    readonly verb: string,
  ) {}

  /**
   * Called after a waiter was detached by abort, timeout or another non-grant end. The default
   * rejects it with `reason`; a primitive may override it (a Condition re-acquires its lock
   * before rejecting).
   */
  onCancel(node: Waiter<T>, reason: unknown): void {
    rejectWaiter(node, reason);
  }

  /**
   * Called after a waiter was detached because its timeout elapsed. The default cancels it with
   * a fresh TimeoutError; `sleep` and the deadline helpers override it (for them the timeout is
   * the event they wait for).
   */
  onExpire(node: Waiter<T>, ms: number): void {
    this.onCancel(node, timeoutError(this.owner, this.verb, ms));
  }

  /**
   * Registers a wait and returns its promise. The caller has validated `options` (see
   * `rejectInvalid`) and checked that the operation cannot complete at once.
   * `timeout: 0` rejects with the TimeoutError without ever counting as a waiter.
   */
  wait(options: WaitOptions | undefined, data?: unknown): Promise<T> {
    let signal: AbortSignal | undefined;
    let timeout: number | undefined;
    if (options !== undefined) {
      signal = options.signal;
      timeout = options.timeout;
      if (timeout === 0) return Promise.reject(timeoutError(this.owner, this.verb, 0));
    }
    // An object literal made in an inline executor: V8 inlines both here (see waiter.ts). Keep
    // the literal in this function: made by a helper in another module, it costs about 20% more
    // per wait (bench/event.mjs).
    let made: Waiter<T> | undefined;
    const promise = new Promise<T>((resolve) => {
      made = { prev: null, next: null, queue: this, resolve, sig: null, timer: null, data };
    });
    this.#link(made as unknown as Waiter<T>, signal, timeout);
    return promise;
  }

  /**
   * Registers a waiter that has no promise: it only ends through `detach` or, through
   * `onCancel`/`onExpire`, when `signal` aborts or `timeout` elapses (a finite `timeout`, `0`
   * included, fires from a timer). For the deadline helpers, whose outcome is not a grant.
   */
  watch(signal: AbortSignal | undefined, timeout: number | undefined, data: unknown): Waiter<T> {
    const node: Waiter<T> = { prev: null, next: null, queue: this, resolve: ignore, sig: null, timer: null, data };
    this.#link(node, signal, timeout);
    return node;
  }

  #link(node: Waiter<T>, signal: AbortSignal | undefined, timeout: number | undefined): void {
    const tail = this.tail;
    if (tail === null) this.head = node;
    else {
      tail.next = node;
      node.prev = tail;
    }
    this.tail = node;
    this.size++;
    if (signal !== undefined) watchSignal(node as unknown as AnyWaiter, signal);
    if (timeout !== undefined && timeout !== Number.POSITIVE_INFINITY) {
      watchTimeout(node as unknown as AnyWaiter, timeout);
    }
    this.owner.checkWaiters();
  }

  /**
   * Unlinks `node` and drops its signal and timer registrations. Idempotent: returns `false`
   * if the node was already settled.
   */
  detach(node: Waiter<T>): boolean {
    if (node.queue !== this) return false;
    const { prev, next } = node;
    if (prev === null) this.head = next;
    else prev.next = next;
    if (next === null) this.tail = prev;
    else next.prev = prev;
    node.prev = null;
    node.next = null;
    node.queue = null;
    this.size--;
    if (node.sig !== null) unwatchSignal(node as unknown as AnyWaiter);
    if (node.timer !== null) unwatchTimeout(node as unknown as AnyWaiter);
    return true;
  }

  /** Settles the first waiter with `value`. Returns that waiter, or `null` if none waits. */
  resolveHead(value: T): Waiter<T> | null {
    const node = this.head;
    if (node === null) return null;
    this.detach(node);
    node.resolve(value);
    return node;
  }

  /** Settles every current waiter with `value`, in FIFO order. */
  resolveAll(value: T): void {
    let node = this.head;
    if (node === null) return;
    // Cut the whole list at once, then settle node by node.
    this.head = null;
    this.tail = null;
    this.size = 0;
    while (node !== null) {
      const next: Waiter<T> | null = node.next;
      node.prev = null;
      node.next = null;
      node.queue = null;
      if (node.sig !== null) unwatchSignal(node as unknown as AnyWaiter);
      if (node.timer !== null) unwatchTimeout(node as unknown as AnyWaiter);
      node.resolve(value);
      node = next;
    }
  }

  /**
   * Cancels every current waiter (shutdown, broken barrier), each with the reason `reason`
   * makes for it, so every rejection gets a fresh error.
   */
  cancelAll(reason: () => unknown): void {
    for (let node = this.head; node !== null; node = this.head) cancelWaiter(node, reason());
  }
}
