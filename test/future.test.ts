/**
 * Future and isTimeoutError (README: the API section, "Future"). The rules every wait follows
 * (validation, abort, timeout, nothing left behind) are also run against `Future.wait` by the
 * shared cancellation suite; this file covers what is particular to a Future: one outcome, set
 * once, a value or an exception, for every waiter before and after it is set.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadline, Event, Future, isTimeoutError, Lock, type WaitOptions } from '../src/index.js';
import {
  abortListeners,
  activeTimeouts,
  callWithoutThrowing,
  expectLeakWarning,
  expectNothingLeftFake,
  expectNothingLeftReal,
  expectTimeoutError,
  flushMicrotasks,
  rejectionOf,
  spyOnWarnings,
  track,
  unhandledRejectionsDuring,
} from './helpers.js';

/** Runs `fn`, which must throw; returns what it threw. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.unreachable('expected a throw');
}

/** Checks that `error` is an InvalidStateError DOMException whose message contains `text`. */
function expectInvalidState(error: unknown, text: string): void {
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe('InvalidStateError');
  expect((error as DOMException).code).toBe(DOMException.INVALID_STATE_ERR);
  expect((error as DOMException).message).toContain(text);
}

type Outcome = 'pending' | 'done' | 'failed';

/** A Future in the given state; a failed one failed with `failure`. */
function futureIn(state: Outcome, failure: unknown = new Error('failed')): Future<string> {
  const future = new Future<string>({ name: state });
  if (state === 'done') future.setResult('value');
  if (state === 'failed') future.setException(failure);
  return future;
}

