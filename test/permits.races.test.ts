/**
 * Race schedules for Lock, Semaphore and BoundedSemaphore: after a start of calls made in order
 * (holds, and a queue behind them), weighted acquires (with an own or a shared signal, a timeout,
 * `timeout: 0`), tryAcquires, runExclusive calls, releases too many, aborts, time steps and the
 * holders' releases (Releaser, twice, `Symbol.dispose`, `release(weight)`; each hold lasts one to
 * three scheduled tasks) happen in an order fast-check's scheduler picks, under fake timers. After every step the primitive is checked
 * against the FIFO model (`races.ts`): `waiterCount`, `value`, `isLocked()`, which wait got what,
 * and the order of the grants. Independently of the model, from what the waits saw: permits are
 * conserved, a Lock has one holder at most, no wait is granted while an earlier one still waits
 * (FIFO without barging, tryAcquire included), and the earliest wait never fits in what is free
 * (a head that gives up lets the next fitting ones in at once). At the end nothing is left: no
 * waiter, no fake timer, no abort listener. A second property starts every run with a heavy wait
 * that can give up at the head of the queue, lighter ones behind it and one permit free, and
 * schedules its giving up among the other steps.
 *
 * Timed waits of one run share one duration, so the waits due at one millisecond expire in the
 * order they started (timers of different durations due at the same millisecond fire in an order
 * the contract leaves open; permits.model.test.ts covers that).
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BoundedSemaphore, Lock, type Releaser, Semaphore } from '../src/index.js';
import { abortListeners, type Tracked, track } from './helpers.js';
import { dispose, expectOutcome, FifoModel, Race } from './races.js';

type Kind = 'Lock' | 'Semaphore' | 'BoundedSemaphore';
type SignalChoice = 'none' | 'own' | 0 | 1;
type TimeoutChoice = 'none' | 'zero' | 'timed';
type ReleaseBy = 'releaser' | 'twice' | 'dispose' | 'method';

type Action =
  | {
      readonly type: 'acquire';
      readonly weight: number;
      readonly signal: SignalChoice;
      readonly timeout: TimeoutChoice;
      readonly releaseBy: ReleaseBy;
      readonly hold: number;
    }
  | {
      readonly type: 'run';
      readonly signal: SignalChoice;
      readonly timeout: TimeoutChoice;
      readonly throws: boolean;
      readonly hold: number;
    }
  | { readonly type: 'try'; readonly weight: number; readonly releaseBy: ReleaseBy; readonly hold: number }
  | { readonly type: 'abort'; readonly target: number }
  | { readonly type: 'advance'; readonly ms: number }
  | { readonly type: 'extra'; readonly weight: number };

const signalArb = fc.constantFrom<SignalChoice>('none', 'own', 'own', 0, 1);
const timeoutArb = fc.constantFrom<TimeoutChoice>('none', 'timed', 'timed', 'zero');
const releaseByArb = fc.constantFrom<ReleaseBy>('releaser', 'twice', 'dispose', 'method');
const weightArb = fc.constantFrom(1, 1, 1, 2, 2, 3, 4);
/** How many scheduled tasks in a row a hold lasts. */
const holdArb = fc.integer({ min: 1, max: 3 });

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      type: fc.constant('acquire' as const),
      weight: weightArb,
      signal: signalArb,
      timeout: timeoutArb,
      releaseBy: releaseByArb,
      hold: holdArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('run' as const),
      signal: signalArb,
      timeout: timeoutArb,
      throws: fc.boolean(),
      hold: holdArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('try' as const),
      weight: weightArb,
      releaseBy: releaseByArb,
      hold: holdArb,
    }),
  },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('abort' as const), target: fc.nat(7) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('extra' as const), weight: fc.integer({ min: 1, max: 2 }) }) },
);

/** Model: what a wait gets; `refused`: a tryAcquire that got nothing. `undefined` while it waits. */
type Expected = 'granted' | 'refused' | { readonly reason: unknown } | 'timeout' | 'range' | undefined;

interface Wait {
  readonly label: string;
  readonly via: 'acquire' | 'run' | 'try';
  readonly weight: number;
  readonly signal: AbortSignal | undefined;
  readonly own: AbortController | undefined;
  readonly start: number;
  readonly timed: boolean;
  readonly releaseBy: ReleaseBy;
  /** How many scheduled tasks in a row the hold lasts. */
  readonly hold: number;
  /** A run's fn: throws this at its end, or returns the label. */
  readonly error: Error | undefined;
  tracked: Tracked<unknown> | undefined;
  /** Model: what the wait gets. `undefined` while it waits. */
  expected: Expected;
  /** Seen granted: the acquire fulfilled, the run's fn was called, tryAcquire returned a Releaser. */
  entered: boolean;
  /** The hold ended: released, or the run's fn ended. */
  ended: boolean;
  releaser: Releaser | undefined;
}

