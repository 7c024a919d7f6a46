/**
 * LockManager: the Web Locks API in process (README: LockManager).
 *
 * The groups marked "WPT" port what the web-platform-tests `web-locks/` directory checks of
 * `navigator.locks` that applies outside a browser (not frames, workers, clients, bfcache or
 * non-fully-active documents), each naming the WPT file it follows; they are our own tests of the
 * same behaviour. The other groups check waitsafe's additions and rules: timeouts, giving up at
 * any queue position, nothing left behind, steal semantics, and per-name state that goes away.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LockInfo, LockManager, type LockRequestOptions } from '../src/index.js';
import {
  abortListeners,
  activeTimeouts,
  afterGc,
  callWithoutThrowing,
  expectLeakWarning,
  expectNothingLeftFake,
  expectNothingLeftReal,
  expectTimeoutError,
  flushMicrotasks,
  rejectionOf,
  spyOnWarnings,
  type Tracked,
  track,
} from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A request whose callback holds the lock until the test says so. */
interface Held {
  /** The request's promise, observed. */
  readonly outcome: Tracked<unknown>;
  /** Whether the callback was called, and with what. */
  called: boolean;
  lock: LockInfo | null | undefined;
  /** Ends the hold: the callback's promise fulfils with `value`. */
  release(value?: unknown): void;
  /** Ends the hold: the callback's promise rejects with `error`. */
  fail(error: unknown): void;
}

/** Requests `name` with a callback that holds the lock until `release()` or `fail()`. */
function hold(manager: LockManager, name: string, options: LockRequestOptions = {}): Held {
  let release: (value: unknown) => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const done = new Promise<unknown>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  // A hold ended before its callback ran must not be an unhandled rejection of the test's own.
  done.catch(() => {});
  const held: Held = {
    outcome: undefined as unknown as Tracked<unknown>,
    called: false,
    lock: undefined,
    release: (value) => release(value),
    fail: (error) => fail(error),
  };
  (held as { outcome: Tracked<unknown> }).outcome = track(
    manager.request(name, options, (lock) => {
      held.called = true;
      held.lock = lock;
      return done;
    }),
  );
  return held;
}

/** The modes of the entries of `list` named `name`, in order. */
function modes(list: readonly LockInfo[], name: string): string[] {
  return list.filter((info) => info.name === name).map((info) => info.mode);
}

/** Checks that `error` is a DOMException named `name`. */
function expectDomException(error: unknown, name: string): void {
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe(name);
}

/** Checks that the manager holds and queues nothing, and has no timer or listener left. */
async function expectEmpty(manager: LockManager, signals: readonly AbortSignal[] = []): Promise<void> {
  await flushMicrotasks();
  expect(await manager.query()).toEqual({ held: [], pending: [] });
  expect(String(manager)).toMatch(/\[held:0, waiters:0\]$/);
  expectNothingLeftFake(manager, signals);
}

const never = () => {
  throw new Error('the callback must not run');
};

// ---------------------------------------------------------------------------------------------

describe('LockManager.request: arguments (WPT acquire.https.any.js)', () => {
  it('requires a name and a callback: TypeErrors, never synchronous throws', async () => {
    const manager = new LockManager();
    const call = manager.request as unknown as (...args: unknown[]) => Promise<unknown>;
    expect(await rejectionOf(callWithoutThrowing(() => call.call(manager)))).toBeInstanceOf(TypeError);
    expect(await rejectionOf(callWithoutThrowing(() => call.call(manager, 'res')))).toBeInstanceOf(TypeError);
    await expectEmpty(manager);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a number', 123],
    ['a string', 'abc'],
    ['an array', []],
    ['an object', {}],
    ['a promise', new Promise(() => {})],
  ])('rejects a callback that is %s with a TypeError naming "callback"', async (_, callback) => {
    const manager = new LockManager();
    const request = manager.request as unknown as (...args: unknown[]) => Promise<unknown>;
    for (const args of [
      ['res', callback],
      ['res', {}, callback],
    ]) {
      const error = await rejectionOf(callWithoutThrowing(() => request.apply(manager, args)));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain('"callback"');
    }
    await expectEmpty(manager);
  });

  it('takes mode "shared" or "exclusive" (default), and rejects others with a TypeError naming "mode"', async () => {
    const manager = new LockManager();
    for (const mode of ['foo', null, 'Exclusive', 1]) {
      const error = await rejectionOf(manager.request('res', { mode } as unknown as LockRequestOptions, never));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain('"mode"');
    }
    expect(await manager.request('res', { mode: 'exclusive' }, (lock) => lock?.mode)).toBe('exclusive');
    expect(await manager.request('res', { mode: 'shared' }, (lock) => lock?.mode)).toBe('shared');
    expect(await manager.request('res', { mode: undefined }, (lock) => lock?.mode)).toBe('exclusive');
    expect(await manager.request('res', (lock) => lock?.mode)).toBe('exclusive');
    await expectEmpty(manager);
  });

  it.each<[string, LockRequestOptions]>([
    ['steal with ifAvailable', { steal: true, ifAvailable: true }],
    ['steal with mode "shared"', { mode: 'shared', steal: true }],
    ['signal with steal', { signal: new AbortController().signal, steal: true }],
    ['signal with ifAvailable', { signal: new AbortController().signal, ifAvailable: true }],
    ['timeout with steal (a waitsafe addition)', { timeout: 100, steal: true }],
    ['timeout with ifAvailable (a waitsafe addition)', { timeout: 100, ifAvailable: true }],
    ['timeout Infinity with steal', { timeout: Number.POSITIVE_INFINITY, steal: true }],
  ])('rejects %s with a NotSupportedError and registers nothing', async (_, options) => {
    const manager = new LockManager({ name: 'app' });
    const holder = hold(manager, 'res');
    const error = await rejectionOf(callWithoutThrowing(() => manager.request('res', options, never)));
    expectDomException(error, 'NotSupportedError');
    expect((error as Error).message).toContain('LockManager "app"');
    expect(await manager.query()).toEqual({ held: [{ name: 'res', mode: 'exclusive' }], pending: [] });
    expect(manager.waiterCount).toBe(0);
    holder.release();
    await expectEmpty(manager, options.signal ? [options.signal] : []);
  });

  it('accepts signal and timeout set to undefined beside steal and ifAvailable', async () => {
    const manager = new LockManager();
    expect(await manager.request('res', { steal: true, signal: undefined, timeout: undefined }, (l) => l?.mode)).toBe(
      'exclusive',
    );
    expect(await manager.request('res', { ifAvailable: true, signal: undefined }, (l) => l?.name)).toBe('res');
    await expectEmpty(manager);
  });

  it('ignores option keys it does not know, as WebIDL does for navigator.locks', async () => {
    const manager = new LockManager();
    const options = { mode: 'shared', priority: 'high', timout: 5 } as LockRequestOptions;
    expect(await manager.request('res', options, (lock) => lock)).toEqual({ name: 'res', mode: 'shared' });
    await expectEmpty(manager);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'fast'],
    ['a number', 100],
    ['a boolean', true],
  ])('rejects options that are %s with a TypeError naming "options"', async (_, options) => {
    const manager = new LockManager();
    const error = await rejectionOf(manager.request('res', options as LockRequestOptions, never));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain('"options"');
    await expectEmpty(manager);
  });

  it.each<[string, Record<string, unknown>, string, ErrorConstructor]>([
    ['ifAvailable: 1', { ifAvailable: 1 }, '"ifAvailable"', TypeError],
    ['ifAvailable: "yes"', { ifAvailable: 'yes' }, '"ifAvailable"', TypeError],
    ['steal: null', { steal: null }, '"steal"', TypeError],
    ['timeout: "100"', { timeout: '100' }, '"timeout"', TypeError],
    ['timeout: null', { timeout: null }, '"timeout"', TypeError],
    ['timeout: -1', { timeout: -1 }, '"timeout"', RangeError],
    ['timeout: NaN', { timeout: Number.NaN }, '"timeout"', RangeError],
  ])('rejects %s with an error naming the option', async (_, options, named, type) => {
    const manager = new LockManager();
    const error = await rejectionOf(manager.request('res', options as LockRequestOptions, never));
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toContain(named);
    await expectEmpty(manager);
  });

  it('rejects a name that is not a string with a TypeError naming "name" (no conversion to a string)', async () => {
    const manager = new LockManager();
    for (const name of [1, undefined, null, { toString: () => 'x' }, Symbol('x')]) {
      const error = await rejectionOf(manager.request(name as unknown as string, never));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain('"name"');
    }
    await expectEmpty(manager);
  });

  it('reports type errors first, then NotSupportedError, then an already-aborted signal', async () => {
    const manager = new LockManager();
    const aborted = AbortSignal.abort('already');
    const bogus = { mode: 'bogus' } as unknown as LockRequestOptions;
    expect(await rejectionOf(manager.request('-x', bogus, never))).toBeInstanceOf(TypeError);
    expect(await rejectionOf(manager.request('-x', {}, 42 as unknown as () => void))).toBeInstanceOf(TypeError);
    expect(await rejectionOf(manager.request('x', { signal: aborted }, null as unknown as () => void))).toBeInstanceOf(
      TypeError,
    );
    expectDomException(await rejectionOf(manager.request('-x', { signal: aborted }, never)), 'NotSupportedError');
    expectDomException(
      await rejectionOf(manager.request('x', { signal: aborted, steal: true }, never)),
      'NotSupportedError',
    );
    expect(await rejectionOf(manager.request('x', { signal: aborted, timeout: -1 }, never))).toBeInstanceOf(RangeError);
    expect(await rejectionOf(manager.request('x', { signal: aborted, timeout: 0 }, never))).toBe('already');
    await expectEmpty(manager, [aborted]);
  });

  it('rejects with the error a getter of options throws, without throwing synchronously', async () => {
    const manager = new LockManager();
    const error = new Error('getter');
    const options = Object.defineProperty({}, 'mode', {
      get() {
        throw error;
      },
    });
    expect(await rejectionOf(callWithoutThrowing(() => manager.request('res', options, never)))).toBe(error);
    await expectEmpty(manager);
  });

  it('reads each option once, so a getter cannot pass validation and then change', async () => {
    const manager = new LockManager();
    const reads: string[] = [];
    const options = {};
    let timeoutReads = 0;
    for (const key of ['ifAvailable', 'mode', 'signal', 'steal']) {
      Object.defineProperty(options, key, {
        get: () => {
          reads.push(key);
          return undefined;
        },
      });
    }
    Object.defineProperty(options, 'timeout', {
      get: () => {
        reads.push('timeout');
        return timeoutReads++ === 0 ? 50 : -1;
      },
    });
    const holder = hold(manager, 'res');
    const waiting = track(manager.request('res', options, never));
    expect(reads).toEqual(['ifAvailable', 'mode', 'signal', 'steal', 'timeout']);
    vi.advanceTimersByTime(50);
    await flushMicrotasks();
    expectTimeoutError(waiting.reason);
    holder.release();
    await expectEmpty(manager);
  });
});

