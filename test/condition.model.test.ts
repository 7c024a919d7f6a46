/**
 * Model test for Condition: producers and consumers in orders chosen by fast-check's scheduler,
 * with consumers that give up (abort) at random moments, also right after being notified.
 * Checked: no item is lost or taken twice, a consumer holds the lock whenever its wait settles,
 * never two tasks in a critical section, no consumer left waiting while an item is available,
 * and nothing left at the end.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Condition } from '../src/index.js';
import { abortListeners, nextMacrotask, type Tracked, track } from './helpers.js';

type Action =
  | { readonly type: 'produce'; readonly all: boolean }
  | { readonly type: 'consume'; readonly withSignal: boolean }
  | { readonly type: 'abort'; readonly consumer: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ type: fc.constant('produce' as const), all: fc.boolean() }),
  fc.record({ type: fc.constant('consume' as const), withSignal: fc.boolean() }),
  fc.record({ type: fc.constant('abort' as const), consumer: fc.nat(7) }),
);

interface Consumer {
  readonly tracked: Tracked<number>;
  readonly controller: AbortController | undefined;
}

describe('Condition model', () => {
  it('producers and consumers with aborts in any interleaving: no lost item, one holder at a time, nothing left', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(actionArb, { minLength: 1, maxLength: 14 }), async (s, actions) => {
        const cond = new Condition(undefined, { name: 'model' });
        const items: number[] = [];
        const consumed: number[] = [];
        const consumers: Consumer[] = [];
        const violations: string[] = [];
        let produced = 0;
        let holder: string | null = null;

        /** Marks the start of a critical section: the lock must be held, by nobody else in one. */
        const enter = (who: string) => {
          if (!cond.isLocked()) violations.push(`${who} runs without the lock`);
          if (holder !== null) violations.push(`${who} runs while ${holder} holds the lock`);
          holder = who;
        };
        const leave = () => {
          holder = null;
        };

        const produce = (all: boolean) =>
          cond.runExclusive(async () => {
            enter('producer');
            items.push(produced++);
            if (all) cond.notifyAll();
            else cond.notify();
            // Other tasks run (and queue for the lock) while the producer still holds it.
            await s.schedule(Promise.resolve(), 'producer holds the lock');
            leave();
          });

        const consume = (name: string, signal: AbortSignal | undefined) =>
          cond.runExclusive(
            async () => {
              enter(name);
              leave();
              try {
                await cond.waitFor(() => items.length > 0, signal === undefined ? undefined : { signal });
              } catch (error) {
                // Gave up: it holds the lock again all the same.
                enter(`${name} (gave up)`);
                leave();
                throw error;
              }
              enter(name);
              const item = items.shift() as number;
              consumed.push(item);
              await s.schedule(Promise.resolve(), `${name} holds the lock`);
              leave();
              return item;
            },
            signal === undefined ? undefined : { signal },
          );

        for (const action of actions) {
          void s.schedule(Promise.resolve(), JSON.stringify(action)).then(() => {
            if (action.type === 'produce') {
              void produce(action.all);
            } else if (action.type === 'consume') {
              const controller = action.withSignal ? new AbortController() : undefined;
              const name = `consumer ${consumers.length}`;
              consumers.push({ tracked: track(consume(name, controller?.signal)), controller });
            } else {
              consumers[action.consumer % Math.max(consumers.length, 1)]?.controller?.abort(`abort ${action.consumer}`);
            }
          });
        }
        await s.waitIdle();

        const check = () => {
          expect(violations).toEqual([]);
          expect(cond.isLocked()).toBe(false);
          // Every item is either still there or taken by exactly one consumer.
          expect([...consumed, ...items].sort((a, b) => a - b)).toEqual(Array.from({ length: produced }, (_, i) => i));
          const pending = consumers.filter((c) => c.tracked.status === 'pending');
          // Pending consumers are exactly the waiters to notify, and never wait while an item is there.
          expect(cond.waiterCount).toBe(pending.length);
          if (items.length > 0) expect(cond.waiterCount).toBe(0);
          for (const c of consumers) {
            if (c.tracked.status === 'rejected') expect(c.tracked.reason).toBe(c.controller?.signal.reason);
            if (c.controller?.signal.aborted) expect(c.tracked.status).not.toBe('pending');
          }
          const taken = consumers.filter((c) => c.tracked.status === 'fulfilled').map((c) => c.tracked.value);
          expect(taken.sort((a, b) => (a as number) - (b as number))).toEqual([...consumed].sort((a, b) => a - b));
        };
        check();

        // Serve every consumer still waiting, then check that nothing is left.
        const waiting = consumers.filter((c) => c.tracked.status === 'pending').length;
        for (let i = 0; i < waiting; i++) void produce(false);
        await s.waitIdle();
        check();
        expect(consumers.every((c) => c.tracked.status !== 'pending')).toBe(true);
        expect(cond.waiterCount).toBe(0);
        await nextMacrotask();
        for (const c of consumers) if (c.controller) expect(abortListeners(c.controller.signal)).toBe(0);
      }),
      { numRuns: 150 },
    );
  }, 30_000);
});
