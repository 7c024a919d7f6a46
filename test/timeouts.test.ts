/**
 * sleep, timeout, timeoutAt, Deadline and linkSignals (README: "Giving up on work"): timing on
 * fake timers (with a fake clock, and with only `setTimeout`/`clearTimeout` faked over the real
 * clock), the leak invariants after every way a call ends (no timer, no listener, no waiter once
 * the next macrotask ran). `using` as TypeScript compiles it and whether a Deadline's timer keeps
 * the process alive are checked in child processes, in `timeouts.node.test.ts`.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadline, Event, Lock, linkSignals, Queue, Semaphore, sleep, timeout, timeoutAt } from '../src/index.js';
import {
  abortListeners,
  activeTimeouts,
  afterGc,
  callWithoutThrowing,
  collectWarnings,
  expectTimeoutError,
  flushMicrotasks,
  type HasWaiters,
  nextMacrotask,
  rejectionOf,
  type Tracked,
  track,
  unhandledRejectionsDuring,
} from './helpers.js';

// ---------------------------------------------------------------------------------------------
// Helpers

/** How a test fakes time, and how it lets "the next macrotask" (README: the rules every wait follows) run under that fake. */
interface TimerMode {
  readonly name: string;
  install(): void;
  /** Lets the next macrotask run: 1 ms of fake time, and a real `setImmediate` where that is not faked. */
  nextMacrotask(): Promise<void>;
}

const TIMER_MODES: readonly TimerMode[] = [
  {
    name: 'fake timers with a fake clock',
    install: () => vi.useFakeTimers(),
    nextMacrotask: async () => {
      vi.advanceTimersByTime(1);
    },
  },
  {
    name: 'fake setTimeout and clearTimeout over the real clock',
    install: () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }),
    nextMacrotask: async () => {
      vi.advanceTimersByTime(1);
      // setImmediate is real in this mode (where the runtime has it): the shared resources' sweep
      // runs on it. In a browser it runs on the fake setTimeout(0) advanced above.
      await nextMacrotask();
    },
  },
];

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Under `mode`: after the next macrotask, no fake timer, no listener on `signals`, no waiter. */
async function expectNothingLeft(
  mode: TimerMode,
  signals: readonly AbortSignal[],
  primitives: readonly HasWaiters[] = [],
): Promise<void> {
  await mode.nextMacrotask();
  expect(vi.getTimerCount()).toBe(0);
  for (const signal of signals) expect(abortListeners(signal)).toBe(0);
  for (const primitive of primitives) expect(primitive.waiterCount).toBe(0);
}

function expectInvalidState(fn: () => void): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe('InvalidStateError');
}

/** Whether the object `make` returns is garbage-collected once nothing references it. */
async function isCollected(make: () => object): Promise<boolean> {
  const gc = (globalThis as { gc?: () => void }).gc;
  expect(gc, 'needs gc(): vitest.config.ts exposes it on every runtime').toBeTypeOf('function');
  const ref = new WeakRef(make());
  return afterGc(() => ref.deref() === undefined);
}

const CUSTOM_REASONS: ReadonlyArray<readonly [string, () => unknown]> = [
  ['an object', () => ({ why: 'custom' })],
  ['an Error', () => new Error('stopped')],
  ['a string', () => 'user navigated away'],
  ['undefined (the default AbortError)', () => undefined],
];

const MS_TYPE_ERRORS: ReadonlyArray<readonly [string, unknown]> = [
  ['a string', '100'],
  ['null', null],
  ['undefined', undefined],
  ['a bigint', 100n],
  ['an object', {}],
];
const MS_RANGE_ERRORS: ReadonlyArray<readonly [string, number]> = [
  ['NaN', Number.NaN],
  ['-1', -1],
  ['-0.5', -0.5],
  ['-Infinity', Number.NEGATIVE_INFINITY],
];
const OPTIONS_TYPE_ERRORS: ReadonlyArray<readonly [string, unknown]> = [
  ['null', null],
  ['a string', 'fast'],
  ['a number', 100],
];
const SIGNAL_TYPE_ERRORS: ReadonlyArray<readonly [string, unknown]> = [
  ['null', null],
  ['a plain object', {}],
  ['a string', 'abort'],
  ['an EventTarget that is not a signal', new EventTarget()],
];

function abortedSignal(reason: unknown = { why: 'already' }): AbortSignal {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
}

/** A wait on a primitive that blocks until its signal aborts. */
interface BlockingWait {
  readonly primitive: HasWaiters;
  wait(signal: AbortSignal): Promise<unknown>;
}

const BLOCKING_WAITS: ReadonlyArray<readonly [string, () => BlockingWait]> = [
  ['event.wait({ signal })', () => new EventWait()],
  ['lock.acquire({ signal }) on a held lock', () => new LockWait()],
  ['semaphore.acquire({ signal }) with no permit', () => new SemaphoreWait()],
  ['queue.get({ signal }) on an empty queue', () => new QueueGet()],
  ['queue.put(item, { signal }) on a full queue', () => new QueuePut()],
];

class EventWait implements BlockingWait {
  readonly primitive = new Event();
  wait(signal: AbortSignal): Promise<unknown> {
    return this.primitive.wait({ signal });
  }
}

class LockWait implements BlockingWait {
  readonly primitive = new Lock();
  constructor() {
    this.primitive.tryAcquire();
  }
  wait(signal: AbortSignal): Promise<unknown> {
    return this.primitive.acquire({ signal });
  }
}

class SemaphoreWait implements BlockingWait {
  readonly primitive = new Semaphore(0);
  wait(signal: AbortSignal): Promise<unknown> {
    return this.primitive.acquire({ signal });
  }
}

class QueueGet implements BlockingWait {
  readonly primitive = new Queue<number>();
  wait(signal: AbortSignal): Promise<unknown> {
    return this.primitive.get({ signal });
  }
}

class QueuePut implements BlockingWait {
  readonly primitive = new Queue<number>({ maxSize: 1 });
  constructor() {
    this.primitive.putNowait(1);
  }
  wait(signal: AbortSignal): Promise<unknown> {
    return this.primitive.put(2, { signal });
  }
}

afterEach(() => {
  vi.useRealTimers();
});

// ---------------------------------------------------------------------------------------------
// Timing, under both kinds of fake timers