async function race(
  s: fc.Scheduler,
  kind: Kind,
  initial: number,
  ms: number,
  prefix: readonly Action[],
  actions: readonly Action[],
) {
  const prim =
    kind === 'Lock'
      ? new Lock({ name: 'race' })
      : kind === 'Semaphore'
        ? new Semaphore(initial, { name: 'race' })
        : new BoundedSemaphore(initial, { name: 'race' });
  const bound = kind === 'Lock' ? 1 : initial;
  const r = new Race(s);
  const shared = [new AbortController(), new AbortController()];
  const waits: Wait[] = [];
  const modelGrants: string[] = [];
  const realGrants: string[] = [];
  /** Model: permits free now, permits added by releases beyond any hold (plain Semaphore), the clock. */
  let value = bound;
  let extra = 0;
  let now = 0;
  const fifo = new FifoModel<Wait>(
    (w) => w.weight <= value,
    (w) => {
      value -= w.weight;
      w.expected = 'granted';
      modelGrants.push(w.label);
    },
  );

  const weightOf = (raw: number) => (kind === 'Lock' ? 1 : 1 + ((raw - 1) % Math.max(initial + 1, 2)));
  const held = () => waits.reduce((sum, w) => sum + (w.entered && !w.ended ? w.weight : 0), 0);
  const semValue = () => (prim instanceof Semaphore ? prim.value : undefined);

  r.checkNow = () => {
    expect(prim.waiterCount, 'waiterCount').toBe(fifo.queue.length);
    expect(prim.isLocked(), 'isLocked()').toBe(value === 0 || fifo.queue.length > 0);
    if (prim instanceof Semaphore) expect(prim.value, 'value').toBe(value);
  };
  r.check = () => {
    r.checkNow();
    for (const w of waits) {
      const { label, expected } = w;
      expect(w.entered, `${label} entered`).toBe(expected === 'granted');
      if (w.tracked === undefined) continue;
      if (expected === undefined) expectOutcome(w.tracked, undefined, label);
      else if (expected === 'timeout')
        expectOutcome(w.tracked, { outcome: 'error', type: DOMException, name: 'TimeoutError' }, label);
      else if (expected === 'range') expectOutcome(w.tracked, { outcome: 'error', type: RangeError }, label);
      else if (typeof expected === 'object')
        expectOutcome(w.tracked, { outcome: 'reason', reason: expected.reason }, label);
      else if (w.via === 'acquire') expectOutcome(w.tracked, { outcome: 'value', value: w.releaser }, label);
      else if (!w.ended) expectOutcome(w.tracked, undefined, label);
      else if (w.error) expectOutcome(w.tracked, { outcome: 'reason', reason: w.error }, label);
      else expectOutcome(w.tracked, { outcome: 'value', value: label }, label);
    }
    expect(realGrants, 'grant order').toEqual(modelGrants);
    // Independent of the model, from what the waits saw.
    if (kind === 'Lock') {
      expect(held(), 'one holder at most').toBeLessThanOrEqual(1);
      expect(prim.isLocked()).toBe(held() === 1);
    } else {
      expect(held() + (semValue() as number), 'permits conserved').toBe(bound + extra);
    }
    const waiting = waits.filter((w) => !w.entered && w.tracked?.status === 'pending');
    waiting.forEach((a) => {
      for (const b of waits.slice(waits.indexOf(a) + 1))
        expect(b.entered, `${b.label} barged past ${a.label}`).toBe(false);
    });
    const first = waiting[0];
    if (first !== undefined) {
      if (kind === 'Lock') expect(held(), `${first.label} waits for a free lock`).toBe(1);
      else expect(first.weight, `${first.label} waits while its weight is free`).toBeGreaterThan(semValue() as number);
    }
  };

  const newWait = (
    via: Wait['via'],
    weight: number,
    signal: SignalChoice,
    timeout: TimeoutChoice,
    rest: Partial<Wait>,
  ) => {
    const own = signal === 'own' ? new AbortController() : undefined;
    const w: Wait = {
      label: `${via} ${waits.length}`,
      via,
      weight,
      own,
      signal: own?.signal ?? (typeof signal === 'number' ? shared[signal]?.signal : undefined),
      start: now,
      timed: timeout === 'timed',
      releaseBy: 'releaser',
      hold: 1,
      error: undefined,
      tracked: undefined,
      expected: undefined,
      entered: false,
      ended: false,
      releaser: undefined,
      ...rest,
    };
    waits.push(w);
    return w;
  };
  const optionsOf = (w: Wait, timeout: TimeoutChoice) => ({
    ...(w.signal === undefined ? {} : { signal: w.signal }),
    ...(timeout === 'none' ? {} : { timeout: timeout === 'zero' ? 0 : ms }),
  });
  /** The model of a new wait: refused, granted at once, given up at once (`timeout: 0`), or queued. */
  const arrive = (w: Wait, timeout: TimeoutChoice) => {
    if (kind === 'BoundedSemaphore' && w.weight > bound) w.expected = 'range';
    else if (w.signal?.aborted) w.expected = { reason: w.signal.reason };
    else if (!fifo.arrive(w, timeout !== 'zero') && timeout === 'zero') w.expected = 'timeout';
  };
  const giveBack = (w: Wait) => {
    w.ended = true;
    value += w.weight;
    fifo.settle();
  };
  const release = (w: Wait) => {
    const releaser = w.releaser as Releaser;
    if (w.releaseBy === 'releaser') releaser();
    else if (w.releaseBy === 'twice') {
      releaser();
      releaser();
    } else if (w.releaseBy === 'dispose') releaser[dispose]();
    else if (prim instanceof Semaphore && w.weight > 1) prim.release(w.weight);
    else prim.release();
    giveBack(w);
  };
  const granted = (w: Wait, releaser: Releaser) => {
    w.entered = true;
    w.releaser = releaser;
    realGrants.push(w.label);
    r.after(w.hold, `release ${w.label}`, () => release(w));
  };

  const perform = (action: Action) => {
    switch (action.type) {
      case 'acquire': {
        // Impossible weights (above a BoundedSemaphore's bound) go without a signal: which error
        // wins over an aborted signal is not part of the contract.
        const weight = weightOf(action.weight);
        const signal = kind === 'BoundedSemaphore' && weight > bound ? 'none' : action.signal;
        const w = newWait('acquire', weight, signal, action.timeout, {
          releaseBy: action.releaseBy,
          hold: action.hold,
        });
        arrive(w, action.timeout);
        const options = optionsOf(w, action.timeout);
        const promise = kind === 'Lock' ? prim.acquire(options) : (prim as Semaphore).acquire({ ...options, weight });
        w.tracked = track(promise);
        promise.then(
          (releaser) => granted(w, releaser),
          () => {},
        );
        return;
      }
      case 'run': {
        const w = newWait('run', 1, action.signal, action.timeout, {
          error: action.throws ? new Error('fn failed') : undefined,
          hold: action.hold,
        });
        arrive(w, action.timeout);
        const fn = () => {
          w.entered = true;
          realGrants.push(w.label);
          return r.work(w.hold, `${w.label} runs`).then(() => {
            // The permit goes back a few microtasks after fn's promise settles.
            r.step(`${w.label} ends`, () => giveBack(w), false);
            if (w.error !== undefined) throw w.error;
            return w.label;
          });
        };
        w.tracked = track(prim.runExclusive(fn, optionsOf(w, action.timeout)));
        return;
      }
      case 'try': {
        const weight = weightOf(action.weight);
        if (kind === 'BoundedSemaphore' && weight > bound) {
          expect(() => (prim as Semaphore).tryAcquire(weight)).toThrow(RangeError);
          return;
        }
        const w = newWait('try', weight, 'none', 'none', { releaseBy: action.releaseBy, hold: action.hold });
        fifo.arrive(w, false);
        const releaser = kind === 'Lock' ? prim.tryAcquire() : (prim as Semaphore).tryAcquire(weight);
        expect(releaser !== undefined, `${w.label} granted`).toBe(w.expected === 'granted');
        if (releaser === undefined) w.expected = 'refused';
        else granted(w, releaser);
        return;
      }
      case 'abort': {
        // An own signal of a wait that still waits (the model's choice of target, not a check).
        const owned = waits.filter((w) => w.own !== undefined && !w.own.signal.aborted && fifo.isWaiting(w));
        const controller =
          action.target < 2 ? shared[action.target] : owned[(action.target - 2) % Math.max(owned.length, 1)]?.own;
        if (controller === undefined) return;
        if (controller.signal.aborted) {
          controller.abort('again'); // does nothing
          return;
        }
        const reason = { aborted: action.target };
        const leaving = fifo.queue.filter((w) => w.signal === controller.signal);
        for (const w of leaving) w.expected = { reason };
        controller.abort(reason);
        fifo.leave(leaving);
        return;
      }
      case 'advance': {
        for (let i = 0; i < action.ms; i++) {
          vi.advanceTimersByTime(1);
          now++;
          for (;;) {
            const due = fifo.queue.find((w) => w.timed && w.start + ms <= now);
            if (due === undefined) break;
            due.expected = 'timeout';
            fifo.leave([due]);
          }
          r.checkNow();
        }
        return;
      }
      case 'extra': {
        if (prim instanceof BoundedSemaphore) {
          // Only the release too many that the count can see: it throws and changes nothing.
          if (value + action.weight > bound) expect(() => prim.release(action.weight)).toThrow(RangeError);
        } else if (prim instanceof Semaphore) {
          prim.release(action.weight);
          extra += action.weight;
          value += action.weight;
          fifo.settle();
        } else if (value === 1) {
          expect(() => prim.release()).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
        }
        return;
      }
    }
  };

  await r.run(prefix, actions, perform);

  // Only a plain Semaphore can have waiters that no hold's release will serve: top it up.
  while (fifo.queue.length > 0 && kind === 'Semaphore') {
    r.step('top up', () => {
      const missing = (fifo.queue[0] as Wait).weight - value;
      prim.release(missing);
      extra += missing;
      value += missing;
      fifo.settle();
    });
    await r.settle();
  }
  r.check();
  expect(fifo.queue).toEqual([]);
  expect(held()).toBe(0);
  expect(value).toBe(bound + extra);
  expect(waits.every((w) => w.expected !== undefined && w.tracked?.status !== 'pending')).toBe(true);
  vi.advanceTimersByTime(1);
  expect(prim.waiterCount).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
  for (const signal of [...shared, ...waits.map((w) => w.own)]) {
    if (signal !== undefined) expect(abortListeners(signal.signal)).toBe(0);
  }
}

