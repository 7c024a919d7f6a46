/**
 * LockManager: behaviour that mutation testing found unchecked by `lock-manager.test.ts`: the
 * exact messages of its argument errors, when a callback that returns at once releases its lock,
 * callbacks that return thenable functions, and the empty name beside other names in use.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LockInfo, LockManager, type LockRequestOptions } from '../src/index.js';
import { expectNothingLeftFake, flushMicrotasks, rejectionOf, type Tracked, track } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A request whose callback holds the lock until the test says so. */
interface Held {
  readonly outcome: Tracked<unknown>;
  /** Whether the callback was called. */
  called: boolean;
  /** Ends the hold: the callback's promise fulfils. */
  release(): void;
}

/** Requests `name` with a callback that holds the lock until `release()`. */
function hold(manager: LockManager, name: string, options: LockRequestOptions = {}): Held {
  let release: (value: unknown) => void = () => {};
  const done = new Promise<unknown>((resolve) => {
    release = resolve;
  });
  const held = { called: false, release: () => release(undefined) } as Held;
  (held as { outcome: Tracked<unknown> }).outcome = track(
    manager.request(name, options, () => {
      held.called = true;
      return done;
    }),
  );
  return held;
}

/** Checks that the manager holds and queues nothing, and has no timer left. */
async function expectEmpty(manager: LockManager): Promise<void> {
  await flushMicrotasks();
  expect(await manager.query()).toEqual({ held: [], pending: [] });
  expect(String(manager)).toMatch(/\[held:0, waiters:0\]$/);
  expectNothingLeftFake(manager);
}

const never = () => {
  throw new Error('the callback must not run');
};

/** The rejection of `request(...args)`, a call made with arguments of any type. */
function rejectionOfCall(manager: LockManager, ...args: unknown[]): Promise<unknown> {
  const request = manager.request as unknown as (...args: unknown[]) => Promise<unknown>;
  return rejectionOf(request.apply(manager, args));
}

/** Checks that `error` is an instance of `type` with exactly `message`. */
function expectError(error: unknown, type: ErrorConstructor, message: string): void {
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toBe(message);
}

describe('LockManager.request: the messages of its argument errors', () => {
  it.each<[string, unknown[], ErrorConstructor, string]>([
    ['a name that is a number', [1, never], TypeError, 'The "name" argument must be a string, got number'],
    ['a name that is null', [null, never], TypeError, 'The "name" argument must be a string, got null'],
    [
      'options that are null',
      ['res', null, never],
      TypeError,
      'The "options" argument must be an object or undefined, got null',
    ],
    [
      'options that are a string',
      ['res', 'fast', never],
      TypeError,
      'The "options" argument must be an object or undefined, got string',
    ],
    [
      'ifAvailable: 1',
      ['res', { ifAvailable: 1 }, never],
      TypeError,
      'The "ifAvailable" option must be a boolean, got number',
    ],
    [
      'mode: "foo"',
      ['res', { mode: 'foo' }, never],
      TypeError,
      'The "mode" option must be "exclusive" or "shared", got "foo"',
    ],
    ['mode: ""', ['res', { mode: '' }, never], TypeError, 'The "mode" option must be "exclusive" or "shared", got ""'],
    [
      'mode: null',
      ['res', { mode: null }, never],
      TypeError,
      'The "mode" option must be "exclusive" or "shared", got null',
    ],
    [
      'mode: 1',
      ['res', { mode: 1 }, never],
      TypeError,
      'The "mode" option must be "exclusive" or "shared", got number',
    ],
    [
      'mode: an object',
      ['res', { mode: {} }, never],
      TypeError,
      'The "mode" option must be "exclusive" or "shared", got object',
    ],
    [
      'signal: an object',
      ['res', { signal: {} }, never],
      TypeError,
      'The "signal" option must be an AbortSignal, got object',
    ],
    [
      'signal: null',
      ['res', { signal: null }, never],
      TypeError,
      'The "signal" option must be an AbortSignal, got null',
    ],
    ['steal: null', ['res', { steal: null }, never], TypeError, 'The "steal" option must be a boolean, got null'],
    [
      'timeout: "100"',
      ['res', { timeout: '100' }, never],
      TypeError,
      'The "timeout" option must be a number of milliseconds, got string',
    ],
    [
      'timeout: -1',
      ['res', { timeout: -1 }, never],
      RangeError,
      'The "timeout" option must be >= 0 or Infinity, got -1',
    ],
    [
      'timeout: NaN',
      ['res', { timeout: Number.NaN }, never],
      RangeError,
      'The "timeout" option must be >= 0 or Infinity, got NaN',
    ],
    ['a callback that is a number', ['res', 42], TypeError, 'The "callback" argument must be a function, got number'],
    [
      'a callback that is null, after options',
      ['res', {}, null],
      TypeError,
      'The "callback" argument must be a function, got null',
    ],
  ])('rejects %s with that exact message', async (_, args, type, message) => {
    const manager = new LockManager();
    expectError(await rejectionOfCall(manager, ...args), type, message);
    await expectEmpty(manager);
  });

  it.each<[string, LockRequestOptions, string]>([
    [
      'signal with steal',
      { signal: new AbortController().signal, steal: true },
      'the "signal" option cannot be used with "steal"',
    ],
    [
      'signal with ifAvailable',
      { signal: new AbortController().signal, ifAvailable: true },
      'the "signal" option cannot be used with "ifAvailable"',
    ],
    ['timeout with steal', { timeout: 100, steal: true }, 'the "timeout" option cannot be used with "steal"'],
    [
      'timeout with ifAvailable',
      { timeout: 100, ifAvailable: true },
      'the "timeout" option cannot be used with "ifAvailable"',
    ],
    [
      'steal with ifAvailable',
      { steal: true, ifAvailable: true },
      'the "steal" and "ifAvailable" options exclude each other',
    ],
    ['steal with mode "shared"', { steal: true, mode: 'shared' }, 'the "steal" option needs mode "exclusive"'],
  ])('rejects %s with a NotSupportedError that names the manager and the options', async (_, options, why) => {
    const manager = new LockManager({ name: 'app' });
    const error = await rejectionOf(manager.request('res', options, never));
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('NotSupportedError');
    expect((error as DOMException).message).toBe(`LockManager "app": ${why}`);
    await expectEmpty(manager);
  });

  it('rejects a reserved name with a NotSupportedError quoting it', async () => {
    const manager = new LockManager();
    const error = await rejectionOf(manager.request('-x', never));
    expect((error as DOMException).name).toBe('NotSupportedError');
    expect((error as DOMException).message).toBe('LockManager: lock names starting with "-" are reserved, got "-x"');
    await expectEmpty(manager);
  });
});

