/**
 * Race schedules for the deadline helpers: after a start of calls made in order, sleep, timeout
 * and timeoutAt (whose work ends, throws or returns at once), Deadline (with reschedule and
 * dispose) and linkSignals (with dispose), on two outer controllers and on each other's signals
 * (a sleep on a Deadline's or a linked signal, a link over a Deadline's signal), with aborts and
 * time steps, all in an order fast-check's scheduler picks, under fake timers. After every step
 * each signal is checked against a model of who aborted first: `aborted`, the exact `reason` (the
 * outer reason passed on, or the TimeoutError of the timer that fired), `expired()` and `when` of
 * every Deadline, the signal `timeout()` gave its work, and which calls throw; and every sleep and
 * call settles as the model says (a result that settles before the timer fires wins; a later one
 * is ignored). After every time step (which runs the idle sweep) each signal has exactly one
 * listener while a sleep, a call, a Deadline or a link still needs it, and none once nothing
 * does. At the end, with every outer signal aborted, the time run out and everything disposed,
 * nothing is left: no fake timer and no abort listener on any signal used.
 *
 * Sleeps on a Deadline's or a linked signal last 100 ms, past every deadline of the run, and a
 * link takes at most one Deadline's signal: two timers due at the same millisecond fire in an
 * order the contract leaves open, so no outcome here depends on it.
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Deadline, linkSignals, sleep, timeout, timeoutAt } from '../src/index.js';
import { abortListeners, type Tracked, track } from './helpers.js';
import { dispose, expectOutcome, Race } from './races.js';

type Outer = 'none' | 0 | 1;
type Work = 'sync' | 'throw' | 'resolve' | 'reject';

type Action =
  | { readonly type: 'sleep'; readonly ms: number; readonly on: Outer | 'deadline' | 'link'; readonly pick: number }
  | { readonly type: 'timeout'; readonly at: boolean; readonly ms: number; readonly outer: Outer; readonly work: Work }
  | { readonly type: 'deadline'; readonly ms: number; readonly outer: Outer }
  | { readonly type: 'reschedule'; readonly pick: number; readonly ms: number }
  | { readonly type: 'dispose'; readonly what: 'deadline' | 'link'; readonly pick: number }
  | { readonly type: 'link'; readonly inputs: readonly Outer[]; readonly deadline: number | null }
  | { readonly type: 'abort'; readonly target: 0 | 1 }
  | { readonly type: 'advance'; readonly ms: number };

const msArb = fc.constantFrom(0, 1, 2, 3, 6, Infinity);
const outerArb = fc.constantFrom<Outer>('none', 0, 1);

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('sleep' as const),
      ms: msArb,
      on: fc.constantFrom<Outer | 'deadline' | 'link'>('none', 0, 1, 'deadline', 'link'),
      pick: fc.nat(3),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('timeout' as const),
      at: fc.boolean(),
      ms: fc.constantFrom(-1, 0, 1, 2, 3, Infinity),
      outer: outerArb,
      work: fc.constantFrom<Work>('sync', 'throw', 'resolve', 'resolve', 'reject'),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('deadline' as const), ms: msArb, outer: outerArb }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('reschedule' as const), pick: fc.nat(3), ms: msArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('dispose' as const),
      what: fc.constantFrom('deadline' as const, 'link' as const),
      pick: fc.nat(3),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('link' as const),
      inputs: fc.array(outerArb, { minLength: 1, maxLength: 2 }),
      deadline: fc.option(fc.nat(3)),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('abort' as const), target: fc.constantFrom<0 | 1>(0, 1) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 3 }) }) },
);

/** How long a sleep on a Deadline's or a linked signal lasts: past every deadline of a run. */
const LONG = 100;

/** A signal of the run, in the model: the real signal, and the signal whose reason it took when it aborted. */
interface Sig {
  readonly label: string;
  readonly real: AbortSignal;
  /** Itself when its own timer fired; the signal it took its reason from; undefined while not aborted. */
  origin: AbortSignal | undefined;
}

interface DeadlineModel {
  readonly label: string;
  readonly deadline: Deadline;
  readonly sig: Sig;
  readonly outer: Sig | undefined;
  /** Model: the deadline, on the clock of the run (0 at its start); undefined: not checked. */
  when: number | undefined;
  expired: boolean;
  disposed: boolean;
}