describe('LockManager.request: resource names (WPT resource-names.https.any.js)', () => {
  it.each([
    ['the empty string', ''],
    ['an embedded NUL', 'abc\x00def'],
    ['an unpaired low surrogate', '\uD800'],
    ['an unpaired high surrogate', '\uDC00'],
    ['a swapped surrogate pair', '\uDC00\uD800'],
    ['a non-character', '\uFFFF'],
  ])('grants a lock whose name is %s, with that exact name', async (_, name) => {
    const manager = new LockManager();
    expect(await manager.request(name, (lock) => lock?.name)).toBe(name);
    await expectEmpty(manager);
  });

  it('does not mangle names that are not valid UTF-16: "\\uD800" and "\\uFFFD" are distinct locks', async () => {
    const manager = new LockManager();
    const lone = hold(manager, '\uD800');
    expect(await manager.request('\uFFFD', { ifAvailable: true }, (lock) => lock?.name)).toBe('\uFFFD');
    lone.release();
    await expectEmpty(manager);
  });

  it('rejects names starting with "-" with a NotSupportedError, and accepts an embedded "-"', async () => {
    const manager = new LockManager();
    for (const name of ['-', '-foo']) {
      const error = await rejectionOf(manager.request(name, never));
      expectDomException(error, 'NotSupportedError');
      expect((error as Error).message).toContain('LockManager');
    }
    expect(await manager.request('x-anything', () => 'got it')).toBe('got it');
    await expectEmpty(manager);
  });

  it('treats names like "__proto__" and "constructor" as ordinary names', async () => {
    const manager = new LockManager();
    const proto = hold(manager, '__proto__');
    const ctor = hold(manager, 'constructor');
    await flushMicrotasks();
    expect(proto.called && ctor.called).toBe(true);
    expect(modes((await manager.query()).held, '__proto__')).toEqual(['exclusive']);
    proto.release();
    ctor.release();
    await expectEmpty(manager);
  });
});

