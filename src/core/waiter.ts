/**
 * A waiter node, the contracts around it, and the ways it ends without a grant. The queue that
 * links nodes is in `waiters.ts`, whose header explains the engine.
 *
 * Dependencies go one way: `list.ts` <- this file <- `signals.ts`, `timers.ts` <- `waiters.ts`
 * <- the primitives. The signal and timer registries end a wait through {@link WaiterHost},
 * which the queue implements; they never import the queue.
 *
 * @module
 */

import type { Membership } from './idle.js';
import type { Linked } from './list.js';

/** What a waiter's queue needs from its primitive: a label for messages, and the leak check. */
export interface WaitOwner {
  /** `Kind "name"`, as used in messages. */
  readonly label: string;
  /** Called after every registration (the leak warning). */
  checkWaiters(): void;
}

/**
 * What holds a pending waiter: its queue (`WaiterQueue` in `waiters.ts`). The registries call
 * these to end a wait.
 */
export interface WaiterHost<T> {
  /** Unlinks the node and drops its registrations; `false` if it was already settled. */
  detach(node: Waiter<T>): boolean;
  /** Settles a node detached by an abort (or shutdown, broken barrier) with `reason`. */
  onCancel(node: Waiter<T>, reason: unknown): void;
  /** Settles a node detached because its timeout of `ms` elapsed. */
  onExpire(node: Waiter<T>, ms: number): void;
}

/** A waiter of any result type, as held by the signal and timer registries. */
export type AnyWaiter = Waiter<never>;

/**
 * One pending wait. A plain object made by the object literal in `WaiterQueue.wait`, not a class
 * instance: V8 allocates a literal inline, and its hidden class lives in the literal site's
 * boilerplate, so a full GC that finds no waiter alive does not free it (and deoptimize the
 * engine's code, as it does for a class whose instances all died).
 *
 * Who writes what: `prev`/`next` only `list.ts`, on behalf of the queue; `queue` is set at
 * creation and cleared by `detach` (it is `null` exactly once the node is settled); `sig` only
 * `signals.ts`, `timer` only `timers.ts`; `resolve` and `data` are set at creation.
 */
export interface Waiter<T> extends Linked<Waiter<T>> {
  /** The queue that holds this node; `null` once settled. */
  queue: WaiterHost<T> | null;
  /** Resolves the caller's promise; {@link rejectWaiter} rejects it through this too. */
  readonly resolve: (value: T | PromiseLike<T>) => void;
  /** Its membership in its signal's list (a `SignalLink`, `signals.ts`), while linked. */
  sig: Membership | null;
  /** Its membership in its timeout's list (a `TimerLink`, `timers.ts`), while linked. */
  timer: Membership | null;
  /** What the primitive attached to the wait (an item to put, a permit count, ...). */
  data: unknown;
}

/**
 * Rejects the caller's promise with `reason` (the exact value), by resolving it with a thenable
 * that rejects: unlike `resolve(Promise.reject(reason))`, that makes no rejected promise without
 * a handler (which Node would track as a possible unhandled rejection).
 */
export function rejectWaiter<T>(node: Waiter<T>, reason: unknown): void {
  // biome-ignore lint/suspicious/noThenProperty: an intentional thenable, see above.
  node.resolve({ then: (_: unknown, reject: (reason: unknown) => void) => reject(reason) } as PromiseLike<T>);
}

/**
 * Ends the wait without a grant: an abort or another end (shutdown, broken) with `reason`, or,
 * with `ms`, its timeout of `ms` milliseconds. `node` is pending: the callers take it from a
 * queue, a signal's list or a timer's list, which hold pending waits only.
 */
export function cancelWaiter<T>(node: Waiter<T>, reason: unknown, ms?: number): void {
  const queue = node.queue as WaiterHost<T>;
  queue.detach(node);
  if (ms === undefined) queue.onCancel(node, reason);
  else queue.onExpire(node, ms);
}

/**
 * Ends several pending waits that one abort ends: every one leaves its queue before any is
 * settled, so a hand-off that settling one of them triggers (a permit pool re-granting when its
 * head leaves) never goes to another wait that is ending too.
 */
export function cancelWaiters(nodes: readonly AnyWaiter[], reason: unknown): void {
  // detach() clears node.queue: settle each through the queue it was in.
  const queues = nodes.map((node) => {
    const queue = node.queue as WaiterHost<never>;
    queue.detach(node);
    return queue;
  });
  for (let i = 0; i < nodes.length; i++) (queues[i] as WaiterHost<never>).onCancel(nodes[i] as AnyWaiter, reason);
}
