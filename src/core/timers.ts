/**
 * Shared timers: one pending timer per distinct timeout duration.
 *
 * A `setTimeout` + `clearTimeout` pair costs about eight times a promise round trip, and a
 * Node `Timeout` object about 200 bytes, so waits do not get one each. Waits with the same
 * `timeout` go into one {@link TimerBucket}: an intrusive list (`list.ts`) of {@link TimerLink}s
 * in insertion order, which for one duration is deadline order on a monotonic clock. The bucket
 * arms one timer for its head; when it fires it expires every waiter that is due and re-arms for
 * the new head. A wait that ends in time just leaves the list (O(1)); when the list is empty the
 * timer is cleared by the next macrotask (`idle.ts`), or reused if another wait with that
 * duration arrives first. Buckets are process-wide (`state.ts`): waits of every copy of waitsafe
 * share them.
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
 * The stored `setTimeout` and `clearTimeout` are always called unbound: browsers throw "Illegal
 * invocation" when their `this` is not the global object.
 *
 * @module
 */

import type { Membership } from './idle.js';
import { append, type List } from './list.js';
import { type Releasable, state } from './state.js';
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
interface TimerWorld {
  readonly set: SetTimeout;
  readonly clear: ClearTimeout;
  /**
   * The clock deadlines are measured on: the fake clock of a sinon-style fake `setTimeout`
   * (`setTimeout.clock.now` is fake time even when `performance` is not faked), else
   * `performance.now()`.
   */
  readonly now: () => number;
  readonly buckets: Map<number, TimerBucket>;
}

/** A wait's membership in its timer bucket, with its deadline. Written only here and by `leave`. */
interface TimerLink extends Membership {
  readonly list: TimerBucket;
  readonly waiter: AnyWaiter;
  /** Whole milliseconds on the world's clock (a small integer in the common case). */
  readonly deadline: number;
}

const worlds = state.worlds as WeakMap<object, TimerWorld>;
/** This copy's cache of the world of the current `setTimeout`. */
let world: TimerWorld | undefined;

/** The current time on `performance.now()`'s clock, looked up at call time. */
export function now(): number {
  return globalThis.performance.now();
}

/** The world of the current `setTimeout` (fake timers may have been installed or removed). */
function currentWorld(): TimerWorld {
  const set = (globalThis as unknown as { setTimeout: SetTimeout }).setTimeout;
  let w = world;
  if (w === undefined || w.set !== set) {
    w = worlds.get(set);
    if (w === undefined) {
      const fake = set.clock;
      w = {
        set,
        clear: (globalThis as unknown as { clearTimeout: ClearTimeout }).clearTimeout,
        now: typeof fake?.now === 'number' ? () => fake.now as number : now,
        buckets: new Map(),
      };
      worlds.set(set, w);
    }
    world = w;
  }
  return w;
}

/**
 * Now, on the clock that timeouts are measured on: the fake clock of a sinon-style fake
 * `setTimeout` while one is installed, else `performance.now()`. For deadlines that span several
 * waits (`Condition.waitFor`).
 */
export function timerNow(): number {
  return currentWorld().now();
}

/** The waits that share one timeout duration, and the one timer they share. Written only here. */
class TimerBucket implements List<Membership>, Releasable {
  /** Pending waits in deadline order. */
  head: Membership | null = null;
  tail: Membership | null = null;
  /** The pending timer, if armed. */
  handle: unknown = undefined;
  /** The deadline the pending timer was armed for: waits due by then expire when it fires. */
  armedUntil = 0;
  idle = false;
  declare readonly ms: number;
  declare readonly world: TimerWorld;

  constructor(ms: number, world: TimerWorld) {
    this.ms = ms;
    this.world = world;
  }

  /** Arms the timer for the head wait (there is one). */
  arm(time: number): void {
    const deadline = (this.head as TimerLink).deadline;
    const delay = Math.min(Math.max(deadline - time, 0), MAX_DELAY);
    // Remember the head's own deadline, not `time + delay`, which may round below it.
    this.armedUntil = delay === MAX_DELAY ? time + delay : deadline;
    const set = this.world.set;
    this.handle = set(fire, delay, this);
  }

  /** Clears the timer and forgets the bucket if no wait uses it. */
  release(): void {
    if (this.head !== null) return;
    if (this.handle !== undefined) {
      const clear = this.world.clear;
      clear(this.handle);
      this.handle = undefined;
    }
    this.forget();
  }

  /** Whether its timer is pending. */
  get held(): boolean {
    return this.handle !== undefined;
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
  for (
    let link = bucket.head as TimerLink | null;
    link !== null && link.deadline <= limit;
    link = bucket.head as TimerLink | null
  ) {
    expireWaiter(link.waiter, bucket.ms);
  }
  if (bucket.head !== null) bucket.arm(time);
  else bucket.forget();
}

/** Expires `node` after `ms` milliseconds (finite, > 0) unless it is settled first. */
export function watchTimeout(node: AnyWaiter, ms: number): void {
  const w = currentWorld();
  let bucket = w.buckets.get(ms);
  if (bucket === undefined) {
    bucket = new TimerBucket(ms, w);
    w.buckets.set(ms, bucket);
  }
  const time = w.now();
  // Whole milliseconds keep the deadline a small integer; rounding up never expires early.
  const link: TimerLink = { prev: null, next: null, list: bucket, waiter: node, deadline: Math.ceil(time + ms) };
  append(bucket, link);
  node.timer = link;
  if (bucket.handle === undefined) bucket.arm(time);
}