describe('LockManager.request: the callback and the held lock (WPT held.tentative.https.any.js, acquire.https.any.js)', () => {
  it('calls the callback asynchronously, with a plain frozen { name, mode } and no this', async () => {
    const manager = new LockManager();
    const seen: Array<{ lock: LockInfo | null; self: unknown }> = [];
    const done = manager.request('res', { mode: 'shared' }, function (this: unknown, lock) {
      seen.push({ lock, self: this });
      return 'ok';
    });
    expect(seen).toEqual([]);
    expect(await done).toBe('ok');
    expect(seen).toHaveLength(1);
    const { lock, self } = seen[0] as { lock: LockInfo; self: unknown };
    expect(self).toBeUndefined();
    expect(Object.getPrototypeOf(lock)).toBe(Object.prototype);
    expect(Object.isFrozen(lock)).toBe(true);
    expect(Object.keys(lock).sort()).toEqual(['mode', 'name']);
    expect(lock).toEqual({ name: 'res', mode: 'shared' });
  });

  it('returns a native promise that resolves with what a synchronous callback returns', async () => {
    const manager = new LockManager();
    const p = manager.request('res', () => 123);
    expect(Promise.resolve(p)).toBe(p);
    expect(await p).toBe(123);
  });

  it('holds the lock until the promise the callback returns resolves', async () => {
    const manager = new LockManager();
    const order: string[] = [];
    const first = hold(manager, 'res');
    await flushMicrotasks();
    expect(first.lock).toEqual({ name: 'res', mode: 'exclusive' });
    const second = manager.request('res', () => {
      order.push('2nd lock granted');
    });
    vi.advanceTimersByTime(50);
    await flushMicrotasks();
    expect(order).toEqual([]);
    order.push('1st lock released');
    first.release('first value');
    await second;
    expect(order).toEqual(['1st lock released', '2nd lock granted']);
    expect(first.outcome.value).toBe('first value');
    await expectEmpty(manager);
  });

  it('holds the lock until the promise the callback returns rejects, and rejects with its error', async () => {
    const manager = new LockManager();
    const order: string[] = [];
    const first = hold(manager, 'res');
    const second = manager.request('res', () => {
      order.push('2nd lock granted');
    });
    await flushMicrotasks();
    expect(order).toEqual([]);
    const error = new Error('the work failed');
    order.push('reject');
    first.fail(error);
    await second;
    await flushMicrotasks();
    expect(order).toEqual(['reject', '2nd lock granted']);
    expect(first.outcome.reason).toBe(error);
    await expectEmpty(manager);
  });

  it("resolves the request's promise after the lock is released", async () => {
    const manager = new LockManager();
    let release: () => void = () => {};
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    const returned = manager.request('res', () => promise);
    const order: string[] = [];
    returned.then(() => order.push('returned'));
    promise.then(() => order.push('holding'));
    await flushMicrotasks();
    release();
    await Promise.all([returned, promise]);
    expect(order).toEqual(['holding', 'returned']);
  });

  it('rejects with the exact value the callback throws, synchronously or asynchronously', async () => {
    const manager = new LockManager();
    const thrown = { name: 'test' };
    expect(
      await rejectionOf(
        manager.request('res', () => {
          throw thrown;
        }),
      ),
    ).toBe(thrown);
    expect(
      await rejectionOf(
        manager.request('res', async () => {
          throw thrown;
        }),
      ),
    ).toBe(thrown);
    await expectEmpty(manager);
  });

  it('does not call then() of a thenable the callback throws', async () => {
    const manager = new LockManager();
    let thenCalled = false;
    const thrown = {
      // biome-ignore lint/suspicious/noThenProperty: the test is about a thrown thenable.
      then: () => {
        thenCalled = true;
      },
    };
    // Observed with track(): a handler that returned the thenable would call its then().
    const asynchronously = track(
      manager.request('res', async () => {
        throw thrown;
      }),
    );
    const synchronously = track(
      manager.request('res', () => {
        throw thrown;
      }),
    );
    await flushMicrotasks();
    expect(asynchronously.reason).toBe(thrown);
    expect(synchronously.reason).toBe(thrown);
    expect(thenCalled).toBe(false);
  });

  it('adopts a thenable the callback returns, and holds the lock until it settles', async () => {
    const manager = new LockManager();
    let settle: (value: string) => void = () => {};
    const thenable = {
      // biome-ignore lint/suspicious/noThenProperty: the test is about a returned thenable.
      then(onFulfilled: (value: string) => void) {
        settle = onFulfilled;
      },
    };
    const first = track(manager.request('res', () => thenable as unknown as PromiseLike<string>));
    const second = track(manager.request('res', () => 'second'));
    await flushMicrotasks();
    expect(second.status).toBe('pending');
    settle('from the thenable');
    await flushMicrotasks();
    expect(first.value).toBe('from the thenable');
    expect(second.value).toBe('second');
    await expectEmpty(manager);
  });

  it('releases the lock and rejects when the returned promise has a constructor getter that throws', async () => {
    const manager = new LockManager();
    const hostile = Promise.resolve('never seen');
    const error = new Error('constructor getter');
    Object.defineProperty(hostile, 'constructor', {
      get() {
        throw error;
      },
    });
    expect(await rejectionOf(manager.request('res', () => hostile))).toBe(error);
    expect(await manager.request('res', () => 'next')).toBe('next');
    await expectEmpty(manager);
  });

  it('gives each grant its own lock object, also to shared holders of one name', async () => {
    const manager = new LockManager();
    const a = hold(manager, 'res', { mode: 'shared' });
    const b = hold(manager, 'res', { mode: 'shared' });
    await flushMicrotasks();
    expect(a.lock).toEqual(b.lock);
    expect(a.lock).not.toBe(b.lock);
    a.release();
    b.release();
    await expectEmpty(manager);
  });

  it('prevents the same caller from acquiring a lock it holds (ifAvailable gets null)', async () => {
    const manager = new LockManager();
    let inner: LockInfo | null | undefined;
    await manager.request('res', async () => {
      await manager.request('res', { ifAvailable: true }, (lock) => {
        inner = lock;
      });
    });
    expect(inner).toBeNull();
  });
});

describe('LockManager.request: exclusive mode (WPT mode-exclusive.https.any.js)', () => {
  it('grants requests for one name in order', async () => {
    const manager = new LockManager();
    const granted: number[] = [];
    const log = (n: number) => () => {
      granted.push(n);
    };
    await Promise.all([manager.request('a', log(1)), manager.request('a', log(2)), manager.request('a', log(3))]);
    expect(granted).toEqual([1, 2, 3]);
  });

  it('grants requests for distinct names independently', async () => {
    const manager = new LockManager();
    const granted: number[] = [];
    const log = (n: number) => () => {
      granted.push(n);
    };
    let inner: Promise<unknown> = Promise.resolve();
    await manager.request('a', async () => {
      inner = Promise.all([manager.request('a', log(1)), manager.request('b', log(2))]);
    });
    await inner;
    expect(granted).toEqual([2, 1]);
  });

  it('grants a free lock before request() returns, without counting a waiter', async () => {
    const manager = new LockManager();
    const held = hold(manager, 'a');
    expect(manager.waiterCount).toBe(0);
    expect(String(manager)).toBe('LockManager [held:1, waiters:0]');
    expect(held.called).toBe(false);
    expect(await manager.query()).toEqual({ held: [{ name: 'a', mode: 'exclusive' }], pending: [] });
    held.release();
    await expectEmpty(manager);
  });
});

