/**
 * The shared cancellation suite: every rule that the README's API section sets for every wait, run
 * against every waiting method of every primitive. A primitive joins by adding a row to the
 * table in `cancellation.test.ts`.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PrimitiveOptions, WaitOptions } from '../src/index.js';
import {
  abortListeners,
  activeTimeouts,
  callWithoutThrowing,
  collectWarnings,
  expectNothingLeftFake,
  expectNothingLeftReal,
  expectTimeoutError,
  flushMicrotasks,
  type HasWaiters,
  nextMacrotask,
  rejectionOf,
  track,
} from './helpers.js';

/** One waiting method on a fresh primitive. */
export interface WaitSubject {
  /** The primitive under test. After `setup()` a wait on it blocks. */
  readonly primitive: HasWaiters & { readonly name: string | undefined };
  /** Calls the waiting method (`event.wait(options)`, `lock.acquire(options)`, ...). */
  wait(options?: WaitOptions): Promise<unknown>;
  /**
   * Makes the oldest pending wait succeed (it may satisfy more). The suite calls it repeatedly
   * to serve a queue, so it must also work when the previous grant is still held.
   */
  satisfy(): void;
  /** Puts the primitive in a state where a wait completes at once, if it has one. */
  canCompleteNow?(): void;
  /** Checks the value a successful wait resolved with. */
  checkValue(value: unknown): void;
  /**
   * For waits that settle only once they hold a lock again (`Condition.wait`, `waitFor`): true
   * while a wait that already left the primitive's queue (granted, aborted, timed out) has not
   * settled yet because it is still re-acquiring the lock. Wherever the suite lets settled waits
   * run, it keeps running microtasks until this is false, so "rejects" means "rejects once it
   * holds the lock again" for such rows. Waits leave the queue (`waiterCount` drops) at once
   * either way; only the settlement comes later.
   */
  settling?(): boolean;
}

/** One row of the table: a waiting method and how to make it block and succeed. */
export interface WaitRow {
  /** `Class.method`, the prefix of every test name. */
  readonly name: string;
  /** The class name, as timeout messages and `String(x)` show it. */
  readonly kind: string;
  /** A fresh primitive (constructed with `options`) in a state where the wait blocks. */
  setup(options?: PrimitiveOptions): WaitSubject;
}

const TIMEOUT_TYPE_ERRORS: ReadonlyArray<readonly [string, unknown]> = [
  ['a string', '100'],
  ['null', null],
  ['a boolean', true],
  ['a bigint', 100n],
  ['an object', {}],
];
const TIMEOUT_RANGE_ERRORS: ReadonlyArray<readonly [string, number]> = [
  ['NaN', Number.NaN],
  ['-1', -1],
  ['-0.5', -0.5],
  ['-Infinity', Number.NEGATIVE_INFINITY],
];
const SIGNAL_TYPE_ERRORS: ReadonlyArray<readonly [string, unknown]> = [
  ['null', null],
  ['a plain object', {}],
  ['a string', 'abort'],
  ['a number', 1],
  ['an EventTarget that is not a signal', new EventTarget()],
];
const OPTIONS_TYPE_ERRORS: ReadonlyArray<readonly [string, unknown]> = [
  ['null', null],
  ['a string', 'fast'],
  ['a number', 100],
  ['a boolean', true],
  ['a symbol', Symbol('options')],
];
const CUSTOM_REASONS: ReadonlyArray<readonly [string, unknown]> = [
  ['an object', { why: 'custom' }],
  ['an Error', new Error('stopped')],
  ['a string', 'user navigated away'],
  ['a number', 42],
  ['null', null],
];

/**
 * Lets waits that left the queue settle: runs pending microtask chains, and for rows whose waits
 * re-acquire a lock before settling, keeps going until none is re-acquiring any more.
 */
async function settle(subject: WaitSubject): Promise<void> {
  await flushMicrotasks();
  for (let i = 0; i < 100_000 && subject.settling?.(); i++) await Promise.resolve();
  await flushMicrotasks();
}

/** Serves every wait in `waits` by calling `satisfy()` until none is pending. */
async function serveAll(subject: WaitSubject, pending: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && pending(); i++) {
    subject.satisfy();
    await settle(subject);
  }
}

/**
 * The readable state of a primitive with its waiter count left out: what a wait that gives up
 * must leave as it found it ("a rejected wait did not happen").
 */
function stateApartFromWaiters(primitive: object): string {
  return String(primitive).replace(/\b(waiters|waiting):\d+/, '$1:*');
}

