/**
 * Fuzzed arguments for the helpers of `waitsafe` (sleep, timeout, timeoutAt, Deadline,
 * linkSignals, setDefaultMaxWaiters, isTimeoutError) and for `waitsafe/inspect` (trackWaiters,
 * WaiterMonitor, snapshot().diff). test/fuzz.ts says what is checked.
 */

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Deadline,
  Event,
  getDefaultMaxWaiters,
  isTimeoutError,
  linkSignals,
  setDefaultMaxWaiters,
  sleep,
  timeout,
  timeoutAt,
} from '../src/index.js';
import { snapshot, trackWaiters, WaiterMonitor } from '../src/inspect/index.js';
import {
  abort,
  abortedSignal,
  abortOf,
  anything,
  argsArb,
  assertAsync,
  assertSync,
  checkAsync,
  checkSync,
  fnArb,
  fresh,
  functionProblems,
  liveSignal,
  Make,
  materialize,
  mostly,
  msProblems,
  numberArb,
  numbers,
  optionsArb,
  optionsProblems,
  orAnything,
  type Problem,
  rangeError,
  type Spy,
  signalArb,
  signalProblems,
  signalsIn,
  spyArb,
  typeError,
} from './fuzz.js';
import { abortListeners, type Tracked } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** `{ signal }`, the options of sleep, timeout, timeoutAt and Deadline: no other key. */
const SIGNAL_FIELDS = { signal: signalArb };
const SIGNAL_CHECKS = { signal: (v: unknown) => signalProblems(v) };
const validSignalOptions: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  liveSignal.map((s) => new Make(`{ signal: ${s.label} }`, () => ({ signal: s.make() }))),
);

/** Hostile options (a revoked Proxy, a throwing getter): reported as bad arguments are. */
const hostile = { hostile: true };

/** The helpers' state: there is none but the clock, the timers and the listeners (checked after each call). */
const noState = () => undefined;

describe('sleep', () => {
  it('sleep(ms, options)', async () => {
    // A sleep without a signal stays registered until its time is up: only durations the fake
    // clock can reach (and Infinity, which registers nothing without a signal) are given.
    const msArb = fc
      .oneof(numberArb, fc.integer({ min: 0, max: 100 }))
      .filter((ms) => !(typeof ms === 'number' && ms > 1e9 && ms !== Infinity));
    await assertAsync(
      [argsArb([msArb, optionsArb(SIGNAL_FIELDS, hostile)], [fc.nat(100), validSignalOptions])],
      async ([ms, o]) => {
        const options = materialize(o);
        const signal = signalsIn(options)[0];
        const reason = new Error('stop');
        await checkAsync({
          call: () => sleep(ms as never, options as never),
          // `ms`: a number >= 0 or Infinity, required.
          problems: [...msProblems(ms, '"ms"', false), ...optionsProblems(options, SIGNAL_CHECKS)],
          otherwise: abortOf(options),
          state: noState,
          signals: signalsIn(options),
          // Resolves after `ms`; `Infinity` sleeps until the signal aborts.
          settle: () => {
            if (ms !== Infinity) vi.advanceTimersByTime(Math.ceil(ms as number) + 1);
            else if (signal !== undefined) abort(signal, reason);
          },
          settled: (outcome) => {
            if (ms !== Infinity) expect(outcome.status).toBe('fulfilled');
            else if (signal !== undefined) expect(outcome.reason).toBe(reason);
            // Infinity without a signal never ends, and holds nothing (checked next).
            else expect(outcome.status).toBe('pending');
          },
        });
      },
    );
  });
});

describe.each(['timeout', 'timeoutAt'] as const)('%s', (name) => {
  /**
   * `timeout(ms, fn, options)`: `ms` a number >= 0 or Infinity. `timeoutAt(deadline, fn,
   * options)`: `deadline` any number but NaN. `fn` a function, `options` `{ signal }`.
   */
  function timeProblems(time: unknown): Problem[] {
    if (name === 'timeout') return msProblems(time, '"ms"', false);
    if (typeof time !== 'number') return [typeError('"deadline"')];
    return Number.isNaN(time) ? [rangeError('"deadline"')] : [];
  }
  const call = name === 'timeout' ? timeout : timeoutAt;

  it(`${name}(${name === 'timeout' ? 'ms' : 'deadline'}, fn, options)`, async () => {
    await assertAsync(
      [
        argsArb(
          [numberArb, fnArb, optionsArb(SIGNAL_FIELDS, hostile)],
          [fc.oneof(fc.nat(100), fc.constant(Infinity)), spyArb, validSignalOptions],
        ),
      ],
      async ([time, f, o]) => {
        const fn = materialize(f);
        const options = materialize(o);
        await checkAsync({
          call: () => call(time as never, fn as never, options as never),
          problems: [
            ...timeProblems(time),
            ...functionProblems(fn, '"fn"'),
            ...optionsProblems(options, SIGNAL_CHECKS),
          ],
          otherwise: abortOf(options),
          state: noState,
          signals: signalsIn(options),
          // A failed call does not call `fn`; an aborted signal included.
          spies: [fn],
          settled: (outcome: Tracked<unknown>) => {
            // `fn` returns at once: its result wins, even over `timeout(0)`.
            expect(outcome.status).toBe('fulfilled');
            expect(outcome.value).toBe('ran');
            expect((fn as Spy).calls).toBe(1);
          },
        });
      },
    );
  });
});

