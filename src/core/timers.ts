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
 * ## Reading the clock
 *
 * `performance.now()` costs about as much as a whole promise round trip, so a wait does not read
 * it. A link that joins a bucket whose timer is already armed is *unstamped*: its deadline is
 * set at the next clock read, by the idle sweep of the next macrotask or by the bucket's timer,
 * whichever comes first, to that time plus the duration. The read comes after the wait started,
 * so a deadline is never earlier than the wait's start plus its timeout (a timeout never fires
 * early), and at most one macrotask turn later. Unstamped links are always the tail of the
 * list: links join at the tail, and a read stamps them all. Only arming a timer, the sweep and
 * the timer itself read the clock, and waits satisfied within the turn they started in (the
 * common case) never need it.
 *
 * ## Fake timers
 *
 * `setTimeout`, `clearTimeout` and `performance` are looked up on `globalThis` when used, so a
 * test runner's fakes apply. A bucket remembers the `setTimeout` it arms through, and a wait
 * made under another one (fakes installed or removed since) starts a new bucket for its
 * duration, so it never joins a timer armed through the other; the old bucket still serves the
 * waits it has. Expiry is never decided from the clock alone, which may be frozen or real while
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

import { type Membership, releaseSoon } from './idle.js';
import { append, type List } from './list.js';
import { type Releasable, state } from './state.js';
import { type AnyWaiter, cancelWaiter } from './waiter.js';

/** Largest delay `setTimeout` takes without overflowing to 1 ms. */
// Stryker disable next-line ArithmeticOperator: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/timers.test.ts
const MAX_DELAY = 2 ** 31 - 1;

type SetTimeout = ((callback: (bucket: TimerBucket) => void, ms: number, bucket: TimerBucket) => unknown) & {
  clock?: { now?: unknown };
};
type ClearTimeout = (handle: unknown) => void;

/** A wait's membership in its timer bucket, with its deadline. Written only here and by `leave`. */
interface TimerLink extends Membership {
  readonly list: TimerBucket;
  readonly waiter: AnyWaiter;
  /**
   * Whole milliseconds on the bucket's clock (a small integer in the common case), or
   * {@link UNSTAMPED} until the next clock read.
   */
  deadline: number;
}

/**
 * The deadline of a link not stamped yet. A small integer, as deadlines are, so the field stays
 * unboxed (an `Infinity` there would cost every timer link a heap number); a read stamps the
 * links before any deadline is compared.
 */
// Stryker disable next-line UnaryOperator: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/timers.test.ts
const UNSTAMPED = -1;

/** The bucket of each timeout duration that new waits join. Process-wide (`state.ts`). */
const buckets = state.buckets as Map<number, TimerBucket>;

/** The current time on `performance.now()`'s clock, looked up at call time. */
export function now(): number {
  return globalThis.performance.now();
}

/**
 * Now on the clock of timers armed through `set`: a sinon-style fake `setTimeout` carries its
 * own clock (`setTimeout.clock.now`, fake time even when `performance` is not faked); otherwise
 * `performance.now()`.
 */
function clockOf(set: SetTimeout): number {
  const fake = set.clock?.now;
  return typeof fake === 'number' ? fake : now();
}

/**
 * Now, on the clock that timeouts are measured on: the fake clock of a sinon-style fake
 * `setTimeout` while one is installed, else `performance.now()`. For deadlines that span several
 * waits (`Condition.waitFor`).
 */
export function timerNow(): number {
  return clockOf((globalThis as unknown as { setTimeout: SetTimeout }).setTimeout);
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
  /** The `setTimeout` and `clearTimeout` of its timer (a test runner's fakes, maybe). */
  declare readonly set: SetTimeout;
  declare readonly clear: ClearTimeout;

  constructor(ms: number, set: SetTimeout) {
    this.ms = ms;
    this.set = set;
    this.clear = (globalThis as unknown as { clearTimeout: ClearTimeout }).clearTimeout;
  }

  /** Arms the timer for the head wait (there is one). */
  arm(time: number): void {
    const deadline = (this.head as TimerLink).deadline;
    const delay = Math.min(Math.max(deadline - time, 0), MAX_DELAY);
    // What the timer is armed for: the head's own deadline, or, when the delay is capped, the
    // time the capped timer fires at. Never below the deadline through rounding: it is the
    // deadline itself.
    this.armedUntil = Math.min(deadline, time + MAX_DELAY);
    const set = this.set;
    this.handle = set(fire, delay, this);
  }

  /** Whether its timer is pending. */
  get held(): boolean {
    return this.handle !== undefined;
  }

  /**
   * The idle sweep: stamps the links that joined since the last clock read; if no wait uses the
   * bucket, clears its timer, and new waits of its duration no longer join it.
   */
  release(): void {
    if (this.head !== null) {
      stamp(this, clockOf(this.set));
      return;
    }
    // Stryker disable next-line ConditionalExpression: clearTimeout(undefined) does nothing
    if (this.handle !== undefined) {
      const clear = this.clear;
      clear(this.handle);
      this.handle = undefined;
    }
    if (buckets.get(this.ms) === this) buckets.delete(this.ms);
  }
}

/** Gives the unstamped links of `bucket` (its tail) their deadline: `time`, now, plus its duration. */
function stamp(bucket: TimerBucket, time: number): void {
  const deadline = Math.ceil(time + bucket.ms);
  for (
    let link = bucket.tail as TimerLink | null;
    link !== null && link.deadline === UNSTAMPED;
    link = link.prev as TimerLink | null
  ) {
    link.deadline = deadline;
  }
}

function fire(bucket: TimerBucket): void {
  bucket.handle = undefined;
  const time = clockOf(bucket.set);
  // Links that joined since the last read started no later than now.
  stamp(bucket, time);
  // The timer, not the clock alone, decides: what it was armed for is due even if the clock
  // says otherwise (a fake setTimeout over a real or frozen clock).
  const limit = Math.max(time, bucket.armedUntil);
  // Expiring a waiter unlinks its link, so the head advances. One at a time, in deadline order,
  // unlike an abort: an expiry may be what ends the next wait (a timeout() whose signal another
  // wait uses), and that wait then ends with that reason.
  for (
    let link = bucket.head as TimerLink | null;
    link !== null && link.deadline <= limit;
    link = bucket.head as TimerLink | null
  ) {
    cancelWaiter(link.waiter, undefined, bucket.ms);
  }
  if (bucket.head !== null) bucket.arm(time);
  else bucket.release();
}

/** Expires `node` after `ms` milliseconds (finite, > 0) unless it is settled first. */
export function watchTimeout(node: AnyWaiter, ms: number): void {
  const set = (globalThis as unknown as { setTimeout: SetTimeout }).setTimeout;
  let bucket = buckets.get(ms);
  if (bucket === undefined || bucket.set !== set) {
    bucket = new TimerBucket(ms, set);
    buckets.set(ms, bucket);
  }
  // The clock is read only to arm the timer, or when it is a fake's, which costs nothing; else
  // the link is stamped at the next read (see the header).
  let time = set.clock?.now as number | undefined;
  if (typeof time !== 'number') time = bucket.handle === undefined ? now() : undefined;
  // Whole milliseconds keep the deadline a small integer; rounding up never expires early.
  const deadline = time === undefined ? UNSTAMPED : Math.ceil(time + ms);
  const link: TimerLink = { prev: null, next: null, list: bucket, waiter: node, deadline };
  append(bucket, link);
  node.timer = link;
  if (time === undefined) releaseSoon(bucket);
  else if (bucket.handle === undefined) bucket.arm(time);
}
