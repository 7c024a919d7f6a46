/**
 * A timeout never fires early, however the clock moves.
 *
 * Waits do not read the clock: a wait that joins a timer already armed for its duration gets its
 * deadline at the next clock read (the sweep of the next macrotask, or the timer), which is never
 * earlier than the wait's start (src/core/timers.ts, "Reading the clock"). These tests drive a
 * `setTimeout` that is fake but has no clock of its own (so waitsafe measures deadlines on
 * `performance.now()`), and a `performance.now()` that jumps forward by any amount at any moment,
 * as a suspended laptop's or a loaded machine's does, and check against a model that every wait
 * that times out has waited at least its timeout by the clock and by the timers.
 */

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Event } from '../src/index.js';
import { flushMicrotasks } from './helpers.js';

/** The fake clock `performance.now()` reads. */
let clock = 0;
/** Time as the fake timers see it: how far they were advanced. */
let timerTime = 0;
/** How many times the clock jumped ahead of the timers. */
let jumps = 0;

beforeEach(() => {
  clock = 1_000;
  timerTime = 0;
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
  // The fakes carry their clock (`setTimeout.clock`), which waitsafe would measure on: hide it
  // behind plain functions, so deadlines are measured on performance.now(), the real-world case.
  const fakeSetTimeout = globalThis.setTimeout;
  const fakeClearTimeout = globalThis.clearTimeout;
  vi.stubGlobal('setTimeout', (fn: () => void, ms?: number, ...args: unknown[]) => fakeSetTimeout(fn, ms, ...args));
  vi.stubGlobal('clearTimeout', (handle: unknown) => fakeClearTimeout(handle as never));
  vi.spyOn(performance, 'now').mockImplementation(() => clock);
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

interface Started {
  readonly event: Event;
  readonly ms: number;
  readonly clockAtStart: number;
  readonly timerTimeAtStart: number;
  readonly jumpsAtStart: number;
  /** When the wait left its event's queue without being set: when it timed out. */
  clockAtEnd?: number;
  timerTimeAtEnd?: number;
  jumpsAtEnd?: number;
  set?: boolean;
}

/** The waits started and not ended yet. */
const pending = new Set<Started>();

/** Starts a wait with `timeout: ms`, alone on its own Event. */
function start(ms: number, all: Started[]): Started {
  const started: Started = {
    event: new Event(),
    ms,
    clockAtStart: clock,
    timerTimeAtStart: timerTime,
    jumpsAtStart: jumps,
  };
  all.push(started);
  pending.add(started);
  started.event.wait({ timeout: ms }).catch((error: DOMException) => {
    expect(error.name).toBe('TimeoutError');
  });
  return started;
}

/** Sets the event of every pending wait (they end by a grant, not a timeout). */
function setAll(): void {
  for (const started of pending) {
    started.event.set();
    started.set = true;
    pending.delete(started);
  }
}

/**
 * Lets fake time pass, 1 ms at a time: the fake timers, and the clock with them. A wait leaves its
 * event's queue in the same synchronous step in which it times out, so its end is seen exactly.
 */
function advance(ms: number): void {
  for (let i = 0; i < ms; i++) {
    timerTime++;
    clock++;
    vi.advanceTimersByTime(1);
    for (const started of pending) {
      if (started.event.waiterCount === 0) {
        started.clockAtEnd = clock;
        started.timerTimeAtEnd = timerTime;
        started.jumpsAtEnd = jumps;
        pending.delete(started);
      }
    }
  }
}

/**
 * Checks that a wait that timed out waited at least its timeout on the clock, and, if the clock
 * did not jump meanwhile, on the timers too. (When the clock jumps ahead, that much time did pass:
 * a wait may then end before the timers alone would have ended it, never before the clock says.)
 */
function expectNotEarly(started: Started): void {
  if (started.set) return;
  expect(started.clockAtEnd, 'ended').toBeDefined();
  expect(started.clockAtEnd as number).toBeGreaterThanOrEqual(started.clockAtStart + started.ms);
  if (started.jumpsAtEnd === started.jumpsAtStart) {
    expect(started.timerTimeAtEnd as number).toBeGreaterThanOrEqual(started.timerTimeAtStart + started.ms);
  }
}

/** The clock jumps ahead of the timers (a suspended or starved process). */
function jump(ms: number): void {
  clock += ms;
  jumps++;
}

describe('timeouts and a clock that jumps', () => {
  beforeEach(() => {
    pending.clear();
  });

  it('a wait that joins an armed timer after the clock jumped ahead does not expire with the earlier one', async () => {
    const all: Started[] = [];
    start(100, all); // arms the timer: deadline 1,100 on the clock
    jump(5_000); // the clock jumps while no timer time passes
    start(100, all); // joins the armed timer, unstamped: the next macrotask stamps it at 6,001
    advance(100);
    expect(all.map((s) => s.timerTimeAtEnd)).toEqual([100, undefined]);
    advance(1);
    // One macrotask late (its deadline was read then), never early.
    expect(all.map((s) => s.timerTimeAtEnd)).toEqual([100, 101]);
    all.forEach(expectNotEarly);
    await flushMicrotasks();
  });

  it('a wait that joins an armed timer later in time expires after its own timeout, not the first one', async () => {
    const all: Started[] = [];
    start(20, all);
    advance(10);
    start(20, all);
    advance(40);
    all.forEach(expectNotEarly);
    await flushMicrotasks();
  });

  it('never expires a wait before its timeout on the clock or on the timers, for any jumps', async () => {
    type Step =
      | { kind: 'wait'; ms: number }
      | { kind: 'advance'; ms: number }
      | { kind: 'jump'; ms: number }
      | { kind: 'set' };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant('wait' as const), ms: fc.constantFrom(1, 5, 20, 50) }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ kind: fc.constant('jump' as const), ms: fc.integer({ min: 1, max: 10_000 }) }),
      fc.record({ kind: fc.constant('set' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        pending.clear();
        jumps = 0;
        const all: Started[] = [];
        for (const s of steps) {
          if (s.kind === 'wait') start(s.ms, all);
          else if (s.kind === 'advance') advance(s.ms);
          else if (s.kind === 'jump') jump(s.ms);
          else setAll();
        }
        // Enough for every wait still pending to time out: the longest timeout, plus one
        // macrotask for a wait's deadline to be stamped.
        advance(52);
        all.forEach(expectNotEarly);
        expect(pending.size).toBe(0);
        await flushMicrotasks();
      }),
      { numRuns: 300 },
    );
  });
});
