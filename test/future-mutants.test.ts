/**
 * Future and isTimeoutError, the details the main suite (`future.test.ts`) leaves open and that
 * mutation testing found: the exact message of a second `setResult()`/`setException()`, which
 * names the first outcome, and how `isTimeoutError` treats a function dressed as a DOMException.
 */

import { describe, expect, it } from 'vitest';
import { Future, isTimeoutError } from '../src/index.js';

/** Runs `fn`, which must throw; returns what it threw. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.unreachable('expected a throw');
}

/** Checks that `error` is an InvalidStateError DOMException with exactly `message`. */
function expectInvalidState(error: unknown, message: string): void {
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe('InvalidStateError');
  expect((error as DOMException).message).toBe(message);
}

describe('Future: setting it a second time', () => {
  it('says that the Future has a result when setResult() came first', () => {
    const future = new Future<string>({ name: 'answer' });
    future.setResult('first');
    expectInvalidState(
      thrownBy(() => future.setResult('second')),
      'Future "answer": setResult() called, but the Future is already done (it has a result)',
    );
    expectInvalidState(
      thrownBy(() => future.setException(new Error('late'))),
      'Future "answer": setException() called, but the Future is already done (it has a result)',
    );
    // The first outcome stays.
    expect(future.result()).toBe('first');
  });

  it('says that the Future failed when setException() came first', () => {
    const failure = new Error('first');
    const future = new Future<string>();
    future.setException(failure);
    expectInvalidState(
      thrownBy(() => future.setResult('second')),
      'Future: setResult() called, but the Future is already done (it failed)',
    );
    expectInvalidState(
      thrownBy(() => future.setException(new Error('late'))),
      'Future: setException() called, but the Future is already done (it failed)',
    );
    expect(thrownBy(() => future.result())).toBe(failure);
  });
});

describe('isTimeoutError: non-objects', () => {
  it('is false for a function, even one that shows as a DOMException named TimeoutError', () => {
    // Everything but its typeof looks like a TimeoutError of another realm: the brand that
    // Object.prototype.toString shows, and the name.
    function TimeoutError(): void {}
    Object.defineProperty(TimeoutError, Symbol.toStringTag, { value: 'DOMException' });
    expect(Object.prototype.toString.call(TimeoutError)).toBe('[object DOMException]');
    expect(TimeoutError.name).toBe('TimeoutError');
    expect(isTimeoutError(TimeoutError)).toBe(false);
    // The same brand and name on an object count (how another realm's DOMException is told).
    const object = { name: 'TimeoutError', [Symbol.toStringTag]: 'DOMException' };
    expect(isTimeoutError(object)).toBe(true);
  });
});
