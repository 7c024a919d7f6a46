/**
 * A waiter node and the ways it ends without a grant. The queue that links nodes is in
 * `waiters.ts`, whose header explains the engine.
 *
 * @module
 */

import type { SignalLink } from './signals.js';
import type { TimerLink } from './timers.js';
import type { WaiterQueue } from './waiters.js';

/** A waiter of any result type, as held by the signal and timer registries. */
export type AnyWaiter = Waiter<never>;

/**
 * One pending wait. A plain object made by the object literal in `WaiterQueue.wait`, not a class
 * instance: V8 allocates a literal inline, and its hidden class lives in the literal site's
 * boilerplate, so a full GC that finds no waiter alive does not free it (and deoptimize the
 * engine's code, as it does for a class whose instances all died).
 */
export interface Waiter<T> {
  /** Neighbours in the queue, or `null` at the ends / once detached. */
  prev: Waiter<T> | null;
  next: Waiter<T> | null;
  /** The queue that holds this node; `null` once settled. */
  queue: WaiterQueue<T> | null;
  /** Resolves the caller's promise. Rejection resolves it with a {@link Rejection}. */
  readonly resolve: (value: T | PromiseLike<T>) => void;
  /** The membership in its signal's list, while linked. */
  sig: SignalLink | null;
  /** The membership in its timeout's list, while linked. */
  timer: TimerLink | null;
  /** What the primitive attached to the wait (an item to put, a permit count, ...). */
  data: unknown;
}

/**
 * A thenable that rejects. `resolve(new Rejection(r))` rejects the promise with `r` without
 * creating a rejected promise that has no handler yet (which `resolve(Promise.reject(r))` does,
 * and which Node then tracks as a possible unhandled rejection).
 */
class Rejection {
  constructor(readonly reason: unknown) {}
  // biome-ignore lint/suspicious/noThenProperty: an intentional thenable, see above.
  then(_onFulfilled: unknown, onRejected: (reason: unknown) => void): void {
    onRejected(this.reason);
  }
}

/** Rejects the caller's promise with `reason` (the exact value). */
export function rejectWaiter<T>(node: Waiter<T>, reason: unknown): void {
  node.resolve(new Rejection(reason) as unknown as PromiseLike<T>);
}

/**
 * Ends the wait without a grant (abort, timeout, shutdown, broken). Does nothing if the waiter
 * was already settled.
 */
export function cancelWaiter<T>(node: Waiter<T>, reason: unknown): void {
  const queue = node.queue;
  if (queue === null) return;
  queue.detach(node);
  queue.onCancel(node, reason);
}

/** Ends the wait with the TimeoutError of its timer. */
export function expireWaiter<T>(node: Waiter<T>, ms: number): void {
  const queue = node.queue;
  if (queue === null) return;
  queue.detach(node);
  queue.onExpire(node, ms);
}
