/**
 * sleep, timeout, timeoutAt, Deadline and linkSignals: the details the main suite
 * (`timeouts.test.ts`) leaves open and that mutation testing found: the exact messages of the
 * errors for bad arguments, of `timeout()`'s TimeoutError and of a refused `reschedule()`, and
 * the property a linked signal's dispose method is.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadline, linkSignals, sleep, timeout, timeoutAt } from '../src/index.js';
import { expectTimeoutError, flushMicrotasks, rejectionOf, track } from './helpers.js';

/** Runs `fn`, which must throw; returns what it threw. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.unreachable('expected a throw');
}

/** Checks that `error` is an instance of `type` with exactly `message`. */
function expectError(error: unknown, type: new (...args: never[]) => Error, message: string): void {
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toBe(message);
}

/** Checks that `error` is an InvalidStateError DOMException with exactly `message`. */
function expectInvalidState(error: unknown, message: string): void {
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe('InvalidStateError');
  expect((error as DOMException).message).toBe(message);
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the messages of bad arguments', () => {
  it('sleep, timeout and new Deadline say what "ms" must be and what it got', async () => {
    const notNumber = 'The "ms" argument must be a number of milliseconds, got string';
    const negative = 'The "ms" argument must be >= 0 or Infinity, got -1';
    const notANumber = 'The "ms" argument must be >= 0 or Infinity, got NaN';
    expectError(await rejectionOf(sleep('5' as never)), TypeError, notNumber);
    expectError(await rejectionOf(sleep(-1)), RangeError, negative);
    expectError(await rejectionOf(timeout('5' as never, () => 1)), TypeError, notNumber);
    expectError(await rejectionOf(timeout(Number.NaN, () => 1)), RangeError, notANumber);
    expectError(
      thrownBy(() => new Deadline(null as never)),
      TypeError,
      'The "ms" argument must be a number of milliseconds, got null',
    );
    expectError(
      thrownBy(() => new Deadline(Number.NEGATIVE_INFINITY)),
      RangeError,
      'The "ms" argument must be >= 0 or Infinity, got -Infinity',
    );
    const deadline = new Deadline(10);
    expectError(
      thrownBy(() => deadline.reschedule(-1)),
      RangeError,
      negative,
    );
    deadline[Symbol.dispose]();
    // Its shared timer goes with the next macrotask.
    vi.advanceTimersByTime(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('timeoutAt says what "deadline" must be and what it got', async () => {
    const fn = vi.fn();
    expectError(
      await rejectionOf(timeoutAt('5' as never, fn)),
      TypeError,
      'The "deadline" argument must be a number, got string',
    );
    expectError(
      await rejectionOf(timeoutAt(Number.NaN, fn)),
      RangeError,
      'The "deadline" argument must be a number other than NaN, got NaN',
    );
    expect(fn).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('linkSignals names the position of the argument that is not a signal', () => {
    const a = new AbortController();
    expectError(
      thrownBy(() => linkSignals(a.signal, undefined, {} as AbortSignal)),
      TypeError,
      'Argument 2 of linkSignals() must be an AbortSignal or undefined, got object',
    );
  });
});

describe("timeout()'s TimeoutError", () => {
  it('says that waitsafe timeout() timed out, and after how long', async () => {
    let inner: AbortSignal | undefined;
    const outcome = track(
      timeout(50, (signal) => {
        inner = signal;
        return new Promise<never>(() => {});
      }),
    );
    vi.advanceTimersByTime(50);
    await flushMicrotasks();
    expect(outcome.status).toBe('rejected');
    expectTimeoutError(outcome.reason);
    expect(outcome.reason.message).toBe('waitsafe: timeout() timed out after 50 ms');
    // fn's signal aborts with that same error.
    expect(inner?.reason).toBe(outcome.reason);
  });

  it('says the same for timeoutAt(), with the whole milliseconds it waited', async () => {
    const outcome = track(timeoutAt(performance.now() + 19.5, () => new Promise<never>(() => {})));
    vi.advanceTimersByTime(20);
    await flushMicrotasks();
    expectTimeoutError(outcome.reason);
    expect(outcome.reason.message).toBe('waitsafe: timeout() timed out after 20 ms');
  });
});

describe('Deadline: a refused reschedule() says why', () => {
  it('after dispose', () => {
    const deadline = new Deadline(100);
    deadline[Symbol.dispose]();
    expectInvalidState(
      thrownBy(() => deadline.reschedule(10)),
      'Deadline: reschedule() after dispose',
    );
  });

  it('after the deadline passed', () => {
    const deadline = new Deadline(100);
    vi.advanceTimersByTime(100);
    expectInvalidState(
      thrownBy(() => deadline.reschedule(10)),
      'Deadline: reschedule() after the deadline passed',
    );
    deadline[Symbol.dispose]();
  });

  it('after the outer signal aborted, before or after the Deadline was made', () => {
    const outer = new AbortController();
    const deadline = new Deadline(100, { signal: outer.signal });
    outer.abort('stop');
    expectInvalidState(
      thrownBy(() => deadline.reschedule(10)),
      'Deadline: reschedule() after the deadline was aborted',
    );
    const late = new Deadline(100, { signal: outer.signal });
    expectInvalidState(
      thrownBy(() => late.reschedule(10)),
      'Deadline: reschedule() after the deadline was aborted',
    );
    deadline[Symbol.dispose]();
    late[Symbol.dispose]();
  });
});

describe("linkSignals: the linked signal's dispose method", () => {
  it('is an own method that is not enumerable or writable, but that a caller can redefine or delete', () => {
    const input = new AbortController();
    const linked = linkSignals(input.signal);
    const descriptor = Object.getOwnPropertyDescriptor(linked, Symbol.dispose);
    expect(descriptor).toMatchObject({ enumerable: false, writable: false, configurable: true });
    expect(descriptor?.value).toBeTypeOf('function');
    // A caller wrapping it (to log, or to count disposals) can put its own in place.
    const original = linked[Symbol.dispose];
    let disposals = 0;
    Object.defineProperty(linked, Symbol.dispose, {
      value: () => {
        disposals++;
        original();
      },
    });
    linked[Symbol.dispose]();
    expect(disposals).toBe(1);
    expect(Reflect.deleteProperty(linked, Symbol.dispose)).toBe(true);
    expect(Object.getOwnPropertyDescriptor(linked, Symbol.dispose)).toBeUndefined();
  });
});
