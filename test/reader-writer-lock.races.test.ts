/**
 * Race schedules for ReaderWriterLock: after a start of calls made in order, acquireRead and
 * acquireWrite (with an own or a shared signal, a timeout, `timeout: 0`), tryAcquireRead/Write,
 * runRead/runWrite, aborts, time steps and the holders' releases (Releaser, twice,
 * `Symbol.dispose`) happen in an order fast-check's scheduler picks, under fake timers. After every step the lock is checked against the FIFO model
 * (`races.ts`) with the reader-writer rule (a reader fits while no writer holds; a writer fits
 * while nobody holds): `readers`, `isWriteLocked()`, `waiterCount`, which wait got what, and the
 * order of the grants. Independently of the model, from what the waits saw: never a writer beside
 * anyone, `readers` is the number of read holds, no wait is granted while an earlier one still
 * waits (so a waiting writer is never overtaken by later readers: writers never starve), and the
 * earliest wait never fits. At the end nothing is left: no waiter, no fake timer, no listener. A
 * second property starts every run with a reader holding, a writer that can give up at the head
 * of the queue and readers behind it, and schedules the writer's giving up among the other steps.
 *
 * Timed waits of one run share one duration (see permits.races.test.ts).
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReaderWriterLock, type Releaser } from '../src/index.js';
import { abortListeners, type Tracked, track } from './helpers.js';
import { dispose, expectOutcome, FifoModel, Race } from './races.js';

type Mode = 'read' | 'write';
type SignalChoice = 'none' | 'own' | 0 | 1;
type TimeoutChoice = 'none' | 'zero' | 'timed';
type ReleaseBy = 'releaser' | 'twice' | 'dispose';

type Action =
  | {
      readonly type: 'acquire' | 'run';
      readonly mode: Mode;
      readonly signal: SignalChoice;
      readonly timeout: TimeoutChoice;
      readonly releaseBy: ReleaseBy;
      readonly throws: boolean;
      readonly hold: number;
    }
  | { readonly type: 'try'; readonly mode: Mode; readonly releaseBy: ReleaseBy; readonly hold: number }
  | { readonly type: 'abort'; readonly target: number }
  | { readonly type: 'advance'; readonly ms: number };

const modeArb = fc.constantFrom<Mode>('read', 'read', 'write');
const releaseByArb = fc.constantFrom<ReleaseBy>('releaser', 'twice', 'dispose');
/** How many scheduled tasks in a row a hold lasts. */
const holdArb = fc.integer({ min: 1, max: 3 });

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 7,
    arbitrary: fc.record({
      type: fc.constantFrom('acquire' as const, 'acquire' as const, 'run' as const),
      mode: modeArb,
      signal: fc.constantFrom<SignalChoice>('none', 'own', 'own', 0, 1),
      timeout: fc.constantFrom<TimeoutChoice>('none', 'timed', 'timed', 'zero'),
      releaseBy: releaseByArb,
      throws: fc.boolean(),
      hold: holdArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('try' as const), mode: modeArb, releaseBy: releaseByArb, hold: holdArb }),
  },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('abort' as const), target: fc.nat(7) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 3 }) }) },
);

/** Model: what a wait gets; `refused`: a tryAcquire that got nothing. `undefined` while it waits. */
type Expected = 'granted' | 'refused' | { readonly reason: unknown } | 'timeout' | undefined;

interface Wait {
  readonly label: string;
  readonly via: 'acquire' | 'run' | 'try';
  readonly mode: Mode;
  readonly signal: AbortSignal | undefined;
  readonly own: AbortController | undefined;
  readonly start: number;
  readonly timed: boolean;
  readonly releaseBy: ReleaseBy;
  readonly hold: number;
  readonly error: Error | undefined;
  tracked: Tracked<unknown> | undefined;
  expected: Expected;
  entered: boolean;
  ended: boolean;
  releaser: Releaser | undefined;
}

