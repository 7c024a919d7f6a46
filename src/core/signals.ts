/**
 * One abort listener per signal, shared by every wait on that signal.
 *
 * Node's `EventTarget` scans its listener list on every add and remove and warns past ten
 * listeners, so a listener per wait makes many waits on one long-lived signal O(n²) and noisy.
 * Here a signal gets one {@link SignalEntry}: an `EventListener` object with an intrusive list
 * (`list.ts`) of the waits on it, one small {@link SignalLink} each. Joining or leaving it is
 * O(1) with no hashing; an abort cancels them all in O(n). When the list empties, the listener
 * is removed by the next macrotask (`idle.ts`) unless a new wait on the same signal arrives
 * first. Entries are process-wide (`state.ts`): waits of every copy of waitsafe on one signal
 * share its entry.
 *
 * @module
 */

import type { Membership } from './idle.js';
import { append, type List } from './list.js';
import { type Releasable, state } from './state.js';
import { type AnyWaiter, cancelWaiter, cancelWaiters } from './waiter.js';

/** A wait's membership in its signal's list. Written only here and by `leave` (`idle.ts`). */
interface SignalLink extends Membership {
  readonly list: SignalEntry;
  readonly waiter: AnyWaiter;
}

const entries = state.signals as WeakMap<AbortSignal, SignalEntry>;

/** The one listener waitsafe keeps on a signal, with the waits it serves. Written only here. */
class SignalEntry implements List<Membership>, Releasable {
  head: Membership | null = null;
  tail: Membership | null = null;
  idle = false;
  /** True while the listener is on the signal. */
  held = true;
  declare readonly signal: AbortSignal;

  constructor(signal: AbortSignal) {
    this.signal = signal;
  }

  /** The abort listener: cancels every wait on the signal with its reason. */
  handleEvent(): void {
    this.release(true);
    const reason = this.signal.reason;
    const head = this.head as SignalLink | null;
    // Stryker disable next-line ConditionalExpression,BlockStatement: the common case of one wait, without the array; the loop below does the same for it
    if (head !== null && head.next === null) {
      cancelWaiter(head.waiter, reason);
      return;
    }
    // Several waits: all leave their queues before any is settled (see cancelWaiters).
    const nodes: AnyWaiter[] = [];
    for (let link = head; link !== null; link = link.next as SignalLink | null) nodes.push(link.waiter);
    cancelWaiters(nodes, reason);
  }

  /** Removes the listener if no wait uses it (or, `force`, at once: the signal aborted). */
  release(force?: boolean): void {
    if (!this.held || (this.head !== null && !force)) return;
    this.held = false;
    this.signal.removeEventListener('abort', this);
    // A signal's entry stays in the map until this, its only release: no other can be there.
    entries.delete(this.signal);
  }
}

/** Cancels `node` when `signal` aborts. The caller has checked that it is not aborted yet. */
export function watchSignal(node: AnyWaiter, signal: AbortSignal): void {
  let entry = entries.get(signal);
  if (entry === undefined) {
    entry = new SignalEntry(signal);
    entries.set(signal, entry);
    signal.addEventListener('abort', entry);
  }
  const link: SignalLink = { prev: null, next: null, list: entry, waiter: node };
  append(entry, link);
  node.sig = link;
}
