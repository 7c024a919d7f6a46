/**
 * Shared timers: one pending timer per distinct timeout duration.
 *
 * A `setTimeout` + `clearTimeout` pair costs about eight times a promise round trip, and a
 * Node `Timeout` object about 200 bytes, so waits do not get one each. Waits with the same
 * `timeout` go into one {@link TimerBucket}: an intrusive list of {@link TimerLink}s in insertion
 * order, which for one duration is deadline order on a monotonic clock. The bucket arms one
 * timer for its head; when it fires it expires every waiter that is due and re-arms for the new
 * head. A wait that ends in time just leaves the list (O(1)); when the list is empty the timer
 * is cleared by the next macrotask
 * (`idle.ts`), or reused if another wait with that duration arrives first.
 *
 * ## Fake timers
 *
 * `setTimeout`, `clearTimeout` and `performance` are looked up on `globalThis` when used, so a
 * test runner's fakes apply. Buckets are kept per `setTimeout` function (a {@link TimerWorld}),
 * so waits made after fakes were installed (or removed) never join a timer armed through the
 * other one. Expiry is never decided from the clock alone, which may be frozen or real while
 * fake timers advance: when a bucket's timer fires, the waits it was armed for expire whatever
 * the clock says. Fakes built on `@sinonjs/fake-timers` (vitest, jest, sinon) expose their own
 * clock on `setTimeout.clock`; deadlines are then measured on it, so they are exact even when
 * `performance` is left real. With other fakes over a frozen clock, waits of one duration that
 * start at different fake times share the first one's deadline.
 *
 * @module
 */

import { type Releasable, releaseSoon } from './idle.js';
import { state } from './state.js';
import { type AnyWaiter, expireWaiter } from './waiter.js';

/** Largest delay `setTimeout` takes without overflowing to 1 ms. */
const MAX_DELAY = 2 ** 31 - 1;

type SetTimeout = ((callback: (bucket: TimerBucket) => void, ms: number, bucket: TimerBucket) => unknown) & {
  clock?: { now?: unknown };
};
type ClearTimeout = (handle: unknown) => void;

/**
 * The timers of one `setTimeout` function: the real one, or a test runner's fake. Waits made
 * under different functions never share a bucket.
 */
class TimerWorld {
  readonly buckets = new Map<number, TimerBucket>();
  readonly clearTimer: ClearTimeout;
  /**
   * The clock deadlines are measured on. Fakes built on `@sinonjs/fake-timers` (vitest, jest,
   * sinon) expose their clock as `setTimeout.clock`; its `now` is fake time even when
   * `performance` is not faked, so deadlines stay exact. Otherwise `performance.now()`.
   */
  readonly now: () => number;

  constructor(readonly setTimer: SetTimeout) {
    this.clearTimer = (globalThis as unknown as { clearTimeout: ClearTimeout }).clearTimeout;
    const fake = setTimer.clock;
    this.now = typeof fake?.now === 'number' ? () => fake.now as number : now;
  }
}

// Process-wide (`state.ts`): waits from every copy of waitsafe share the buckets of a world.
const worlds = state.worlds as WeakMap<object, TimerWorld>;
/** This copy's cache of the world of the current `setTimeout`. */
let world: TimerWorld | undefined;

/** The current time on `performance.now()`'s clock, looked up at call time. */
export function now(): number {
  return globalThis.performance.now();
}

/**
 * Now, on the clock that timeouts are measured on: the fake clock of a sinon-style fake
 * `setTimeout` while one is installed, else `performance.now()`. For deadlines that span several
 * waits (`Condition.waitFor`).
 */
export function timerNow(): number {
  const setTimer = (globalThis as unknown as { setTimeout: SetTimeout }).setTimeout;
  let w = world;
  if (w === undefined || w.setTimer !== setTimer) w = useWorld(setTimer);
  return w.now();
}

/** A wait's membership in its timer bucket, with its deadline. */
export class TimerLink {
  prev: TimerLink | null = null;
  next: TimerLink | null = null;