interface LinkModel {
  readonly label: string;
  readonly signal: AbortSignal & Disposable;
  readonly sig: Sig;
  readonly inputs: readonly Sig[];
  disposed: boolean;
}

type Expected =
  | { readonly outcome: 'value'; readonly value: unknown }
  | { readonly outcome: 'reason'; readonly reason: unknown }
  | { readonly outcome: 'reasonOf'; readonly of: AbortSignal }
  | undefined;

interface Pending {
  readonly label: string;
  /** When it ends by itself: a sleep's time, a call's deadline (Infinity: never). */
  readonly due: number;
  readonly on: Sig | undefined;
  tracked: Tracked<unknown> | undefined;
  expected: Expected;
  /** A call's: the signal it gave its work, once it called the work. */
  given: Sig | undefined;
}

async function race(s: fc.Scheduler, prefix: readonly Action[], actions: readonly Action[]) {
  const r = new Race(s);
  const t0 = performance.now();
  let now = 0;
  const controllers = [new AbortController(), new AbortController()];
  const bases: Sig[] = controllers.map((c, i) => ({ label: `outer ${i}`, real: c.signal, origin: undefined }));
  const deadlines: DeadlineModel[] = [];
  const links: LinkModel[] = [];
  const sleeps: Pending[] = [];
  const calls: Pending[] = [];
  const sigs: Sig[] = [...bases];

  const baseOf = (outer: Outer) => (outer === 'none' ? undefined : bases[outer]);
  const newSig = (label: string, real: AbortSignal): Sig => {
    const sig: Sig = { label, real, origin: undefined };
    sigs.push(sig);
    return sig;
  };

  /** `sig` aborts with the reason of `origin`: everything that listens to it follows, once. */
  const fire = (sig: Sig, origin: AbortSignal) => {
    if (sig.origin !== undefined) return;
    sig.origin = origin;
    for (const p of [...sleeps, ...calls]) {
      if (p.on === sig && p.expected === undefined) {
        p.expected = { outcome: 'reasonOf', of: origin };
        if (p.given !== undefined) fire(p.given, origin);
      }
    }
    for (const l of links) if (!l.disposed && l.inputs.includes(sig)) fire(l.sig, origin);
    for (const d of deadlines) if (!d.disposed && d.outer === sig) fire(d.sig, origin);
  };

  r.checkNow = () => {
    for (const sig of sigs) {
      expect(sig.real.aborted, `${sig.label} aborted`).toBe(sig.origin !== undefined);
      if (sig.origin !== undefined) expect(sig.real.reason, `${sig.label}: the reason`).toBe(sig.origin.reason);
      if (sig.origin === sig.real && !bases.includes(sig)) {
        expect(sig.real.reason, `${sig.label} timed out`).toBeInstanceOf(DOMException);
        expect((sig.real.reason as DOMException).name).toBe('TimeoutError');
      }
    }
    for (const d of deadlines) {
      expect(d.deadline.expired(), `${d.label} expired()`).toBe(d.expired);
      if (d.when === Infinity) expect(d.deadline.when, `${d.label} when`).toBe(Infinity);
      else if (d.when !== undefined) expect(d.deadline.when - t0, `${d.label} when`).toBeCloseTo(d.when, 6);
    }
  };
  r.check = () => {
    r.checkNow();
    for (const p of [...sleeps, ...calls]) {
      const tracked = p.tracked as Tracked<unknown>;
      const { expected, label } = p;
      if (expected?.outcome === 'reasonOf')
        expectOutcome(tracked, { outcome: 'reason', reason: expected.of.reason }, label);
      else expectOutcome(tracked, expected, label);
    }
  };

  /** Whether a sleep, a call, a Deadline or a link still needs a listener on `sig`. */
  const needed = (sig: Sig) =>
    sig.origin === undefined &&
    ([...sleeps, ...calls].some((p) => p.on === sig && p.expected === undefined) ||
      deadlines.some((d) => d.outer === sig && !d.disposed && d.sig.origin === undefined) ||
      links.some((l) => l.inputs.includes(sig) && !l.disposed && l.sig.origin === undefined));

  /**
   * The listeners on each signal after a time step, which runs the idle sweep (a fake macrotask):
   * one while something needs the signal, none if nothing did before the step either. (What stops
   * needing it during the step goes by the next sweep.)
   */
  const checkListeners = (neededBefore: ReadonlySet<Sig>) => {
    for (const sig of sigs) {
      const count = abortListeners(sig.real);
      if (needed(sig)) expect(count, `listeners on ${sig.label}`).toBe(1);
      else if (!neededBefore.has(sig)) expect(count, `listeners on ${sig.label}`).toBe(0);
      else expect(count, `listeners on ${sig.label}`).toBeLessThanOrEqual(1);
    }
  };

  /** One millisecond: the sleeps and calls due, and the deadlines due, end. Checked if anything did. */
  const tick = () => {
    const neededBefore = new Set(sigs.filter(needed));
    vi.advanceTimersByTime(1);
    now++;
    let changed = false;
    for (const p of sleeps) {
      if (p.expected === undefined && p.due <= now) {
        p.expected = { outcome: 'value', value: undefined };
        changed = true;
      }
    }
    for (const p of calls) {
      if (p.expected === undefined && p.due <= now) {
        changed = true;
        const given = p.given as Sig;
        p.expected = { outcome: 'reasonOf', of: given.real };
        fire(given, given.real);
      }
    }
    for (const d of deadlines) {
      if (!d.disposed && d.sig.origin === undefined && d.when !== undefined && d.when <= now) {
        changed = true;
        d.expired = true;
        fire(d.sig, d.sig.real);
      }
    }
    if (changed) r.checkNow();
    checkListeners(neededBefore);
  };

  const perform = (action: Action) => {
    switch (action.type) {
      case 'sleep': {
        let on: Sig | undefined = baseOf(action.on as Outer);
        let ms = action.ms;
        if (action.on === 'deadline' || action.on === 'link') {
          const list = action.on === 'deadline' ? deadlines : links;
          on = list[action.pick % Math.max(list.length, 1)]?.sig;
          if (on === undefined) return;
          ms = LONG;
        } else if (on === undefined && ms === Infinity) ms = 3; // it would never end
        const p: Pending = {
          label: `sleep(${ms}) ${sleeps.length} on ${on?.label ?? 'nothing'}`,
          due: now + ms,
          on,
          tracked: undefined,
          expected: on?.origin === undefined ? undefined : { outcome: 'reasonOf', of: on.origin },
          given: undefined,
        };
        sleeps.push(p);
        p.tracked = track(sleep(ms, on === undefined ? undefined : { signal: on.real }));
        return;
      }
      case 'timeout': {
        const outer = baseOf(action.outer);
        const label = `${action.at ? 'timeoutAt' : 'timeout'}(${action.ms}) ${calls.length}`;
        const ms = Math.max(0, action.ms);
        const p: Pending = {
          label,
          due: now + ms,
          on: outer,
          tracked: undefined,
          expected: outer?.origin === undefined ? undefined : { outcome: 'reasonOf', of: outer.origin },
          given: undefined,
        };
        calls.push(p);
        const error = new Error(`${label} failed`);
        if (p.expected === undefined && action.work === 'sync') p.expected = { outcome: 'value', value: label };
        if (p.expected === undefined && action.work === 'throw') p.expected = { outcome: 'reason', reason: error };
        const fn = (signal: AbortSignal) => {
          p.given = newSig(`${label}'s signal`, signal);
          if (action.work === 'sync') return label;
          if (action.work === 'throw') throw error;
          return s.schedule(Promise.resolve(), `${label} works`).then(() => {
            // The call settles a few microtasks after the work's promise does.
            r.step(
              `${label} work ends`,
              () => {
                if (p.expected === undefined) {
                  p.expected =
                    action.work === 'resolve'
                      ? { outcome: 'value', value: label }
                      : { outcome: 'reason', reason: error };
                }
              },
              false,
            );
            if (action.work === 'reject') throw error;
            return label;
          });
        };
        const options = outer === undefined ? undefined : { signal: outer.real };
        const deadline = action.ms === -1 ? performance.now() - 5 : performance.now() + action.ms;
        const promise = action.at ? timeoutAt(deadline, fn, options) : timeout(ms, fn, options);
        p.tracked = track(promise);
        expect(p.given !== undefined, `${label} calls its work at once unless its signal was aborted`).toBe(
          outer?.origin === undefined,
        );
        return;
      }
      case 'deadline': {
        const outer = baseOf(action.outer);
        const deadline = new Deadline(action.ms, outer === undefined ? undefined : { signal: outer.real });
        const label = `Deadline(${action.ms}) ${deadlines.length}`;
        const d: DeadlineModel = {
          label,
          deadline,
          sig: newSig(`${label}'s signal`, deadline.signal),
          outer,
          when: outer?.origin === undefined ? now + action.ms : undefined,
          expired: false,
          disposed: false,
        };
        deadlines.push(d);
        if (outer?.origin !== undefined) fire(d.sig, outer.origin);
        return;
      }
      case 'reschedule': {
        // Mostly a Deadline still running (the test's choice of target, not a check).
        const running = deadlines.filter((d) => !d.disposed && d.sig.origin === undefined);
        const list = action.pick !== 3 && running.length > 0 ? running : deadlines;
        const d = list[action.pick % Math.max(list.length, 1)];
        if (d === undefined) return;
        if (d.disposed || d.sig.origin !== undefined) {
          expect(() => d.deadline.reschedule(action.ms)).toThrow(
            expect.objectContaining({ name: 'InvalidStateError' }),
          );
          return;
        }
        d.deadline.reschedule(action.ms);
        d.when = now + action.ms;
        return;
      }
      case 'dispose': {
        if (action.what === 'deadline') {
          const d = deadlines[action.pick % Math.max(deadlines.length, 1)];
          if (d === undefined) return;
          d.disposed = true;
          d.deadline[dispose]();
        } else {
          const l = links[action.pick % Math.max(links.length, 1)];
          if (l === undefined) return;
          l.disposed = true;
          l.signal[dispose]();
        }
        return;
      }
      case 'link': {
        const inputs: Array<Sig | undefined> = action.inputs.map(baseOf);
        const d = action.deadline === null ? undefined : deadlines[action.deadline % Math.max(deadlines.length, 1)];
        if (d !== undefined) inputs.splice(action.deadline as number, 0, d.sig);
        const signal = linkSignals(...inputs.map((sig) => sig?.real));
        const l: LinkModel = {
          label: `link ${links.length} of ${inputs.map((sig) => sig?.label ?? 'undefined').join(', ')}`,
          signal,
          sig: newSig(`link ${links.length}`, signal),
          inputs: inputs.filter((sig): sig is Sig => sig !== undefined),
          disposed: false,
        };
        links.push(l);
        const first = l.inputs.find((sig) => sig.origin !== undefined);
        if (first?.origin !== undefined) fire(l.sig, first.origin);
        return;
      }
      case 'abort': {
        const base = bases[action.target] as Sig;
        if (base.origin !== undefined) return;
        fire(base, base.real);
        controllers[action.target]?.abort({ aborted: action.target });
        return;
      }
      case 'advance': {
        for (let i = 0; i < action.ms; i++) tick();
        return;
      }
    }
  };

  await r.run(prefix, actions, perform);
  // The end: both outer signals abort, time runs out (every sleep, call and deadline is due),
  // then every Deadline and link is disposed.
  r.step('end', () => {
    perform({ type: 'abort', target: 0 });
    perform({ type: 'abort', target: 1 });
    for (let i = 0; i <= LONG + 10; i++) tick();
  });
  await r.settle();
  r.step('dispose all', () => {
    for (const d of deadlines) d.deadline[dispose]();
    for (const l of links) l.signal[dispose]();
  });
  await r.settle();

  r.check();
  for (const p of [...sleeps, ...calls]) expect(p.tracked?.status, p.label).not.toBe('pending');
  vi.advanceTimersByTime(1);
  expect(vi.getTimerCount()).toBe(0);
  for (const sig of sigs) expect(abortListeners(sig.real), sig.label).toBe(0);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('sleep, timeout, timeoutAt, Deadline and linkSignals races', () => {
  it('calls, deadlines, links, aborts, disposals and time steps in any order follow the model of who aborts first', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        // A start with calls, deadlines, links and sleeps in place for the scheduled steps to race on.
        fc.array(
          actionArb.filter(
            (a) => a.type === 'timeout' || a.type === 'deadline' || a.type === 'link' || a.type === 'sleep',
          ),
          { maxLength: 5 },
        ),
        fc.array(actionArb, { minLength: 1, maxLength: 12 }),
        async (s, prefix, actions) => {
          vi.useFakeTimers();
          try {
            await race(s, prefix, actions);
          } finally {
            vi.useRealTimers();
          }
        },
      ),
      { numRuns: 50 },
    );
  }, 30_000);
});