describe('Future', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('state', () => {
    it('starts pending: not done, and result() throws an InvalidStateError naming it', () => {
      const future = new Future<number>({ name: 'answer' });
      expect(future.done()).toBe(false);
      expect(future.waiterCount).toBe(0);
      expectInvalidState(
        thrownBy(() => future.result()),
        'Future "answer"',
      );
      expectInvalidState(
        thrownBy(() => new Future().result()),
        'Future: result()',
      );
    });

    it('setResult() makes it done, and result() returns the exact value', () => {
      const future = new Future<{ id: number }>();
      const value = { id: 7 };
      future.setResult(value);
      expect(future.done()).toBe(true);
      expect(future.result()).toBe(value);
      expect(future.result()).toBe(value);
    });

    it.each<[string, unknown]>([
      ['an Error', new Error('boom')],
      ['a DOMException', new DOMException('stopped', 'AbortError')],
      ['a string', 'text failure'],
      ['an object', { code: 42 }],
      ['undefined', undefined],
      ['null', null],
    ])('setException() with %s makes it done, and result() throws that exact value', (_, failure) => {
      const future = new Future<number>();
      future.setException(failure);
      expect(future.done()).toBe(true);
      expect(thrownBy(() => future.result())).toBe(failure);
      expect(thrownBy(() => future.result())).toBe(failure);
    });

    it.each<[string, unknown]>([
      ['undefined', undefined],
      ['null', null],
      ['false', false],
      ['0', 0],
      ['an empty string', ''],
    ])('setResult(%s) is a result like any other', async (_, value) => {
      const future = new Future<unknown>();
      const early = track(future.wait());
      future.setResult(value);
      expect(future.done()).toBe(true);
      expect(future.result()).toBe(value);
      expect(await future.wait()).toBe(value);
      await flushMicrotasks();
      expect(early.status).toBe('fulfilled');
      expect(early.value).toBe(value);
    });

    it.each<[string, (future: Future<string>) => void]>([
      ['setResult', (future) => future.setResult('second')],
      ['setException', (future) => future.setException(new Error('second'))],
    ])('%s() on a Future with a result throws an InvalidStateError naming it, and the result stays', (method, call) => {
      const future = new Future<string>({ name: 'id' });
      future.setResult('first');
      expectInvalidState(
        thrownBy(() => call(future)),
        `Future "id": ${method}()`,
      );
      expect(future.result()).toBe('first');
      expect(String(future)).toBe('Future "id" [done]');
    });

    it.each<[string, (future: Future<string>) => void]>([
      ['setResult', (future) => future.setResult('second')],
      ['setException', (future) => future.setException(new Error('second'))],
    ])(
      '%s() on a failed Future throws an InvalidStateError naming it, and the exception stays',
      async (method, call) => {
        const future = new Future<string>({ name: 'id' });
        const failure = new Error('first');
        future.setException(failure);
        expectInvalidState(
          thrownBy(() => call(future)),
          `Future "id": ${method}()`,
        );
        expect(thrownBy(() => future.result())).toBe(failure);
        expect(await rejectionOf(future.wait())).toBe(failure);
        expect(String(future)).toBe('Future "id" [failed]');
      },
    );

    it('a second set changes nothing for waits already settled by the first', async () => {
      const future = new Future<string>();
      const waiting = track(future.wait());
      future.setResult('first');
      expect(() => future.setException(new Error('late'))).toThrow(DOMException);
      await flushMicrotasks();
      expect(waiting.settlements).toBe(1);
      expect(waiting.value).toBe('first');
    });
  });

  describe('wait() before the Future is done', () => {
    it('counts each wait in waiterCount as soon as wait() returns', () => {
      const future = new Future<string>();
      for (let i = 1; i <= 5; i++) {
        track(future.wait(i % 2 === 0 ? { timeout: 1_000 } : undefined));
        expect(future.waiterCount).toBe(i);
      }
      future.setResult('x');
      expectNothingLeftFake(future);
    });

    it('setResult() resolves every waiter with the exact value, in arrival order, in the same step', async () => {
      const future = new Future<{ id: number }>();
      const value = { id: 1 };
      const order: number[] = [];
      const waits = [0, 1, 2, 3].map((i) =>
        future.wait().then((got) => {
          order.push(i);
          return got;
        }),
      );
      expect(future.waiterCount).toBe(4);
      future.setResult(value);
      expect(future.waiterCount).toBe(0);
      for (const got of await Promise.all(waits)) expect(got).toBe(value);
      expect(order).toEqual([0, 1, 2, 3]);
      expectNothingLeftFake(future);
    });

    it('setException() rejects every waiter with the exact exception, in arrival order, in the same step', async () => {
      const future = new Future<string>();
      const failure = { why: 'upstream down' };
      const order: number[] = [];
      const waits = [0, 1, 2].map((i) =>
        future.wait().catch((error: unknown) => {
          order.push(i);
          return error;
        }),
      );
      future.setException(failure);
      expect(future.waiterCount).toBe(0);
      for (const error of await Promise.all(waits)) expect(error).toBe(failure);
      expect(order).toEqual([0, 1, 2]);
      expectNothingLeftFake(future);
    });

    it('serves many waiters each with its own signal and timeout: those that gave up reject, the rest get the value', async () => {
      const future = new Future<string>({ name: 'id' });
      const controllers = [new AbortController(), new AbortController(), new AbortController()];
      const [first, second, third] = controllers as [AbortController, AbortController, AbortController];
      const plain = track(future.wait());
      const aborted = track(future.wait({ signal: first.signal, timeout: 1_000 }));
      const timedOut = track(future.wait({ signal: second.signal, timeout: 50 }));
      const patient = track(future.wait({ signal: third.signal, timeout: 5_000 }));
      const unlimited = track(future.wait({ timeout: Number.POSITIVE_INFINITY }));
      expect(future.waiterCount).toBe(5);
      first.abort('left');
      expect(future.waiterCount).toBe(4);
      vi.advanceTimersByTime(50);
      expect(future.waiterCount).toBe(3);
      vi.advanceTimersByTime(100);
      future.setResult('s-1');
      expect(future.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(aborted.reason).toBe('left');
      expectTimeoutError(timedOut.reason);
      expect(timedOut.reason.message).toBe('Future "id": wait() timed out after 50 ms');
      for (const w of [plain, patient, unlimited]) {
        expect(w.settlements).toBe(1);
        expect(w.value).toBe('s-1');
      }
      // A later abort of a served waiter's signal changes nothing.
      third.abort('too late');
      await flushMicrotasks();
      expect(patient.value).toBe('s-1');
      expect(patient.settlements).toBe(1);
      expectNothingLeftFake(
        future,
        controllers.map((c) => c.signal),
      );
    });

    it('a waiter that is aborted leaves no waiter, timer or listener, and the Future still pending', async () => {
      const future = new Future<string>();
      const controller = new AbortController();
      const outcome = future.wait({ signal: controller.signal, timeout: 10_000 });
      expect(abortListeners(controller.signal)).toBe(1);
      expect(vi.getTimerCount()).toBe(1);
      const reason = new Error('request closed');
      controller.abort(reason);
      expect(future.waiterCount).toBe(0);
      expect(abortListeners(controller.signal)).toBe(0);
      expect(await rejectionOf(outcome)).toBe(reason);
      expectNothingLeftFake(future, [controller.signal]);
      expect(future.done()).toBe(false);
      expect(String(future)).toBe('Future [pending, waiters:0]');
      // The Future works as before.
      const later = future.wait();
      future.setResult('ok');
      expect(await later).toBe('ok');
    });

    it('a waiter that times out rejects with a fresh TimeoutError and leaves no waiter, timer or listener', async () => {
      const future = new Future<string>({ name: 'sessionId' });
      const controller = new AbortController();
      const a = track(future.wait({ signal: controller.signal, timeout: 10_000 }));
      const b = track(future.wait({ timeout: 10_000 }));
      vi.advanceTimersByTime(9_999);
      expect(future.waiterCount).toBe(2);
      vi.advanceTimersByTime(1);
      expect(future.waiterCount).toBe(0);
      await flushMicrotasks();
      expectTimeoutError(a.reason);
      expectTimeoutError(b.reason);
      expect(a.reason).not.toBe(b.reason);
      expect(a.reason.message).toBe('Future "sessionId": wait() timed out after 10000 ms');
      expect(isTimeoutError(a.reason)).toBe(true);
      expectNothingLeftFake(future, [controller.signal]);
      expect(future.done()).toBe(false);
    });

    it('timeout: 0 on a pending Future rejects at once with a TimeoutError, never counting as a waiter', async () => {
      const future = new Future<string>();
      const outcome = track(future.wait({ timeout: 0 }));
      expect(future.waiterCount).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      await flushMicrotasks();
      expectTimeoutError(outcome.reason);
    });

    it('a waiter that gave up is not settled again by setResult() or setException()', async () => {
      const future = new Future<string>();
      const controller = new AbortController();
      const gaveUp = track(future.wait({ signal: controller.signal }));
      const timedOut = track(future.wait({ timeout: 5 }));
      controller.abort('gone');
      vi.advanceTimersByTime(5);
      future.setException(new Error('later'));
      await flushMicrotasks();
      expect(gaveUp.settlements).toBe(1);
      expect(gaveUp.reason).toBe('gone');
      expect(timedOut.settlements).toBe(1);
      expectTimeoutError(timedOut.reason);
    });

    it('a timeout that would have elapsed after setResult() changes nothing', async () => {
      const future = new Future<number>();
      const outcome = track(future.wait({ timeout: 100 }));
      vi.advanceTimersByTime(60);
      future.setResult(1);
      vi.advanceTimersByTime(100);
      await flushMicrotasks();
      expect(outcome.settlements).toBe(1);
      expect(outcome.value).toBe(1);
      expectNothingLeftFake(future);
    });

    it('waits with equal timeouts share one timer, and waits on one signal one listener', () => {
      const future = new Future<number>();
      const controller = new AbortController();
      for (let i = 0; i < 20; i++) track(future.wait({ signal: controller.signal, timeout: 100 }));
      expect(vi.getTimerCount()).toBe(1);
      expect(abortListeners(controller.signal)).toBe(1);
      future.setResult(0);
      expectNothingLeftFake(future, [controller.signal]);
    });
  });

  describe('wait() on a done Future', () => {
    it('resolves at once with the exact value, with no waiter, timer or listener, also with signal and timeout', async () => {
      const future = new Future<{ id: number }>();
      const value = { id: 3 };
      future.setResult(value);
      const controller = new AbortController();
      const waits = [
        future.wait(),
        future.wait({ signal: controller.signal, timeout: 1_000 }),
        future.wait({ timeout: 0 }),
        future.wait({ timeout: Number.POSITIVE_INFINITY }),
      ];
      expect(future.waiterCount).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      expect(abortListeners(controller.signal)).toBe(0);
      for (const got of await Promise.all(waits)) expect(got).toBe(value);
      expectNothingLeftFake(future, [controller.signal]);
    });

    it('settles in the next microtask, not later', async () => {
      const future = new Future<string>();
      future.setResult('now');
      const outcome = track(future.wait({ timeout: 10 }));
      await Promise.resolve();
      expect(outcome.status).toBe('fulfilled');
      expect(outcome.value).toBe('now');
    });

    it('rejects at once with the exact exception, with a fresh promise for each call', async () => {
      const failure = new Error('lookup failed');
      const future = new Future<string>();
      future.setException(failure);
      const controller = new AbortController();
      const first = future.wait();
      const second = future.wait({ signal: controller.signal, timeout: 0 });
      expect(first).not.toBe(second);
      expect(future.waiterCount).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      expect(abortListeners(controller.signal)).toBe(0);
      expect(await rejectionOf(first)).toBe(failure);
      expect(await rejectionOf(second)).toBe(failure);
      expectNothingLeftFake(future, [controller.signal]);
    });

    it.each<Outcome>(['done', 'failed'])(
      'an already-aborted signal on a %s Future rejects with its reason, not the outcome',
      async (state) => {
        const future = futureIn(state);
        const reason = { why: 'cancelled' };
        const signal = AbortSignal.abort(reason);
        expect(await rejectionOf(future.wait({ signal }))).toBe(reason);
        expect(await rejectionOf(future.wait({ signal, timeout: 0 }))).toBe(reason);
        expect(abortListeners(signal)).toBe(0);
        expect(vi.getTimerCount()).toBe(0);
      },
    );

    it('adopts a thenable result in the promises wait() returns, as any promise does; result() returns it as is', async () => {
      const future = new Future<PromiseLike<number>>();
      const early = track(future.wait());
      const thenable: PromiseLike<number> = Promise.resolve(5);
      future.setResult(thenable);
      expect(future.result()).toBe(thenable);
      expect(await future.wait()).toBe(5);
      await flushMicrotasks();
      expect(early.value).toBe(5);
    });
  });

  describe('no unhandled rejection', () => {
    it('setException() with nobody waiting raises no unhandled rejection', async () => {
      const unhandled = await unhandledRejectionsDuring(() => {
        const future = new Future<string>();
        future.setException(new Error('nobody listens'));
        expect(future.done()).toBe(true);
      });
      expect(unhandled).toEqual([]);
    });

    it('setException() after every waiter gave up raises no unhandled rejection', async () => {
      const unhandled = await unhandledRejectionsDuring(async () => {
        const future = new Future<string>();
        const controller = new AbortController();
        const aborted = future.wait({ signal: controller.signal });
        const timedOut = future.wait({ timeout: 5 });
        controller.abort('gone');
        vi.advanceTimersByTime(5);
        expect(await rejectionOf(aborted)).toBe('gone');
        expectTimeoutError(await rejectionOf(timedOut));
        future.setException(new Error('too late for anyone'));
      });
      expect(unhandled).toEqual([]);
    });

    it('setException() with handled waiters raises no unhandled rejection, and the waiters get the exception', async () => {
      const failure = new Error('handled');
      const unhandled = await unhandledRejectionsDuring(async () => {
        const future = new Future<string>();
        const waits = [future.wait(), future.wait({ timeout: 1_000 }), future.wait({ signal: AbortSignal.abort() })];
        future.setException(failure);
        const outcomes = await Promise.allSettled(waits);
        expect(outcomes.slice(0, 2)).toEqual([
          { status: 'rejected', reason: failure },
          { status: 'rejected', reason: failure },
        ]);
      });
      expect(unhandled).toEqual([]);
    });
  });

  describe('validation', () => {
    const states: Outcome[] = ['pending', 'done', 'failed'];

    it.each(states)(
      'rejects bad options on a %s Future with a TypeError or RangeError naming them, without throwing',
      async (state) => {
        const future = futureIn(state);
        const before = String(future);
        const cases: Array<[unknown, typeof TypeError | typeof RangeError, RegExp]> = [
          [null, TypeError, /\boptions\b/],
          ['fast', TypeError, /\boptions\b/],
          [{ timeout: '100' }, TypeError, /\btimeout\b/],
          [{ timeout: null }, TypeError, /\btimeout\b/],
          [{ timeout: -1 }, RangeError, /\btimeout\b/],
          [{ timeout: Number.NaN }, RangeError, /\btimeout\b/],
          [{ signal: {} }, TypeError, /\bsignal\b/],
          [{ signal: null }, TypeError, /\bsignal\b/],
          [{ timout: 5 }, TypeError, /"timout"/],
        ];
        for (const [options, kind, names] of cases) {
          const error = await rejectionOf(callWithoutThrowing(() => future.wait(options as WaitOptions)));
          expect(error).toBeInstanceOf(kind);
          expect((error as Error).message).toMatch(names);
        }
        expect(String(future)).toBe(before);
        expectNothingLeftFake(future);
      },
    );

    it.each(states)('reports bad options on a %s Future before an already-aborted signal', async (state) => {
      const future = futureIn(state);
      const signal = AbortSignal.abort('aborted');
      expect(await rejectionOf(future.wait({ signal, timeout: -1 }))).toBeInstanceOf(RangeError);
      expect(await rejectionOf(future.wait({ signal, onAbort: undefined } as WaitOptions))).toBeInstanceOf(TypeError);
    });

    it('checks its constructor options strictly', () => {
      expect(new Future({ name: 'x', maxWaiters: 10 }).name).toBe('x');
      expect(new Future({}).name).toBeUndefined();
      expect(new Future().name).toBeUndefined();
      expect(() => new Future(null as never)).toThrow(TypeError);
      expect(() => new Future({ name: 1 } as never)).toThrow(/\bname\b/);
      expect(() => new Future({ maxWaiters: '10' } as never)).toThrow(TypeError);
      expect(() => new Future({ maxWaiters: -1 })).toThrow(RangeError);
      expect(() => new Future({ maxWaiters: 1.5 })).toThrow(/\bmaxWaiters\b/);
      expect(() => new Future({ nmae: 'x' } as never)).toThrow(/"nmae"/);
    });
  });

  describe('readable state', () => {
    it('String() shows pending with the waiter count, then done or failed', () => {
      const pending = new Future<number>();
      expect(String(pending)).toBe('Future [pending, waiters:0]');
      const controller = new AbortController();
      track(pending.wait());
      track(pending.wait());
      track(pending.wait({ signal: controller.signal }));
      expect(String(pending)).toBe('Future [pending, waiters:3]');
      controller.abort();
      expect(`${pending}`).toBe('Future [pending, waiters:2]');
      pending.setResult(1);
      expect(String(pending)).toBe('Future [done]');

      const failed = new Future<number>();
      track(failed.wait());
      failed.setException(new Error('no'));
      expect(String(failed)).toBe('Future [failed]');
    });

    it('String() of a named Future shows the name', () => {
      const future = new Future<number>({ name: 'id' });
      track(future.wait());
      expect(String(future)).toBe('Future "id" [pending, waiters:1]');
      future.setResult(1);
      expect(String(future)).toBe('Future "id" [done]');
      expect(String(futureIn('failed'))).toBe('Future "failed" [failed]');
    });

    it('Symbol.toStringTag is the class name', () => {
      const future = new Future({ name: 'id' });
      expect(future[Symbol.toStringTag]).toBe('Future');
      expect(Object.prototype.toString.call(future)).toBe('[object Future]');
    });
  });

  describe('leak warning', () => {
    it('warns once, naming the Future, when its waiters first exceed maxWaiters', () => {
      const warn = spyOnWarnings();
      try {
        const future = new Future<number>({ name: 'slow', maxWaiters: 2 });
        track(future.wait());
        track(future.wait());
        expect(warn).not.toHaveBeenCalled();
        track(future.wait());
        track(future.wait());
        expect(warn).toHaveBeenCalledTimes(1);
        expectLeakWarning(warn.mock.calls[0], 'Future "slow": 3 pending waiters');
        future.setResult(0);
      } finally {
        warn.mockRestore();
      }
    });
  });

  describe('with real timers', () => {
    beforeEach(() => {
      vi.useRealTimers();
    });

    it('leaves no timer and no listener one macrotask after waits with a 60 s timeout are served', async () => {
      const future = new Future<string>();
      const controller = new AbortController();
      const baseline = activeTimeouts();
      const waits = [future.wait({ signal: controller.signal, timeout: 60_000 }), future.wait({ timeout: 60_000 })];
      expect(activeTimeouts()).toBeGreaterThan(baseline);
      future.setResult('done');
      expect(await Promise.all(waits)).toEqual(['done', 'done']);
      await expectNothingLeftReal(future, [controller.signal], baseline);
    });

    it('leaves no timer and no listener one macrotask after a wait is aborted', async () => {
      const future = new Future<string>();
      const controller = new AbortController();
      const baseline = activeTimeouts();
      const outcome = future.wait({ signal: controller.signal, timeout: 60_000 });
      controller.abort('bye');
      expect(await rejectionOf(outcome)).toBe('bye');
      await expectNothingLeftReal(future, [controller.signal], baseline);
      expect(future.done()).toBe(false);
    });
  });
});