/** Runs the suite against every row. */
export function cancellationSuite(rows: readonly WaitRow[]): void {
  describe.each(rows)('$name', (row) => {
    describe('under fake timers', () => {
      beforeEach(() => {
        vi.useFakeTimers();
      });
      afterEach(() => {
        vi.useRealTimers();
      });

      describe('validation', () => {
        it.each(OPTIONS_TYPE_ERRORS)(
          'rejects options that are %s with a TypeError naming "options", without throwing',
          async (_, options) => {
            const subject = row.setup();
            const error = await rejectionOf(callWithoutThrowing(() => subject.wait(options as WaitOptions)));
            expect(error).toBeInstanceOf(TypeError);
            expect((error as Error).message).toMatch(/\boptions\b/);
            expectNothingLeftFake(subject.primitive);
          },
        );

        it.each(SIGNAL_TYPE_ERRORS)(
          'rejects a signal that is %s with a TypeError naming "signal", without throwing',
          async (_, signal) => {
            const subject = row.setup();
            const error = await rejectionOf(
              callWithoutThrowing(() => subject.wait({ signal: signal as AbortSignal, timeout: 100 })),
            );
            expect(error).toBeInstanceOf(TypeError);
            expect((error as Error).message).toMatch(/\bsignal\b/);
            expectNothingLeftFake(subject.primitive);
          },
        );

        it.each(TIMEOUT_TYPE_ERRORS)(
          'rejects a timeout that is %s with a TypeError naming "timeout", without throwing',
          async (_, timeout) => {
            const subject = row.setup();
            const controller = new AbortController();
            const error = await rejectionOf(
              callWithoutThrowing(() => subject.wait({ signal: controller.signal, timeout: timeout as number })),
            );
            expect(error).toBeInstanceOf(TypeError);
            expect((error as Error).message).toMatch(/\btimeout\b/);
            expectNothingLeftFake(subject.primitive, [controller.signal]);
          },
        );

        it.each(TIMEOUT_RANGE_ERRORS)(
          'rejects a timeout of %s with a RangeError naming "timeout", without throwing',
          async (_, timeout) => {
            const subject = row.setup();
            const controller = new AbortController();
            const error = await rejectionOf(
              callWithoutThrowing(() => subject.wait({ signal: controller.signal, timeout })),
            );
            expect(error).toBeInstanceOf(RangeError);
            expect((error as Error).message).toMatch(/\btimeout\b/);
            expectNothingLeftFake(subject.primitive, [controller.signal]);
          },
        );

        it.each<[string, Record<string, unknown>]>([
          ['a misspelled timeout', { timout: 5 }],
          ['an unknown key beside valid ones', { timeout: 5, signal: new AbortController().signal, priority: 1 }],
          ['an unknown key set to undefined', { onAbort: undefined }],
        ])('rejects %s with a TypeError naming the key, without throwing or waiting', async (_, options) => {
          const subject = row.setup();
          const key = Object.keys(options).find((k) => k !== 'timeout' && k !== 'signal') as string;
          const error = await rejectionOf(callWithoutThrowing(() => subject.wait(options as WaitOptions)));
          expect(error).toBeInstanceOf(TypeError);
          expect((error as Error).message).toContain(`"${key}"`);
          expectNothingLeftFake(subject.primitive);
        });

        it('reports an unknown key before an already-aborted signal, and changes no state', async () => {
          const subject = row.setup();
          subject.canCompleteNow?.();
          const signal = AbortSignal.abort(new Error('aborted'));
          const options = { signal, timeot: 1 } as WaitOptions;
          expect(await rejectionOf(subject.wait(options))).toBeInstanceOf(TypeError);
          if (subject.canCompleteNow) {
            // Still able to complete: the rejected call took nothing.
            subject.checkValue(await subject.wait({ timeout: 0 }));
          }
          expectNothingLeftFake(subject.primitive, [signal]);
        });

        it('reports an invalid timeout before an already-aborted signal', async () => {
          const subject = row.setup();
          const signal = AbortSignal.abort(new Error('aborted'));
          expect(await rejectionOf(subject.wait({ signal, timeout: -1 }))).toBeInstanceOf(RangeError);
          expect(await rejectionOf(subject.wait({ signal, timeout: '1' as unknown as number }))).toBeInstanceOf(
            TypeError,
          );
          expect(await rejectionOf(subject.wait({ signal, timeout: null as unknown as number }))).toBeInstanceOf(
            TypeError,
          );
          expectNothingLeftFake(subject.primitive, [signal]);
        });

        if (row.setup().canCompleteNow) {
          it('reports invalid options even when the wait could complete at once, and changes no state', async () => {
            const subject = row.setup();
            subject.canCompleteNow?.();
            const before = String(subject.primitive);
            expect(await rejectionOf(subject.wait({ timeout: -1 }))).toBeInstanceOf(RangeError);
            expect(await rejectionOf(subject.wait(null as unknown as WaitOptions))).toBeInstanceOf(TypeError);
            expect(String(subject.primitive)).toBe(before);
          });
        }

        it('accepts undefined options and explicitly undefined signal and timeout', async () => {
          const subject = row.setup();
          const waits = [
            track(subject.wait()),
            track(subject.wait(undefined)),
            track(subject.wait({})),
            track(subject.wait({ signal: undefined, timeout: undefined })),
          ];
          expect(subject.primitive.waiterCount).toBe(4);
          vi.advanceTimersByTime(1_000_000);
          await serveAll(subject, () => waits.some((w) => w.status === 'pending'));
          for (const w of waits) {
            expect(w.status).toBe('fulfilled');
            subject.checkValue(w.value);
          }
          expectNothingLeftFake(subject.primitive);
        });
      });

      describe('already-aborted signal', () => {
        it('rejects with the exact custom reason of an already-aborted signal', async () => {
          const subject = row.setup();
          const reason = { why: 'gone' };
          expect(await rejectionOf(subject.wait({ signal: AbortSignal.abort(reason) }))).toBe(reason);
          expect(await rejectionOf(subject.wait({ signal: AbortSignal.abort('text reason') }))).toBe('text reason');
        });

        it('rejects with the default AbortError of a signal aborted without a reason', async () => {
          const subject = row.setup();
          const signal = AbortSignal.abort();
          const error = await rejectionOf(subject.wait({ signal }));
          expect(error).toBe(signal.reason);
          expect(error).toBeInstanceOf(DOMException);
          expect((error as DOMException).name).toBe('AbortError');
        });

        it('registers no waiter, no listener and no timer for an already-aborted signal', async () => {
          const subject = row.setup();
          const controller = new AbortController();
          controller.abort();
          const outcome = track(subject.wait({ signal: controller.signal, timeout: 100 }));
          expect(subject.primitive.waiterCount).toBe(0);
          expect(abortListeners(controller.signal)).toBe(0);
          expect(vi.getTimerCount()).toBe(0);
          await settle(subject);
          expect(outcome.status).toBe('rejected');
          expect(outcome.reason).toBe(controller.signal.reason);
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });

        it('rejects with the abort reason, not a TimeoutError, for an already-aborted signal with timeout 0', async () => {
          const subject = row.setup();
          const reason = new Error('cancelled first');
          expect(await rejectionOf(subject.wait({ signal: AbortSignal.abort(reason), timeout: 0 }))).toBe(reason);
        });

        if (row.setup().canCompleteNow) {
          it('rejects and changes no state for an already-aborted signal even when it could succeed at once', async () => {
            const subject = row.setup();
            subject.canCompleteNow?.();
            const before = String(subject.primitive);
            const reason = { why: 'too late' };
            const signal = AbortSignal.abort(reason);
            expect(await rejectionOf(subject.wait({ signal }))).toBe(reason);
            expect(await rejectionOf(subject.wait({ signal, timeout: 0 }))).toBe(reason);
            expect(String(subject.primitive)).toBe(before);
            expect(vi.getTimerCount()).toBe(0);
            expect(abortListeners(signal)).toBe(0);
            // Nothing was taken: the wait can still complete at once.
            const next = await subject.wait({ timeout: 0 });
            subject.checkValue(next);
          });
        }
      });

      describe('abort while waiting', () => {
        it.each(CUSTOM_REASONS)('rejects with the exact custom abort reason when it is %s', async (_, reason) => {
          const subject = row.setup();
          const controller = new AbortController();
          const outcome = subject.wait({ signal: controller.signal });
          controller.abort(reason);
          expect(await rejectionOf(outcome)).toBe(reason);
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });

        it('rejects with the default AbortError when aborted without a reason', async () => {
          const subject = row.setup();
          const controller = new AbortController();
          const outcome = subject.wait({ signal: controller.signal });
          controller.abort();
          const error = await rejectionOf(outcome);
          expect(error).toBe(controller.signal.reason);
          expect(error).toBeInstanceOf(DOMException);
          expect((error as DOMException).name).toBe('AbortError');
        });

        it('removes the waiter and its listener by the time abort() returns', () => {
          const subject = row.setup();
          const controller = new AbortController();
          track(subject.wait({ signal: controller.signal, timeout: 100 }));
          expect(subject.primitive.waiterCount).toBe(1);
          expect(abortListeners(controller.signal)).toBe(1);
          controller.abort();
          expect(subject.primitive.waiterCount).toBe(0);
          expect(abortListeners(controller.signal)).toBe(0);
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });

        it('rejects every wait on the aborted signal and leaves waits on other signals pending', async () => {
          const subject = row.setup();
          const aborted = new AbortController();
          const other = new AbortController();
          const a1 = track(subject.wait({ signal: aborted.signal }));
          const b = track(subject.wait({ signal: other.signal }));
          const a2 = track(subject.wait({ signal: aborted.signal, timeout: 100 }));
          const c = track(subject.wait());
          const reason = { why: 'first' };
          aborted.abort(reason);
          expect(subject.primitive.waiterCount).toBe(2);
          await settle(subject);
          expect(a1.reason).toBe(reason);
          expect(a2.reason).toBe(reason);
          expect(b.status).toBe('pending');
          expect(c.status).toBe('pending');
          await serveAll(subject, () => b.status === 'pending' || c.status === 'pending');
          expect(b.status).toBe('fulfilled');
          expect(c.status).toBe('fulfilled');
          expectNothingLeftFake(subject.primitive, [aborted.signal, other.signal]);
        });

        it('an aborted wait with a timeout drops its timer and never becomes a TimeoutError', async () => {
          const subject = row.setup();
          const controller = new AbortController();
          const outcome = track(subject.wait({ signal: controller.signal, timeout: 100 }));
          vi.advanceTimersByTime(50);
          controller.abort('stop');
          vi.advanceTimersByTime(1);
          expect(vi.getTimerCount()).toBe(0);
          vi.advanceTimersByTime(200);
          await settle(subject);
          expect(outcome.settlements).toBe(1);
          expect(outcome.reason).toBe('stop');
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });

        it('a wait that is aborted or times out changes nothing but the waiter count', async () => {
          const subject = row.setup();
          const before = stateApartFromWaiters(subject.primitive);
          const controller = new AbortController();
          const aborted = track(subject.wait({ signal: controller.signal }));
          const timedOut = track(subject.wait({ timeout: 10 }));
          expect(subject.primitive.waiterCount).toBe(2);
          controller.abort('gave up');
          vi.advanceTimersByTime(10);
          expect(subject.primitive.waiterCount).toBe(0);
          await settle(subject);
          expect(aborted.reason).toBe('gave up');
          expectTimeoutError(timedOut.reason);
          expect(stateApartFromWaiters(subject.primitive)).toBe(before);
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });

        it('an abort after the wait timed out changes nothing', async () => {
          const subject = row.setup();
          const controller = new AbortController();
          const outcome = track(subject.wait({ signal: controller.signal, timeout: 100 }));
          vi.advanceTimersByTime(100);
          expect(subject.primitive.waiterCount).toBe(0);
          expect(abortListeners(controller.signal)).toBeLessThanOrEqual(1);
          controller.abort('late');
          await settle(subject);
          expect(outcome.settlements).toBe(1);
          expectTimeoutError(outcome.reason);
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });
      });

      describe('timeout', () => {
        it('rejects with a TimeoutError DOMException exactly when the timeout elapses', async () => {
          const subject = row.setup();
          const outcome = track(subject.wait({ timeout: 100 }));
          vi.advanceTimersByTime(99);
          await settle(subject);
          expect(outcome.status).toBe('pending');
          expect(subject.primitive.waiterCount).toBe(1);
          vi.advanceTimersByTime(1);
          expect(subject.primitive.waiterCount).toBe(0);
          await settle(subject);
          expect(outcome.status).toBe('rejected');
          expectTimeoutError(outcome.reason);
          expectNothingLeftFake(subject.primitive);
        });

        it('names the primitive, its name and the milliseconds in the TimeoutError message', async () => {
          const subject = row.setup({ name: 'jobs' });
          const outcome = subject.wait({ timeout: 250 });
          vi.advanceTimersByTime(250);
          const error = await rejectionOf(outcome);
          expectTimeoutError(error);
          expect(error.message).toContain(row.kind);
          expect(error.message).toContain('"jobs"');
          expect(error.message).toMatch(/\b250\b/);
        });

        it('names the primitive and the milliseconds in the TimeoutError message of an unnamed primitive', async () => {
          const subject = row.setup();
          const outcome = subject.wait({ timeout: 75 });
          vi.advanceTimersByTime(75);
          const error = await rejectionOf(outcome);
          expectTimeoutError(error);
          expect(error.message).toContain(row.kind);
          expect(error.message).toMatch(/\b75\b/);
          expect(error.message).not.toContain('undefined');
        });

        it('rejects each timed-out wait with a fresh TimeoutError', async () => {
          const subject = row.setup();
          const first = subject.wait({ timeout: 100 });
          const second = subject.wait({ timeout: 100 });
          vi.advanceTimersByTime(100);
          const [a, b] = [await rejectionOf(first), await rejectionOf(second)];
          expectTimeoutError(a);
          expectTimeoutError(b);
          expect(a).not.toBe(b);
        });

        it('expires waits with different timeouts each at its own time', async () => {
          const subject = row.setup();
          const durations = [150, 50, 100, 50, 200, 1];
          const waits = durations.map((timeout) => ({ timeout, outcome: track(subject.wait({ timeout })) }));
          for (let t = 1; t <= 200; t++) {
            vi.advanceTimersByTime(1);
            await settle(subject);
            for (const { timeout, outcome } of waits) {
              expect(outcome.status).toBe(t >= timeout ? 'rejected' : 'pending');
            }
            expect(subject.primitive.waiterCount).toBe(durations.filter((d) => d > t).length);
          }
          expectNothingLeftFake(subject.primitive);
        });

        it('expires waits with equal timeouts started at different times each at its start plus the timeout', async () => {
          const subject = row.setup();
          const first = track(subject.wait({ timeout: 100 }));
          vi.advanceTimersByTime(30);
          const second = track(subject.wait({ timeout: 100 }));
          vi.advanceTimersByTime(70);
          await settle(subject);
          expect(first.status).toBe('rejected');
          expect(second.status).toBe('pending');
          vi.advanceTimersByTime(29);
          await settle(subject);
          expect(second.status).toBe('pending');
          vi.advanceTimersByTime(1);
          await settle(subject);
          expect(second.status).toBe('rejected');
          expectTimeoutError(second.reason);
          expectNothingLeftFake(subject.primitive);
        });

        it('does not expire a timeout longer than the 2^31-1 ms setTimeout limit early', async () => {
          const subject = row.setup();
          const timeout = 2 ** 31 + 5_000;
          const outcome = track(subject.wait({ timeout }));
          vi.advanceTimersByTime(2 ** 31 - 1);
          await settle(subject);
          expect(outcome.status).toBe('pending');
          vi.advanceTimersByTime(timeout - (2 ** 31 - 1) - 1);
          await settle(subject);
          expect(outcome.status).toBe('pending');
          vi.advanceTimersByTime(1);
          await settle(subject);
          expectTimeoutError(outcome.reason);
          expectNothingLeftFake(subject.primitive);
        });

        it('never expires a fractional timeout before it elapses', async () => {
          const subject = row.setup();
          const outcome = track(subject.wait({ timeout: 10.5 }));
          vi.advanceTimersByTime(10);
          await settle(subject);
          expect(outcome.status).toBe('pending');
          vi.advanceTimersByTime(1);
          await settle(subject);
          expectTimeoutError(outcome.reason);
          expectNothingLeftFake(subject.primitive);
        });

        it('arms no timer and never expires with timeout: Infinity or no timeout', async () => {
          const subject = row.setup();
          const infinite = track(subject.wait({ timeout: Number.POSITIVE_INFINITY }));
          const unlimited = track(subject.wait({ timeout: undefined }));
          expect(vi.getTimerCount()).toBe(0);
          vi.advanceTimersByTime(2 ** 33);
          await settle(subject);
          expect(infinite.status).toBe('pending');
          expect(unlimited.status).toBe('pending');
          await serveAll(subject, () => infinite.status === 'pending' || unlimited.status === 'pending');
          expect(infinite.status).toBe('fulfilled');
          expect(unlimited.status).toBe('fulfilled');
          expectNothingLeftFake(subject.primitive);
        });
      });

      describe('timeout: 0', () => {
        if (row.setup().canCompleteNow) {
          it('succeeds with timeout: 0 when the wait can complete at once', async () => {
            const subject = row.setup();
            subject.canCompleteNow?.();
            const controller = new AbortController();
            subject.checkValue(await subject.wait({ timeout: 0, signal: controller.signal }));
            expectNothingLeftFake(subject.primitive, [controller.signal]);
          });
        }

        it('rejects with timeout: 0 at once with a TimeoutError, never counting as a waiter', async () => {
          const subject = row.setup({ name: 'zero' });
          const controller = new AbortController();
          const outcome = track(subject.wait({ timeout: 0, signal: controller.signal }));
          expect(subject.primitive.waiterCount).toBe(0);
          expect(vi.getTimerCount()).toBe(0);
          expect(abortListeners(controller.signal)).toBe(0);
          await settle(subject);
          expect(outcome.status).toBe('rejected');
          expectTimeoutError(outcome.reason);
          expect(outcome.reason.message).toContain(row.kind);
          expect(outcome.reason.message).toContain('"zero"');
          expect(outcome.reason.message).toMatch(/\b0\b/);
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });

        it('rejects each timeout: 0 wait with a fresh TimeoutError', async () => {
          const subject = row.setup();
          const a = await rejectionOf(subject.wait({ timeout: 0 }));
          const b = await rejectionOf(subject.wait({ timeout: 0 }));
          expectTimeoutError(a);
          expectTimeoutError(b);
          expect(a).not.toBe(b);
        });

        it('does not let a timeout: 0 wait jump ahead of, or disturb, pending waits', async () => {
          const subject = row.setup();
          const pending = track(subject.wait());
          expectTimeoutError(await rejectionOf(subject.wait({ timeout: 0 })));
          expect(subject.primitive.waiterCount).toBe(1);
          await serveAll(subject, () => pending.status === 'pending');
          expect(pending.status).toBe('fulfilled');
        });
      });

      describe('nothing left behind', () => {
        it('drops waiterCount at the moment a wait succeeds and leaves no timer or listener', async () => {
          const subject = row.setup();
          const controller = new AbortController();
          const outcome = subject.wait({ signal: controller.signal, timeout: 100 });
          expect(subject.primitive.waiterCount).toBe(1);
          subject.satisfy();
          expect(subject.primitive.waiterCount).toBe(0);
          subject.checkValue(await outcome);
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });

        it('leaves no timer and no listener after a timeout, an abort and a success on one signal', async () => {
          const subject = row.setup();
          const shared = new AbortController();
          const own = new AbortController();
          const timedOut = track(subject.wait({ signal: shared.signal, timeout: 10 }));
          vi.advanceTimersByTime(10);
          // Each next wait starts once the previous one settled (a Condition task needs the lock).
          await settle(subject);
          const aborted = track(subject.wait({ signal: own.signal, timeout: 20 }));
          own.abort();
          await settle(subject);
          const succeeded = track(subject.wait({ signal: shared.signal, timeout: 30 }));
          subject.satisfy();
          await settle(subject);
          expectTimeoutError(timedOut.reason);
          expect(aborted.reason).toBe(own.signal.reason);
          expect(succeeded.status).toBe('fulfilled');
          expectNothingLeftFake(subject.primitive, [shared.signal, own.signal]);
        });

        it('keeps at most one listener on a signal across a tight loop of waits that time out', async () => {
          const subject = row.setup();
          const controller = new AbortController();
          for (let i = 0; i < 100; i++) {
            const outcome = track(subject.wait({ signal: controller.signal, timeout: 5 }));
            expect(abortListeners(controller.signal)).toBe(1);
            vi.advanceTimersByTime(5);
            expect(subject.primitive.waiterCount).toBe(0);
            expect(abortListeners(controller.signal)).toBeLessThanOrEqual(1);
            await settle(subject);
            expectTimeoutError(outcome.reason);
          }
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });

        it('releases a shared listener and timer only once no pending wait needs them', async () => {
          const subject = row.setup();
          const controller = new AbortController();
          const first = track(subject.wait({ signal: controller.signal, timeout: 100 }));
          const second = track(subject.wait({ signal: controller.signal, timeout: 100 }));
          vi.advanceTimersByTime(10);
          const third = track(subject.wait({ signal: controller.signal, timeout: 100 }));
          vi.advanceTimersByTime(90);
          // The first two timed out; the third still needs both the listener and a timer.
          await settle(subject);
          expectTimeoutError(first.reason);
          expectTimeoutError(second.reason);
          vi.advanceTimersByTime(5);
          expect(abortListeners(controller.signal)).toBe(1);
          expect(vi.getTimerCount()).toBe(1);
          controller.abort('done');
          await settle(subject);
          expect(third.reason).toBe('done');
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });
      });

      describe('hand-off', () => {
        it('keeps a successful result when its signal aborts afterwards, and changes no state', async () => {
          const subject = row.setup();
          const controller = new AbortController();
          const outcome = track(subject.wait({ signal: controller.signal }));
          subject.satisfy();
          const after = String(subject.primitive);
          controller.abort(new Error('too late'));
          expect(String(subject.primitive)).toBe(after);
          await settle(subject);
          expect(outcome.settlements).toBe(1);
          expect(outcome.status).toBe('fulfilled');
          subject.checkValue(outcome.value);
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });

        it('keeps a successful result when its timeout would have elapsed afterwards', async () => {
          const subject = row.setup();
          const outcome = track(subject.wait({ timeout: 100 }));
          vi.advanceTimersByTime(60);
          subject.satisfy();
          vi.advanceTimersByTime(100);
          await settle(subject);
          expect(outcome.settlements).toBe(1);
          expect(outcome.status).toBe('fulfilled');
          subject.checkValue(outcome.value);
          expectNothingLeftFake(subject.primitive);
        });

        it('gives what satisfy() grants to the next waiter, not to one that was aborted', async () => {
          const subject = row.setup();
          const controller = new AbortController();
          const aborted = track(subject.wait({ signal: controller.signal }));
          const next = track(subject.wait());
          controller.abort('left');
          subject.satisfy();
          await settle(subject);
          expect(aborted.reason).toBe('left');
          expect(next.status).toBe('fulfilled');
          subject.checkValue(next.value);
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });
      });

      describe('FIFO', () => {
        it('serves pending waits in arrival order, whatever their options', async () => {
          const subject = row.setup();
          const controller = new AbortController();
          const order: number[] = [];
          const options: Array<WaitOptions | undefined> = [
            undefined,
            { timeout: 1_000 },
            { signal: controller.signal },
            { signal: controller.signal, timeout: 500 },
            { timeout: Number.POSITIVE_INFINITY },
            {},
          ];
          const waits = options.map((o, i) =>
            subject.wait(o).then((value) => {
              subject.checkValue(value);
              order.push(i);
            }),
          );
          await serveAll(subject, () => order.length < options.length);
          await Promise.all(waits);
          expect(order).toEqual([0, 1, 2, 3, 4, 5]);
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });

        it('keeps the order of the others when waiters in the middle abort or time out', async () => {
          const subject = row.setup();
          const controller = new AbortController();
          const order: number[] = [];
          const options: WaitOptions[] = [
            {},
            { signal: controller.signal },
            {},
            { timeout: 10 },
            {},
            { timeout: 1_000 },
          ];
          const outcomes = options.map((o, i) => {
            const promise = subject.wait(o);
            promise.then(
              () => order.push(i),
              () => {},
            );
            return track(promise);
          });
          controller.abort('out');
          vi.advanceTimersByTime(10);
          expect(subject.primitive.waiterCount).toBe(4);
          await serveAll(subject, () => order.length < 4);
          await settle(subject);
          expect(order).toEqual([0, 2, 4, 5]);
          expect(outcomes[1]?.reason).toBe('out');
          expectTimeoutError(outcomes[3]?.reason);
          await serveAll(subject, () => outcomes.some((o) => o.status === 'pending'));
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });
      });

      describe('cost', () => {
        if (row.setup().canCompleteNow) {
          it('allocates no timer and no listener for a wait that completes at once', async () => {
            const subject = row.setup();
            subject.canCompleteNow?.();
            const controller = new AbortController();
            const outcome = subject.wait({ signal: controller.signal, timeout: 100 });
            expect(vi.getTimerCount()).toBe(0);
            expect(abortListeners(controller.signal)).toBe(0);
            expect(subject.primitive.waiterCount).toBe(0);
            subject.checkValue(await outcome);
            expect(vi.getTimerCount()).toBe(0);
            expect(abortListeners(controller.signal)).toBe(0);
          });
        }

        it('shares one abort listener among many waits on one signal', () => {
          const subject = row.setup();
          const controller = new AbortController();
          for (let i = 0; i < 50; i++) {
            track(subject.wait({ signal: controller.signal }));
            expect(abortListeners(controller.signal)).toBe(1);
          }
          controller.abort();
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });

        it('shares one timer among 50 waits with the same timeout', async () => {
          const subject = row.setup();
          const waits = Array.from({ length: 50 }, () => track(subject.wait({ timeout: 100 })));
          expect(vi.getTimerCount()).toBe(1);
          vi.advanceTimersByTime(100);
          await settle(subject);
          for (const w of waits) expectTimeoutError(w.reason);
          expectNothingLeftFake(subject.primitive);
        });

        it('counts each wait in waiterCount as soon as the call returns', () => {
          const subject = row.setup();
          const controller = new AbortController();
          const options: Array<WaitOptions | undefined> = [
            undefined,
            { signal: controller.signal },
            { timeout: 100 },
            { timeout: Number.POSITIVE_INFINITY, signal: controller.signal },
          ];
          options.forEach((o, i) => {
            track(subject.wait(o));
            expect(subject.primitive.waiterCount).toBe(i + 1);
          });
          controller.abort();
          expect(subject.primitive.waiterCount).toBe(2);
          vi.advanceTimersByTime(100);
          expect(subject.primitive.waiterCount).toBe(1);
          subject.satisfy();
          expectNothingLeftFake(subject.primitive, [controller.signal]);
        });
      });

      describe('fake timers with only setTimeout and clearTimeout faked', () => {
        beforeEach(() => {
          vi.useRealTimers();
          vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
        });

        it('times out exactly when the fake timer fires', async () => {
          const subject = row.setup();
          const outcome = track(subject.wait({ timeout: 1_000 }));
          vi.advanceTimersByTime(999);
          await settle(subject);
          expect(outcome.status).toBe('pending');
          vi.advanceTimersByTime(1);
          expect(subject.primitive.waiterCount).toBe(0);
          await settle(subject);
          expectTimeoutError(outcome.reason);
          expect(vi.getTimerCount()).toBe(0);
        });

        it('times out a later wait with the same timeout when its own fake timer would fire, not with the first', async () => {
          const subject = row.setup();
          const first = track(subject.wait({ timeout: 100 }));
          vi.advanceTimersByTime(30);
          const second = track(subject.wait({ timeout: 100 }));
          vi.advanceTimersByTime(70);
          await settle(subject);
          expectTimeoutError(first.reason);
          expect(second.status).toBe('pending');
          vi.advanceTimersByTime(30);
          await settle(subject);
          expect(second.status).toBe('rejected');
          expectTimeoutError(second.reason);
          expect(subject.primitive.waiterCount).toBe(0);
        });

        it('times out waits started at the same fake time together, even if the real clock moved between them', async () => {
          // The real clock moves during real work (I/O) while fake time stands still; jump it by 5 ms.
          const realNow = performance.now.bind(performance);
          let realWorkMs = 0;
          const clock = vi.spyOn(performance, 'now').mockImplementation(() => realNow() + realWorkMs);
          try {
            const subject = row.setup();
            const first = track(subject.wait({ timeout: 100 }));
            realWorkMs = 5;
            const second = track(subject.wait({ timeout: 100 }));
            vi.advanceTimersByTime(100);
            expect(subject.primitive.waiterCount).toBe(0);
            await settle(subject);
            expectTimeoutError(first.reason);
            expectTimeoutError(second.reason);
            expect(vi.getTimerCount()).toBe(0);
          } finally {
            clock.mockRestore();
          }
        });
      });
    });

    describe('with real timers', () => {
      it('leaves no timer and no listener one macrotask after a wait with timeout 60 000 ms succeeds', async () => {
        const subject = row.setup();
        const controller = new AbortController();
        const baseline = activeTimeouts();
        const outcome = subject.wait({ signal: controller.signal, timeout: 60_000 });
        // While it waits, the timeout keeps the process alive.
        expect(activeTimeouts()).toBeGreaterThan(baseline);
        subject.satisfy();
        subject.checkValue(await outcome);
        await expectNothingLeftReal(subject.primitive, [controller.signal], baseline);
      });

      it('leaves no timer and no listener one macrotask after a wait is aborted', async () => {
        const subject = row.setup();
        const controller = new AbortController();
        const other = new AbortController();
        const baseline = activeTimeouts();
        const outcome = subject.wait({ signal: controller.signal, timeout: 60_000 });
        const survivor = track(subject.wait({ signal: other.signal }));
        controller.abort('bye');
        expect(await rejectionOf(outcome)).toBe('bye');
        await nextMacrotask();
        expect(activeTimeouts()).toBeLessThanOrEqual(baseline);
        expect(abortListeners(controller.signal)).toBe(0);
        expect(abortListeners(other.signal)).toBe(1);
        other.abort();
        await settle(subject);
        expect(survivor.reason).toBe(other.signal.reason);
        await expectNothingLeftReal(subject.primitive, [controller.signal, other.signal], baseline);
      });

      it('keeps a listener released by a success for at most one macrotask', async () => {
        const subject = row.setup();
        const controller = new AbortController();
        const outcome = subject.wait({ signal: controller.signal });
        subject.satisfy();
        subject.checkValue(await outcome);
        expect(abortListeners(controller.signal)).toBeLessThanOrEqual(1);
        await nextMacrotask();
        expect(abortListeners(controller.signal)).toBe(0);
      });

      it('handles 20 000 waiters on one signal with one listener and no MaxListenersExceededWarning', async () => {
        const subject = row.setup({ maxWaiters: 0 });
        const controller = new AbortController();
        const baseline = activeTimeouts();
        const reason = { why: 'mass abort' };
        const waits: ReturnType<typeof track>[] = [];
        const warnings = await collectWarnings(() => {
          for (let i = 0; i < 20_000; i++) waits.push(track(subject.wait({ signal: controller.signal })));
          expect(subject.primitive.waiterCount).toBe(20_000);
          expect(abortListeners(controller.signal)).toBeLessThanOrEqual(1);
          controller.abort(reason);
          expect(subject.primitive.waiterCount).toBe(0);
        });
        expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
        for (const w of waits) {
          expect(w.status).toBe('rejected');
          expect(w.reason).toBe(reason);
        }
        await expectNothingLeftReal(subject.primitive, [controller.signal], baseline);
      });

      it('times out when a hand-rolled fake setTimeout fires, whatever the real clock says', async () => {
        // A fake without a clock of its own (not @sinonjs/fake-timers): only the timer can decide.
        const real = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
        const timers = new Map<number, () => void>();
        let nextId = 1;
        const fakeSetTimeout = (callback: (...args: unknown[]) => void, _ms?: number, ...args: unknown[]) => {
          const id = nextId++;
          timers.set(id, () => callback(...args));
          return id;
        };
        const fakeClearTimeout = (id: number) => {
          timers.delete(id);
        };
        globalThis.setTimeout = fakeSetTimeout as unknown as typeof setTimeout;
        globalThis.clearTimeout = fakeClearTimeout as unknown as typeof clearTimeout;
        try {
          const subject = row.setup();
          const outcome = track(subject.wait({ timeout: 60_000 }));
          expect(timers.size).toBe(1);
          for (const [id, fire] of [...timers]) {
            timers.delete(id);
            fire();
          }
          expect(subject.primitive.waiterCount).toBe(0);
          expect(timers.size).toBe(0);
          await settle(subject);
          expectTimeoutError(outcome.reason);
        } finally {
          globalThis.setTimeout = real.setTimeout;
          globalThis.clearTimeout = real.clearTimeout;
        }
      });

      it('uses the real setTimeout for a wait made after fake timers are uninstalled', async () => {
        vi.useFakeTimers();
        const subject = row.setup();
        const faked = track(subject.wait({ timeout: 100 }));
        vi.useRealTimers();
        const baseline = activeTimeouts();
        const real = track(subject.wait({ timeout: 100 }));
        expect(activeTimeouts()).toBe(baseline + 1);
        await serveAll(subject, () => faked.status === 'pending' || real.status === 'pending');
        expect(faked.status).toBe('fulfilled');
        expect(real.status).toBe('fulfilled');
        await expectNothingLeftReal(subject.primitive, [], baseline);
      });
    });
  });
}
