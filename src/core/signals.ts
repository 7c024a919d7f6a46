/**
 * One abort listener per signal, shared by every wait on that signal.
 *
 * Node's `EventTarget` scans its listener list on every add and remove and warns past ten
 * listeners, so a listener per wait makes many waits on one long-lived signal O(n²) and noisy.
 * Here a signal gets one {@link SignalEntry}: an `EventListener` object with an intrusive list
 * of the waits on it (one small {@link SignalLink} each). Joining or leaving it is O(1) with no
 * hashing; an abort cancels them all in O(n).
 * When the set empties, the listener is removed by the next macrotask (`idle.ts`) unless a new
 * wait on the same signal arrives first.
 *
 * @module
 */

import { type Releasable, releaseSoon } from './idle.js';
import { state } from './state.js';
import { type AnyWaiter, cancelWaiter } from './waiter.js';

// Process-wide (`state.ts`): waits from every copy of waitsafe on one signal share its entry.
const entries = state.signals as WeakMap<AbortSignal, SignalEntry>;

/** A wait's membership in its signal's list. */
export class SignalLink {
  prev: SignalLink | null = null;
  next: SignalLink | null = null;

  constructor(
    readonly entry: SignalEntry,
    readonly waiter: AnyWaiter,
  ) {}
}

/** The one listener waitsafe keeps on a signal, with the waits it serves. */
export class SignalEntry implements Releasable {
  head: SignalLink | null = null;
  tail: SignalLink | null = null;
  idle = false;
  /** True while the listener is on the signal. */
  registered = true;

  constructor(readonly signal: AbortSignal) {}

  /** The abort listener: cancels every wait on the signal with its reason. */
  handleEvent(): void {
    this.unregister();
    const reason = this.signal.reason;
    // Cancelling a waiter unlinks its link, so the head advances.
    for (let link = this.head; link !== null; link = this.head) cancelWaiter(link.waiter, reason);
  }

  release(): void {
    if (this.head === null) this.unregister();
  }

  private unregister(): void {
    if (!this.registered) return;
    this.registered = false;
    this.signal.removeEventListener('abort', this);
    if (entries.get(this.signal) === this) entries.delete(this.signal);
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
  const link = new SignalLink(entry, node);
  const tail = entry.tail;
  if (tail === null) entry.head = link;
  else {
    tail.next = link;
    link.prev = tail;
  }
  entry.tail = link;
  node.sig = link;
}

/** Drops `node` from its signal's list (it is in one). */
export function unwatchSignal(node: AnyWaiter): void {
  const link = node.sig as SignalLink;
  node.sig = null;
  const { entry, prev, next } = link;
  if (prev === null) entry.head = next;
  else prev.next = next;
  if (next === null) entry.tail = prev;
  else next.prev = prev;
  if (entry.head === null && entry.registered) releaseSoon(entry);
}