async function race(s: fc.Scheduler, ms: number, prefix: readonly Action[], actions: readonly Action[]) {
  const rw = new ReaderWriterLock({ name: 'race' });
  const r = new Race(s);
  const shared = [new AbortController(), new AbortController()];
  const waits: Wait[] = [];
  const modelGrants: string[] = [];
  const realGrants: string[] = [];
  /** Model: read holds now, whether a writer holds, the clock. */
  let readers = 0;
  let writer = false;
  let now = 0;
  const fifo = new FifoModel<Wait>(
    (w) => !writer && (w.mode === 'read' || readers === 0),
    (w) => {
      if (w.mode === 'read') readers++;
      else writer = true;
      w.expected = 'granted';
      modelGrants.push(w.label);
    },
  );

  const active = (mode: Mode) => waits.filter((w) => w.mode === mode && w.entered && !w.ended).length;

  r.checkNow = () => {
    expect(rw.waiterCount, 'waiterCount').toBe(fifo.queue.length);
    expect(rw.readers, 'readers').toBe(readers);
    expect(rw.isWriteLocked(), 'isWriteLocked()').toBe(writer);
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
      else if (typeof expected === 'object')
        expectOutcome(w.tracked, { outcome: 'reason', reason: expected.reason }, label);
      else if (w.via === 'acquire') expectOutcome(w.tracked, { outcome: 'value', value: w.releaser }, label);
      else if (!w.ended) expectOutcome(w.tracked, undefined, label);
      else if (w.error) expectOutcome(w.tracked, { outcome: 'reason', reason: w.error }, label);
      else expectOutcome(w.tracked, { outcome: 'value', value: label }, label);
    }
    expect(realGrants, 'grant order').toEqual(modelGrants);
    // Independent of the model, from what the waits saw.
    const [reading, writing] = [active('read'), active('write')];
    expect(writing, 'one writer at most').toBeLessThanOrEqual(1);
    if (writing === 1) expect(reading, 'no reader beside a writer').toBe(0);
    expect(rw.readers).toBe(reading);
    expect(rw.isWriteLocked()).toBe(writing === 1);
    const waiting = waits.filter((w) => !w.entered && w.tracked?.status === 'pending');
    waiting.forEach((a) => {
      for (const b of waits.slice(waits.indexOf(a) + 1))
        expect(b.entered, `${b.label} overtook ${a.label}`).toBe(false);
    });
    const first = waiting[0];
    if (first !== undefined) {
      expect(writing + (first.mode === 'write' ? reading : 0), `${first.label} waits for nothing`).toBeGreaterThan(0);
    }
  };

  const newWait = (via: Wait['via'], mode: Mode, signal: SignalChoice, timeout: TimeoutChoice, rest: Partial<Wait>) => {
    const own = signal === 'own' ? new AbortController() : undefined;
    const w: Wait = {
      label: `${via} ${mode} ${waits.length}`,
      via,
      mode,
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
  const giveBack = (w: Wait) => {
    w.ended = true;
    if (w.mode === 'read') readers--;
    else writer = false;
    fifo.settle();
  };
  const release = (w: Wait) => {
    const releaser = w.releaser as Releaser;
    if (w.releaseBy === 'dispose') releaser[dispose]();
    else releaser();
    if (w.releaseBy === 'twice') releaser();
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
      case 'acquire':
      case 'run': {
        const w = newWait(action.type, action.mode, action.signal, action.timeout, {
          releaseBy: action.releaseBy,
          hold: action.hold,
          error: action.type === 'run' && action.throws ? new Error('fn failed') : undefined,
        });
        if (w.signal?.aborted) w.expected = { reason: w.signal.reason };
        else if (!fifo.arrive(w, action.timeout !== 'zero') && action.timeout === 'zero') w.expected = 'timeout';
        const options = {
          ...(w.signal === undefined ? {} : { signal: w.signal }),
          ...(action.timeout === 'none' ? {} : { timeout: action.timeout === 'zero' ? 0 : ms }),
        };
        if (action.type === 'acquire') {
          const promise = action.mode === 'read' ? rw.acquireRead(options) : rw.acquireWrite(options);
          w.tracked = track(promise);
          promise.then(
            (releaser) => granted(w, releaser),
            () => {},
          );
        } else {
          const fn = () => {
            w.entered = true;
            realGrants.push(w.label);
            return r.work(w.hold, `${w.label} runs`).then(() => {
              // The hold ends a few microtasks after fn's promise settles.
              r.step(`${w.label} ends`, () => giveBack(w), false);
              if (w.error !== undefined) throw w.error;
              return w.label;
            });
          };
          w.tracked = track(action.mode === 'read' ? rw.runRead(fn, options) : rw.runWrite(fn, options));
        }
        return;
      }
      case 'try': {
        const w = newWait('try', action.mode, 'none', 'none', { releaseBy: action.releaseBy, hold: action.hold });
        fifo.arrive(w, false);
        const releaser = action.mode === 'read' ? rw.tryAcquireRead() : rw.tryAcquireWrite();
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
        if (controller === undefined || controller.signal.aborted) return;
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
    }
  };

  await r.run(prefix, actions, perform);

  r.check();
  expect(fifo.queue).toEqual([]);
  expect([readers, writer]).toEqual([0, false]);
  expect(waits.every((w) => w.expected !== undefined && w.tracked?.status !== 'pending')).toBe(true);
  vi.advanceTimersByTime(1);
  expect(rw.waiterCount).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
  for (const signal of [...shared, ...waits.map((w) => w.own)]) {
    if (signal !== undefined) expect(abortListeners(signal.signal)).toBe(0);
  }
}

/** A contended start: a reader holds, a writer (that can give up) heads the queue, readers queue behind it. */
const writerHeadArb: fc.Arbitrary<Action[]> = fc
  .tuple(
    fc.constantFrom<[SignalChoice, TimeoutChoice]>(['own', 'none'], ['own', 'timed'], [0, 'none'], ['none', 'timed']),
    fc.array(
      fc.record({
        type: fc.constantFrom('acquire' as const, 'run' as const),
        signal: fc.constantFrom<SignalChoice>('none', 'own', 0, 1),
        timeout: fc.constantFrom<TimeoutChoice>('none', 'timed'),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([[signal, timeout], readers]) => [
    { type: 'acquire', mode: 'read', signal: 'none', timeout: 'none', releaseBy: 'releaser', throws: false, hold: 3 },
    { type: 'acquire', mode: 'write', signal, timeout, releaseBy: 'releaser', throws: false, hold: 1 },
    ...readers.map((reader): Action => ({ ...reader, mode: 'read', releaseBy: 'dispose', throws: false, hold: 2 })),
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

describe('ReaderWriterLock races', () => {
  it('reads, writes, runs, aborts, timeouts and releases in any order follow the FIFO model; writers never starve', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 3 }),
        fc.array(
          actionArb.filter((a) => a.type === 'acquire' || a.type === 'run' || a.type === 'try'),
          { maxLength: 5 },
        ),
        fc.array(actionArb, { minLength: 1, maxLength: 12 }),
        async (s, ms, prefix, actions) => {
          vi.useFakeTimers();
          try {
            await race(s, ms, prefix, actions);
          } finally {
            vi.useRealTimers();
          }
        },
      ),
      { numRuns: 50 },
    );
  }, 30_000);

  it('a waiting writer that gives up lets the readers behind it in at once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 3 }),
        writerHeadArb,
        fc.array(actionArb, { maxLength: 8 }),
        async (s, ms, prefix, actions) => {
          vi.useFakeTimers();
          try {
            await race(s, ms, prefix, [...actions, giveUp(prefix[1] as Action)]);
          } finally {
            vi.useRealTimers();
          }
        },
      ),
      { numRuns: 30 },
    );
  }, 30_000);
});
