/**
 * Model test for Barrier: parties arrive, leave (abort) and come back for the next round in
 * orders chosen by fast-check's scheduler, with resets in between. Checked against a model
 * updated at the moment each call is made: the barrier trips exactly when `parties` are
 * present, indices are unique per round and follow arrival order, a party that leaves does not
 * break the round, and nothing is left at the end.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Barrier, BrokenBarrierError } from '../src/index.js';
import { abortListeners, nextMacrotask, type Tracked, track } from './helpers.js';

type Action =
  | { readonly type: 'arrive'; readonly withSignal: boolean; readonly again: boolean }
  | { readonly type: 'leave'; readonly party: number }
  | { readonly type: 'reset' };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ type: fc.constant('arrive' as const), withSignal: fc.boolean(), again: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('leave' as const), party: fc.nat(15) }) },
  { weight: 1, arbitrary: fc.constant({ type: 'reset' as const }) },
);

type Expected =
  | { readonly outcome: 'index'; readonly index: number; readonly round: number }
  | { readonly outcome: 'reason'; readonly reason: unknown }
  | { readonly outcome: 'broken' };

interface Arrival {
  readonly label: string;
  readonly tracked: Tracked<number>;
  readonly controller: AbortController | undefined;
  expected: Expected | undefined;
}

describe('Barrier model', () => {
  it('parties arriving and leaving in any order: trips exactly when all are present, unique indices per round', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 4 }),
        fc.array(actionArb, { minLength: 1, maxLength: 16 }),
        async (s, parties, actions) => {
          const barrier = new Barrier(parties, { name: 'model' });
          const arrivals: Arrival[] = [];
          /** Model: the parties waiting in the current round, in arrival order. */
          let waiting: Arrival[] = [];
          let round = 0;

          const arrive = (withSignal: boolean, again: boolean) => {
            const controller = withSignal ? new AbortController() : undefined;
            const label = `party ${arrivals.length}`;
            const promise = barrier.wait(controller === undefined ? undefined : { signal: controller.signal });
            const arrival: Arrival = { label, tracked: track(promise), controller, expected: undefined };
            arrivals.push(arrival);
            if (waiting.length + 1 === parties) {
              waiting.forEach((a, index) => {
                a.expected = { outcome: 'index', index, round };
              });
              arrival.expected = { outcome: 'index', index: parties - 1, round };
              waiting = [];
              round++;
            } else {
              waiting.push(arrival);
            }
            // Registration and the trip are synchronous.
            expect(barrier.waiterCount).toBe(waiting.length);
            if (again) {
              // Once released, back for a later round at a moment the scheduler picks.
              promise.then(
                () => s.schedule(Promise.resolve(), `${label} comes back`).then(() => arrive(false, false)),
                () => {},
              );
            }
          };

          const leave = (party: number) => {
            const arrival = arrivals[party % Math.max(arrivals.length, 1)];
            if (arrival?.controller === undefined) return;
            const reason = { left: arrival.label };
            arrival.controller.abort(reason);
            if (waiting.includes(arrival)) {
              waiting = waiting.filter((a) => a !== arrival);
              arrival.expected = { outcome: 'reason', reason };
            }
            // Leaving drops the count at once and never breaks the barrier.
            expect(barrier.waiterCount).toBe(waiting.length);
            expect(barrier.isBroken()).toBe(false);
          };

          const reset = () => {
            barrier.reset();
            for (const a of waiting) a.expected = { outcome: 'broken' };
            waiting = [];
            round++;
            expect(barrier.waiterCount).toBe(0);
          };

          for (const action of actions) {
            void s.schedule(Promise.resolve(), JSON.stringify(action)).then(() => {
              if (action.type === 'arrive') arrive(action.withSignal, action.again);
              else if (action.type === 'leave') leave(action.party);
              else reset();
            });
          }
          await s.waitIdle();

          expect(barrier.waiterCount).toBe(waiting.length);
          const byRound = new Map<number, number[]>();
          for (const a of arrivals) {
            const { tracked, expected } = a;
            if (expected === undefined) {
              expect(tracked.status, a.label).toBe('pending');
              expect(waiting).toContain(a);
            } else if (expected.outcome === 'index') {
              expect(tracked.status, a.label).toBe('fulfilled');
              expect(tracked.value, a.label).toBe(expected.index);
              byRound.set(expected.round, [...(byRound.get(expected.round) ?? []), tracked.value as number]);
            } else if (expected.outcome === 'reason') {
              expect(tracked.reason, a.label).toBe(expected.reason);
            } else {
              expect(tracked.reason, a.label).toBeInstanceOf(BrokenBarrierError);
            }
          }
          // Every round that tripped had exactly `parties` parties, with indices 0..parties-1.
          for (const indices of byRound.values()) {
            expect(indices.sort((x, y) => x - y)).toEqual(Array.from({ length: parties }, (_, i) => i));
          }

          // End: reset releases whoever still waits; nothing is left.
          const left = [...waiting];
          barrier.reset();
          await s.waitIdle();
          for (const a of left) expect(a.tracked.reason).toBeInstanceOf(BrokenBarrierError);
          expect(barrier.waiterCount).toBe(0);
          expect(barrier.isBroken()).toBe(false);
          await nextMacrotask();
          for (const a of arrivals) if (a.controller) expect(abortListeners(a.controller.signal)).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  }, 30_000);
});