/**
 * A contended start: a hold leaves one permit free, a heavy wait (that can give up) heads the
 * queue, and lighter waits queue behind it.
 */
const heavyHeadArb: fc.Arbitrary<[number, Action[]]> = fc
  .tuple(
    fc.constantFrom(2, 3),
    fc.constantFrom<[SignalChoice, TimeoutChoice]>(['own', 'none'], ['own', 'timed'], [0, 'none'], ['none', 'timed']),
    fc.array(
      fc.record({
        run: fc.boolean(),
        weight: fc.constantFrom(1, 1, 2),
        signal: signalArb,
        timeout: fc.constantFrom<TimeoutChoice>('none', 'timed'),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([initial, [signal, timeout], lights]) => [
    initial,
    [
      { type: 'acquire', weight: initial - 1, signal: 'none', timeout: 'none', releaseBy: 'releaser', hold: 3 },
      { type: 'acquire', weight: initial, signal, timeout, releaseBy: 'releaser', hold: 1 },
      ...lights.map(
        (l): Action =>
          l.run
            ? { type: 'run', signal: l.signal, timeout: l.timeout, throws: false, hold: 2 }
            : { type: 'acquire', weight: l.weight, signal: l.signal, timeout: l.timeout, releaseBy: 'method', hold: 2 },
      ),
    ],
  ]);

/** The step that makes the head of a contended start give up, at a moment the scheduler picks. */
function giveUp(head: Action): Action {
  const { signal } = head as { signal: SignalChoice };
  if (signal === 'own') return { type: 'abort', target: 2 }; // the first wait still waiting with its own signal
  if (typeof signal === 'number') return { type: 'abort', target: signal };
  return { type: 'advance', ms: 3 };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Lock, Semaphore and BoundedSemaphore races', () => {
  it.each([
    ['Lock', fc.constant(1)],
    ['Semaphore', fc.constantFrom(0, 1, 2, 2, 3, 3)],
    ['BoundedSemaphore', fc.constantFrom(1, 2, 2, 3, 3)],
  ] as const)(
    '%s: acquires, runs, aborts, timeouts and releases in any order follow the FIFO model',
    async (kind, initialArb) => {
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          initialArb,
          fc.integer({ min: 1, max: 3 }),
          fc.array(
            actionArb.filter((a) => a.type === 'acquire' || a.type === 'run' || a.type === 'try'),
            { maxLength: 5 },
          ),
          fc.array(actionArb, { minLength: 1, maxLength: 12 }),
          async (s, initial, ms, prefix, actions) => {
            vi.useFakeTimers();
            try {
              await race(s, kind, initial, ms, prefix, actions);
            } finally {
              vi.useRealTimers();
            }
          },
        ),
        { numRuns: 50 },
      );
    },
    30_000,
  );

  it.each(['Semaphore', 'BoundedSemaphore'] as const)(
    '%s: a heavy head that gives up lets the lighter waits behind it in at once',
    async (kind) => {
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.integer({ min: 1, max: 3 }),
          heavyHeadArb,
          fc.array(actionArb, { maxLength: 8 }),
          async (s, ms, [initial, prefix], actions) => {
            vi.useFakeTimers();
            try {
              await race(s, kind, initial, ms, prefix, [...actions, giveUp(prefix[1] as Action)]);
            } finally {
              vi.useRealTimers();
            }
          },
        ),
        { numRuns: 30 },
      );
    },
    30_000,
  );
});
