/**
 * Race schedules for LockManager: after a start of requests made in order, requests on two names
 * (exclusive or shared; plain with an own or a shared signal, a timeout or `timeout: 0`;
 * `ifAvailable`; `steal`), callbacks that return at once or end (or throw) at a moment the
 * scheduler picks, aborts and time steps, all in an order fast-check's scheduler picks, under
 * fake timers. After every step the manager is checked
 * against one FIFO model per name (`races.ts`) with the Web Locks rule (shared fits beside shared
 * holders only, exclusive fits when nobody holds; a steal ends every hold of its name and is
 * granted at once, ahead of the queue): `waiterCount`, `query()` (the holds of each name, and
 * its pending requests in queue order), which request got what, and with which lock info.
 * Independently of the model, from what the callbacks saw: an exclusive hold never overlaps
 * another live hold of its name, no request is granted while an earlier one of its name still
 * waits (steals apart), the earliest waiting request of a name never fits, and a callback never
 * runs before `request()` returns. At the end nothing is left: no waiter, no hold, no fake timer,
 * no abort listener. A second property starts every run with a shared hold, an exclusive request
 * that can give up at the head of the queue and shared requests behind it, and schedules the
 * exclusive one's giving up among the other steps.
 *
 * Timed requests of one run share one duration (see permits.races.test.ts).
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type LockInfo, LockManager } from '../src/index.js';
import { abortListeners, type Tracked, track } from './helpers.js';
import { expectOutcome, FifoModel, Race } from './races.js';

type Mode = 'exclusive' | 'shared';
type Name = 'a' | 'b';
type SignalChoice = 'none' | 'own' | 0 | 1;
type TimeoutChoice = 'none' | 'zero' | 'timed';
type How = 'plain' | 'ifAvailable' | 'steal';

type Action =
  | {
      readonly type: 'request';
      readonly name: Name;
      readonly mode: Mode;
      readonly how: How;
      readonly signal: SignalChoice;
      readonly timeout: TimeoutChoice;
      /** The callback returns at once, or ends at a moment the scheduler picks. */
      readonly sync: boolean;
      readonly throws: boolean;
      /** How many scheduled tasks in a row an asynchronous callback runs. */
      readonly hold: number;
    }
  | { readonly type: 'abort'; readonly target: number }
  | { readonly type: 'advance'; readonly ms: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('request' as const),
      name: fc.constantFrom<Name>('a', 'a', 'b'),
      mode: fc.constantFrom<Mode>('exclusive', 'shared'),
      how: fc.constantFrom<How>('plain', 'plain', 'plain', 'plain', 'ifAvailable', 'steal'),
      signal: fc.constantFrom<SignalChoice>('none', 'own', 'own', 0, 1),
      timeout: fc.constantFrom<TimeoutChoice>('none', 'timed', 'timed', 'zero'),
      sync: fc.constantFrom(false, false, false, true),
      throws: fc.boolean(),
      hold: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('abort' as const), target: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 3 }) }) },
);

/** Model: granted (a hold), refused by ifAvailable (the callback gets null), or given up. */
type Expected = 'granted' | 'unavailable' | { readonly reason: unknown } | 'timeout' | undefined;

interface Req {
  readonly label: string;
  readonly name: Name;
  readonly mode: Mode;
  readonly how: How;
  readonly signal: AbortSignal | undefined;
  readonly own: AbortController | undefined;
  readonly start: number;
  readonly timed: boolean;
  readonly sync: boolean;
  readonly error: Error | undefined;
  tracked: Tracked<unknown> | undefined;
  expected: Expected;
  /** Model: a steal ended its hold. */
  stolen: boolean;
  /** What the callback was called with, once it was. */
  info: LockInfo | null | undefined;
  entered: boolean;
  /** The callback ended. */
  ended: boolean;
}

const isAbortError = (reason: unknown) => reason instanceof DOMException && reason.name === 'AbortError';

