/**
 * Shared timers: one pending timer per distinct timeout duration.
 *
 * A `setTimeout` + `clearTimeout` pair costs about eight times a promise round trip, and a
 * Node `Timeout` object about 200 bytes, so waits do not get one each. Waits with the same
 * `timeout` go into one {@link TimerBucket}: a `Set` in insertion order, which for one duration
 * is deadline order on a monotonic clock. The bucket arms one timer for its head; when it fires
 * it expires every waiter that is due and re-arms for the new head. A wait that ends in time
 * just leaves the set; when the set is empty the timer is cleared by the next macrotask
 * (`idle.ts`), or reused if another wait with that duration arrives first.
 *
 * ## Fake timers
 *
 * `setTimeout`, `clearTimeout` and `performance` are looked up on `globalThis` when used, so a
 * test runner's fakes apply. Buckets are kept per `setTimeout` function, so waits made after
 * fakes were installed (or removed) never join a timer armed through the other one. Expiry is
 * never decided from the clock alone, which may be frozen while fake timers advance: when a
 * bucket's timer fires, the waiters it was armed for expire even if the clock says otherwise.
 *
 * @module
 */

import { type Releasable, releaseSoon } from './idle.js';
import type { Primitive } from './primitive.js';
import type { AnyWaiter } from './waiters.js';

/** Largest delay `setTimeout` takes without overflowing to 1 ms. */
const MAX_DELAY = 2 ** 31 - 1;

type SetTimeout = (callback: (bucket: TimerBucket) => void, ms: number, bucket: TimerBucket) => unknown;
type ClearTimeout = (handle: unknown) => void;

/** Buckets by duration, per `setTimeout` function (a fake and the real one never mix). */
const registries = new WeakMap<object, Map<number, TimerBucket>>();
let currentSetTimeout: SetTimeout | undefined;
let buckets = new Map<number, TimerBucket>();

/** The current time on `performance.now()`'s clock, looked up at call time. */
export function now(): number {
  return globalThis.performance.now();
}

/** The waits that share one timeout duration, and the one timer they share. */
export class TimerBucket implements Releasable {
  /** Pending waiters in deadline order. */
  readonly waiters = new Set<AnyWaiter>();
  /** The pending timer, if armed. */
  handle: unknown = undefined;
  /** The deadline the pending timer was armed for: waiters due by then expire when it fires. */
  armedUntil = 0;
  idle = false;

  constructor(
    readonly ms: number,
    readonly registry: Map<number, TimerBucket>,
    readonly setTimer: SetTimeout,
    readonly clearTimer: ClearTimeout,
  ) {}

  /** Arms the timer for the head waiter. */
  arm(time: number): void {
    let head: AnyWaiter | undefined;
    for (head of this.waiters) break;
    const deadline = (head as AnyWaiter).deadline;
    const delay = Math.min(Math.max(deadline - time, 0), MAX_DELAY);
    this.armedUntil = delay === MAX_DELAY ? time + delay : deadline;
    this.handle = this.setTimer(fire, delay, this);
  }

  release(): void {
    if (this.waiters.size !== 0) return;
    if (this.handle !== undefined) {
      this.clearTimer(this.handle);
      this.handle = undefined;
    }
    if (this.registry.get(this.ms) === this) this.registry.delete(this.ms);
  }
}

function fire(bucket: TimerBucket): void {
  bucket.handle = undefined;
  const time = now();
  const limit = Math.max(time, bucket.armedUntil);
  // Expiring deletes the node from the set; Set iteration tolerates that.
  for (const node of bucket.waiters) {
    if (node.deadline > limit) break;
    node.expire(bucket.ms);
  }
  if (bucket.waiters.size !== 0) bucket.arm(time);
  else if (bucket.registry.get(bucket.ms) === bucket) bucket.registry.delete(bucket.ms);
}

/** Expires `node` after `ms` milliseconds (finite, > 0) unless it is settled first. */
export function watchTimeout(node: AnyWaiter, ms: number): void {
  const g = globalThis as unknown as { setTimeout: SetTimeout; clearTimeout: ClearTimeout };
  const setTimer = g.setTimeout;
  if (setTimer !== currentSetTimeout) {
    currentSetTimeout = setTimer;
    let registry = registries.get(setTimer);
    if (registry === undefined) {
      registry = new Map();
      registries.set(setTimer, registry);
    }
    buckets = registry;
  }
  let bucket = buckets.get(ms);
  if (bucket === undefined) {
    bucket = new TimerBucket(ms, buckets, setTimer, g.clearTimeout);
    buckets.set(ms, bucket);
  }
  const time = now();
  // Whole milliseconds keep the field a small integer; rounding up never expires early.
  node.deadline = Math.ceil(time + ms);
  node.timer = bucket;
  bucket.waiters.add(node);
  if (bucket.handle === undefined) bucket.arm(time);
}

/** Drops `node` from its timer bucket (it has one). */
export function unwatchTimeout(node: AnyWaiter): void {
  const bucket = node.timer as TimerBucket;
  node.timer = null;
  bucket.waiters.delete(node);
  if (bucket.waiters.size === 0 && bucket.handle !== undefined) releaseSoon(bucket);
}

/** A fresh TimeoutError naming the primitive, the method and the milliseconds. */
export function timeoutError(owner: Primitive, verb: string, ms: number): DOMException {
  return new DOMException(`${owner.label}: ${verb}() timed out after ${ms} ms`, 'TimeoutError');
}
