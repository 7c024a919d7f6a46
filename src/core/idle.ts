/**
 * Deferred release of shared timers and listeners.
 *
 * When the last wait on a shared timer or signal listener ends, the resource is not dropped at
 * once: a tight loop of waits would then add and remove it every time. Instead it is put on a
 * list that is swept by the next macrotask (`setImmediate` where it exists, else
 * `setTimeout(0)`, both looked up on `globalThis` when needed, so fake timers apply). The sweep
 * releases only what is still unused then.
 *
 * @module
 */

import { type Linked, type List, unlink } from './list.js';
import { type Releasable, state } from './state.js';

export type { Releasable } from './state.js';

/** A wait's membership in a shared resource's list: a signal's listener, a timeout's timer. */
export interface Membership extends Linked<Membership> {
  /** The list it is in: the resource, which {@link leave} releases soon once it is empty. */
  readonly list: List<Membership> & Releasable;
}

// The pending list and the pending sweep are process-wide (`state.ts`): a sweep scheduled by one
// copy of waitsafe releases what every copy put there.
const pending = state.idle;

function sweep(): void {
  state.sweepWith = undefined;
  // release() never adds to `pending`.
  for (const item of pending.splice(0)) {
    item.idle = false;
    item.release();
  }
}

type Scheduler = (callback: () => void, ms: number) => unknown;

/** Queues `item` for release by the next macrotask. */
export function releaseSoon(item: Releasable): void {
  if (!item.idle) {
    item.idle = true;
    pending.push(item);
  }
  const g = globalThis as { setImmediate?: Scheduler; setTimeout: Scheduler };
  const immediate = g.setImmediate;
  const schedule = typeof immediate === 'function' ? immediate : g.setTimeout;
  // A sweep scheduled through timers that were swapped since (fake timers uninstalled) may never
  // run: schedule another through the current ones. A second sweep finds nothing to do.
  if (state.sweepWith === schedule) return;
  state.sweepWith = schedule;
  // `setImmediate` passes the 0 on to `sweep`, which takes no argument.
  schedule(sweep, 0);
}

/**
 * Takes `link` out of its shared resource's list, and, if that leaves the list empty, queues the
 * resource for release by the next macrotask (its `release()` checks that it is still unused),
 * unless it holds nothing any more (a fired timer, an aborted signal's listener).
 */
export function leave(link: Membership): void {
  const list = link.list;
  unlink(list, link);
  // Stryker disable next-line ConditionalExpression: a resource queued while still in use is kept by its release(), which checks again
  if (list.head === null && list.held) releaseSoon(list);
}