describe('LockManager.request: shared mode (WPT mode-shared.https.any.js)', () => {
  it('grants shared requests in order, across names', async () => {
    const manager = new LockManager();
    const granted: number[] = [];
    const log = (n: number) => () => {
      granted.push(n);
    };
    await Promise.all(
      ['a', 'b', 'c', 'a', 'b', 'c'].map((name, i) => manager.request(name, { mode: 'shared' }, log(i + 1))),
    );
    expect(granted).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('lets shared holders of one name overlap', async () => {
    const manager = new LockManager();
    let again = false;
    await manager.request('a', { mode: 'shared' }, async () => {
      await manager.request('a', { mode: 'shared' }, () => {
        again = true;
      });
    });
    expect(again).toBe(true);
  });
});

describe('LockManager.request: mixed modes (WPT mode-mixed.https.any.js)', () => {
  it('grants in order: shared holders overlap, an exclusive request waits for them all', async () => {
    const manager = new LockManager();
    const granted: string[] = [];
    let unblock: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    for (const n of [1, 2, 3]) {
      void manager.request('a', { mode: 'shared' }, async () => {
        granted.push(`a-shared-${n}`);
        await blocked;
      });
    }
    let exclusiveLock: LockInfo | null = null;
    const exclusive = manager.request('a', async (lock) => {
      granted.push('a-exclusive');
      exclusiveLock = lock;
    });
    await manager.request('b', { mode: 'exclusive' }, () => {
      granted.push('b-exclusive');
    });
    expect(granted).toEqual(['a-shared-1', 'a-shared-2', 'a-shared-3', 'b-exclusive']);
    unblock();
    await exclusive;
    expect(exclusiveLock).toEqual({ name: 'a', mode: 'exclusive' });
    expect(granted).toEqual(['a-shared-1', 'a-shared-2', 'a-shared-3', 'b-exclusive', 'a-exclusive']);
  });

  it('grants the whole run of shared requests when an exclusive lock is released', async () => {
    const manager = new LockManager();
    const exclusive = hold(manager, 'res');
    const shared = Array.from({ length: 5 }, () => hold(manager, 'res', { mode: 'shared' }));
    let answer = await manager.query();
    expect(answer.held).toHaveLength(1);
    expect(answer.pending).toHaveLength(5);
    exclusive.release();
    await flushMicrotasks();
    answer = await manager.query();
    expect(modes(answer.held, 'res')).toEqual(['shared', 'shared', 'shared', 'shared', 'shared']);
    expect(answer.pending).toEqual([]);
    for (const s of shared) s.release();
    await expectEmpty(manager);
  });

  it('serves shared, then an exclusive lock between them, then the next shared run', async () => {
    const manager = new LockManager();
    const first = Array.from({ length: 5 }, () => hold(manager, 'res', { mode: 'shared' }));
    const exclusive = hold(manager, 'res');
    const second = Array.from({ length: 5 }, () => hold(manager, 'res', { mode: 'shared' }));
    let answer = await manager.query();
    expect(modes(answer.held, 'res')).toEqual(Array(5).fill('shared'));
    expect(modes(answer.pending, 'res')).toEqual(['exclusive', ...Array(5).fill('shared')]);
    for (const s of first) s.release();
    await flushMicrotasks();
    answer = await manager.query();
    expect(answer.held).toEqual([{ name: 'res', mode: 'exclusive' }]);
    exclusive.release();
    await flushMicrotasks();
    answer = await manager.query();
    expect(modes(answer.held, 'res')).toEqual(Array(5).fill('shared'));
    for (const s of second) s.release();
    await expectEmpty(manager);
  });

  it('lets a waiting exclusive request block later shared ones, even though they fit the holders', async () => {
    const manager = new LockManager();
    const reader = hold(manager, 'res', { mode: 'shared' });
    const writer = hold(manager, 'res');
    const late = hold(manager, 'res', { mode: 'shared' });
    await flushMicrotasks();
    expect([reader.called, writer.called, late.called]).toEqual([true, false, false]);
    expect(manager.waiterCount).toBe(2);
    reader.release();
    await flushMicrotasks();
    expect([writer.called, late.called]).toEqual([true, false]);
    writer.release();
    await flushMicrotasks();
    expect(late.called).toBe(true);
    late.release();
    await expectEmpty(manager);
  });

  it('grants only the shared run at the head: a shared request behind a waiting exclusive one keeps waiting', async () => {
    const manager = new LockManager();
    const writer = hold(manager, 'res');
    const r1 = hold(manager, 'res', { mode: 'shared' });
    const r2 = hold(manager, 'res', { mode: 'shared' });
    const w2 = hold(manager, 'res');
    const r3 = hold(manager, 'res', { mode: 'shared' });
    writer.release();
    await flushMicrotasks();
    expect([r1.called, r2.called, w2.called, r3.called]).toEqual([true, true, false, false]);
    expect(modes((await manager.query()).pending, 'res')).toEqual(['exclusive', 'shared']);
    r1.release();
    await flushMicrotasks();
    expect(w2.called).toBe(false);
    r2.release();
    await flushMicrotasks();
    expect([w2.called, r3.called]).toEqual([true, false]);
    w2.release();
    await flushMicrotasks();
    expect(r3.called).toBe(true);
    r3.release();
    await expectEmpty(manager);
  });
});

describe('LockManager.request: ifAvailable (WPT ifAvailable.https.any.js)', () => {
  it('grants an available lock', async () => {
    const manager = new LockManager();
    expect(await manager.request('res', { ifAvailable: true }, (lock) => lock)).toEqual({
      name: 'res',
      mode: 'exclusive',
    });
  });

  it('calls back with null when the lock is held, and resolves with what the callback returns', async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res');
    let seen: LockInfo | null | undefined;
    const result = manager.request('res', { ifAvailable: true }, async (lock) => {
      seen = lock;
      return 123;
    });
    expect(manager.waiterCount).toBe(0);
    expect(await result).toBe(123);
    expect(seen).toBeNull();
    holder.release();
    await expectEmpty(manager);
  });

  it('rejects with what the null callback throws, synchronously or asynchronously', async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res');
    expect(
      await rejectionOf(
        manager.request('res', { ifAvailable: true }, () => {
          throw 123;
        }),
      ),
    ).toBe(123);
    const error = { name: 'test' };
    expect(
      await rejectionOf(
        manager.request('res', { ifAvailable: true }, async () => {
          throw error;
        }),
      ),
    ).toBe(error);
    holder.release();
    await expectEmpty(manager);
  });

  it('grants a lock whose name is free while another name is held', async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res');
    expect(await manager.request('different', { ifAvailable: true }, (lock) => lock?.name)).toBe('different');
    holder.release();
    await expectEmpty(manager);
  });

  it.each<[string, 'shared' | 'exclusive', 'shared' | 'exclusive', boolean]>([
    ['a shared request while a shared lock is held: granted', 'shared', 'shared', true],
    ['an exclusive request while a shared lock is held: null', 'shared', 'exclusive', false],
    ['a shared request while an exclusive lock is held: null', 'exclusive', 'shared', false],
  ])('answers %s', async (_, heldMode, mode, granted) => {
    const manager = new LockManager();
    const holder = hold(manager, 'res', { mode: heldMode });
    const lock = await manager.request('res', { mode, ifAvailable: true }, (l) => l);
    expect(lock).toEqual(granted ? { name: 'res', mode } : null);
    holder.release();
    await expectEmpty(manager);
  });

  it('calls back with null when a request waits ahead, even if the lock would fit the holders (FIFO)', async () => {
    const manager = new LockManager();
    const reader = hold(manager, 'res', { mode: 'shared' });
    const writer = hold(manager, 'res');
    expect(await manager.request('res', { mode: 'shared', ifAvailable: true }, (l) => l)).toBeNull();
    reader.release();
    await flushMicrotasks();
    writer.release();
    await expectEmpty(manager);
  });

  it('sees a lock as available once its previous release is processed', async () => {
    const manager = new LockManager();
    let third: LockInfo | null | undefined;
    await manager.request('res1', async () => {
      await manager.request('res2', async () => {});
      await manager.request('res2', { ifAvailable: true }, async (lock) => {
        third = lock;
      });
    });
    expect(third).toEqual({ name: 'res2', mode: 'exclusive' });
  });
});