describe('Deadline', () => {
  it('new Deadline(ms, options)', () => {
    assertSync(
      [argsArb([numberArb, optionsArb(SIGNAL_FIELDS, hostile)], [fc.nat(100), validSignalOptions])],
      ([ms, o]) => {
        const options = materialize(o);
        const outer = signalsIn(options)[0];
        checkSync({
          call: () => new Deadline(ms as never, options as never),
          // `ms`: a number >= 0 or Infinity, required; `options`: `{ signal }`.
          problems: [...msProblems(ms, '"ms"', false), ...optionsProblems(options, SIGNAL_CHECKS)],
          state: noState,
          signals: signalsIn(options),
          succeeded: (deadline) => {
            // An outer signal already aborted aborts the deadline's at once, with its reason.
            expect(deadline.signal.aborted).toBe(outer?.aborted ?? false);
            if (outer?.aborted) expect(deadline.signal.reason).toBe(outer.reason);
            deadline[Symbol.dispose]();
          },
        });
      },
    );
  });

  type DeadlineState = 'armed' | 'no deadline' | 'disposed' | 'expired' | 'outer aborted';
  const deadlineStates = fc.constantFrom<DeadlineState>('armed', 'no deadline', 'disposed', 'expired', 'outer aborted');

  it('reschedule(ms)', () => {
    assertSync([deadlineStates, numberArb], (state, ms) => {
      const outer = new AbortController();
      const deadline = new Deadline(state === 'no deadline' ? Infinity : 10, { signal: outer.signal });
      if (state === 'disposed') deadline[Symbol.dispose]();
      if (state === 'expired') vi.advanceTimersByTime(10);
      if (state === 'outer aborted') outer.abort();
      checkSync({
        call: () => deadline.reschedule(ms as never),
        problems: msProblems(ms, '"ms"', false),
        // Once disposed, passed or aborted, a deadline cannot move.
        otherwise: state === 'armed' || state === 'no deadline' ? undefined : { kind: 'InvalidStateError' },
        state: () => [deadline.when, deadline.expired(), deadline.signal.aborted, abortListeners(outer.signal)],
        succeeded: () => {
          expect(deadline.when).toBe(ms === Infinity ? Infinity : performance.now() + (ms as number));
          deadline[Symbol.dispose]();
        },
        leftovers: () => {
          deadline[Symbol.dispose]();
          vi.advanceTimersByTime(1);
          expect(vi.getTimerCount()).toBe(0);
          expect(abortListeners(outer.signal)).toBe(0);
        },
      });
    });
  });
});

describe('linkSignals', () => {
  it('linkSignals(...signals)', () => {
    const inputArb = fc.oneof(anything, liveSignal, abortedSignal, fc.constant(undefined));
    assertSync([fc.array(inputArb, { maxLength: 4 })], (inputs) => {
      const signals = inputs.map(materialize);
      // Each input an AbortSignal or undefined: a TypeError naming its position otherwise.
      const problems = signals.flatMap((s, i) => signalProblems(s, `Argument ${i}`));
      const aborted = signals.find((s): s is AbortSignal => s instanceof AbortSignal && s.aborted);
      checkSync({
        call: () => linkSignals(...(signals as AbortSignal[])),
        problems,
        state: () => signals.map((s) => (s instanceof AbortSignal ? abortListeners(s) : 0)),
        signals: signalsIn(...signals),
        succeeded: (linked) => {
          // Aborted at once with the first aborted input's reason, or not aborted.
          expect(linked.aborted).toBe(aborted !== undefined);
          if (aborted !== undefined) expect(linked.reason).toBe(aborted.reason);
          linked[Symbol.dispose]();
        },
      });
    });
  });
});

describe('setDefaultMaxWaiters', () => {
  it('setDefaultMaxWaiters(n)', () => {
    const initial = getDefaultMaxWaiters();
    try {
      assertSync([numberArb], (n) => {
        checkSync({
          call: () => setDefaultMaxWaiters(n as never),
          // `n`: an integer >= 0, or Infinity.
          problems:
            typeof n !== 'number'
              ? [typeError('"n"')]
              : n === Infinity || (Number.isInteger(n) && n >= 0)
                ? []
                : [rangeError('"n"')],
          state: () => getDefaultMaxWaiters(),
          succeeded: () => expect(getDefaultMaxWaiters()).toBe(n),
        });
        setDefaultMaxWaiters(initial);
      });
    } finally {
      setDefaultMaxWaiters(initial);
    }
  });
});

