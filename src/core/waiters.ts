/**
 * The waiter engine: every wait of every waitsafe primitive is a {@link Waiter} in a
 * {@link WaiterQueue}.
 *
 * ## How it works
 *
 * A queue is an intrusive doubly linked list of waiter nodes (`list.ts`), so adding at the
 * tail, taking the head and unlinking any node are O(1) at any length. A waiter is settled
 * exactly once, by whichever of these comes first:
 *
 * - a grant: the primitive takes the head ({@link resolveHead}) or everyone
 *   ({@link WaiterQueue.resolveAll}) and resolves it with what it was given, in the same
 *   synchronous step (hand-off at selection: there is no "woken but not yet running" window);
 * - an abort of its signal, or its timeout, which call `cancelWaiter` (`waiter.ts`);
 * - a primitive-specific end (queue shutdown, broken barrier): {@link cancelAll}.
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

import { timeoutError } from './dom-errors.js';
import { leave } from './idle.js';
import { append, type List, unlink } from './list.js';
import type { WaitOptions } from './options.js';
import { watchSignal } from './signals.js';
import { watchTimeout } from './timers.js';
import { type AnyWaiter, cancelWaiter, rejectWaiter, type Waiter, type WaiterHost, type WaitOwner } from './waiter.js';

export type { AnyWaiter, Waiter, WaitOwner } from './waiter.js';

/**
 * A FIFO queue of waiters owned by one primitive. Primitives never keep waiters anywhere else.
 *
 * Who writes what: `head`/`tail` only `list.ts` (through `append` and `unlink` here); `size`
 * only this file. A primitive reads `head` and `size`, and ends waits only through the methods
 * and functions here, so a node is always unlinked together with its registrations.
 *
 * Extension points: a subclass may override {@link onCancel} (a Condition re-acquires its lock
 * before rejecting; the deadline helpers abort a signal) and {@link onExpire} (for `sleep` and
 * the deadline helpers the timeout is the event they wait for).
 */
export class WaiterQueue<T> implements List<Waiter<T>>, WaiterHost<T> {
  head: Waiter<T> | null = null;
  tail: Waiter<T> | null = null;
  /** Linked (pending) waiters. */
  size = 0;
  /** The primitive, for messages and the leak warning. */
  declare readonly owner: WaitOwner;
  /** The waiting method's name, for timeout messages (`"wait"`, `"acquire"`). */
  declare readonly verb: string;

  constructor(owner: WaitOwner, verb: string) {
    this.owner = owner;
    this.verb = verb;
  }

  /**
   * Settles a waiter detached by abort, shutdown or another non-grant end. The default rejects
   * it with `reason`.
   */
  onCancel(node: Waiter<T>, reason: unknown): void {
    rejectWaiter(node, reason);
  }

  /** Settles a waiter detached because its timeout elapsed: by default a fresh TimeoutError. */
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
    enqueue(this, made as unknown as Waiter<T>, signal, timeout);
    return promise;
  }

  /**
   * Unlinks `node` and drops its signal and timer registrations: the one step every way a wait
   * ends goes through. Idempotent: returns `false` if the node was already settled.
   */
  detach(node: Waiter<T>): boolean {
    if (node.queue !== this) return false;
    unlink(this, node);
    node.queue = null;
    this.size--;
    // Leave the signal's and the timer's lists: their listener or timer goes by the next
    // macrotask if no other wait needs it.
    if (node.sig !== null) {
      leave(node.sig);
      node.sig = null;
    }
    if (node.timer !== null) {
      leave(node.timer);
      node.timer = null;
    }
    return true;
  }

  /** Settles every current waiter with `value`, in FIFO order. */
  resolveAll(value: T): void {
    for (let node = this.head; node !== null; node = this.head) {
      this.detach(node);
      node.resolve(value);
    }
  }
}

/** Adds a new node at the tail of `queue`, with its signal and timer registrations. */
function enqueue<T>(
  queue: WaiterQueue<T>,
  node: Waiter<T>,
  signal: AbortSignal | undefined,
  timeout: number | undefined,
): void {
  append(queue, node);
  queue.size++;
  if (signal !== undefined) watchSignal(node as unknown as AnyWaiter, signal);
  if (timeout !== undefined && timeout !== Infinity) watchTimeout(node as unknown as AnyWaiter, timeout);
  queue.owner.checkWaiters();
}

/**
 * Registers a waiter that has no promise of its own: it ends only through `detach` or, through
 * `onCancel`/`onExpire`, when `signal` aborts or `timeout` elapses (a finite `timeout`, `0`
 * included, fires from a timer). For the deadline helpers, whose outcome is not a grant;
 * `resolve` is what settling it calls.
 */
export function watch<T>(
  queue: WaiterQueue<T>,
  signal: AbortSignal | undefined,
  timeout: number | undefined,
  data: unknown,
  resolve: (value: T | PromiseLike<T>) => void,
): Waiter<T> {
  const node: Waiter<T> = { prev: null, next: null, queue, resolve, sig: null, timer: null, data };
  enqueue(queue, node, signal, timeout);
  return node;
}

/** Settles the first waiter with `value`. Returns that waiter, or `null` if none waits. */
export function resolveHead<T>(queue: WaiterQueue<T>, value: T): Waiter<T> | null {
  const node = queue.head;
  if (node === null) return null;
  queue.detach(node);
  node.resolve(value);
  return node;
}

/**
 * Cancels every current waiter (shutdown, broken barrier), each with the reason `reason` makes
 * for it, so every rejection gets a fresh error.
 */
export function cancelAll<T>(queue: WaiterQueue<T>, reason: () => unknown): void {
  for (let node = queue.head; node !== null; node = queue.head) cancelWaiter(node, reason());
}