async function race(s: fc.Scheduler, ms: number, prefix: readonly Action[], actions: readonly Action[]) {
  const locks = new LockManager({ name: 'race' });
  const r = new Race(s);
  const shared = [new AbortController(), new AbortController()];
  const reqs: Req[] = [];
  /** Model: the holds of each name (stolen ones leave), and one FIFO queue per name. */
  const holders: Record<Name, Req[]> = { a: [], b: [] };
  let now = 0;
  const fifoOf = (name: Name) =>
    new FifoModel<Req>(
      (q) => holders[name].length === 0 || (q.mode === 'shared' && holders[name].every((h) => h.mode === 'shared')),
      (q) => {
        holders[name].push(q);
        q.expected = 'granted';
      },
    );
  const fifos: Record<Name, FifoModel<Req>> = { a: fifoOf('a'), b: fifoOf('b') };
  const queued = () => fifos.a.queue.length + fifos.b.queue.length;

  /** Live holds, as the callbacks saw them: running, and not stolen (a stolen request has rejected). */
  const live = (name: Name) =>
    reqs.filter(
      (q) =>
        q.name === name &&
        q.info != null &&
        !q.ended &&
        !(q.tracked?.status === 'rejected' && isAbortError(q.tracked.reason)),
    );

  r.checkNow = () => {
    expect(locks.waiterCount, 'waiterCount').toBe(queued());
  };
  r.check = () => {
    r.checkNow();
    for (const q of reqs) {
      const { label, expected } = q;
      const tracked = q.tracked as Tracked<unknown>;
      expect(q.entered, `${label} called back`).toBe(expected === 'granted' || expected === 'unavailable');
      if (q.entered) expect(q.info, label).toEqual(expected === 'granted' ? { name: q.name, mode: q.mode } : null);
      if (expected === undefined) expectOutcome(tracked, undefined, label);
      else if (expected === 'timeout')
        expectOutcome(tracked, { outcome: 'error', type: DOMException, name: 'TimeoutError' }, label);
      else if (typeof expected === 'object')
        expectOutcome(tracked, { outcome: 'reason', reason: expected.reason }, label);
      else if (q.stolen) expectOutcome(tracked, { outcome: 'error', type: DOMException, name: 'AbortError' }, label);
      else if (!q.ended) expectOutcome(tracked, undefined, label);
      else if (q.error && expected === 'granted') expectOutcome(tracked, { outcome: 'reason', reason: q.error }, label);
      else expectOutcome(tracked, { outcome: 'value', value: label }, label);
    }
    // query(): a snapshot taken now, delivered by a promise.
    const expectedHeld = (['a', 'b'] as const).flatMap((name) => holders[name].map((h) => `${name}:${h.mode}`)).sort();
    const expectedPending = (['a', 'b'] as const).map((name) => fifos[name].queue.map((q) => q.mode));
    void locks.query().then((snapshot) => {
      try {
        expect(snapshot.held.map((h) => `${h.name}:${h.mode}`).sort(), 'query().held').toEqual(expectedHeld);
        const pending = (['a', 'b'] as const).map((name) =>
          snapshot.pending.filter((p) => p.name === name).map((p) => p.mode),
        );
        expect(pending, 'query().pending').toEqual(expectedPending);
      } catch (error) {
        r.failure ??= { error };
      }
    });
    // Independent of the model, from what the callbacks saw.
    for (const name of ['a', 'b'] as const) {
      const holds = live(name);
      if (holds.some((h) => h.mode === 'exclusive')) expect(holds.length, `an exclusive hold of ${name} alone`).toBe(1);
      const waiting = reqs.filter((q) => q.name === name && !q.entered && q.tracked?.status === 'pending');
      waiting.forEach((a) => {
        for (const b of reqs.slice(reqs.indexOf(a) + 1)) {
          if (b.name === name && b.how !== 'steal') expect(b.info ?? null, `${b.label} overtook ${a.label}`).toBe(null);
        }
      });
      const first = waiting[0];
      if (first !== undefined) {
        expect(
          holds.some((h) => first.mode === 'exclusive' || h.mode === 'exclusive'),
          `${first.label} waits for nothing`,
        ).toBe(true);
      }
    }
  };

  /** The hold of `q` ends (its callback ended): the next ones of its name get in. */
  const end = (q: Req) => {
    q.ended = true;
    const hs = holders[q.name];
    if (hs.includes(q)) {
      hs.splice(hs.indexOf(q), 1);
      fifos[q.name].settle();
    }
  };

  const request = (action: Extract<Action, { type: 'request' }>) => {
    const steal = action.how === 'steal';
    const plain = action.how === 'plain';
    const signal = plain ? action.signal : 'none';
    const own = signal === 'own' ? new AbortController() : undefined;
    const timeout = plain ? action.timeout : 'none';
    const q: Req = {
      label: `${action.how} ${action.name} ${steal ? 'exclusive' : action.mode} ${reqs.length}`,
      name: action.name,
      mode: steal ? 'exclusive' : action.mode,
      how: action.how,
      own,
      signal: own?.signal ?? (typeof signal === 'number' ? shared[signal]?.signal : undefined),
      start: now,
      timed: timeout === 'timed',
      sync: action.sync,
      error: action.throws ? new Error('callback failed') : undefined,
      tracked: undefined,
      expected: undefined,
      stolen: false,
      info: undefined,
      entered: false,
      ended: false,
    };
    reqs.push(q);
    const fifo = fifos[q.name];
    if (q.signal?.aborted) q.expected = { reason: q.signal.reason };
    else if (steal) {
      // Every hold of the name ends, and the steal is granted at once, ahead of whoever waits.
      for (const h of holders[q.name].splice(0)) h.stolen = true;
      holders[q.name].push(q);
      q.expected = 'granted';
    } else if (!fifo.arrive(q, timeout !== 'zero' && plain)) {
      if (!plain) q.expected = 'unavailable';
      else if (timeout === 'zero') q.expected = 'timeout';
    }
    const callback = (info: LockInfo | null) => {
      q.entered = true;
      q.info = info;
      if (q.sync || info === null) {
        // Returns at once: the hold ends right after this, in this microtask.
        if (info !== null) end(q);
        else q.ended = true;
        if (q.error !== undefined && info !== null) throw q.error;
        return q.label;
      }
      return r.work(action.hold, `${q.label} runs`).then(() => {
        // The hold ends a few microtasks after the callback's promise settles.
        r.step(`${q.label} ends`, () => end(q), false);
        if (q.error !== undefined) throw q.error;
        return q.label;
      });
    };
    const options = {
      mode: action.mode,
      ...(steal ? { steal: true, mode: 'exclusive' as const } : {}),
      ...(action.how === 'ifAvailable' ? { ifAvailable: true } : {}),
      ...(q.signal === undefined ? {} : { signal: q.signal }),
      ...(timeout === 'none' ? {} : { timeout: timeout === 'zero' ? 0 : ms }),
    };
    q.tracked = track(locks.request(q.name, options, callback));
    expect(q.entered, `${q.label}: the callback runs asynchronously`).toBe(false);
  };

  const perform = (action: Action) => {
    switch (action.type) {
      case 'request':
        request(action);
        return;
      case 'abort': {
        // An own signal of a wait that still waits (the model's choice of target, not a check).
        const owned = reqs.filter((q) => q.own !== undefined && !q.own.signal.aborted && fifos[q.name].isWaiting(q));
        const controller =
          action.target < 2 ? shared[action.target] : owned[(action.target - 2) % Math.max(owned.length, 1)]?.own;
        if (controller === undefined || controller.signal.aborted) return;
        const reason = { aborted: action.target };
        const leaving = (['a', 'b'] as const).map((name) =>
          fifos[name].queue.filter((q) => q.signal === controller.signal),
        );
        for (const q of leaving.flat()) q.expected = { reason };
        controller.abort(reason);
        fifos.a.leave(leaving[0] as Req[]);
        fifos.b.leave(leaving[1] as Req[]);
        return;
      }
      case 'advance': {
        for (let i = 0; i < action.ms; i++) {
          vi.advanceTimersByTime(1);
          now++;
          for (;;) {
            const due = reqs.find((q) => q.timed && q.start + ms <= now && fifos[q.name].isWaiting(q));
            if (due === undefined) break;
            due.expected = 'timeout';
            fifos[due.name].leave([due]);
          }
          r.checkNow();
        }
        return;
      }
    }
  };

  await r.run(prefix, actions, perform);

  r.check();
  await r.settle(); // the last query()'s comparison
  expect(queued()).toBe(0);
  expect([...holders.a, ...holders.b]).toEqual([]);
  expect(reqs.every((q) => q.expected !== undefined && q.tracked?.status !== 'pending')).toBe(true);
  expect(await locks.query()).toEqual({ held: [], pending: [] });
  vi.advanceTimersByTime(1);
  expect(locks.waiterCount).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
  for (const signal of [...shared, ...reqs.map((q) => q.own)]) {
    if (signal !== undefined) expect(abortListeners(signal.signal)).toBe(0);
  }
}