describe.each(TIMER_MODES)('under $name', (mode) => {
  beforeEach(() => {
    mode.install();
  });

  describe('sleep', () => {
    it('resolves after ms milliseconds, not at ms - 1', async () => {
      const slept = track(sleep(100));
      vi.advanceTimersByTime(99);
      await flushMicrotasks();
      expect(slept.status).toBe('pending');
      vi.advanceTimersByTime(1);
      await flushMicrotasks();
      expect(slept.status).toBe('fulfilled');
      expect(slept.value).toBeUndefined();
      await expectNothingLeft(mode, []);
    });

    it('sleep(0) resolves from a timer, never synchronously', async () => {
      const slept = track(sleep(0));
      await flushMicrotasks();
      expect(slept.status).toBe('pending');
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(0);
      await flushMicrotasks();
      expect(slept.status).toBe('fulfilled');
      await expectNothingLeft(mode, []);
    });

    it('a fractional ms never resolves early', async () => {
      const slept = track(sleep(1.5));
      vi.advanceTimersByTime(1);
      await flushMicrotasks();
      expect(slept.status).toBe('pending');
      vi.advanceTimersByTime(1);
      await flushMicrotasks();
      expect(slept.status).toBe('fulfilled');
    });

    it.each(CUSTOM_REASONS)('an abort with %s rejects with the exact reason at once', async (_, makeReason) => {
      const controller = new AbortController();
      const slept = track(sleep(60_000, { signal: controller.signal }));
      vi.advanceTimersByTime(10);
      controller.abort(makeReason());
      // The listener is gone by the time abort() returns.
      expect(abortListeners(controller.signal)).toBe(0);
      await flushMicrotasks();
      expect(slept.status).toBe('rejected');
      expect(slept.reason).toBe(controller.signal.reason);
      await expectNothingLeft(mode, [controller.signal]);
    });

    it('a sleep that resolves leaves no listener on its signal after the next macrotask', async () => {
      const controller = new AbortController();
      const slept = track(sleep(10, { signal: controller.signal }));
      expect(abortListeners(controller.signal)).toBe(1);
      vi.advanceTimersByTime(10);
      await flushMicrotasks();
      expect(slept.status).toBe('fulfilled');
      expect(abortListeners(controller.signal)).toBeLessThanOrEqual(1);
      await expectNothingLeft(mode, [controller.signal]);
      controller.abort();
      await flushMicrotasks();
      expect(slept.settlements).toBe(1);
    });

    it('concurrent sleeps of one duration share one timer, and each other duration gets one', async () => {
      const sleeps = [track(sleep(100)), track(sleep(100)), track(sleep(100))];
      expect(vi.getTimerCount()).toBe(1);
      const shorter = track(sleep(50));
      expect(vi.getTimerCount()).toBe(2);
      vi.advanceTimersByTime(50);
      await flushMicrotasks();
      expect(shorter.status).toBe('fulfilled');
      expect(sleeps.map((s) => s.status)).toEqual(['pending', 'pending', 'pending']);
      vi.advanceTimersByTime(50);
      await flushMicrotasks();
      expect(sleeps.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
      await expectNothingLeft(mode, []);
    });

    it('sleeps of one duration started at different times share one timer and each resolve at its own time', async () => {
      const first = track(sleep(100));
      vi.advanceTimersByTime(30);
      const second = track(sleep(100));
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(70);
      await flushMicrotasks();
      expect(first.status).toBe('fulfilled');
      expect(second.status).toBe('pending');
      vi.advanceTimersByTime(29);
      await flushMicrotasks();
      expect(second.status).toBe('pending');
      vi.advanceTimersByTime(1);
      await flushMicrotasks();
      expect(second.status).toBe('fulfilled');
      await expectNothingLeft(mode, []);
    });

    it('concurrent sleeps on one signal hold at most one listener on it', async () => {
      const controller = new AbortController();
      const sleeps: Tracked<void>[] = [];
      for (let i = 0; i < 100; i++) {
        sleeps.push(track(sleep(i % 2 === 0 ? 1_000 : Number.POSITIVE_INFINITY, { signal: controller.signal })));
        expect(abortListeners(controller.signal)).toBe(1);
      }
      const reason = { why: 'stop all' };
      controller.abort(reason);
      await flushMicrotasks();
      for (const slept of sleeps) expect(slept.reason).toBe(reason);
      await expectNothingLeft(mode, [controller.signal]);
    });

    it('aborting one sleep does not disturb another of the same duration on its shared timer', async () => {
      const aborted = new AbortController();
      const kept = new AbortController();
      const first = track(sleep(100, { signal: aborted.signal }));
      const second = track(sleep(100, { signal: kept.signal }));
      vi.advanceTimersByTime(50);
      aborted.abort();
      await flushMicrotasks();
      expect(first.status).toBe('rejected');
      vi.advanceTimersByTime(49);
      await flushMicrotasks();
      expect(second.status).toBe('pending');
      vi.advanceTimersByTime(1);
      await flushMicrotasks();
      expect(second.status).toBe('fulfilled');
      await expectNothingLeft(mode, [aborted.signal, kept.signal]);
    });

    it('sleep(Infinity) sets no timer and ends only when its signal aborts', async () => {
      const controller = new AbortController();
      const slept = track(sleep(Number.POSITIVE_INFINITY, { signal: controller.signal }));
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(2 ** 31);
      await flushMicrotasks();
      expect(slept.status).toBe('pending');
      controller.abort('done');
      await flushMicrotasks();
      expect(slept.reason).toBe('done');
      await expectNothingLeft(mode, [controller.signal]);
    });
  });

  describe('timeout', () => {
    it('runs fn with a signal that is not aborted, and resolves with its result', async () => {
      const fn = vi.fn(async (signal: AbortSignal) => {
        await Promise.resolve();
        return signal.aborted ? 'aborted' : 'value';
      });
      const outcome = track(timeout(100, fn));
      expect(fn).toHaveBeenCalledTimes(1);
      const signal = fn.mock.calls[0]?.[0];
      expect(signal).toBeInstanceOf(AbortSignal);
      await flushMicrotasks();
      expect(outcome.value).toBe('value');
      vi.advanceTimersByTime(200);
      expect(signal?.aborted).toBe(false);
      await expectNothingLeft(mode, [signal as AbortSignal]);
    });

    it("at the deadline, fn's signal aborts with a TimeoutError and the promise rejects with that same error", async () => {
      let signal: AbortSignal | undefined;
      const outcome = track(
        timeout(100, (s) => {
          signal = s;
          return new Promise(() => {});
        }),
      );
      vi.advanceTimersByTime(99);
      await flushMicrotasks();
      expect(signal?.aborted).toBe(false);
      expect(outcome.status).toBe('pending');
      vi.advanceTimersByTime(1);
      expect(signal?.aborted).toBe(true);
      await flushMicrotasks();
      expect(outcome.status).toBe('rejected');
      expect(outcome.reason).toBe(signal?.reason);
      expectTimeoutError(outcome.reason);
      expect(outcome.reason.message).toContain('100');
      await expectNothingLeft(mode, [signal as AbortSignal]);
    });

    it('concurrent calls with one duration share one timer and each reject with a fresh TimeoutError', async () => {
      const first = track(timeout(100, () => new Promise(() => {})));
      const second = track(timeout(100, () => new Promise(() => {})));
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(100);
      await flushMicrotasks();
      expectTimeoutError(first.reason);
      expectTimeoutError(second.reason);
      expect(first.reason).not.toBe(second.reason);
      await expectNothingLeft(mode, []);
    });

    it.each(CUSTOM_REASONS)(
      "an outer abort with %s aborts fn's signal with that reason and rejects with it",
      async (_, makeReason) => {
        const outer = new AbortController();
        let signal: AbortSignal | undefined;
        const outcome = track(
          timeout(
            100,
            (s) => {
              signal = s;
              return new Promise(() => {});
            },
            { signal: outer.signal },
          ),
        );
        vi.advanceTimersByTime(10);
        outer.abort(makeReason());
        expect(signal?.aborted).toBe(true);
        expect(signal?.reason).toBe(outer.signal.reason);
        await flushMicrotasks();
        expect(outcome.status).toBe('rejected');
        expect(outcome.reason).toBe(outer.signal.reason);
        vi.advanceTimersByTime(200);
        expect(signal?.reason).toBe(outer.signal.reason);
        await expectNothingLeft(mode, [outer.signal, signal as AbortSignal]);
      },
    );

    it.each([
      ['resolves', (d: Deferred<string>) => d.resolve('late value')],
      ['rejects', (d: Deferred<string>) => d.reject(new Error('late failure'))],
    ] as const)(
      "fn's promise that %s after the deadline is ignored, with no unhandled rejection",
      async (_, settle) => {
        const late = deferred<string>();
        let outcome: Tracked<string> | undefined;
        const unhandled = await unhandledRejectionsDuring(async () => {
          outcome = track(timeout(100, () => late.promise));
          vi.advanceTimersByTime(100);
          await flushMicrotasks();
          settle(late);
        });
        expect(unhandled).toEqual([]);
        expect(outcome?.settlements).toBe(1);
        expectTimeoutError(outcome?.reason);
        await expectNothingLeft(mode, []);
      },
    );

    it.each([
      ['resolves', (d: Deferred<string>) => d.resolve('late value')],
      ['rejects', (d: Deferred<string>) => d.reject(new Error('late failure'))],
    ] as const)(
      "fn's promise that %s after an outer abort is ignored, with no unhandled rejection",
      async (_, settle) => {
        const outer = new AbortController();
        const late = deferred<string>();
        let outcome: Tracked<string> | undefined;
        const unhandled = await unhandledRejectionsDuring(async () => {
          outcome = track(timeout(100, () => late.promise, { signal: outer.signal }));
          outer.abort('outer gave up');
          await flushMicrotasks();
          settle(late);
        });
        expect(unhandled).toEqual([]);
        expect(outcome?.settlements).toBe(1);
        expect(outcome?.reason).toBe('outer gave up');
        await expectNothingLeft(mode, [outer.signal]);
      },
    );

    it.each(BLOCKING_WAITS)('%s inside fn ends at the deadline and leaves nothing', async (_, make) => {
      const subject = make();
      let signal: AbortSignal | undefined;
      let inner: Tracked<unknown> | undefined;
      const outcome = track(
        timeout(100, (s) => {
          signal = s;
          const waiting = subject.wait(s);
          inner = track(waiting);
          return waiting;
        }),
      );
      expect(subject.primitive.waiterCount).toBe(1);
      vi.advanceTimersByTime(100);
      // Gone in the same synchronous step as the deadline.
      expect(subject.primitive.waiterCount).toBe(0);
      expect(abortListeners(signal as AbortSignal)).toBe(0);
      await flushMicrotasks();
      expect(inner?.reason).toBe(signal?.reason);
      expect(outcome.reason).toBe(signal?.reason);
      expectTimeoutError(outcome.reason);
      await expectNothingLeft(mode, [signal as AbortSignal], [subject.primitive]);
    });

    it('a sleep inside fn that takes its signal ends at the deadline and leaves no timer', async () => {
      let signal: AbortSignal | undefined;
      let inner: Tracked<void> | undefined;
      const outcome = track(
        timeout(100, (s) => {
          signal = s;
          const slept = sleep(60_000, { signal: s });
          inner = track(slept);
          return slept;
        }),
      );
      expect(vi.getTimerCount()).toBe(2);
      vi.advanceTimersByTime(100);
      await flushMicrotasks();
      expect(inner?.reason).toBe(signal?.reason);
      expect(outcome.reason).toBe(signal?.reason);
      await expectNothingLeft(mode, [signal as AbortSignal]);
    });

    describe('whatever wins, no timer and no listener on the outer signal remain after the next macrotask', () => {
      const failure = new Error('fn failed');
      const WINNERS: ReadonlyArray<
        readonly [string, () => { fn: (signal: AbortSignal) => unknown; drive(outer: AbortController): void }]
      > = [
        ['fn returns a value', () => ({ fn: () => 'value', drive: () => {} })],
        [
          'fn resolves later',
          () => {
            const d = deferred<string>();
            return { fn: () => d.promise, drive: () => d.resolve('value') };
          },
        ],
        [
          'fn rejects later',
          () => {
            const d = deferred<string>();
            return { fn: () => d.promise, drive: () => d.reject(failure) };
          },
        ],
        [
          'fn throws synchronously',
          () => ({
            fn: () => {
              throw failure;
            },
            drive: () => {},
          }),
        ],
        ['the deadline', () => ({ fn: () => new Promise(() => {}), drive: () => vi.advanceTimersByTime(100) })],
        ['the outer signal', () => ({ fn: () => new Promise(() => {}), drive: (outer) => outer.abort('outer') })],
      ];

      it.each(WINNERS)('when %s wins', async (winner, make) => {
        const outer = new AbortController();
        const { fn, drive } = make();
        let signal: AbortSignal | undefined;
        const outcome = track(
          timeout(
            100,
            (s) => {
              signal = s;
              return fn(s);
            },
            { signal: outer.signal },
          ),
        );
        expect(abortListeners(outer.signal)).toBe(1);
        drive(outer);
        await flushMicrotasks();
        expect(outcome.settlements).toBe(1);
        if (winner === 'fn returns a value' || winner === 'fn resolves later') expect(outcome.value).toBe('value');
        else if (winner === 'the deadline') expectTimeoutError(outcome.reason);
        else if (winner === 'the outer signal') expect(outcome.reason).toBe('outer');
        else expect(outcome.reason).toBe(failure);
        expect(abortListeners(outer.signal)).toBeLessThanOrEqual(1);
        await expectNothingLeft(mode, [outer.signal, signal as AbortSignal]);
        // Nothing of the call is left to fire later.
        vi.advanceTimersByTime(1_000);
        if (winner !== 'the deadline' && winner !== 'the outer signal') expect(signal?.aborted).toBe(false);
        expect(outcome.settlements).toBe(1);
      });
    });

    describe('timeout(0, fn)', () => {
      it('calls fn at once, with a signal that is not aborted yet', () => {
        let calledWith: AbortSignal | undefined;
        let abortedInside: boolean | undefined;
        const outcome = timeout(0, (signal) => {
          calledWith = signal;
          abortedInside = signal.aborted;
          return new Promise(() => {});
        });
        outcome.catch(() => {});
        expect(calledWith).toBeInstanceOf(AbortSignal);
        expect(abortedInside).toBe(false);
        expect(calledWith?.aborted).toBe(false);
      });

      const EARLY_RESULTS: ReadonlyArray<readonly [string, () => unknown]> = [
        ['a synchronous value', () => 'won'],
        ['an already-resolved promise', () => Promise.resolve('won')],
        [
          'an async function that awaits a few microtasks',
          async () => {
            for (let i = 0; i < 3; i++) await Promise.resolve();
            return 'won';
          },
        ],
      ];

      it.each(EARLY_RESULTS)('a result that settles before the timer wins: %s', async (_, fn) => {
        let signal: AbortSignal | undefined;
        const outcome = track(
          timeout(0, (s) => {
            signal = s;
            return fn();
          }),
        );
        await flushMicrotasks();
        expect(outcome.status).toBe('fulfilled');
        expect(outcome.value).toBe('won');
        vi.advanceTimersByTime(10);
        expect(signal?.aborted).toBe(false);
        await expectNothingLeft(mode, []);
      });

      it('a result still pending when the timer runs loses to the TimeoutError', async () => {
        let signal: AbortSignal | undefined;
        const outcome = track(
          timeout(0, (s) => {
            signal = s;
            return new Promise(() => {});
          }),
        );
        await flushMicrotasks();
        expect(outcome.status).toBe('pending');
        vi.advanceTimersByTime(0);
        expect(signal?.aborted).toBe(true);
        await flushMicrotasks();
        expect(outcome.reason).toBe(signal?.reason);
        expectTimeoutError(outcome.reason);
        await expectNothingLeft(mode, []);
      });
    });

    it('timeout(Infinity, fn) sets no timer and never times out', async () => {
      const result = deferred<string>();
      let signal: AbortSignal | undefined;
      const outcome = track(
        timeout(Number.POSITIVE_INFINITY, (s) => {
          signal = s;
          return result.promise;
        }),
      );
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(2 ** 31);
      await flushMicrotasks();
      expect(outcome.status).toBe('pending');
      expect(signal?.aborted).toBe(false);
      result.resolve('eventually');
      await flushMicrotasks();
      expect(outcome.value).toBe('eventually');
      await expectNothingLeft(mode, []);
    });

    describe('nested', () => {
      it("an inner deadline that fires first reports alone: the outer resolves with fn's handled result", async () => {
        const event = new Event();
        let outerSignal: AbortSignal | undefined;
        let innerSignal: AbortSignal | undefined;
        let caught: unknown;
        const outcome = track(
          timeout(100, async (outer) => {
            outerSignal = outer;
            try {
              await timeout(
                50,
                (inner) => {
                  innerSignal = inner;
                  return event.wait({ signal: inner });
                },
                { signal: outer },
              );
            } catch (error) {
              caught = error;
              return 'handled';
            }
            return 'not timed out';
          }),
        );
        vi.advanceTimersByTime(50);
        expect(innerSignal?.aborted).toBe(true);
        expect(outerSignal?.aborted).toBe(false);
        expect(event.waiterCount).toBe(0);
        await flushMicrotasks();
        expect(outcome.value).toBe('handled');
        expect(caught).toBe(innerSignal?.reason);
        expectTimeoutError(caught);
        expect(caught.message).toContain('50');
        // The outer deadline is gone with its call: it never fires.
        vi.advanceTimersByTime(100);
        expect(outerSignal?.aborted).toBe(false);
        await expectNothingLeft(mode, [outerSignal as AbortSignal, innerSignal as AbortSignal], [event]);
      });

      it("an inner deadline that fires first reports alone: the outer rejects with the inner's TimeoutError object", async () => {
        let outerSignal: AbortSignal | undefined;
        let innerSignal: AbortSignal | undefined;
        const outcome = track(
          timeout(100, (outer) => {
            outerSignal = outer;
            return timeout(
              50,
              (inner) => {
                innerSignal = inner;
                return new Promise(() => {});
              },
              { signal: outer },
            );
          }),
        );
        vi.advanceTimersByTime(50);
        await flushMicrotasks();
        expect(outcome.status).toBe('rejected');
        expect(outcome.reason).toBe(innerSignal?.reason);
        expectTimeoutError(outcome.reason);
        expect(outcome.reason.message).toContain('50');
        vi.advanceTimersByTime(100);
        expect(outerSignal?.aborted).toBe(false);
        expect(outcome.settlements).toBe(1);
        await expectNothingLeft(mode, [outerSignal as AbortSignal, innerSignal as AbortSignal]);
      });

      it("an outer deadline that fires first aborts the inner's signal chain with the outer's TimeoutError", async () => {
        const event = new Event();
        let outerSignal: AbortSignal | undefined;
        let innerSignal: AbortSignal | undefined;
        let innerOutcome: Tracked<true> | undefined;
        const outcome = track(
          timeout(50, (outer) => {
            outerSignal = outer;
            const innerCall = timeout(
              100,
              (inner) => {
                innerSignal = inner;
                return event.wait({ signal: inner });
              },
              { signal: outer },
            );
            innerOutcome = track(innerCall);
            return innerCall;
          }),
        );
        vi.advanceTimersByTime(49);
        expect(outerSignal?.aborted).toBe(false);
        vi.advanceTimersByTime(1);
        expect(outerSignal?.aborted).toBe(true);
        expect(innerSignal?.aborted).toBe(true);
        expect(innerSignal?.reason).toBe(outerSignal?.reason);
        expect(event.waiterCount).toBe(0);
        await flushMicrotasks();
        expect(innerOutcome?.reason).toBe(outerSignal?.reason);
        expect(outcome.reason).toBe(outerSignal?.reason);
        expectTimeoutError(outcome.reason);
        expect(outcome.reason.message).toContain('50');
        await expectNothingLeft(mode, [outerSignal as AbortSignal, innerSignal as AbortSignal], [event]);
      });

      it('with equal deadlines the outer call reports, and the inner sees the outer TimeoutError (asyncio: the outermost converts)', async () => {
        let outerSignal: AbortSignal | undefined;
        let innerSignal: AbortSignal | undefined;
        const outcome = track(
          timeout(50, (outer) => {
            outerSignal = outer;
            return timeout(
              50,
              (inner) => {
                innerSignal = inner;
                return new Promise(() => {});
              },
              { signal: outer },
            );
          }),
        );
        vi.advanceTimersByTime(50);
        await flushMicrotasks();
        expect(outcome.reason).toBe(outerSignal?.reason);
        expect(innerSignal?.reason).toBe(outerSignal?.reason);
        expectTimeoutError(outcome.reason);
        await expectNothingLeft(mode, [outerSignal as AbortSignal, innerSignal as AbortSignal]);
      });
    });
  });

  describe('Deadline', () => {
    it('its signal aborts with a TimeoutError at the deadline, not before, and expired() turns true then', async () => {
      const deadline = new Deadline(100);
      vi.advanceTimersByTime(99);
      expect(deadline.signal.aborted).toBe(false);
      expect(deadline.expired()).toBe(false);
      vi.advanceTimersByTime(1);
      expect(deadline.signal.aborted).toBe(true);
      expect(deadline.expired()).toBe(true);
      expectTimeoutError(deadline.signal.reason);
      expect(deadline.signal.reason.message).toContain('100');
      await expectNothingLeft(mode, [deadline.signal]);
    });

    it('expired() is already true in the listeners of its abort event', () => {
      const deadline = new Deadline(10);
      const seen: boolean[] = [];
      deadline.signal.addEventListener('abort', () => seen.push(deadline.expired()));
      vi.advanceTimersByTime(10);
      expect(seen).toEqual([true]);
    });

    it('Deadline(0) aborts from a timer, never synchronously', async () => {
      const deadline = new Deadline(0);
      await flushMicrotasks();
      expect(deadline.signal.aborted).toBe(false);
      vi.advanceTimersByTime(0);
      expect(deadline.signal.aborted).toBe(true);
      expect(deadline.expired()).toBe(true);
      await expectNothingLeft(mode, []);
    });

    it('when is performance.now() + ms at construction, and Infinity for Deadline(Infinity)', () => {
      const before = performance.now();
      const deadline = new Deadline(250);
      const after = performance.now();
      expect(deadline.when).toBeGreaterThanOrEqual(before + 250);
      expect(deadline.when).toBeLessThanOrEqual(after + 250);
      expect(new Deadline(Number.POSITIVE_INFINITY).when).toBe(Number.POSITIVE_INFINITY);
      deadline[Symbol.dispose]();
    });

    it('reschedule to an earlier time fires then, and updates when', async () => {
      const deadline = new Deadline(100);
      vi.advanceTimersByTime(10);
      const before = performance.now();
      deadline.reschedule(20);
      const after = performance.now();
      expect(deadline.when).toBeGreaterThanOrEqual(before + 20);
      expect(deadline.when).toBeLessThanOrEqual(after + 20);
      vi.advanceTimersByTime(19);
      expect(deadline.signal.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(deadline.expired()).toBe(true);
      expectTimeoutError(deadline.signal.reason);
      await expectNothingLeft(mode, []);
    });

    it('reschedule to a later time fires then and not at the old deadline', async () => {
      const deadline = new Deadline(100);
      vi.advanceTimersByTime(10);
      deadline.reschedule(200);
      vi.advanceTimersByTime(199);
      expect(deadline.signal.aborted).toBe(false);
      expect(deadline.expired()).toBe(false);
      vi.advanceTimersByTime(1);
      expect(deadline.expired()).toBe(true);
      await expectNothingLeft(mode, []);
    });

    it('reschedule(0) fires from a timer, not synchronously', () => {
      const deadline = new Deadline(100);
      deadline.reschedule(0);
      expect(deadline.signal.aborted).toBe(false);
      vi.advanceTimersByTime(0);
      expect(deadline.expired()).toBe(true);
    });

    it('reschedule(Infinity) never fires, holds no timer, and can be rescheduled back', async () => {
      const deadline = new Deadline(100);
      deadline.reschedule(Number.POSITIVE_INFINITY);
      expect(deadline.when).toBe(Number.POSITIVE_INFINITY);
      await mode.nextMacrotask();
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(2 ** 31);
      expect(deadline.signal.aborted).toBe(false);
      expect(deadline.expired()).toBe(false);
      deadline.reschedule(50);
      vi.advanceTimersByTime(49);
      expect(deadline.signal.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(deadline.expired()).toBe(true);
      await expectNothingLeft(mode, []);
    });

    it('rescheduling many times keeps one timer and one outer listener', async () => {
      const outer = new AbortController();
      const deadline = new Deadline(100, { signal: outer.signal });
      for (let i = 0; i < 50; i++) {
        deadline.reschedule(100);
        expect(abortListeners(outer.signal)).toBe(1);
      }
      await mode.nextMacrotask();
      expect(vi.getTimerCount()).toBe(1);
      deadline[Symbol.dispose]();
      await expectNothingLeft(mode, [outer.signal]);
    });

    it.each(CUSTOM_REASONS)(
      'an outer abort with %s aborts its signal with that reason, and expired() stays false',
      async (_, makeReason) => {
        const outer = new AbortController();
        const deadline = new Deadline(100, { signal: outer.signal });
        vi.advanceTimersByTime(10);
        outer.abort(makeReason());
        expect(deadline.signal.aborted).toBe(true);
        expect(deadline.signal.reason).toBe(outer.signal.reason);
        expect(deadline.expired()).toBe(false);
        vi.advanceTimersByTime(200);
        expect(deadline.expired()).toBe(false);
        expect(deadline.signal.reason).toBe(outer.signal.reason);
        await expectNothingLeft(mode, [outer.signal]);
      },
    );

    it('after an outer abort, reschedule throws an InvalidStateError and changes nothing', () => {
      const outer = new AbortController();
      const deadline = new Deadline(100, { signal: outer.signal });
      const when = deadline.when;
      outer.abort('stop');
      expectInvalidState(() => deadline.reschedule(50));
      expect(deadline.when).toBe(when);
      expect(deadline.signal.reason).toBe('stop');
      vi.advanceTimersByTime(100);
      expect(deadline.expired()).toBe(false);
    });

    it('after expiry, reschedule throws an InvalidStateError and changes nothing', () => {
      const deadline = new Deadline(10);
      vi.advanceTimersByTime(10);
      const { when } = deadline;
      const reason = deadline.signal.reason;
      expectInvalidState(() => deadline.reschedule(100));
      expectInvalidState(() => deadline.reschedule(Number.POSITIVE_INFINITY));
      expect(deadline.when).toBe(when);
      expect(deadline.signal.reason).toBe(reason);
      expect(deadline.expired()).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('after dispose, reschedule throws an InvalidStateError and arms nothing', async () => {
      const deadline = new Deadline(100);
      deadline[Symbol.dispose]();
      expectInvalidState(() => deadline.reschedule(50));
      await mode.nextMacrotask();
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(200);
      expect(deadline.signal.aborted).toBe(false);
    });

    it('dispose clears its timer and its outer listener and does not abort its signal', async () => {
      const outer = new AbortController();
      const deadline = new Deadline(100, { signal: outer.signal });
      expect(vi.getTimerCount()).toBe(1);
      expect(abortListeners(outer.signal)).toBe(1);
      deadline[Symbol.dispose]();
      expect(deadline.signal.aborted).toBe(false);
      await expectNothingLeft(mode, [outer.signal]);
      vi.advanceTimersByTime(200);
      outer.abort('late');
      expect(deadline.signal.aborted).toBe(false);
      expect(deadline.expired()).toBe(false);
      // Disposing again, or after the fact, is harmless.
      deadline[Symbol.dispose]();
      expect(deadline.signal.aborted).toBe(false);
    });

    it('disposing a Deadline that expired keeps its signal aborted and expired() true', () => {
      const deadline = new Deadline(10);
      vi.advanceTimersByTime(10);
      const reason = deadline.signal.reason;
      deadline[Symbol.dispose]();
      expect(deadline.expired()).toBe(true);
      expect(deadline.signal.reason).toBe(reason);
    });

    it('a Deadline that fires drops its listener on the outer signal by the next macrotask', async () => {
      const outer = new AbortController();
      const deadline = new Deadline(10, { signal: outer.signal });
      vi.advanceTimersByTime(10);
      expect(deadline.expired()).toBe(true);
      await expectNothingLeft(mode, [outer.signal]);
      outer.abort('late');
      expect(deadline.expired()).toBe(true);
      expectTimeoutError(deadline.signal.reason);
    });

    it('Deadlines of one duration share one timer, on one outer signal hold one listener, and each get a fresh TimeoutError', async () => {
      const outer = new AbortController();
      const deadlines = Array.from({ length: 5 }, () => new Deadline(100, { signal: outer.signal }));
      expect(vi.getTimerCount()).toBe(1);
      expect(abortListeners(outer.signal)).toBe(1);
      vi.advanceTimersByTime(100);
      const reasons = new Set(deadlines.map((d) => d.signal.reason));
      expect(reasons.size).toBe(5);
      for (const d of deadlines) expectTimeoutError(d.signal.reason);
      await expectNothingLeft(mode, [outer.signal]);
    });

    it('with an already-aborted outer signal, aborts at once with its reason and registers nothing', () => {
      const reason = { why: 'already' };
      const outer = abortedSignal(reason);
      const deadline = new Deadline(100, { signal: outer });
      expect(deadline.signal.aborted).toBe(true);
      expect(deadline.signal.reason).toBe(reason);
      expect(deadline.expired()).toBe(false);
      // Reading tested: there is no deadline to report.
      expect(deadline.when).toBe(Number.POSITIVE_INFINITY);
      expect(vi.getTimerCount()).toBe(0);
      expect(abortListeners(outer)).toBe(0);
      expectInvalidState(() => deadline.reschedule(10));
      vi.advanceTimersByTime(200);
      expect(deadline.expired()).toBe(false);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Validation, already-aborted signals and synchronous outcomes

describe('validation and already-aborted signals', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  describe('sleep', () => {
    it.each(MS_TYPE_ERRORS)('rejects ms that is %s with a TypeError naming "ms", without throwing', async (_, ms) => {
      const error = await rejectionOf(callWithoutThrowing(() => sleep(ms as number)));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain('"ms"');
      expect(vi.getTimerCount()).toBe(0);
    });

    it.each(MS_RANGE_ERRORS)('rejects ms that is %s with a RangeError naming "ms", without throwing', async (_, ms) => {
      const error = await rejectionOf(callWithoutThrowing(() => sleep(ms)));
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toContain('"ms"');
      expect(vi.getTimerCount()).toBe(0);
    });

    it.each(OPTIONS_TYPE_ERRORS)(
      'rejects options that are %s with a TypeError naming "options"',
      async (_, options) => {
        const error = await rejectionOf(callWithoutThrowing(() => sleep(10, options as never)));
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toContain('"options"');
        expect(vi.getTimerCount()).toBe(0);
      },
    );

    it.each(SIGNAL_TYPE_ERRORS)('rejects a signal that is %s with a TypeError naming "signal"', async (_, signal) => {
      const error = await rejectionOf(callWithoutThrowing(() => sleep(10, { signal: signal as AbortSignal })));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain('"signal"');
      expect(vi.getTimerCount()).toBe(0);
    });

    it('reports an invalid ms before an already-aborted signal', async () => {
      const error = await rejectionOf(sleep(-1, { signal: abortedSignal() }));
      expect(error).toBeInstanceOf(RangeError);
    });

    it('with an already-aborted signal, rejects with its reason and sets no timer and no listener', async () => {
      const reason = { why: 'already' };
      const signal = abortedSignal(reason);
      const slept = callWithoutThrowing(() => sleep(100, { signal }));
      expect(vi.getTimerCount()).toBe(0);
      expect(abortListeners(signal)).toBe(0);
      expect(await rejectionOf(slept)).toBe(reason);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('timeout', () => {
    const never = () => new Promise<never>(() => {});

    it.each(MS_TYPE_ERRORS)('rejects ms that is %s with a TypeError naming "ms", without calling fn', async (_, ms) => {
      const fn = vi.fn(never);
      const error = await rejectionOf(callWithoutThrowing(() => timeout(ms as number, fn)));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain('"ms"');
      expect(fn).not.toHaveBeenCalled();
      expect(vi.getTimerCount()).toBe(0);
    });

    it.each(MS_RANGE_ERRORS)(
      'rejects ms that is %s with a RangeError naming "ms", without calling fn',
      async (_, ms) => {
        const fn = vi.fn(never);
        const error = await rejectionOf(callWithoutThrowing(() => timeout(ms, fn)));
        expect(error).toBeInstanceOf(RangeError);
        expect((error as Error).message).toContain('"ms"');
        expect(fn).not.toHaveBeenCalled();
      },
    );

    it.each([
      ['undefined', undefined],
      ['null', null],
      ['a string', 'fn'],
      ['an object', {}],
    ])('rejects fn that is %s with a TypeError naming "fn", without throwing', async (_, fn) => {
      const outer = new AbortController();
      const error = await rejectionOf(callWithoutThrowing(() => timeout(100, fn as never, { signal: outer.signal })));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain('"fn"');
      expect(vi.getTimerCount()).toBe(0);
      expect(abortListeners(outer.signal)).toBe(0);
    });

    it.each(OPTIONS_TYPE_ERRORS)(
      'rejects options that are %s with a TypeError naming "options"',
      async (_, options) => {
        const fn = vi.fn(never);
        const error = await rejectionOf(callWithoutThrowing(() => timeout(10, fn, options as never)));
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toContain('"options"');
        expect(fn).not.toHaveBeenCalled();
      },
    );

    it.each(SIGNAL_TYPE_ERRORS)('rejects a signal that is %s with a TypeError naming "signal"', async (_, signal) => {
      const fn = vi.fn(never);
      const error = await rejectionOf(callWithoutThrowing(() => timeout(10, fn, { signal: signal as AbortSignal })));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain('"signal"');
      expect(fn).not.toHaveBeenCalled();
    });

    it('reports invalid arguments before an already-aborted signal', async () => {
      const fn = vi.fn(never);
      expect(await rejectionOf(timeout(Number.NaN, fn, { signal: abortedSignal() }))).toBeInstanceOf(RangeError);
      expect(await rejectionOf(timeout(10, 'x' as never, { signal: abortedSignal() }))).toBeInstanceOf(TypeError);
      expect(fn).not.toHaveBeenCalled();
    });

    it('with an already-aborted outer signal, rejects with its reason without calling fn, and registers nothing', async () => {
      const reason = { why: 'already' };
      const signal = abortedSignal(reason);
      const fn = vi.fn(() => 'ran');
      const outcome = callWithoutThrowing(() => timeout(0, fn, { signal }));
      expect(fn).not.toHaveBeenCalled();
      expect(vi.getTimerCount()).toBe(0);
      expect(abortListeners(signal)).toBe(0);
      expect(await rejectionOf(outcome)).toBe(reason);
    });

    it('fn throwing synchronously rejects the promise with that exact error', async () => {
      const outer = new AbortController();
      const failure = { why: 'sync throw' };
      const outcome = callWithoutThrowing(() =>
        timeout(
          100,
          () => {
            throw failure;
          },
          { signal: outer.signal },
        ),
      );
      expect(await rejectionOf(outcome)).toBe(failure);
      vi.advanceTimersByTime(1);
      expect(vi.getTimerCount()).toBe(0);
      expect(abortListeners(outer.signal)).toBe(0);
    });

    it('fn that aborts the outer signal and then throws rejects with the outer reason (the first outcome wins)', async () => {
      const outer = new AbortController();
      const outcome = timeout(
        100,
        () => {
          outer.abort('first');
          throw new Error('second');
        },
        { signal: outer.signal },
      );
      expect(await rejectionOf(outcome)).toBe('first');
    });

    it('fn returning an already-rejected promise rejects with its reason and leaves no unhandled rejection', async () => {
      const failure = new Error('rejected at once');
      let outcome: Promise<never> | undefined;
      const unhandled = await unhandledRejectionsDuring(async () => {
        outcome = timeout(100, () => Promise.reject(failure));
        expect(await rejectionOf(outcome)).toBe(failure);
      });
      expect(unhandled).toEqual([]);
    });

    it('fn returning a thenable whose then getter throws rejects with that error', async () => {
      const failure = new Error('then getter');
      const thenable = Object.defineProperty({}, 'then', {
        get() {
          throw failure;
        },
      });
      expect(await rejectionOf(callWithoutThrowing(() => timeout(100, () => thenable)))).toBe(failure);
    });

    it('fn returning a promise whose constructor getter throws does not make timeout throw synchronously', async () => {
      // Promise.resolve(x) reads x.constructor when x is a native promise; a throwing getter must
      // end up as the rejection, not as a synchronous throw that leaves the deadline armed.
      const failure = new Error('constructor getter');
      const hostile = Promise.resolve('value');
      Object.defineProperty(hostile, 'constructor', {
        get() {
          throw failure;
        },
      });
      const outcome = callWithoutThrowing(() => timeout(100, () => hostile));
      expect(await rejectionOf(outcome)).toBe(failure);
      vi.advanceTimersByTime(1);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('timeoutAt', () => {
    it.each([
      ['a string', '100'],
      ['null', null],
      ['undefined', undefined],
      ['a bigint', 100n],
      ['a Date', new Date()],
    ])('rejects a deadline that is %s with a TypeError naming "deadline", without throwing', async (_, deadline) => {
      const fn = vi.fn(() => 'ran');
      const error = await rejectionOf(callWithoutThrowing(() => timeoutAt(deadline as unknown as number, fn)));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain('"deadline"');
      expect(fn).not.toHaveBeenCalled();
    });

    it('rejects a NaN deadline with a RangeError naming "deadline", without throwing', async () => {
      const fn = vi.fn(() => 'ran');
      const error = await rejectionOf(callWithoutThrowing(() => timeoutAt(Number.NaN, fn)));
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toContain('"deadline"');
      expect(fn).not.toHaveBeenCalled();
    });

    it('rejects fn that is not a function with a TypeError', async () => {
      const error = await rejectionOf(callWithoutThrowing(() => timeoutAt(performance.now() + 10, 'fn' as never)));
      expect(error).toBeInstanceOf(TypeError);
    });

    it('with an already-aborted outer signal, rejects with its reason without calling fn', async () => {
      const reason = { why: 'already' };
      const fn = vi.fn(() => 'ran');
      const outcome = timeoutAt(performance.now() - 10, fn, { signal: abortedSignal(reason) });
      expect(fn).not.toHaveBeenCalled();
      expect(vi.getTimerCount()).toBe(0);
      expect(await rejectionOf(outcome)).toBe(reason);
    });
  });

  describe('Deadline', () => {
    it.each(MS_TYPE_ERRORS)('throws a TypeError naming "ms" for ms that is %s', (_, ms) => {
      expect(() => new Deadline(ms as number)).toThrow(TypeError);
      expect(() => new Deadline(ms as number)).toThrow('"ms"');
      expect(vi.getTimerCount()).toBe(0);
    });

    it.each(MS_RANGE_ERRORS)('throws a RangeError naming "ms" for ms that is %s', (_, ms) => {
      expect(() => new Deadline(ms)).toThrow(RangeError);
      expect(() => new Deadline(ms)).toThrow('"ms"');
    });

    it.each(OPTIONS_TYPE_ERRORS)('throws a TypeError naming "options" for options that are %s', (_, options) => {
      expect(() => new Deadline(10, options as never)).toThrow(TypeError);
      expect(() => new Deadline(10, options as never)).toThrow('"options"');
    });

    it.each(SIGNAL_TYPE_ERRORS)('throws a TypeError naming "signal" for a signal that is %s', (_, signal) => {
      expect(() => new Deadline(10, { signal: signal as AbortSignal })).toThrow(TypeError);
      expect(() => new Deadline(10, { signal: signal as AbortSignal })).toThrow('"signal"');
      expect(vi.getTimerCount()).toBe(0);
    });

    it('reschedule with a bad ms throws TypeError or RangeError naming "ms" and keeps the deadline', () => {
      const deadline = new Deadline(100);
      const { when } = deadline;
      expect(() => deadline.reschedule('5' as never)).toThrow(TypeError);
      expect(() => deadline.reschedule(-1)).toThrow(RangeError);
      expect(() => deadline.reschedule(Number.NaN)).toThrow('"ms"');
      expect(deadline.when).toBe(when);
      vi.advanceTimersByTime(100);
      expect(deadline.expired()).toBe(true);
    });

    it('is Disposable through Symbol.dispose', () => {
      const deadline = new Deadline(100);
      expect(deadline[Symbol.dispose]).toBeTypeOf('function');
      deadline[Symbol.dispose]();
      expect(deadline.signal.aborted).toBe(false);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// timeoutAt on performance.now()'s clock

describe('timeoutAt', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  it("rejects with the TimeoutError of fn's signal when performance.now() reaches the deadline, not before", async () => {
    let signal: AbortSignal | undefined;
    const outcome = track(
      timeoutAt(performance.now() + 100, (s) => {
        signal = s;
        return new Promise(() => {});
      }),
    );
    vi.advanceTimersByTime(99);
    await flushMicrotasks();
    expect(outcome.status).toBe('pending');
    expect(signal?.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    await flushMicrotasks();
    expect(outcome.reason).toBe(signal?.reason);
    expectTimeoutError(outcome.reason);
    vi.advanceTimersByTime(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves with the result of fn when it settles before the deadline', async () => {
    const outcome = track(timeoutAt(performance.now() + 100, async () => 'done'));
    await flushMicrotasks();
    expect(outcome.value).toBe('done');
    vi.advanceTimersByTime(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([
    ['in the past', () => performance.now() - 1_000],
    ['now', () => performance.now()],
    ['-Infinity', () => Number.NEGATIVE_INFINITY],
  ])('a deadline %s behaves like timeout(0): fn runs at once, and a synchronous result wins', async (_, at) => {
    let signal: AbortSignal | undefined;
    const outcome = track(
      timeoutAt(at(), (s) => {
        signal = s;
        return 'won';
      }),
    );
    expect(signal?.aborted).toBe(false);
    await flushMicrotasks();
    expect(outcome.value).toBe('won');
    vi.advanceTimersByTime(1);
    expect(signal?.aborted).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a deadline in the past loses to a pending fn at the next timer, never synchronously', async () => {
    let signal: AbortSignal | undefined;
    const outcome = track(
      timeoutAt(performance.now() - 1_000, (s) => {
        signal = s;
        return new Promise(() => {});
      }),
    );
    await flushMicrotasks();
    expect(outcome.status).toBe('pending');
    expect(signal?.aborted).toBe(false);
    vi.advanceTimersByTime(0);
    await flushMicrotasks();
    expect(outcome.reason).toBe(signal?.reason);
    expectTimeoutError(outcome.reason);
  });

  it('a deadline of Infinity never fires and sets no timer', async () => {
    let signal: AbortSignal | undefined;
    const result = deferred<string>();
    const outcome = track(
      timeoutAt(Number.POSITIVE_INFINITY, (s) => {
        signal = s;
        return result.promise;
      }),
    );
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(2 ** 31);
    await flushMicrotasks();
    expect(outcome.status).toBe('pending');
    expect(signal?.aborted).toBe(false);
    result.resolve('eventually');
    await flushMicrotasks();
    expect(outcome.value).toBe('eventually');
  });

  it("an outer abort aborts fn's signal with its reason and rejects with it", async () => {
    const outer = new AbortController();
    let signal: AbortSignal | undefined;
    const outcome = track(
      timeoutAt(
        performance.now() + 100,
        (s) => {
          signal = s;
          return new Promise(() => {});
        },
        { signal: outer.signal },
      ),
    );
    const reason = { why: 'outer' };
    outer.abort(reason);
    expect(signal?.reason).toBe(reason);
    await flushMicrotasks();
    expect(outcome.reason).toBe(reason);
    vi.advanceTimersByTime(1);
    expect(vi.getTimerCount()).toBe(0);
    expect(abortListeners(outer.signal)).toBe(0);
  });

  it('one absolute deadline bounds several steps together', async () => {
    const deadline = performance.now() + 100;
    const first = track(timeoutAt(deadline, () => 'one'));
    vi.advanceTimersByTime(60);
    await flushMicrotasks();
    expect(first.value).toBe('one');
    let signal: AbortSignal | undefined;
    const second = track(
      timeoutAt(deadline, (s) => {
        signal = s;
        return new Promise(() => {});
      }),
    );
    vi.advanceTimersByTime(39);
    await flushMicrotasks();
    expect(second.status).toBe('pending');
    vi.advanceTimersByTime(1);
    await flushMicrotasks();
    expect(second.reason).toBe(signal?.reason);
    expectTimeoutError(second.reason);
  });

  it('rounds a fractional delay up to whole milliseconds: never early, and calls due in one ms share a timer', async () => {
    const start = performance.now();
    const first = track(timeoutAt(start + 100.2, () => new Promise(() => {})));
    const second = track(timeoutAt(start + 100.7, () => new Promise(() => {})));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    await flushMicrotasks();
    expect(first.status).toBe('pending');
    expect(second.status).toBe('pending');
    vi.advanceTimersByTime(1);
    await flushMicrotasks();
    expectTimeoutError(first.reason);
    expectTimeoutError(second.reason);
  });

  it('measures the deadline on performance.now() also when only setTimeout is faked', async () => {
    vi.useRealTimers();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const outcome = track(timeoutAt(performance.now() + 100, () => new Promise(() => {})));
    // Generous margin: real time moves a little between the two performance.now() reads.
    vi.advanceTimersByTime(90);
    await flushMicrotasks();
    expect(outcome.status).toBe('pending');
    vi.advanceTimersByTime(10);
    await flushMicrotasks();
    expectTimeoutError(outcome.reason);
  });
});

// ---------------------------------------------------------------------------------------------
// Real timers

describe('with real timers', () => {
  it('an aborted sleep(60 000) leaves no timer and no listener after one macrotask', async () => {
    const controller = new AbortController();
    const baseline = activeTimeouts();
    const slept = sleep(60_000, { signal: controller.signal });
    expect(activeTimeouts()).toBe(baseline + 1);
    controller.abort('stop');
    expect(await rejectionOf(slept)).toBe('stop');
    await nextMacrotask();
    expect(activeTimeouts()).toBeLessThanOrEqual(baseline);
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('a sleep that resolves leaves no timer and no listener after one macrotask', async () => {
    const controller = new AbortController();
    const baseline = activeTimeouts();
    await sleep(1, { signal: controller.signal });
    await nextMacrotask();
    expect(activeTimeouts()).toBeLessThanOrEqual(baseline);
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('timeout(60 000) whose fn resolves leaves no timer and no listener after one macrotask', async () => {
    const outer = new AbortController();
    const baseline = activeTimeouts();
    let signal: AbortSignal | undefined;
    const result = await timeout(
      60_000,
      async (s) => {
        signal = s;
        await Promise.resolve();
        return 'done';
      },
      { signal: outer.signal },
    );
    expect(result).toBe('done');
    await nextMacrotask();
    expect(activeTimeouts()).toBeLessThanOrEqual(baseline);
    expect(abortListeners(outer.signal)).toBe(0);
    expect(signal?.aborted).toBe(false);
  });

  it('a timeout that expires leaves no timer and no listener after one macrotask', async () => {
    const outer = new AbortController();
    const baseline = activeTimeouts();
    let signal: AbortSignal | undefined;
    const error = await rejectionOf(
      timeout(
        5,
        (s) => {
          signal = s;
          return new Promise(() => {});
        },
        { signal: outer.signal },
      ),
    );
    expectTimeoutError(error);
    expect(error).toBe(signal?.reason);
    await nextMacrotask();
    expect(activeTimeouts()).toBeLessThanOrEqual(baseline);
    expect(abortListeners(outer.signal)).toBe(0);
  });

  it('a disposed Deadline(60 000) leaves no timer and no outer listener after one macrotask', async () => {
    const outer = new AbortController();
    const baseline = activeTimeouts();
    const deadline = new Deadline(60_000, { signal: outer.signal });
    expect(activeTimeouts()).toBe(baseline + 1);
    deadline[Symbol.dispose]();
    await nextMacrotask();
    expect(activeTimeouts()).toBeLessThanOrEqual(baseline);
    expect(abortListeners(outer.signal)).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// linkSignals

describe('linkSignals', () => {
  it.each(CUSTOM_REASONS)(
    'aborts with the reason of the first input to abort, %s, the exact value',
    (_, makeReason) => {
      const a = new AbortController();
      const b = new AbortController();
      const linked = linkSignals(a.signal, b.signal);
      expect(linked).toBeInstanceOf(AbortSignal);
      expect(linked.aborted).toBe(false);
      b.abort(makeReason());
      expect(linked.aborted).toBe(true);
      expect(linked.reason).toBe(b.signal.reason);
      a.abort('later');
      expect(linked.reason).toBe(b.signal.reason);
    },
  );

  it('fires its abort event once', () => {
    const a = new AbortController();
    const b = new AbortController();
    const linked = linkSignals(a.signal, b.signal);
    const events: unknown[] = [];
    linked.addEventListener('abort', () => events.push(linked.reason));
    a.abort('first');
    b.abort('second');
    expect(events).toEqual(['first']);
  });

  it('drops its listeners from every input when one input aborts, without dispose', async () => {
    const inputs = [new AbortController(), new AbortController(), new AbortController()];
    const linked = linkSignals(...inputs.map((c) => c.signal));
    for (const c of inputs) expect(abortListeners(c.signal)).toBe(1);
    inputs[1]?.abort('middle');
    expect(linked.reason).toBe('middle');
    expect(abortListeners(inputs[1]?.signal as AbortSignal)).toBe(0);
    await nextMacrotask();
    for (const c of inputs) expect(abortListeners(c.signal)).toBe(0);
  });

  it('dispose removes every listener it registered, and the linked signal then never aborts', async () => {
    const a = new AbortController();
    const b = new AbortController();
    const linked = linkSignals(a.signal, b.signal);
    linked[Symbol.dispose]();
    await nextMacrotask();
    expect(abortListeners(a.signal)).toBe(0);
    expect(abortListeners(b.signal)).toBe(0);
    a.abort('after dispose');
    expect(linked.aborted).toBe(false);
    // Disposing again is harmless.
    linked[Symbol.dispose]();
  });

  it('disposing after an abort is harmless', async () => {
    const a = new AbortController();
    const linked = linkSignals(a.signal);
    a.abort('gone');
    linked[Symbol.dispose]();
    expect(linked.reason).toBe('gone');
    await nextMacrotask();
    expect(abortListeners(a.signal)).toBe(0);
  });

  it('with inputs already aborted, is aborted at once with the first aborted input in argument order, and registers nothing', () => {
    const live = new AbortController();
    const first = { why: 'first' };
    const second = { why: 'second' };
    const linked = linkSignals(live.signal, abortedSignal(first), abortedSignal(second), live.signal);
    expect(linked.aborted).toBe(true);
    expect(linked.reason).toBe(first);
    expect(abortListeners(live.signal)).toBe(0);
    live.abort('later');
    expect(linked.reason).toBe(first);
    linked[Symbol.dispose]();
  });

  it('skips undefined entries', () => {
    const a = new AbortController();
    const linked = linkSignals(undefined, a.signal, undefined);
    expect(abortListeners(a.signal)).toBe(1);
    a.abort('through');
    expect(linked.reason).toBe('through');
  });

  it('follows a single input', () => {
    const a = new AbortController();
    const linked = linkSignals(a.signal);
    expect(linked).not.toBe(a.signal);
    expect(linked.aborted).toBe(false);
    a.abort('only');
    expect(linked.reason).toBe('only');
  });

  it('the same input twice is followed once and leaves nothing', async () => {
    const a = new AbortController();
    const linked = linkSignals(a.signal, a.signal);
    expect(abortListeners(a.signal)).toBe(1);
    const events: unknown[] = [];
    linked.addEventListener('abort', () => events.push(linked.reason));
    a.abort('twice');
    expect(events).toEqual(['twice']);
    await nextMacrotask();
    expect(abortListeners(a.signal)).toBe(0);
  });

  it.each([
    ['no arguments', [] as (AbortSignal | undefined)[]],
    ['only undefined', [undefined, undefined]],
  ])('with %s, returns a disposable signal that never aborts', (_, inputs) => {
    const linked = linkSignals(...inputs);
    expect(linked).toBeInstanceOf(AbortSignal);
    expect(linked.aborted).toBe(false);
    linked[Symbol.dispose]();
    expect(linked.aborted).toBe(false);
  });

  it.each([
    ['null', null],
    ['a plain object', {}],
    ['a string', 'abort'],
    ['an AbortController', new AbortController()],
  ])('throws a TypeError for an argument that is %s, naming its position, and registers nothing', (_, bad) => {
    const a = new AbortController();
    expect(() => linkSignals(a.signal, bad as AbortSignal)).toThrow(TypeError);
    expect(() => linkSignals(a.signal, bad as AbortSignal)).toThrow(/\b1\b/);
    expect(abortListeners(a.signal)).toBe(0);
  });

  it('chains: a link of links aborts with the reason of the innermost input', async () => {
    const a = new AbortController();
    const b = new AbortController();
    const inner = linkSignals(a.signal);
    const outer = linkSignals(inner, b.signal);
    a.abort('deep');
    expect(outer.reason).toBe('deep');
    await nextMacrotask();
    expect(abortListeners(a.signal)).toBe(0);
    expect(abortListeners(b.signal)).toBe(0);
    expect(abortListeners(inner)).toBe(0);
  });

  it('works as the signal of a wait, which rejects with the input reason and leaves nothing', async () => {
    const request = new AbortController();
    const shutdown = new AbortController();
    const event = new Event();
    const linked = linkSignals(request.signal, shutdown.signal);
    const waiting = event.wait({ signal: linked });
    shutdown.abort({ why: 'shutdown' });
    expect(event.waiterCount).toBe(0);
    expect(await rejectionOf(waiting)).toBe(shutdown.signal.reason);
    await nextMacrotask();
    for (const signal of [request.signal, shutdown.signal, linked]) expect(abortListeners(signal)).toBe(0);
  });

  it('10 000 links on one long-lived signal, each disposed, hold at most one listener on it and emit no warning', async () => {
    const longLived = new AbortController();
    const other = new AbortController();
    let most = 0;
    const warnings = await collectWarnings(() => {
      for (let i = 0; i < 10_000; i++) {
        const linked = linkSignals(longLived.signal, other.signal);
        most = Math.max(most, abortListeners(longLived.signal));
        linked[Symbol.dispose]();
      }
    });
    expect(most).toBe(1);
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    await nextMacrotask();
    expect(abortListeners(longLived.signal)).toBe(0);
    expect(abortListeners(other.signal)).toBe(0);
  });

  it('10 000 links alive at once on one signal hold one listener, and its abort reaches all of them', async () => {
    const longLived = new AbortController();
    const links: (AbortSignal & Disposable)[] = [];
    const warnings = await collectWarnings(() => {
      for (let i = 0; i < 10_000; i++) links.push(linkSignals(longLived.signal));
      expect(abortListeners(longLived.signal)).toBe(1);
      longLived.abort('all');
    });
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    for (const linked of links) expect(linked.reason).toBe('all');
    expect(abortListeners(longLived.signal)).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Memory: registrations that can never fire must not keep their signals alive

describe('garbage collection', () => {
  it('AbortSignal.any over short-lived inputs is collected with them (the baseline for linkSignals)', async () => {
    const collected = await isCollected(() => {
      const input = new AbortController();
      AbortSignal.any([input.signal]);
      return input.signal;
    });
    expect(collected).toBe(true);
  });

  it('a sleep(Infinity) without a signal sets no timer and holds nothing, so it is collected once dropped', async () => {
    vi.useFakeTimers();
    sleep(Number.POSITIVE_INFINITY);
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
    expect(await isCollected(() => sleep(Number.POSITIVE_INFINITY))).toBe(true);
  });

  it('a linkSignals result that is never disposed does not keep short-lived inputs alive', async () => {
    const collected = await isCollected(() => {
      const a = new AbortController();
      const b = new AbortController();
      linkSignals(a.signal, b.signal);
      return a.signal;
    });
    expect(collected).toBe(true);
  });

  it('a Deadline(Infinity) that is never disposed does not keep a short-lived outer signal alive', async () => {
    const collected = await isCollected(() => {
      const outer = new AbortController();
      new Deadline(Number.POSITIVE_INFINITY, { signal: outer.signal });
      return outer.signal;
    });
    expect(collected).toBe(true);
  });

  it('a timeout(Infinity) whose fn never settles and whose short-lived signal never aborts does not keep the signal alive', async () => {
    const collected = await isCollected(() => {
      const controller = new AbortController();
      timeout(Number.POSITIVE_INFINITY, () => new Promise(() => {}), { signal: controller.signal }).catch(() => {});
      return controller.signal;
    });
    expect(collected).toBe(true);
  });

  it('a sleep(Infinity) whose short-lived signal never aborts does not keep the signal alive', async () => {
    const collected = await isCollected(() => {
      const controller = new AbortController();
      sleep(Number.POSITIVE_INFINITY, { signal: controller.signal }).catch(() => {});
      return controller.signal;
    });
    expect(collected).toBe(true);
  });
});