/**
 * A DOMException made by another realm, which is no instance of this realm's DOMException: in a
 * browser, an iframe's. Node, Bun and Deno have no second realm with a DOMException (their `vm`
 * contexts have none), so there it is made the way another implementation's DOMException (jsdom's)
 * is: a class of its own whose `Symbol.toStringTag` is `'DOMException'`.
 */
function otherRealmDOMException(message: string, name: string): { error: unknown; dispose(): void } {
  const document = (globalThis as { document?: Document }).document;
  if (document !== undefined) {
    const frame = document.createElement('iframe');
    document.body.append(frame);
    const Foreign = (frame.contentWindow as unknown as { DOMException: typeof DOMException }).DOMException;
    return { error: new Foreign(message, name), dispose: () => frame.remove() };
  }
  class ForeignDOMException extends Error {
    constructor(msg: string, errorName: string) {
      super(msg);
      this.name = errorName;
    }
    get [Symbol.toStringTag](): string {
      return 'DOMException';
    }
  }
  return { error: new ForeignDOMException(message, name), dispose: () => {} };
}

describe('isTimeoutError', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is true for the TimeoutErrors of waitsafe waits', async () => {
    vi.useFakeTimers();
    const lock = new Lock();
    lock.tryAcquire();
    const errors = [
      rejectionOf(new Event().wait({ timeout: 1 })),
      rejectionOf(new Future().wait({ timeout: 1 })),
      rejectionOf(lock.acquire({ timeout: 1 })),
      rejectionOf(new Event().wait({ timeout: 0 })),
    ];
    vi.advanceTimersByTime(1);
    for (const error of await Promise.all(errors)) {
      expectTimeoutError(error);
      expect(isTimeoutError(error)).toBe(true);
    }
  });

  it('is true for the reason a Deadline aborts with', () => {
    vi.useFakeTimers();
    const deadline = new Deadline(10);
    try {
      vi.advanceTimersByTime(10);
      expect(deadline.signal.aborted).toBe(true);
      expect(isTimeoutError(deadline.signal.reason)).toBe(true);
    } finally {
      deadline[Symbol.dispose]();
    }
  });

  it('is true for any DOMException named TimeoutError, a subclass included', () => {
    expect(isTimeoutError(new DOMException('slow', 'TimeoutError'))).toBe(true);
    expect(isTimeoutError(new DOMException('', 'TimeoutError'))).toBe(true);
    class MyTimeout extends DOMException {
      constructor() {
        super('mine', 'TimeoutError');
      }
    }
    expect(isTimeoutError(new MyTimeout())).toBe(true);
  });

  it('is true for a TimeoutError DOMException of another realm, false for its AbortError', () => {
    const timeout = otherRealmDOMException('too slow', 'TimeoutError');
    const abort = otherRealmDOMException('stopped', 'AbortError');
    try {
      expect(timeout.error).not.toBeInstanceOf(DOMException);
      expect(isTimeoutError(timeout.error)).toBe(true);
      expect(isTimeoutError(abort.error)).toBe(false);
    } finally {
      timeout.dispose();
      abort.dispose();
    }
  });

  it.each<[string, unknown]>([
    ['an AbortError DOMException', new DOMException('stopped', 'AbortError')],
    ['a default abort reason', AbortSignal.abort().reason],
    ['an InvalidStateError DOMException', new DOMException('no', 'InvalidStateError')],
    ['a DOMException named timeouterror', new DOMException('x', 'timeouterror')],
    ['a DOMException named Timeout', new DOMException('x', 'Timeout')],
    ['a plain Error', new Error('TimeoutError')],
    ['an Error named TimeoutError', Object.assign(new Error('slow'), { name: 'TimeoutError' })],
    ['a TypeError named TimeoutError', Object.assign(new TypeError('slow'), { name: 'TimeoutError' })],
    ['an object named TimeoutError', { name: 'TimeoutError', message: 'slow' }],
    ['an object named TimeoutError with code 23', { name: 'TimeoutError', code: 23 }],
    ['an object made from DOMException.prototype', Object.create(DOMException.prototype)],
    ['the string TimeoutError', 'TimeoutError'],
    ['null', null],
    ['undefined', undefined],
    ['a number', 23],
    ['a symbol', Symbol('TimeoutError')],
    ['a function named TimeoutError', function TimeoutError() {}],
  ])('is false for %s', (_, value) => {
    expect(isTimeoutError(value)).toBe(false);
  });

  it('is false, never throwing, for a revoked Proxy or an object whose name getter throws', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(isTimeoutError(proxy)).toBe(false);
    const hostile = {
      get [Symbol.toStringTag]() {
        return 'DOMException';
      },
      get name(): string {
        throw new Error('no name for you');
      },
    };
    expect(isTimeoutError(hostile)).toBe(false);
  });
});