describe('LockManager.request: when the hold of a callback ends', () => {
  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['a string', 'done'],
    ['false', false],
    ['a symbol', Symbol('done')],
    ['a bigint', BigInt(7)],
  ])(
    'releases the lock as a callback returning %s returns: whoever waits is granted before any later microtask',
    async (_, value) => {
      const manager = new LockManager();
      const first = track(manager.request('res', () => value));
      const next = hold(manager, 'res', { mode: 'shared' });
      const seen: Array<[number, LockInfo[]]> = [];
      // Queued after the microtask in which the first callback runs, so it runs right after that
      // callback returned, before any microtask that callback's return could have queued.
      void Promise.resolve().then(async () => {
        const waiting = manager.waiterCount;
        seen.push([waiting, (await manager.query()).held]);
      });
      expect(manager.waiterCount).toBe(1);
      await flushMicrotasks();
      expect(seen).toEqual([[0, [{ name: 'res', mode: 'shared' }]]]);
      expect(first.status).toBe('fulfilled');
      expect(first.value).toBe(value);
      expect(next.called).toBe(true);
      next.release();
      await expectEmpty(manager);
    },
  );

  it('holds the lock while a thenable function that the callback returns has not settled', async () => {
    const manager = new LockManager();
    let settle: (value: unknown) => void = () => {};
    // A function with a `then` method is a thenable, as an object with one is.
    const thenable = Object.assign(() => 'not called', {
      // biome-ignore lint/suspicious/noThenProperty: the thenable under test.
      then(resolve: (value: unknown) => void) {
        settle = resolve;
      },
    });
    const first = track(manager.request('res', () => thenable as unknown as PromiseLike<unknown>));
    const next = hold(manager, 'res');
    await flushMicrotasks();
    expect(first.status).toBe('pending');
    expect(next.called).toBe(false);
    expect(manager.waiterCount).toBe(1);
    expect(await manager.query()).toEqual({
      held: [{ name: 'res', mode: 'exclusive' }],
      pending: [{ name: 'res', mode: 'exclusive' }],
    });
    settle('settled');
    await flushMicrotasks();
    expect(first.value).toBe('settled');
    expect(next.called).toBe(true);
    next.release();
    await expectEmpty(manager);
  });

  it('settles with a function that the callback returns, when it is not a thenable', async () => {
    const manager = new LockManager();
    const fn = () => 'not called';
    expect(await manager.request('res', () => fn)).toBe(fn);
    await expectEmpty(manager);
  });
});

describe('LockManager.request: names', () => {
  it('grants the empty name while other names are in use, as any other name', async () => {
    const manager = new LockManager();
    const a = hold(manager, 'a');
    const b = hold(manager, 'b');
    const empty = hold(manager, '');
    await flushMicrotasks();
    expect(empty.called).toBe(true);
    expect(await manager.request('', { ifAvailable: true }, (lock) => lock)).toBeNull();
    expect((await manager.query()).held).toEqual([
      { name: 'a', mode: 'exclusive' },
      { name: 'b', mode: 'exclusive' },
      { name: '', mode: 'exclusive' },
    ]);
    const waiting = hold(manager, '', { mode: 'shared' });
    expect(manager.waiterCount).toBe(1);
    for (const h of [a, b, empty]) h.release();
    await flushMicrotasks();
    expect(waiting.called).toBe(true);
    waiting.release();
    await expectEmpty(manager);
  });
});