/**
 * A contended start on one name: a shared hold, an exclusive request (that can give up) heading
 * the queue, shared requests queued behind it.
 */
const exclusiveHeadArb: fc.Arbitrary<Action[]> = fc
  .tuple(
    fc.constantFrom<[SignalChoice, TimeoutChoice]>(['own', 'none'], ['own', 'timed'], [0, 'none'], ['none', 'timed']),
    fc.array(
      fc.record({
        signal: fc.constantFrom<SignalChoice>('none', 'own', 0, 1),
        timeout: fc.constantFrom<TimeoutChoice>('none', 'timed'),
        sync: fc.boolean(),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([[signal, timeout], sharers]) => {
    const request = { type: 'request', name: 'a', how: 'plain', sync: false, throws: false } as const;
    return [
      { ...request, mode: 'shared', signal: 'none', timeout: 'none', hold: 3 },
      { ...request, mode: 'exclusive', signal, timeout, hold: 1 },
      ...sharers.map((sharer): Action => ({ ...request, ...sharer, mode: 'shared', hold: 2 })),
    ];
  });

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

describe('LockManager races', () => {
  it('requests, steals, ifAvailable, aborts, timeouts and callback ends in any order follow the per-name FIFO model', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 3 }),
        fc.array(
          actionArb.filter((a) => a.type === 'request'),
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

  it('a waiting exclusive request that gives up lets the shared ones behind it in at once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 3 }),
        exclusiveHeadArb,
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
