/**
 * Race schedules for Future: waits (with an own or a shared signal, a timeout or `timeout: 0`),
 * setResult, setException (also on a Future already done), aborts and time steps happen in an
 * order fast-check's scheduler picks. (A Future has no `cancel()`: a wait is cancelled through
 * its signal or timeout.) After every step the Future is checked against a model of a few lines:
 * `waiterCount`, `done()`, `result()`, and the exact value or reason every wait settles with, in
 * the order the model settles them. Two runs: under fake timers, where timeouts fire between the
 * other steps, and with real timers, where the timeouts (60 s) never fire, so every timer must be
 * cleared once its wait ends: `activeTimeouts()` is back to its baseline after `nextMacrotask()`.
 * At the end nothing is left: no waiter, no timer, no abort listener.
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Future } from '../src/index.js';
import { abortListeners, activeTimeouts, nextMacrotask, type Tracked, track } from './helpers.js';
import { expectOutcome, Race } from './races.js';

type SignalChoice = 'none' | 'own' | 0 | 1;
type TimeoutChoice = 'none' | 'zero' | 'timed';

type Action =
  | { readonly type: 'wait'; readonly signal: SignalChoice; readonly timeout: TimeoutChoice }
  | { readonly type: 'setResult' | 'setException' }
  | { readonly type: 'abort'; readonly target: number }
  | { readonly type: 'advance'; readonly ms: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('wait' as const),
      signal: fc.constantFrom<SignalChoice>('none', 'own', 'own', 0, 1),
      timeout: fc.constantFrom<TimeoutChoice>('none', 'timed', 'timed', 'zero'),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constantFrom('setResult' as const, 'setException' as const) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('abort' as const), target: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 3 }) }) },
);

type Expected =
  | { readonly outcome: 'value'; readonly value: unknown }
  | { readonly outcome: 'reason'; readonly reason: unknown }
  | { readonly outcome: 'timeout' }
  | undefined;

interface Wait {
  readonly label: string;
  readonly signal: AbortSignal | undefined;
  readonly own: AbortController | undefined;
  readonly start: number;
  readonly timed: boolean;
  tracked: Tracked<unknown> | undefined;
  expected: Expected;
}

/**
 * One run. `fake`: fake timers, timeouts of `ms` that fire on time steps. Otherwise real timers,
 * timeouts of 60 s that never fire, and no time steps.
 */