describe('LockManager.request: steal (WPT steal.https.any.js)', () => {
  it('grants an available lock', async () => {
    const manager = new LockManager();
    expect(await manager.request('res', { steal: true }, (lock) => lock)).toEqual({ name: 'res', mode: 'exclusive' });
  });

  it("grants a held lock at once, and rejects the holder's request with an AbortError", async () => {
    const manager = new LockManager({ name: 'app' });
    const holder = hold(manager, 'res');
    const thief = manager.request('res', { steal: true }, (lock) => lock);
    await flushMicrotasks();
    expectDomException(holder.outcome.reason, 'AbortError');
    expect((holder.outcome.reason as Error).message).toContain('LockManager "app"');
    expect((holder.outcome.reason as Error).message).toContain('"res"');
    expect(await thief).toEqual({ name: 'res', mode: 'exclusive' });
    holder.release();
    await expectEmpty(manager);
  });

  it('is granted ahead of waiting requests, which are granted once the thief releases', async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res');
    let requestGranted = false;
    const waiting = manager.request('res', () => {
      requestGranted = true;
    });
    let grantedBeforeThief: boolean | undefined;
    await manager.request('res', { steal: true }, () => {
      grantedBeforeThief = requestGranted;
    });
    expect(grantedBeforeThief).toBe(false);
    await waiting;
    expect(requestGranted).toBe(true);
    expectDomException(holder.outcome.reason, 'AbortError');
    await expectEmpty(manager);
  });

  it('lets the last caller win: a second steal takes the lock from the first thief', async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res');
    const firstThief = hold(manager, 'res', { steal: true });
    await manager.request('res', { steal: true }, () => {});
    await flushMicrotasks();
    expectDomException(holder.outcome.reason, 'AbortError');
    expectDomException(firstThief.outcome.reason, 'AbortError');
    holder.release();
    firstThief.release();
    await expectEmpty(manager);
  });

  it("rejects the stolen request before steal's request() returns, and keeps the stolen callback running", async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res');
    await flushMicrotasks();
    expect(holder.called).toBe(true);
    const thief = hold(manager, 'res', { steal: true });
    await flushMicrotasks();
    expectDomException(holder.outcome.reason, 'AbortError');
    // The stolen callback is still running; its end releases nothing and changes nothing.
    const next = hold(manager, 'res');
    holder.release('too late');
    await flushMicrotasks();
    expect(holder.outcome.settlements).toBe(1);
    expect(holder.outcome.status).toBe('rejected');
    expect(next.called).toBe(false);
    expect(await manager.query()).toEqual({
      held: [{ name: 'res', mode: 'exclusive' }],
      pending: [{ name: 'res', mode: 'exclusive' }],
    });
    thief.release('thief done');
    await flushMicrotasks();
    expect(thief.outcome.value).toBe('thief done');
    expect(next.called).toBe(true);
    next.release();
    await expectEmpty(manager);
  });

  it('calls the callback of a lock stolen before its callback ran (callbacks keep running)', async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res');
    const thief = hold(manager, 'res', { steal: true });
    expect(holder.called).toBe(false);
    await flushMicrotasks();
    expect(holder.called).toBe(true);
    expect(holder.lock).toEqual({ name: 'res', mode: 'exclusive' });
    expectDomException(holder.outcome.reason, 'AbortError');
    holder.release();
    thief.release();
    await expectEmpty(manager);
  });

  it('ends every shared hold of the name, and no other name', async () => {
    const manager = new LockManager();
    const readers = [hold(manager, 'res', { mode: 'shared' }), hold(manager, 'res', { mode: 'shared' })];
    const other = hold(manager, 'other', { mode: 'shared' });
    const thief = hold(manager, 'res', { steal: true });
    await flushMicrotasks();
    for (const reader of readers) expectDomException(reader.outcome.reason, 'AbortError');
    expect(other.outcome.status).toBe('pending');
    expect((await manager.query()).held).toEqual([
      { name: 'res', mode: 'exclusive' },
      { name: 'other', mode: 'shared' },
    ]);
    for (const reader of readers) reader.release();
    await flushMicrotasks();
    expect(String(manager)).toBe('LockManager [held:2, waiters:0]');
    thief.release();
    other.release();
    await expectEmpty(manager);
  });

  it('leaves the stolen rejection unhandled only if the caller does not handle it, like any promise', async () => {
    const manager = new LockManager();
    const stolen = manager.request('res', () => new Promise(() => {}));
    const caught = stolen.catch((error: unknown) => error);
    await manager.request('res', { steal: true }, () => {});
    expectDomException(await caught, 'AbortError');
    await expectEmpty(manager);
  });
});

describe('LockManager.request: signal (WPT signal.https.any.js)', () => {
  it.each<[string, unknown]>([
    ['a string', 'string'],
    ['a number', 12.34],
    ['false', false],
    ['a plain object', {}],
    ['a symbol', Symbol()],
    ['a function', () => {}],
    ['globalThis', globalThis],
    ['null', null],
  ])('rejects a signal that is %s with a TypeError naming "signal"', async (_, signal) => {
    const manager = new LockManager();
    const error = await rejectionOf(manager.request('res', { signal } as LockRequestOptions, never));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain('"signal"');
    await expectEmpty(manager);
  });

  it('rejects with the default AbortError, or the exact custom reason, of an already aborted signal', async () => {
    const manager = new LockManager();
    const plain = AbortSignal.abort();
    const error = await rejectionOf(manager.request('res', { signal: plain }, never));
    expect(error).toBe(plain.reason);
    expectDomException(error, 'AbortError');
    const reason = 'My dog ate it.';
    expect(await rejectionOf(manager.request('res', { signal: AbortSignal.abort(reason) }, never))).toBe(reason);
    await expectEmpty(manager, [plain]);
  });

  it('rejects an already aborted request even when the lock is free, and takes nothing', async () => {
    const manager = new LockManager();
    const signal = AbortSignal.abort('no');
    expect(await rejectionOf(manager.request('res', { signal, timeout: 100 }, never))).toBe('no');
    expect(abortListeners(signal)).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(await manager.request('res', { ifAvailable: true }, (lock) => lock?.name)).toBe('res');
    await expectEmpty(manager, [signal]);
  });

  it('rejects a waiting request with AbortError when aborted, and removes it from the queue', async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res');
    const controller = new AbortController();
    const waiting = track(manager.request('res', { signal: controller.signal }, never));
    expect(await manager.query()).toEqual({
      held: [{ name: 'res', mode: 'exclusive' }],
      pending: [{ name: 'res', mode: 'exclusive' }],
    });
    controller.abort();
    expect(manager.waiterCount).toBe(0);
    expect((await manager.query()).pending).toEqual([]);
    await flushMicrotasks();
    expect(waiting.reason).toBe(controller.signal.reason);
    expectDomException(waiting.reason, 'AbortError');
    holder.release();
    await expectEmpty(manager, [controller.signal]);
  });

  it('aborts a waiting request from a timer, with the custom reason', async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res');
    const controller = new AbortController();
    const waiting = track(manager.request('res', { signal: controller.signal }, never));
    setTimeout(() => controller.abort('My cat handled it'), 10);
    vi.advanceTimersByTime(10);
    await flushMicrotasks();
    expect(waiting.reason).toBe('My cat handled it');
    holder.release();
    await expectEmpty(manager, [controller.signal]);
  });

  it('grants a request whose signal is never aborted', async () => {
    const manager = new LockManager();
    const controller = new AbortController();
    expect(await manager.request('res', { signal: controller.signal }, async () => 'got it')).toBe('got it');
    await expectEmpty(manager, [controller.signal]);
  });

  it('ignores an abort once the lock is granted, and after it is released', async () => {
    const manager = new LockManager();
    const during = new AbortController();
    const holder = hold(manager, 'res', { signal: during.signal });
    await flushMicrotasks();
    during.abort();
    holder.release('resolved ok');
    await flushMicrotasks();
    expect(holder.outcome.value).toBe('resolved ok');
    const after = new AbortController();
    const second = hold(manager, 'res', { signal: after.signal });
    await flushMicrotasks();
    second.release('resolved ok');
    after.abort();
    await flushMicrotasks();
    expect(second.outcome.value).toBe('resolved ok');
    await expectEmpty(manager, [during.signal, after.signal]);
  });

  it('ignores an abort right after request() when the lock was free: it was granted before request() returned', async () => {
    // A browser grants a request a task later, so there such an abort wins (WPT "Synchronously
    // signaled abort"); waitsafe grants a free lock at once and hands it off (README: LockManager).
    const manager = new LockManager();
    const controller = new AbortController();
    const holder = hold(manager, 'res', { signal: controller.signal });
    controller.abort();
    await flushMicrotasks();
    expect(holder.called).toBe(true);
    holder.release('kept');
    await flushMicrotasks();
    expect(holder.outcome.value).toBe('kept');
    expect(await manager.request('res', () => 'next')).toBe('next');
    await expectEmpty(manager, [controller.signal]);
  });

  it('ignores an abort between a queued grant and its callback: the callback runs', async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res');
    const controller = new AbortController();
    const waiting = hold(manager, 'res', { signal: controller.signal });
    await flushMicrotasks();
    holder.release();
    await flushMicrotasks();
    expect(waiting.called).toBe(true);
    controller.abort();
    waiting.release('granted');
    await flushMicrotasks();
    expect(waiting.outcome.value).toBe('granted');
    await expectEmpty(manager, [controller.signal]);
  });

  it('processes the next waiting request when the request at the head is aborted', async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res', { mode: 'shared' });
    const controller = new AbortController();
    const head = track(manager.request('res', { signal: controller.signal }, never));
    const next = hold(manager, 'res', { mode: 'shared' });
    controller.abort();
    // Granted in the same synchronous step as the abort.
    expect(manager.waiterCount).toBe(0);
    expect(modes((await manager.query()).held, 'res')).toEqual(['shared', 'shared']);
    await flushMicrotasks();
    expect(next.called).toBe(true);
    expectDomException(head.reason, 'AbortError');
    holder.release();
    next.release();
    await expectEmpty(manager, [controller.signal]);
  });
});