describe('isTimeoutError', () => {
  it('isTimeoutError(error) never throws, and is true exactly for a TimeoutError DOMException', () => {
    const errorArb = fc.oneof(
      anything,
      fc.string({ maxLength: 12 }).map((name) => new DOMException('message', name)),
      fc.constantFrom('TimeoutError', 'AbortError').map((name) => new DOMException('message', name)),
      fc.constant({ name: 'TimeoutError' }),
      fc.constant(Object.assign(new Error('slow'), { name: 'TimeoutError' })),
    );
    assertSync([errorArb], (error) => {
      checkSync({
        call: () => isTimeoutError(error),
        problems: [],
        state: noState,
        succeeded: (result) =>
          expect(result).toBe(error instanceof DOMException && (error as DOMException).name === 'TimeoutError'),
      });
    });
  });
});

describe('waitsafe/inspect', () => {
  /**
   * Whether primitives made now are tracked: the inspector's state, which a failed
   * `trackWaiters()` leaves as it was.
   */
  function tracking(): boolean {
    const before = snapshot().primitives;
    const probe = new Event();
    const tracked = snapshot().primitives > before;
    void probe;
    return tracked;
  }

  it('trackWaiters(options)', () => {
    assertSync([optionsArb({ stacks: orAnything(fc.boolean()) }, hostile)], (o) => {
      const options = materialize(o);
      checkSync({
        call: () => trackWaiters(options as never),
        // `options`: `{ stacks }`, a boolean.
        problems: optionsProblems(options, {
          stacks: (v) => (v === undefined || typeof v === 'boolean' ? [] : [typeError('"stacks"')]),
        }),
        state: tracking,
        succeeded: (stop) => {
          expect(tracking()).toBe(true);
          stop();
          expect(tracking()).toBe(false);
        },
      });
    });
  });

  it('new WaiterMonitor(options)', () => {
    // Each option valid more often than not: the checks come one after the other.
    const monitorFields = {
      interval: mostly(fc.integer({ min: 1, max: 60_000 }), orAnything(numbers)),
      baseline: mostly(fc.constantFrom('first', 'previous', undefined), anything),
      report: mostly(fc.oneof(spyArb, fc.constant(undefined)), anything),
      minGrowth: mostly(fc.oneof(fc.nat(10), fc.constant(undefined)), numberArb),
    };
    /**
     * TSDoc: `interval` a number > 0 (and finite: an interval), required; `minGrowth` a number
     * >= 0; `baseline` 'first' or 'previous'; `report` a function; no other key.
     */
    const checks = {
      interval: (v: unknown): Problem[] =>
        typeof v !== 'number' ? [typeError('"interval"')] : v > 0 && v < Infinity ? [] : [rangeError('"interval"')],
      baseline: (v: unknown): Problem[] =>
        v === undefined || v === 'first' || v === 'previous' ? [] : [typeError('"baseline"')],
      report: (v: unknown) => functionProblems(v, '"report"', true),
      minGrowth: (v: unknown) => msProblems(v, '"minGrowth"'),
    };
    assertSync([optionsArb(monitorFields, hostile)], (o) => {
      const options = materialize(o);
      checkSync({
        call: () => new WaiterMonitor(options as never),
        problems: optionsProblems(options, checks, false),
        state: noState,
        succeeded: (monitor) => {
          // Constructing starts nothing: no timer until start().
          expect(vi.getTimerCount()).toBe(0);
          expect(monitor.tick()).toBeUndefined();
        },
      });
    });
  });

  it('snapshot().diff(base)', () => {
    /** A snapshot's row, as `rows` holds them. */
    const rowArb = fc.record({
      kind: fc.constantFrom('Event', 'Lock'),
      name: fc.option(fc.string({ maxLength: 3 }), { nil: undefined }),
      site: fc.constant(undefined),
      primitives: fc.nat(3),
      waiters: fc.nat(3),
    });
    const baseArb = fc.oneof(
      anything,
      fresh('snapshot()', () => snapshot()),
      fc.record({
        takenAt: orAnything(numbers),
        // `rows`: a snapshot's rows, an array with something else among them, or anything that
        // is not an array.
        rows: fc.oneof(
          fc.array(rowArb, { maxLength: 3 }),
          fc.array(fc.oneof(rowArb, anything), { maxLength: 3 }),
          anything.filter((v) => !Array.isArray(v)),
        ),
      }),
    );
    assertSync([baseArb], (b) => {
      const base = materialize(b);
      const now = snapshot();
      checkSync({
        call: () => now.diff(base as never),
        // A snapshot of any copy of waitsafe/inspect: `takenAt` a number, `rows` an array of rows
        // (objects).
        problems:
          typeof base === 'object' &&
          base !== null &&
          typeof (base as { takenAt?: unknown }).takenAt === 'number' &&
          Array.isArray((base as { rows?: unknown }).rows) &&
          (base as { rows: unknown[] }).rows.every((row) => typeof row === 'object' && row !== null)
            ? []
            : [typeError('"base"')],
        state: () => [now.takenAt, now.rows.length, now.waiters],
        succeeded: (diff) => expect(Array.isArray(diff.rows)).toBe(true),
      });
    });
  });
});