async function race(s: fc.Scheduler, fake: boolean, ms: number, actions: readonly Action[]) {
  const future = new Future<{ value: number }>({ name: 'race' });
  const r = new Race(s);
  const shared = [new AbortController(), new AbortController()];
  const waits: Wait[] = [];
  /** Model: the outcome once set, the waits pending, the clock, the order waits settle in. */
  let outcome: { readonly kind: 'result' | 'exception'; readonly value: unknown } | undefined;
  const waiting: Wait[] = [];
  let now = 0;
  const modelSettled: string[] = [];
  const realSettled: string[] = [];
  const baseline = fake ? 0 : activeTimeouts();

  const settle = (w: Wait, expected: Exclude<Expected, undefined>) => {
    w.expected = expected;
    modelSettled.push(w.label);
    if (waiting.includes(w)) waiting.splice(waiting.indexOf(w), 1);
  };

  r.checkNow = () => {
    expect(future.waiterCount, 'waiterCount').toBe(waiting.length);
    expect(future.done(), 'done()').toBe(outcome !== undefined);
    if (outcome === undefined)
      expect(() => future.result()).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    else if (outcome.kind === 'result') expect(future.result(), 'result()').toBe(outcome.value);
    else {
      let thrown: { error: unknown } | undefined;
      try {
        future.result();
      } catch (error) {
        thrown = { error };
      }
      expect(thrown?.error, 'result() throws the exception').toBe(outcome.value);
    }
  };
  r.check = () => {
    r.checkNow();
    for (const w of waits) {
      if (w.expected?.outcome === 'timeout') {
        expectOutcome(
          w.tracked as Tracked<unknown>,
          { outcome: 'error', type: DOMException, name: 'TimeoutError' },
          w.label,
        );
      } else expectOutcome(w.tracked as Tracked<unknown>, w.expected, w.label);
    }
    expect(realSettled, 'the order the waits settled in').toEqual(modelSettled);
  };

  const perform = (action: Action) => {
    switch (action.type) {
      case 'wait': {
        const own = action.signal === 'own' ? new AbortController() : undefined;
        const signal = own?.signal ?? (typeof action.signal === 'number' ? shared[action.signal]?.signal : undefined);
        const w: Wait = {
          label: `wait ${waits.length}`,
          own,
          signal,
          start: now,
          timed: action.timeout === 'timed',
          tracked: undefined,
          expected: undefined,
        };
        waits.push(w);
        if (signal?.aborted) settle(w, { outcome: 'reason', reason: signal.reason });
        else if (outcome?.kind === 'result') settle(w, { outcome: 'value', value: outcome.value });
        else if (outcome?.kind === 'exception') settle(w, { outcome: 'reason', reason: outcome.value });
        else if (action.timeout === 'zero') settle(w, { outcome: 'timeout' });
        else waiting.push(w);
        const options = {
          ...(signal === undefined ? {} : { signal }),
          ...(action.timeout === 'none' ? {} : { timeout: action.timeout === 'zero' ? 0 : fake ? ms : 60_000 }),
        };
        const promise = future.wait(options);
        w.tracked = track(promise);
        promise.then(
          () => realSettled.push(w.label),
          () => realSettled.push(w.label),
        );
        return;
      }
      case 'setResult':
      case 'setException': {
        const value = action.type === 'setResult' ? { value: waits.length } : new Error(`failed at ${waits.length}`);
        if (outcome !== undefined) {
          const set = () =>
            action.type === 'setResult' ? future.setResult(value as { value: number }) : future.setException(value);
          expect(set).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
          return;
        }
        outcome = { kind: action.type === 'setResult' ? 'result' : 'exception', value };
        for (const w of [...waiting]) {
          settle(w, action.type === 'setResult' ? { outcome: 'value', value } : { outcome: 'reason', reason: value });
        }
        if (action.type === 'setResult') future.setResult(value as { value: number });
        else future.setException(value);
        return;
      }
      case 'abort': {
        // An own signal of a wait that still waits (the model's choice of target, not a check).
        const owned = waits.filter((w) => w.own !== undefined && !w.own.signal.aborted && waiting.includes(w));
        const controller =
          action.target < 2 ? shared[action.target] : owned[(action.target - 2) % Math.max(owned.length, 1)]?.own;
        if (controller === undefined || controller.signal.aborted) return;
        const reason = { aborted: action.target };
        for (const w of waiting.filter((w) => w.signal === controller.signal)) settle(w, { outcome: 'reason', reason });
        controller.abort(reason);
        return;
      }
      case 'advance': {
        if (!fake) return;
        for (let i = 0; i < action.ms; i++) {
          vi.advanceTimersByTime(1);
          now++;
          for (const w of waiting.filter((w) => w.timed && w.start + ms <= now)) settle(w, { outcome: 'timeout' });
          r.checkNow();
        }
        return;
      }
    }
  };

  for (const action of actions) r.later(JSON.stringify(action), () => perform(action));
  await r.settle();
  // Whoever still waits: a result ends their waits.
  if (outcome === undefined) r.step('setResult', () => perform({ type: 'setResult' }));
  await r.settle();

  r.check();
  expect(waiting).toEqual([]);
  expect(future.waiterCount).toBe(0);
  if (fake) {
    vi.advanceTimersByTime(1);
    expect(vi.getTimerCount()).toBe(0);
  } else {
    await nextMacrotask();
    expect(activeTimeouts()).toBeLessThanOrEqual(baseline);
  }
  for (const signal of [...shared, ...waits.map((w) => w.own)]) {
    if (signal !== undefined) expect(abortListeners(signal.signal)).toBe(0);
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Future races', () => {
  it('waits, setResult, setException, aborts and timeouts in any order (fake timers) follow the model', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 3 }),
        fc.array(actionArb, { minLength: 1, maxLength: 12 }),
        async (s, ms, actions) => {
          vi.useFakeTimers();
          try {
            await race(s, true, ms, actions);
          } finally {
            vi.useRealTimers();
          }
        },
      ),
      { numRuns: 50 },
    );
  }, 30_000);

  it('with real timers, every timer of a wait that ended is cleared by the next macrotask', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(actionArb, { minLength: 1, maxLength: 12 }), async (s, actions) => {
        await race(s, false, 0, actions);
      }),
      { numRuns: 40 },
    );
  }, 30_000);
});