describe('LockManager.query (WPT query.https.any.js, query-empty.https.any.js, query-ordering.https.html)', () => {
  it('resolves with empty held and pending arrays when nothing is held', async () => {
    const manager = new LockManager();
    const state = await manager.query();
    expect(Object.keys(state).sort()).toEqual(['held', 'pending']);
    expect(Array.isArray(state.held) && Array.isArray(state.pending)).toBe(true);
    expect(state).toEqual({ held: [], pending: [] });
  });

  it('lists held and pending locks as frozen { name, mode } objects', async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res');
    const waiting = hold(manager, 'res');
    const { held, pending } = await manager.query();
    for (const info of [...held, ...pending]) {
      expect(Object.keys(info).sort()).toEqual(['mode', 'name']);
      expect(Object.isFrozen(info)).toBe(true);
    }
    expect(held).toEqual([{ name: 'res', mode: 'exclusive' }]);
    expect(pending).toEqual([{ name: 'res', mode: 'exclusive' }]);
    holder.release();
    await flushMicrotasks();
    waiting.release();
    await expectEmpty(manager);
  });

  it('reports each held lock once, with its mode', async () => {
    const manager = new LockManager();
    await manager.request('res', async () => {
      expect(modes((await manager.query()).held, 'res')).toEqual(['exclusive']);
    });
    await manager.request('res', { mode: 'shared' }, async () => {
      expect(modes((await manager.query()).held, 'res')).toEqual(['shared']);
    });
  });

  it('reports several held locks, and shared holds with their count', async () => {
    const manager = new LockManager();
    await manager.request('res1', async () => {
      await manager.request('res2', { mode: 'shared' }, async () => {
        await manager.request('res2', { mode: 'shared' }, async () => {
          const state = await manager.query();
          expect(modes(state.held, 'res1')).toEqual(['exclusive']);
          expect(modes(state.held, 'res2')).toEqual(['shared', 'shared']);
        });
      });
    });
  });

  it('reports pending shared requests with their count', async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res');
    const a = hold(manager, 'res', { mode: 'shared' });
    const b = hold(manager, 'res', { mode: 'shared' });
    expect(await manager.request('res', { ifAvailable: true }, (lock) => lock)).toBeNull();
    const state = await manager.query();
    expect(modes(state.held, 'res')).toEqual(['exclusive']);
    expect(modes(state.pending, 'res')).toEqual(['shared', 'shared']);
    holder.release();
    await flushMicrotasks();
    a.release();
    b.release();
    await expectEmpty(manager);
  });

  it('lists the pending requests of one name in the order they were made, also after the queue turned over', async () => {
    const manager = new LockManager();
    const first = hold(manager, 'res');
    const waits = [
      hold(manager, 'res', { mode: 'shared' }),
      hold(manager, 'res'),
      hold(manager, 'res', { mode: 'shared' }),
    ];
    expect(modes((await manager.query()).pending, 'res')).toEqual(['shared', 'exclusive', 'shared']);
    const later = [hold(manager, 'res'), hold(manager, 'res', { mode: 'shared' })];
    first.release();
    await flushMicrotasks();
    expect(modes((await manager.query()).pending, 'res')).toEqual(['exclusive', 'shared', 'exclusive', 'shared']);
    for (const w of [...waits, ...later]) {
      w.release();
      await flushMicrotasks();
    }
    await expectEmpty(manager);
  });

  it('returns a snapshot: fresh arrays and objects, unaffected by later changes', async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res');
    const before = await manager.query();
    const again = await manager.query();
    expect(again.held).not.toBe(before.held);
    expect(again.held[0]).not.toBe(before.held[0]);
    holder.release();
    await flushMicrotasks();
    expect(before.held).toEqual([{ name: 'res', mode: 'exclusive' }]);
    await expectEmpty(manager);
  });

  it('is not affected by another manager: each LockManager is its own set of locks', async () => {
    const a = new LockManager();
    const b = new LockManager();
    const holder = hold(a, 'res');
    expect(await b.query()).toEqual({ held: [], pending: [] });
    expect(await b.request('res', { ifAvailable: true }, (lock) => lock?.name)).toBe('res');
    holder.release();
    await expectEmpty(a);
  });
});

describe('LockManager.request: timeout (waitsafe)', () => {
  it('rejects with a TimeoutError naming the manager, the lock and the milliseconds, and leaves nothing', async () => {
    const manager = new LockManager({ name: 'app' });
    const holder = hold(manager, 'orders');
    const waiting = track(manager.request('orders', { timeout: 250 }, never));
    vi.advanceTimersByTime(249);
    await flushMicrotasks();
    expect(waiting.status).toBe('pending');
    vi.advanceTimersByTime(1);
    expect(manager.waiterCount).toBe(0);
    await flushMicrotasks();
    expectTimeoutError(waiting.reason);
    expect(waiting.reason.message).toBe('LockManager "app": request("orders") timed out after 250 ms');
    holder.release();
    await expectEmpty(manager);
  });

  it('lets the shared run behind a timed-out head in, in the same synchronous step', async () => {
    const manager = new LockManager();
    const reader = hold(manager, 'res', { mode: 'shared' });
    const writer = track(manager.request('res', { timeout: 100 }, never));
    const readers = [hold(manager, 'res', { mode: 'shared' }), hold(manager, 'res', { mode: 'shared' })];
    const lateWriter = hold(manager, 'res');
    expect(manager.waiterCount).toBe(4);
    vi.advanceTimersByTime(100);
    expect(manager.waiterCount).toBe(1);
    expect(String(manager)).toBe('LockManager [held:3, waiters:1]');
    await flushMicrotasks();
    expectTimeoutError(writer.reason);
    expect(readers.map((r) => r.called)).toEqual([true, true]);
    expect(lateWriter.called).toBe(false);
    for (const r of [reader, ...readers]) r.release();
    await flushMicrotasks();
    expect(lateWriter.called).toBe(true);
    lateWriter.release();
    await expectEmpty(manager);
  });

  it('with timeout: 0, takes a free lock, and otherwise rejects at once without counting or arming anything', async () => {
    const manager = new LockManager({ name: 'zero' });
    expect(await manager.request('res', { timeout: 0 }, (lock) => lock?.name)).toBe('res');
    const holder = hold(manager, 'res');
    const controller = new AbortController();
    const zero = track(manager.request('res', { timeout: 0, signal: controller.signal }, never));
    expect(manager.waiterCount).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(abortListeners(controller.signal)).toBe(0);
    await flushMicrotasks();
    expectTimeoutError(zero.reason);
    expect(zero.reason.message).toBe('LockManager "zero": request("res") timed out after 0 ms');
    holder.release();
    await expectEmpty(manager, [controller.signal]);
  });

  it('with timeout: 0, rejects a request that fits the holders when another waits ahead (FIFO)', async () => {
    const manager = new LockManager();
    const reader = hold(manager, 'res', { mode: 'shared' });
    const writer = hold(manager, 'res');
    expectTimeoutError(await rejectionOf(manager.request('res', { mode: 'shared', timeout: 0 }, never)));
    expect(manager.waiterCount).toBe(1);
    reader.release();
    await flushMicrotasks();
    writer.release();
    await expectEmpty(manager);
  });

  it('keeps a grant that came before the timeout elapsed', async () => {
    const manager = new LockManager();
    const holder = hold(manager, 'res');
    const waiting = hold(manager, 'res', { timeout: 100 });
    vi.advanceTimersByTime(60);
    holder.release();
    await flushMicrotasks();
    vi.advanceTimersByTime(100);
    await flushMicrotasks();
    expect(waiting.called).toBe(true);
    waiting.release('in time');
    await flushMicrotasks();
    expect(waiting.outcome.value).toBe('in time');
    await expectEmpty(manager);
  });

  it('shares one timer among requests with the same timeout, across names', async () => {
    const manager = new LockManager();
    const holders = ['a', 'b', 'c'].map((name) => hold(manager, name));
    const waits = ['a', 'b', 'c', 'a'].map((name) => track(manager.request(name, { timeout: 100 }, never)));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    await flushMicrotasks();
    for (const w of waits) expectTimeoutError(w.reason);
    for (const h of holders) h.release();
    await expectEmpty(manager);
  });
});