  constructor(
    readonly bucket: TimerBucket,
    readonly waiter: AnyWaiter,
    /** Whole milliseconds on the world's clock (a small integer in the common case). */
    readonly deadline: number,
  ) {}
}

/** The waits that share one timeout duration, and the one timer they share. */
export class TimerBucket implements Releasable {
  /** Pending waits in deadline order. */
  head: TimerLink | null = null;
  tail: TimerLink | null = null;
  /** The pending timer, if armed. */
  handle: unknown = undefined;
  /** The deadline the pending timer was armed for: waits due by then expire when it fires. */
  armedUntil = 0;
  idle = false;

  constructor(
    readonly ms: number,
    readonly world: TimerWorld,
  ) {}

  /** Arms the timer for the head wait (there is one). */
  arm(time: number): void {
    const deadline = (this.head as TimerLink).deadline;
    const delay = Math.min(Math.max(deadline - time, 0), MAX_DELAY);
    // Remember the head's own deadline, not `time + delay`, which may round below it.
    this.armedUntil = delay === MAX_DELAY ? time + delay : deadline;
    // Called unbound: browsers throw "Illegal invocation" when setTimeout's `this` is not the
    // global object, and calling it as `world.setTimer(...)` would make `this` the world.
    const setTimer = this.world.setTimer;
    this.handle = setTimer(fire, delay, this);
  }

  release(): void {
    if (this.head !== null) return;
    if (this.handle !== undefined) {
      const clearTimer = this.world.clearTimer;
      clearTimer(this.handle);
      this.handle = undefined;
    }
    this.forget();
  }

  /** Drops the bucket from its world once it has neither waits nor a timer. */
  forget(): void {
    const { buckets } = this.world;
    if (buckets.get(this.ms) === this) buckets.delete(this.ms);
  }
}

function fire(bucket: TimerBucket): void {
  bucket.handle = undefined;
  const time = bucket.world.now();
  // The timer, not the clock alone, decides: what it was armed for is due even if the clock
  // says otherwise (a fake setTimeout over a real or frozen clock).
  const limit = Math.max(time, bucket.armedUntil);
  // Expiring a waiter unlinks its link, so the head advances.
  for (let link = bucket.head; link !== null && link.deadline <= limit; link = bucket.head) {
    expireWaiter(link.waiter, bucket.ms);
  }
  if (bucket.head !== null) bucket.arm(time);
  else bucket.forget();
}

/** Expires `node` after `ms` milliseconds (finite, > 0) unless it is settled first. */
export function watchTimeout(node: AnyWaiter, ms: number): void {
  const setTimer = (globalThis as unknown as { setTimeout: SetTimeout }).setTimeout;
  let w = world;
  if (w === undefined || w.setTimer !== setTimer) w = useWorld(setTimer);
  let bucket = w.buckets.get(ms);
  if (bucket === undefined) {
    bucket = new TimerBucket(ms, w);
    w.buckets.set(ms, bucket);
  }
  const time = w.now();
  // Whole milliseconds keep the deadline a small integer; rounding up never expires early.
  const link = new TimerLink(bucket, node, Math.ceil(time + ms));
  const tail = bucket.tail;
  if (tail === null) bucket.head = link;
  else {
    tail.next = link;
    link.prev = tail;
  }
  bucket.tail = link;
  node.timer = link;
  if (bucket.handle === undefined) bucket.arm(time);
}

/** Switches to the timers of another `setTimeout` (fake timers installed or removed). */
function useWorld(setTimer: SetTimeout): TimerWorld {
  let w = worlds.get(setTimer);
  if (w === undefined) {
    w = new TimerWorld(setTimer);
    worlds.set(setTimer, w);
  }
  world = w;
  return w;
}

/** Drops `node` from its timer bucket (it is in one). */
export function unwatchTimeout(node: AnyWaiter): void {
  const link = node.timer as TimerLink;
  node.timer = null;
  const { bucket, prev, next } = link;
  if (prev === null) bucket.head = next;
  else prev.next = next;
  if (next === null) bucket.tail = prev;
  else next.prev = prev;
  if (bucket.head === null && bucket.handle !== undefined) releaseSoon(bucket);
}
