/**
 * The exact words of the errors for bad arguments and options (README: "Bad input"): each names
 * the argument or option, says what it must be, and what it got (the type for a TypeError, the
 * value for a RangeError). Other suites check the error types and that state is unchanged; this
 * one pins the messages a user reads.
 */

import { describe, expect, it } from 'vitest';
import { Barrier, Event, Lock, Semaphore, sleep } from '../src/index.js';

/** The error `fn` throws, or the reason of the promise it returns. */
async function errorOf(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  return expect.unreachable('expected an error');
}

const CASES: ReadonlyArray<readonly [string, () => unknown, ErrorConstructor, string]> = [
  [
    'options of the wrong type',
    () => new Event().wait(5 as never),
    TypeError,
    'The "options" argument must be an object or undefined, got number',
  ],
  [
    'null options',
    () => new Event().wait(null as never),
    TypeError,
    'The "options" argument must be an object or undefined, got null',
  ],
  [
    'an unknown wait option',
    () => new Event().wait({ timout: 5 } as never),
    TypeError,
    'Unknown option "timout" (known: signal, timeout)',
  ],
  [
    'an unknown option of sleep',
    () => sleep(1, { timeout: 1 } as never),
    TypeError,
    'Unknown option "timeout" (known: signal)',
  ],
  [
    'an unknown weighted option',
    () => new Semaphore(2).acquire({ wieght: 1 } as never),
    TypeError,
    'Unknown option "wieght" (known: signal, timeout, weight)',
  ],
  [
    'a timeout that is not a number',
    () => new Event().wait({ timeout: '5' as never }),
    TypeError,
    'The "timeout" option must be a number of milliseconds, got string',
  ],
  [
    'a negative timeout',
    () => new Event().wait({ timeout: -1 }),
    RangeError,
    'The "timeout" option must be >= 0 or Infinity, got -1',
  ],
  [
    'a NaN timeout',
    () => new Event().wait({ timeout: Number.NaN }),
    RangeError,
    'The "timeout" option must be >= 0 or Infinity, got NaN',
  ],
  [
    'a signal that is a plain object',
    () => new Event().wait({ signal: {} as never }),
    TypeError,
    'The "signal" option must be an AbortSignal, got object',
  ],
  [
    'a maxWaiters that is not a number',
    () => new Event({ maxWaiters: 'x' as never }),
    TypeError,
    'The "maxWaiters" option must be a number, got string',
  ],
  [
    'a fractional maxWaiters',
    () => new Event({ maxWaiters: 1.5 }),
    RangeError,
    'The "maxWaiters" option must be an integer >= 0 or Infinity, got 1.5',
  ],
  [
    'a negative maxWaiters',
    () => new Event({ maxWaiters: -1 }),
    RangeError,
    'The "maxWaiters" option must be an integer >= 0 or Infinity, got -1',
  ],
  [
    'a semaphore value that is not a number',
    () => new Semaphore('x' as never),
    TypeError,
    'The "value" argument must be a number, got string',
  ],
  [
    'a negative semaphore value',
    () => new Semaphore(-1),
    RangeError,
    'The "value" argument must be an integer >= 0, got -1',
  ],
  [
    'a fractional semaphore value',
    () => new Semaphore(1.5),
    RangeError,
    'The "value" argument must be an integer >= 0, got 1.5',
  ],
  [
    'a Barrier of no parties',
    () => new Barrier(0),
    RangeError,
    'The "parties" argument must be an integer >= 1, got 0',
  ],
  [
    'a callback that is not a function',
    () => new Lock().runExclusive(123 as never),
    TypeError,
    'The "fn" argument must be a function, got number',
  ],
  [
    'a name that is not a string',
    () => new Event({ name: 5 as never }),
    TypeError,
    'The "name" option must be a string, got number',
  ],
  ['a null name', () => new Event({ name: null as never }), TypeError, 'The "name" option must be a string, got null'],
];

describe('error messages', () => {
  it.each(CASES)('%s', async (_, fn, type, message) => {
    const error = await errorOf(fn);
    expect(error).toBeInstanceOf(type);
    expect(error.message).toBe(message);
  });

  it('refuses a signal-like object without removeEventListener (its listener could never be removed)', async () => {
    const fake = { aborted: false, addEventListener: () => {} };
    const error = await errorOf(() => new Event().wait({ signal: fake as never }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('The "signal" option must be an AbortSignal, got object');
  });

  it('refuses a signal-like object without addEventListener', async () => {
    const fake = { aborted: false, removeEventListener: () => {} };
    const error = await errorOf(() => new Event().wait({ signal: fake as never }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('The "signal" option must be an AbortSignal, got object');
  });

  it('names the waiting method and the primitive in a TimeoutError', async () => {
    const lock = new Lock({ name: 'l' });
    const release = await lock.acquire();
    expect((await errorOf(() => lock.acquire({ timeout: 0 }))).message).toBe(
      'Lock "l": acquire() timed out after 0 ms',
    );
    const semaphore = new Semaphore(0, { name: 's' });
    expect((await errorOf(() => semaphore.acquire({ timeout: 0 }))).message).toBe(
      'Semaphore "s": acquire() timed out after 0 ms',
    );
    release();
  });

  it('accepts a signal from elsewhere that has what waits use (duck-typed)', async () => {
    const controller = new AbortController();
    const { signal } = controller;
    const lookalike = {
      get aborted() {
        return signal.aborted;
      },
      get reason() {
        return signal.reason;
      },
      addEventListener: signal.addEventListener.bind(signal),
      removeEventListener: signal.removeEventListener.bind(signal),
    };
    const wait = new Event().wait({ signal: lookalike as unknown as AbortSignal });
    controller.abort('stop');
    expect(await errorOf(() => wait)).toBe('stop');
  });
});