describe('LockManager.request: giving up at any queue position (waitsafe)', () => {
  it.each([0, 1, 2, 3])(
    'aborting the waiting request at position %i keeps the order of the others and leaves nothing',
    async (position) => {
      const manager = new LockManager();
      const holder = hold(manager, 'res');
      const modesInQueue: Array<'shared' | 'exclusive'> = ['exclusive', 'shared', 'shared', 'exclusive'];
      const controllers = modesInQueue.map(() => new AbortController());
      const granted: number[] = [];
      const outcomes = modesInQueue.map((mode, i) =>
        track(
          manager.request('res', { mode, signal: (controllers[i] as AbortController).signal }, async () => {
            granted.push(i);
            await flushMicrotasks();
          }),
        ),
      );
      (controllers[position] as AbortController).abort(`out ${position}`);
      expect(manager.waiterCount).toBe(3);
      expect(abortListeners((controllers[position] as AbortController).signal)).toBe(0);
      expect(modes((await manager.query()).pending, 'res')).toEqual(modesInQueue.filter((_, i) => i !== position));
      holder.release();
      for (let i = 0; i < 10; i++) await flushMicrotasks();
      expect(granted).toEqual([0, 1, 2, 3].filter((i) => i !== position));
      expect(outcomes[position]?.reason).toBe(`out ${position}`);
      await expectEmpty(
        manager,
        controllers.map((c) => c.signal),
      );
    },
  );

  it('grants whoever fits when the head gives up, by abort or timeout, across several names', async () => {
    const manager = new LockManager();
    const readers = ['x', 'y'].map((name) => hold(manager, name, { mode: 'shared' }));
    const controller = new AbortController();
    const xHead = track(manager.request('x', { signal: controller.signal }, never));
    const yHead = track(manager.request('y', { timeout: 5 }, never));
    const xNext = hold(manager, 'x', { mode: 'shared' });
    const yNext = hold(manager, 'y', { mode: 'shared' });
    expect(manager.waiterCount).toBe(4);
    controller.abort('gone');
    expect(manager.waiterCount).toBe(2);
    vi.advanceTimersByTime(5);
    expect(manager.waiterCount).toBe(0);
    await flushMicrotasks();
    expect(xHead.reason).toBe('gone');
    expectTimeoutError(yHead.reason);
    expect([xNext.called, yNext.called]).toEqual([true, true]);
    for (const h of [...readers, xNext, yNext]) h.release();
    await expectEmpty(manager, [controller.signal]);
  });

  it('rejects every request on an aborted signal, also those behind the head that would now fit', async () => {
    const manager = new LockManager();
    const reader = hold(manager, 'res', { mode: 'shared' });
    const controller = new AbortController();
    const head = track(manager.request('res', { signal: controller.signal }, never));
    const behind = track(manager.request('res', { mode: 'shared', signal: controller.signal }, never));
    const plain = hold(manager, 'res', { mode: 'shared' });
    controller.abort('all of them');
    expect(manager.waiterCount).toBe(0);
    await flushMicrotasks();
    expect(head.reason).toBe('all of them');
    expect(behind.reason).toBe('all of them');
    expect(plain.called).toBe(true);
    reader.release();
    plain.release();
    await expectEmpty(manager, [controller.signal]);
  });

  it("never grants a request whose signal aborted, even before the abort reaches it (another of the signal's listeners made room)", async () => {
    const manager = new LockManager();
    const reader = hold(manager, 'res', { mode: 'shared' });
    const first = new AbortController();
    const second = new AbortController();
    // Registered before the request's own listener: it runs first, and its abort makes room.
    second.signal.addEventListener('abort', () => first.abort('head left'));
    const head = track(manager.request('res', { signal: first.signal }, never));
    const behind = track(manager.request('res', { mode: 'shared', signal: second.signal }, never));
    second.abort('behind left');
    expect(manager.waiterCount).toBe(0);
    await flushMicrotasks();
    expect(head.reason).toBe('head left');
    expect(behind.reason).toBe('behind left');
    expect(modes((await manager.query()).held, 'res')).toEqual(['shared']);
    reader.release();
    await expectEmpty(manager, [first.signal]);
  });

  it('grants a request behind a head that times out at the same moment, if it then fits: expiries run one at a time', async () => {
    const manager = new LockManager();
    const reader = hold(manager, 'res', { mode: 'shared' });
    const head = track(manager.request('res', { timeout: 20 }, never));
    const behind = hold(manager, 'res', { mode: 'shared', timeout: 20 });
    vi.advanceTimersByTime(20);
    expect(manager.waiterCount).toBe(0);
    await flushMicrotasks();
    expectTimeoutError(head.reason);
    expect(behind.called).toBe(true);
    reader.release();
    behind.release();
    await expectEmpty(manager);
  });

  it('leaves no timer and no listener one real macrotask after requests abort, time out or are granted', async () => {
    vi.useRealTimers();
    const manager = new LockManager();
    const baseline = activeTimeouts();
    const shared = new AbortController();
    const own = new AbortController();
    const holder = hold(manager, 'res');
    const aborted = track(manager.request('res', { signal: own.signal, timeout: 60_000 }, never));
    const granted = hold(manager, 'res', { signal: shared.signal, timeout: 60_000 });
    const timingOut = manager.request('res', { signal: shared.signal, timeout: 1 }, never);
    expect(activeTimeouts()).toBeGreaterThan(baseline);
    own.abort('bye');
    // The 1 ms timeout fires on its own (a real timer), and the one behind it stays.
    expectTimeoutError(await rejectionOf(timingOut));
    expect(manager.waiterCount).toBe(1);
    holder.release();
    await flushMicrotasks();
    expect(granted.called).toBe(true);
    granted.release();
    await flushMicrotasks();
    expect(aborted.reason).toBe('bye');
    await expectNothingLeftReal(manager, [shared.signal, own.signal], baseline);
    expect(await manager.query()).toEqual({ held: [], pending: [] });
  });
});

