/**
 * One abort listener per signal, shared by every wait on that signal.
 *
 * Node's `EventTarget` scans its listener list on every add and remove and warns past ten
 * listeners, so a listener per wait makes many waits on one long-lived signal O(n²) and noisy.
 * Here a signal gets one {@link SignalEntry}: an `EventListener` object whose set holds the
 * waiters. Adding or removing a waiter is a `Set` operation; an abort cancels them all in O(n).
 * When the set empties, the listener is removed by the next macrotask (`idle.ts`) unless a new
 * wait on the same signal arrives first.
 *
 * @module
 */

import { type Releasable, releaseSoon } from './idle.js';
import type { AnyWaiter } from './waiters.js';

const entries = new WeakMap<AbortSignal, SignalEntry>();

/** The one listener waitsafe keeps on a signal, with the waits it serves. */
export class SignalEntry implements Releasable {
  readonly waiters = new Set<AnyWaiter>();
  idle = false;
  /** True while the listener is on the signal. */
  registered = true;

  constructor(readonly signal: AbortSignal) {}

  /** The abort listener: cancels every wait on the signal with its reason. */
  handleEvent(): void {
    this.unregister();
    const reason = this.signal.reason;
    for (const node of this.waiters) node.cancel(reason);
  }

  release(): void {
    if (this.waiters.size === 0) this.unregister();
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
  entry.waiters.add(node);
  node.sig = entry;
}

/** Drops `node` from its signal's entry (it has one). */
export function unwatchSignal(node: AnyWaiter): void {
  const entry = node.sig as SignalEntry;
  node.sig = null;
  entry.waiters.delete(node);
  if (entry.waiters.size === 0 && entry.registered) releaseSoon(entry);
}