describe('LockManager: per-name state (waitsafe)', () => {
  it('keeps nothing for a name once it is neither held nor requested', async () => {
    const manager = new LockManager({ name: 'app' });
    const holder = hold(manager, 'res');
    const controller = new AbortController();
    void manager.request('res', { signal: controller.signal }, never).catch(() => {});
    expect(String(manager)).toBe('LockManager "app" [held:1, waiters:1]');
    controller.abort();
    expect(String(manager)).toBe('LockManager "app" [held:1, waiters:0]');
    holder.release();
    await expectEmpty(manager, [controller.signal]);
    expect(String(manager)).toBe('LockManager "app" [held:0, waiters:0]');
  });

  it('forgets a name that is no longer used: it comes back as a new name, after names used meanwhile', async () => {
    // query() lists names in the order they came into use: a name whose state had been kept
    // would still come first.
    const manager = new LockManager();
    await manager.request('first', () => {});
    const controller = new AbortController();
    const blocker = hold(manager, 'second');
    void manager.request('second', { signal: controller.signal }, never).catch(() => {});
    controller.abort();
    blocker.release();
    await flushMicrotasks();
    const holds = ['middle', 'second', 'first'].map((name) => hold(manager, name));
    expect((await manager.query()).held.map((info) => info.name)).toEqual(['middle', 'second', 'first']);
    for (const h of holds) h.release();
    await expectEmpty(manager, [controller.signal]);
  });

  it('lists names in the order they came into use, whether or not another was in use when they did', async () => {
    const manager = new LockManager();
    const names = async () => (await manager.query()).held.map((info) => info.name);
    const a = hold(manager, 'a'); // in use alone
    const b = hold(manager, 'b');
    a.release();
    await flushMicrotasks();
    const c = hold(manager, 'c');
    const again = hold(manager, 'a');
    expect(await names()).toEqual(['b', 'c', 'a']);
    b.release();
    c.release();
    await flushMicrotasks();
    const d = hold(manager, 'd');
    expect(await names()).toEqual(['a', 'd']);
    again.release();
    d.release();
    await expectEmpty(manager);
    const e = hold(manager, 'e'); // alone again
    const f = hold(manager, 'f');
    expect(await names()).toEqual(['e', 'f']);
    e.release();
    expect(await names()).toEqual(['e', 'f']);
    await flushMicrotasks();
    expect(await names()).toEqual(['f']);
    f.release();
    await expectEmpty(manager);
  });

  it("gives a name no longer in use nothing of the next name's, nor the next name anything of it", async () => {
    const manager = new LockManager();
    expect(await manager.request('p', (lock) => lock?.name)).toBe('p');
    const q = hold(manager, 'q');
    const p = hold(manager, 'p'); // granted at once: 'q' holds nothing of 'p'
    const q2 = hold(manager, 'q'); // waits for q
    await flushMicrotasks();
    expect([q.lock, p.lock, q2.called]).toEqual([
      { name: 'q', mode: 'exclusive' },
      { name: 'p', mode: 'exclusive' },
      false,
    ]);
    expect(await manager.query()).toEqual({
      held: [
        { name: 'q', mode: 'exclusive' },
        { name: 'p', mode: 'exclusive' },
      ],
      pending: [{ name: 'q', mode: 'exclusive' }],
    });
    p.release();
    q.release();
    await flushMicrotasks();
    expect(q2.lock).toEqual({ name: 'q', mode: 'exclusive' });
    q2.release();
    await expectEmpty(manager);
  });

  it('names the lock in the errors of requests of one name that time out together, also the name ""', async () => {
    const manager = new LockManager({ name: 'app' });
    const holder = hold(manager, 'res');
    const empty = hold(manager, '');
    const waits = ['res', 'res', ''].map((name) => track(manager.request(name, { timeout: 100 }, never)));
    vi.advanceTimersByTime(100);
    await flushMicrotasks();
    expect(waits.map((w) => (w.reason as Error).message)).toEqual([
      'LockManager "app": request("res") timed out after 100 ms',
      'LockManager "app": request("res") timed out after 100 ms',
      'LockManager "app": request("") timed out after 100 ms',
    ]);
    holder.release();
    await flushMicrotasks();
    // "" is still held: a new request of it waits, whatever became of the state of "res".
    const next = hold(manager, '');
    await flushMicrotasks();
    expect(next.called).toBe(false);
    expect(await manager.query()).toEqual({
      held: [{ name: '', mode: 'exclusive' }],
      pending: [{ name: '', mode: 'exclusive' }],
    });
    empty.release();
    await flushMicrotasks();
    expect(next.lock).toEqual({ name: '', mode: 'exclusive' });
    next.release();
    await expectEmpty(manager);
    expect(await manager.request('new', (lock) => lock)).toEqual({ name: 'new', mode: 'exclusive' });
  });

  it('resolves with a function or null that the callback returns, once the lock is released', async () => {
    const manager = new LockManager();
    const fn = () => 'not called';
    expect(await manager.request('res', () => fn)).toBe(fn);
    expect(await manager.request('res', () => null)).toBeNull();
    await expectEmpty(manager);
  });

  it('leaves nothing after 100,000 distinct names are each used once', async () => {
    const manager = new LockManager();
    const results: Array<Promise<unknown>> = [];
    for (let i = 0; i < 100_000; i++) results.push(manager.request(`name-${i}`, () => i));
    expect(String(manager)).toBe('LockManager [held:100000, waiters:0]');
    expect((await manager.query()).held).toHaveLength(100_000);
    expect((await Promise.all(results)).length).toBe(100_000);
    await expectEmpty(manager);
    // Every name was forgotten: used again after a new one, each comes after it.
    const sample = ['name-0', 'name-31337', 'name-99999'];
    const holds = ['new', ...sample].map((name) => hold(manager, name));
    expect((await manager.query()).held.map((info) => info.name)).toEqual(['new', ...sample]);
    for (const h of holds) h.release();
    await expectEmpty(manager);
  });

  it('keeps no granted lock, callback or result alive once the request settled', async () => {
    vi.useRealTimers();
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'needs gc(): vitest.config.ts exposes it on every runtime').toBeTypeOf('function');
    const manager = new LockManager();
    const refs: Array<WeakRef<object>> = [];
    const run = async (name: string) => {
      const result = { name };
      const callback = (lock: LockInfo | null) => {
        refs.push(new WeakRef(lock as LockInfo));
        return result;
      };
      refs.push(new WeakRef(callback), new WeakRef(result));
      await manager.request(name, callback);
    };
    await run('collected-1');
    await run('collected-2');
    await afterGc(() => refs.every((ref) => ref.deref() === undefined));
    expect(refs.map((ref) => ref.deref())).toEqual(refs.map(() => undefined));
  });
});

describe('LockManager: readable state, waiterCount and the leak warning', () => {
  it('shows its holds and waiting requests over all names, in String(), toStringTag and the label', async () => {
    const manager = new LockManager();
    expect(String(manager)).toBe('LockManager [held:0, waiters:0]');
    expect(Object.prototype.toString.call(manager)).toBe('[object LockManager]');
    const holds = [hold(manager, 'a', { mode: 'shared' }), hold(manager, 'a', { mode: 'shared' }), hold(manager, 'b')];
    const waits = [hold(manager, 'a'), hold(manager, 'b', { mode: 'shared' })];
    expect(String(manager)).toBe('LockManager [held:3, waiters:2]');
    expect(manager.waiterCount).toBe(2);
    expect(new LockManager({ name: 'app' }).name).toBe('app');
    for (const h of holds) h.release();
    await flushMicrotasks();
    for (const w of waits) w.release();
    await expectEmpty(manager);
  });

  it('checks its constructor options strictly', () => {
    expect(() => new LockManager({ nmae: 'x' } as object)).toThrow(TypeError);
    expect(() => new LockManager({ maxWaiters: -1 })).toThrow(RangeError);
    expect(() => new LockManager({ name: 1 } as unknown as { name: string })).toThrow(TypeError);
  });

  it('warns once when more requests wait than maxWaiters, over all names', async () => {
    const warn = spyOnWarnings();
    const manager = new LockManager({ name: 'busy', maxWaiters: 2 });
    const holders = ['a', 'b'].map((name) => hold(manager, name));
    const waits = [hold(manager, 'a'), hold(manager, 'b')];
    expect(warn).not.toHaveBeenCalled();
    waits.push(hold(manager, 'a'), hold(manager, 'b'));
    expect(warn).toHaveBeenCalledTimes(1);
    expectLeakWarning(warn.mock.calls[0], 'LockManager "busy": 3 pending waiters');
    for (const h of [...holders, ...waits]) {
      h.release();
      await flushMicrotasks();
    }
    await expectEmpty(manager);
  });
});
