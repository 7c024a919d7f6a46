/**
 * Weighted permits on Semaphore and BoundedSemaphore: `acquire({ weight })`, `tryAcquire(weight)`
 * and `release(weight)`. FIFO without barging (a heavy waiter at the head blocks lighter ones
 * behind it, even while permits are free), every waiter that fits granted in the same synchronous
 * step as the release or the head's giving up (golang/go#37852), validation that changes nothing,
 * and nothing left behind on any cancellation path. The random-sequence model is in
 * `permits.model.test.ts`.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BoundedSemaphore, Lock, type Releaser, Semaphore } from '../src/index.js';
import {
  abortListeners,
  activeTimeouts,
  callWithoutThrowing,
  expectNothingLeftFake,
  expectNothingLeftReal,
  expectTimeoutError,
  flushMicrotasks,
  rejectionOf,
  type Tracked,
  track,
} from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

type Make = (value: number, name?: string) => Semaphore;

const kinds: ReadonlyArray<readonly [string, Make]> = [
  ['Semaphore', (value, name) => new Semaphore(value, name === undefined ? undefined : { name })],
  ['BoundedSemaphore', (value, name) => new BoundedSemaphore(value, name === undefined ? undefined : { name })],
];

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.unreachable('expected a throw');
}

/** What a caller can read of a semaphore: it must not change on a rejected call. */
function stateOf(semaphore: Semaphore) {
  return {
    value: semaphore.value,
    waiterCount: semaphore.waiterCount,
    isLocked: semaphore.isLocked(),
    text: String(semaphore),
  };
}

/** Tracks `promise` and appends `label` to `log` when it fulfils, to check the order of grants. */
function tracked(log: string[], label: string, promise: Promise<Releaser>): Tracked<Releaser> {
  promise.then(
    () => log.push(label),
    () => {},
  );
  return track(promise);
}

/** The Releaser a tracked acquire was granted. */
function releaserOf(wait: Tracked<Releaser>): Releaser {
  expect(wait.status).toBe('fulfilled');
  return wait.value as Releaser;
}

const WEIGHT_TYPE_ERRORS: ReadonlyArray<readonly [string, unknown]> = [
  ['a string', '2'],
  ['null', null],
  ['a bigint', 2n],
  ['an object', {}],
  ['a boolean', true],
];

const WEIGHT_RANGE_ERRORS: ReadonlyArray<readonly [string, number]> = [
  ['0', 0],
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-0.5', -0.5],
];

describe('weighted permits', () => {
  describe.each(kinds)('%s', (_, make) => {
    describe('granting', () => {
      it('acquire({ weight }) takes that many free permits before returning, and the Releaser returns them all', async () => {
        const semaphore = make(5);
        const acquired = track(semaphore.acquire({ weight: 3 }));
        expect(semaphore.value).toBe(2);
        expect(semaphore.waiterCount).toBe(0);
        expect(semaphore.isLocked()).toBe(false);
        await flushMicrotasks();
        const release = releaserOf(acquired);
        expect(semaphore.value).toBe(2);
        release();
        expect(semaphore.value).toBe(5);
        expectNothingLeftFake(semaphore);
      });

      it('takes every permit at once with weight equal to the value', async () => {
        const semaphore = make(3);
        const release = await semaphore.acquire({ weight: 3 });
        expect(semaphore.value).toBe(0);
        expect(semaphore.isLocked()).toBe(true);
        release();
        expect(semaphore.value).toBe(3);
        expect(semaphore.isLocked()).toBe(false);
      });

      it('weight: undefined, weight: 1 and no weight all take one permit', async () => {
        const semaphore = make(3);
        const releases = [
          await semaphore.acquire({ weight: undefined }),
          await semaphore.acquire({ weight: 1 }),
          await semaphore.acquire({}),
        ];
        expect(semaphore.value).toBe(0);
        releases[0]?.();
        expect(semaphore.value).toBe(1);
        releases[1]?.();
        releases[2]?.();
        expect(semaphore.value).toBe(3);
        const tried = semaphore.tryAcquire(undefined) as Releaser;
        expect(semaphore.value).toBe(2);
        tried();
        expect(semaphore.value).toBe(3);
      });

      it('tryAcquire(weight) takes that many free permits, or returns undefined and changes nothing', () => {
        const semaphore = make(3);
        const release = semaphore.tryAcquire(2);
        expect(release).toBeTypeOf('function');
        expect(semaphore.value).toBe(1);
        const before = stateOf(semaphore);
        expect(semaphore.tryAcquire(2)).toBeUndefined();
        expect(stateOf(semaphore)).toEqual(before);
        (release as Releaser)();
        expect(semaphore.value).toBe(3);
      });

      it('a weighted waiter waits until enough permits are back, then is granted by the release that completes them', async () => {
        const semaphore = make(3);
        const hold = semaphore.tryAcquire(3) as Releaser;
        expect(hold).toBeTypeOf('function');
        const wait = track(semaphore.acquire({ weight: 2 }));
        semaphore.release();
        expect(semaphore.value).toBe(1);
        expect(semaphore.waiterCount).toBe(1);
        await flushMicrotasks();
        expect(wait.status).toBe('pending');
        semaphore.release();
        // Granted in the release's own step: nothing stays free.
        expect(semaphore.value).toBe(0);
        expect(semaphore.waiterCount).toBe(0);
        await flushMicrotasks();
        releaserOf(wait)();
        expect(semaphore.value).toBe(2);
        // `hold` had 3; two came back with release() above, so only its third is outstanding.
        semaphore.release();
        expect(semaphore.value).toBe(3);
        expectNothingLeftFake(semaphore);
      });
    });

    describe('FIFO without barging', () => {
      it('a heavy waiter at the head blocks a later lighter one even while permits are free', async () => {
        const semaphore = make(3);
        const log: string[] = [];
        const hold = semaphore.tryAcquire(2) as Releaser;
        const heavy = tracked(log, 'heavy', semaphore.acquire({ weight: 3 }));
        const light = tracked(log, 'light', semaphore.acquire());
        expect(semaphore.value).toBe(1);
        expect(semaphore.waiterCount).toBe(2);
        // An acquire now would wait: someone waits, though a permit is free.
        expect(semaphore.isLocked()).toBe(true);
        await flushMicrotasks();
        expect(heavy.status).toBe('pending');
        expect(light.status).toBe('pending');

        // Neither tryAcquire() nor tryAcquire(1) takes the free permit.
        const before = stateOf(semaphore);
        expect(semaphore.tryAcquire()).toBeUndefined();
        expect(semaphore.tryAcquire(1)).toBeUndefined();
        expect(stateOf(semaphore)).toEqual(before);

        hold();
        expect(semaphore.value).toBe(0);
        expect(semaphore.waiterCount).toBe(1);
        await flushMicrotasks();
        expect(log).toEqual(['heavy']);
        expect(light.status).toBe('pending');
        releaserOf(heavy)();
        expect(semaphore.value).toBe(2);
        expect(semaphore.waiterCount).toBe(0);
        await flushMicrotasks();
        expect(log).toEqual(['heavy', 'light']);
        releaserOf(light)();
        expect(semaphore.value).toBe(3);
        expectNothingLeftFake(semaphore);
      });

      it('a newcomer queues behind the waiters even when its weight is free', async () => {
        const semaphore = make(3);
        const hold = semaphore.tryAcquire(2) as Releaser;
        const heavy = track(semaphore.acquire({ weight: 2 }));
        const newcomer = track(semaphore.acquire({ weight: 1 }));
        expect(semaphore.value).toBe(1);
        expect(semaphore.waiterCount).toBe(2);
        await flushMicrotasks();
        expect(newcomer.status).toBe('pending');
        hold();
        // 3 free: the head (2) and then the newcomer (1) both fit.
        expect(semaphore.value).toBe(0);
        expect(semaphore.waiterCount).toBe(0);
        await flushMicrotasks();
        releaserOf(heavy)();
        releaserOf(newcomer)();
        expect(semaphore.value).toBe(3);
        expectNothingLeftFake(semaphore);
      });

      it('runExclusive() takes one permit and does not barge past a heavy head', async () => {
        const semaphore = make(3);
        const seen: number[] = [];
        await semaphore.runExclusive(() => {
          seen.push(semaphore.value);
        });
        expect(seen).toEqual([2]);
        expect(semaphore.value).toBe(3);

        const hold = semaphore.tryAcquire(2) as Releaser;
        const heavy = track(semaphore.acquire({ weight: 3 }));
        const fn = vi.fn(() => {
          seen.push(semaphore.value);
          return 'ran';
        });
        const run = track(semaphore.runExclusive(fn));
        expect(semaphore.waiterCount).toBe(2);
        await flushMicrotasks();
        expect(fn).not.toHaveBeenCalled();
        hold();
        await flushMicrotasks();
        expect(heavy.status).toBe('fulfilled');
        expect(fn).not.toHaveBeenCalled();
        releaserOf(heavy)();
        // The run was granted its one permit in the release's step.
        expect(semaphore.value).toBe(2);
        expect(semaphore.waiterCount).toBe(0);
        await flushMicrotasks();
        expect(fn).toHaveBeenCalledTimes(1);
        expect(seen).toEqual([2, 2]);
        expect(run.value).toBe('ran');
        expect(semaphore.value).toBe(3);
        expectNothingLeftFake(semaphore);
      });
    });

    describe('release(weight)', () => {
      it('grants every waiter at the head that fits, in FIFO order, in the same synchronous step', async () => {
        const semaphore = make(6);
        // Two holds given back asyncio-style with release(4) and release(2) below.
        semaphore.tryAcquire(4);
        semaphore.tryAcquire(2);
        const log: string[] = [];
        const a = tracked(log, 'a', semaphore.acquire());
        const b = tracked(log, 'b', semaphore.acquire({ weight: 2 }));
        const c = tracked(log, 'c', semaphore.acquire());
        const d = tracked(log, 'd', semaphore.acquire({ weight: 3 }));
        const e = tracked(log, 'e', semaphore.acquire());
        expect(semaphore.waiterCount).toBe(5);

        semaphore.release(4);
        // a, b and c (1 + 2 + 1) are granted before any microtask runs; d needs 3, so e waits too.
        expect(semaphore.waiterCount).toBe(2);
        expect(semaphore.value).toBe(0);
        expect(semaphore.isLocked()).toBe(true);
        expect(log).toEqual([]);
        await flushMicrotasks();
        expect(log).toEqual(['a', 'b', 'c']);
        expect([d.status, e.status]).toEqual(['pending', 'pending']);

        semaphore.release(2);
        // 2 free, d needs 3: nothing is granted, and e (1) stays behind d.
        expect(semaphore.value).toBe(2);
        expect(semaphore.waiterCount).toBe(2);
        expect(semaphore.isLocked()).toBe(true);
        await flushMicrotasks();
        expect(log).toEqual(['a', 'b', 'c']);

        releaserOf(a)();
        // 3 free: d is granted, and e (1) does not fit in the 0 left.
        expect(semaphore.value).toBe(0);
        expect(semaphore.waiterCount).toBe(1);
        releaserOf(b)();
        // b's 2 permits: e is granted and 1 stays free.
        expect(semaphore.value).toBe(1);
        expect(semaphore.waiterCount).toBe(0);
        await flushMicrotasks();
        expect(log).toEqual(['a', 'b', 'c', 'd', 'e']);
        for (const wait of [c, d, e]) releaserOf(wait)();
        expect(semaphore.value).toBe(6);
        expectNothingLeftFake(semaphore);
      });

      it('adds what no waiter takes to value', async () => {
        const semaphore = make(4);
        semaphore.tryAcquire(4);
        const log: string[] = [];
        const a = tracked(log, 'a', semaphore.acquire());
        const b = tracked(log, 'b', semaphore.acquire({ weight: 2 }));
        semaphore.release(4);
        expect(semaphore.waiterCount).toBe(0);
        expect(semaphore.value).toBe(1);
        expect(semaphore.isLocked()).toBe(false);
        await flushMicrotasks();
        expect(log).toEqual(['a', 'b']);
        releaserOf(a)();
        releaserOf(b)();
        expect(semaphore.value).toBe(4);
      });
    });

    describe('giving up', () => {
      it('an abort of the head grants every waiter behind it that now fits, before abort() returns', async () => {
        const semaphore = make(4);
        const hold = semaphore.tryAcquire(2) as Releaser;
        const controller = new AbortController();
        const log: string[] = [];
        const head = tracked(log, 'head', semaphore.acquire({ weight: 3, signal: controller.signal }));
        const b = tracked(log, 'b', semaphore.acquire());
        const c = tracked(log, 'c', semaphore.acquire());
        const d = tracked(log, 'd', semaphore.acquire({ weight: 2 }));
        const e = tracked(log, 'e', semaphore.acquire());
        expect(semaphore.value).toBe(2);
        expect(semaphore.waiterCount).toBe(5);

        controller.abort('gone');
        // b and c (1 + 1) fit in the 2 free; d (2) does not, and e stays behind it.
        expect(semaphore.waiterCount).toBe(2);
        expect(semaphore.value).toBe(0);
        expect(abortListeners(controller.signal)).toBe(0);
        await flushMicrotasks();
        expect(head.status).toBe('rejected');
        expect(head.reason).toBe('gone');
        expect(log).toEqual(['b', 'c']);
        expect([d.status, e.status]).toEqual(['pending', 'pending']);

        hold();
        // d (2) then e (1) need 3: only d fits in the 2 back.
        expect(semaphore.value).toBe(0);
        expect(semaphore.waiterCount).toBe(1);
        releaserOf(b)();
        expect(semaphore.waiterCount).toBe(0);
        await flushMicrotasks();
        expect(log).toEqual(['b', 'c', 'd', 'e']);
        for (const wait of [c, d, e]) releaserOf(wait)();
        expect(semaphore.value).toBe(4);
        expectNothingLeftFake(semaphore, [controller.signal]);
      });

      it('a timeout of the head grants every waiter behind it that now fits, in the timer step', async () => {
        const semaphore = make(3);
        const hold = semaphore.tryAcquire(1) as Releaser;
        const log: string[] = [];
        const head = tracked(log, 'head', semaphore.acquire({ weight: 3, timeout: 10 }));
        const b = tracked(log, 'b', semaphore.acquire());
        const c = tracked(log, 'c', semaphore.acquire({ weight: 2 }));
        expect(semaphore.value).toBe(2);
        expect(semaphore.waiterCount).toBe(3);

        vi.advanceTimersByTime(9);
        expect(semaphore.waiterCount).toBe(3);
        await flushMicrotasks();
        expect(head.status).toBe('pending');

        vi.advanceTimersByTime(1);
        // b (1) fits in the 2 free; c (2) does not fit in the 1 left.
        expect(semaphore.waiterCount).toBe(1);
        expect(semaphore.value).toBe(1);
        await flushMicrotasks();
        expect(head.status).toBe('rejected');
        expectTimeoutError(head.reason);
        expect(log).toEqual(['b']);
        expect(c.status).toBe('pending');

        hold();
        expect(semaphore.waiterCount).toBe(0);
        expect(semaphore.value).toBe(0);
        await flushMicrotasks();
        expect(log).toEqual(['b', 'c']);
        releaserOf(b)();
        releaserOf(c)();
        expect(semaphore.value).toBe(3);
        expectNothingLeftFake(semaphore);
      });

      it('one abort that ends several waits grants none of them on the way, only the others behind', async () => {
        const semaphore = make(3);
        const hold = semaphore.tryAcquire(2) as Releaser;
        const shared = new AbortController();
        const log: string[] = [];
        const head = tracked(log, 'head', semaphore.acquire({ weight: 3, signal: shared.signal }));
        const same = tracked(log, 'same', semaphore.acquire({ signal: shared.signal }));
        const fn = vi.fn();
        const sameRun = track(semaphore.runExclusive(fn, { signal: shared.signal, timeout: 100 }));
        const other = tracked(log, 'other', semaphore.acquire());
        expect(semaphore.waiterCount).toBe(4);
        shared.abort('all of them');
        // The waits on the signal were pending when it aborted: they all reject, and the permit
        // the head's leaving frees goes to the first wait on another signal.
        expect(semaphore.waiterCount).toBe(0);
        expect(semaphore.value).toBe(0);
        await flushMicrotasks();
        expect([head.reason, same.reason, sameRun.reason]).toEqual(['all of them', 'all of them', 'all of them']);
        expect(fn).not.toHaveBeenCalled();
        expect(log).toEqual(['other']);
        releaserOf(other)();
        hold();
        expect(semaphore.value).toBe(3);
        expectNothingLeftFake(semaphore, [shared.signal]);
      });

      it('when the next waiter is heavy too, the head giving up grants nothing and the rest stay behind it', async () => {
        const semaphore = make(3);
        const hold = semaphore.tryAcquire(2) as Releaser;
        const controller = new AbortController();
        const head = track(semaphore.acquire({ weight: 3, signal: controller.signal }));
        const next = track(semaphore.acquire({ weight: 2 }));
        const last = track(semaphore.acquire());
        controller.abort();
        expect(semaphore.waiterCount).toBe(2);
        expect(semaphore.value).toBe(1);
        expect(semaphore.tryAcquire()).toBeUndefined();
        await flushMicrotasks();
        expect([head.status, next.status, last.status]).toEqual(['rejected', 'pending', 'pending']);
        hold();
        expect(semaphore.waiterCount).toBe(0);
        expect(semaphore.value).toBe(0);
        await flushMicrotasks();
        releaserOf(next)();
        releaserOf(last)();
        expect(semaphore.value).toBe(3);
        expectNothingLeftFake(semaphore, [controller.signal]);
      });

      it('a waiter giving up in the middle or at the tail grants nothing', async () => {
        const semaphore = make(3);
        const hold = semaphore.tryAcquire(2) as Releaser;
        const middle = new AbortController();
        const tail = new AbortController();
        const log: string[] = [];
        const head = tracked(log, 'head', semaphore.acquire({ weight: 3 }));
        const m = tracked(log, 'middle', semaphore.acquire({ signal: middle.signal }));
        const t = tracked(log, 'timed', semaphore.acquire({ timeout: 5 }));
        const after = tracked(log, 'after', semaphore.acquire());
        const last = tracked(log, 'tail', semaphore.acquire({ signal: tail.signal }));
        const before = stateOf(semaphore);
        expect(before.waiterCount).toBe(5);

        middle.abort('middle gone');
        expect(semaphore.waiterCount).toBe(4);
        expect(semaphore.value).toBe(1);
        vi.advanceTimersByTime(5);
        expect(semaphore.waiterCount).toBe(3);
        expect(semaphore.value).toBe(1);
        tail.abort('tail gone');
        expect(semaphore.waiterCount).toBe(2);
        expect(semaphore.value).toBe(1);
        await flushMicrotasks();
        expect(log).toEqual([]);
        expect(m.reason).toBe('middle gone');
        expectTimeoutError(t.reason);
        expect(last.reason).toBe('tail gone');
        expect([head.status, after.status]).toEqual(['pending', 'pending']);

        hold();
        expect(semaphore.value).toBe(0);
        expect(semaphore.waiterCount).toBe(1);
        await flushMicrotasks();
        releaserOf(head)();
        expect(semaphore.waiterCount).toBe(0);
        expect(semaphore.value).toBe(2);
        await flushMicrotasks();
        expect(log).toEqual(['head', 'after']);
        releaserOf(after)();
        expect(semaphore.value).toBe(3);
        expectNothingLeftFake(semaphore, [middle.signal, tail.signal]);
      });

      it('a weighted waiter granted before its signal aborts keeps its permits', async () => {
        const semaphore = make(3);
        const hold = semaphore.tryAcquire(3) as Releaser;
        const controller = new AbortController();
        const wait = track(semaphore.acquire({ weight: 2, signal: controller.signal, timeout: 50 }));
        semaphore.release(2);
        controller.abort('too late');
        vi.advanceTimersByTime(50);
        expect(semaphore.value).toBe(0);
        await flushMicrotasks();
        releaserOf(wait)();
        expect(semaphore.value).toBe(2);
        semaphore.release();
        expect(semaphore.value).toBe(3);
        expect(hold).toBeTypeOf('function');
        expectNothingLeftFake(semaphore, [controller.signal]);
      });

      it('an already-aborted signal rejects at once, takes nothing even when the weight is free, and registers nothing', async () => {
        const semaphore = make(3);
        const signal = AbortSignal.abort('early');
        const before = stateOf(semaphore);
        expect(await rejectionOf(semaphore.acquire({ weight: 2, signal, timeout: 10 }))).toBe('early');
        expect(stateOf(semaphore)).toEqual(before);
        expect(vi.getTimerCount()).toBe(0);
        expectNothingLeftFake(semaphore, [signal]);
      });
    });

    describe('timeout: 0', () => {
      it('takes the weight when it is free and nobody waits', async () => {
        const semaphore = make(3);
        const release = await semaphore.acquire({ weight: 2, timeout: 0 });
        expect(semaphore.value).toBe(1);
        release();
        expect(semaphore.value).toBe(3);
        expect(vi.getTimerCount()).toBe(0);
      });

      it('rejects with a TimeoutError at once, counting as no waiter, when the weight is not free', async () => {
        const semaphore = make(3);
        semaphore.tryAcquire(2);
        const before = stateOf(semaphore);
        const wait = track(semaphore.acquire({ weight: 2, timeout: 0 }));
        expect(stateOf(semaphore)).toEqual(before);
        expect(vi.getTimerCount()).toBe(0);
        await flushMicrotasks();
        expect(wait.status).toBe('rejected');
        expectTimeoutError(wait.reason);
        expectNothingLeftFake(semaphore);
      });

      it('rejects with a TimeoutError at once when the weight is free but someone waits (no barging)', async () => {
        const semaphore = make(3);
        semaphore.tryAcquire(2);
        const heavy = track(semaphore.acquire({ weight: 3 }));
        const before = stateOf(semaphore);
        const wait = track(semaphore.acquire({ weight: 1, timeout: 0 }));
        expect(stateOf(semaphore)).toEqual(before);
        await flushMicrotasks();
        expectTimeoutError(wait.reason);
        expect(heavy.status).toBe('pending');
        semaphore.release(2);
        await flushMicrotasks();
        releaserOf(heavy)();
        expectNothingLeftFake(semaphore);
      });
    });

    describe('Releasers', () => {
      it('release the whole weight once, whether called or disposed, however often', async () => {
        const semaphore = make(5);
        const first = await semaphore.acquire({ weight: 3 });
        const second = semaphore.tryAcquire(2) as Releaser;
        expect(semaphore.value).toBe(0);
        first();
        expect(semaphore.value).toBe(3);
        first();
        first[Symbol.dispose]();
        expect(semaphore.value).toBe(3);
        second[Symbol.dispose]();
        expect(semaphore.value).toBe(5);
        second();
        expect(semaphore.value).toBe(5);
      });

      it('a Releaser hands its whole weight to the waiters, once', async () => {
        const semaphore = make(3);
        const hold = await semaphore.acquire({ weight: 3 });
        const log: string[] = [];
        const a = tracked(log, 'a', semaphore.acquire({ weight: 2 }));
        const b = tracked(log, 'b', semaphore.acquire());
        const c = tracked(log, 'c', semaphore.acquire());
        hold();
        expect(semaphore.waiterCount).toBe(1);
        expect(semaphore.value).toBe(0);
        // A second call must not hand c a permit nobody returned.
        hold();
        hold[Symbol.dispose]();
        expect(semaphore.waiterCount).toBe(1);
        await flushMicrotasks();
        expect(log).toEqual(['a', 'b']);
        releaserOf(a)();
        releaserOf(b)();
        await flushMicrotasks();
        releaserOf(c)();
        expect(semaphore.value).toBe(3);
        expectNothingLeftFake(semaphore);
      });

      it('work with `using`, also when the block throws', async () => {
        const semaphore = make(3);
        {
          using release = await semaphore.acquire({ weight: 2 });
          expect(release).toBeTypeOf('function');
          expect(semaphore.value).toBe(1);
        }
        expect(semaphore.value).toBe(3);
        const failing = async () => {
          using release = await semaphore.acquire({ weight: 3 });
          expect(release).toBeTypeOf('function');
          expect(semaphore.value).toBe(0);
          throw new Error('boom');
        };
        await expect(failing()).rejects.toThrow('boom');
        expect(semaphore.value).toBe(3);
        {
          using release = semaphore.tryAcquire(3);
          expect(release).toBeTypeOf('function');
          expect(semaphore.value).toBe(0);
        }
        expect(semaphore.value).toBe(3);
      });
    });

    describe('validation', () => {
      it.each(WEIGHT_TYPE_ERRORS)(
        'acquire() rejects a weight that is %s with a TypeError naming the "weight" option, and changes nothing',
        async (_, weight) => {
          const semaphore = make(2);
          const hold = semaphore.tryAcquire(2) as Releaser;
          track(semaphore.acquire());
          const controller = new AbortController();
          const before = stateOf(semaphore);
          const error = await rejectionOf(
            callWithoutThrowing(() =>
              semaphore.acquire({ weight: weight as number, signal: controller.signal, timeout: 10 }),
            ),
          );
          expect(error).toBeInstanceOf(TypeError);
          expect((error as Error).message).toContain('The "weight" option');
          expect(stateOf(semaphore)).toEqual(before);
          expect(abortListeners(controller.signal)).toBe(0);
          hold();
          expectNothingLeftFake(semaphore, [controller.signal]);
        },
      );

      it.each(WEIGHT_RANGE_ERRORS)(
        'acquire() rejects a weight of %s with a RangeError naming the "weight" option, and changes nothing',
        async (_, weight) => {
          const semaphore = make(2);
          const controller = new AbortController();
          const before = stateOf(semaphore);
          const error = await rejectionOf(
            callWithoutThrowing(() => semaphore.acquire({ weight, signal: controller.signal, timeout: 10 })),
          );
          expect(error).toBeInstanceOf(RangeError);
          expect((error as Error).message).toContain('The "weight" option');
          expect(stateOf(semaphore)).toEqual(before);
          expectNothingLeftFake(semaphore, [controller.signal]);
        },
      );

      it('acquire() reports a bad weight before an already-aborted signal', async () => {
        const semaphore = make(2);
        const signal = AbortSignal.abort('aborted');
        expect(await rejectionOf(semaphore.acquire({ weight: 0, signal }))).toBeInstanceOf(RangeError);
        expect(await rejectionOf(semaphore.acquire({ weight: '1' as unknown as number, signal }))).toBeInstanceOf(
          TypeError,
        );
        expect(semaphore.value).toBe(2);
        expectNothingLeftFake(semaphore, [signal]);
      });

      it.each(WEIGHT_TYPE_ERRORS)(
        'tryAcquire() and release() throw a TypeError naming the "weight" argument for %s, and change nothing',
        async (_, weight) => {
          const semaphore = make(2);
          const hold = semaphore.tryAcquire(2) as Releaser;
          const waiting = track(semaphore.acquire());
          const before = stateOf(semaphore);
          for (const call of [
            () => semaphore.tryAcquire(weight as number),
            () => semaphore.release(weight as number),
          ]) {
            const error = thrownBy(call);
            expect(error).toBeInstanceOf(TypeError);
            expect((error as Error).message).toContain('The "weight" argument');
            expect(stateOf(semaphore)).toEqual(before);
          }
          await flushMicrotasks();
          expect(waiting.status).toBe('pending');
          hold();
          await flushMicrotasks();
          releaserOf(waiting)();
          expectNothingLeftFake(semaphore);
        },
      );

      it.each(WEIGHT_RANGE_ERRORS)(
        'tryAcquire() and release() throw a RangeError naming the "weight" argument for %s, and change nothing',
        async (_, weight) => {
          const semaphore = make(2);
          semaphore.tryAcquire(1);
          const before = stateOf(semaphore);
          expect(before.isLocked).toBe(false);
          for (const call of [() => semaphore.tryAcquire(weight), () => semaphore.release(weight)]) {
            const error = thrownBy(call);
            expect(error).toBeInstanceOf(RangeError);
            expect((error as Error).message).toContain('The "weight" argument');
            expect(stateOf(semaphore)).toEqual(before);
          }
        },
      );

      it('a bad weight passed to release() hands nothing to a waiter', async () => {
        const semaphore = make(1);
        const hold = semaphore.tryAcquire() as Releaser;
        const waiting = track(semaphore.acquire());
        for (const weight of [0, 0.5, Number.NaN, '1' as unknown as number]) {
          expect(() => semaphore.release(weight)).toThrow(/The "weight" argument/);
        }
        expect(semaphore.waiterCount).toBe(1);
        await flushMicrotasks();
        expect(waiting.status).toBe('pending');
        hold();
        await flushMicrotasks();
        releaserOf(waiting)();
        expect(semaphore.value).toBe(1);
      });

      it('acquire() rejects an unknown option beside weight with a TypeError naming it, and changes nothing', async () => {
        const semaphore = make(2);
        const before = stateOf(semaphore);
        for (const options of [{ wieght: 2 }, { weight: 2, count: 1 }, { weight: 1, priority: undefined }]) {
          const key = Object.keys(options).find((k) => k !== 'weight') as string;
          const error = await rejectionOf(callWithoutThrowing(() => semaphore.acquire(options as never)));
          expect(error).toBeInstanceOf(TypeError);
          expect((error as Error).message).toContain(`"${key}"`);
          expect(stateOf(semaphore)).toEqual(before);
        }
        expectNothingLeftFake(semaphore);
      });
    });

    describe('isLocked()', () => {
      it('is true exactly when an acquire of one permit now would wait', async () => {
        const semaphore = make(3);
        expect(semaphore.isLocked()).toBe(false);
        const two = semaphore.tryAcquire(2) as Releaser;
        expect(semaphore.isLocked()).toBe(false);
        const controller = new AbortController();
        track(semaphore.acquire({ weight: 2, signal: controller.signal }));
        // One permit is free, but a waiter is ahead of any new acquire.
        expect(semaphore.value).toBe(1);
        expect(semaphore.isLocked()).toBe(true);
        controller.abort();
        expect(semaphore.isLocked()).toBe(false);
        const one = semaphore.tryAcquire(1) as Releaser;
        expect(semaphore.isLocked()).toBe(true);
        one();
        two();
        expect(semaphore.isLocked()).toBe(false);
        expectNothingLeftFake(semaphore, [controller.signal]);
      });
    });

    describe('with real timers', () => {
      beforeEach(() => {
        vi.useRealTimers();
      });

      it('leaves no waiter, timer or listener after the head is aborted and the waiters behind it are served', async () => {
        const semaphore = make(3);
        const baseline = activeTimeouts();
        const hold = semaphore.tryAcquire(1) as Releaser;
        const head = new AbortController();
        const others = new AbortController();
        const log: string[] = [];
        const heavy = tracked(log, 'heavy', semaphore.acquire({ weight: 3, signal: head.signal, timeout: 60_000 }));
        const b = tracked(log, 'b', semaphore.acquire({ weight: 2, signal: others.signal, timeout: 60_000 }));
        const c = tracked(log, 'c', semaphore.acquire({ signal: others.signal, timeout: 30_000 }));
        expect(activeTimeouts()).toBeGreaterThan(baseline);
        head.abort('head gone');
        expect(semaphore.waiterCount).toBe(1);
        expect(semaphore.value).toBe(0);
        expect(await rejectionOf(semaphore.acquire({ signal: head.signal }))).toBe('head gone');
        await flushMicrotasks();
        expect(heavy.reason).toBe('head gone');
        expect(log).toEqual(['b']);
        hold();
        await flushMicrotasks();
        expect(log).toEqual(['b', 'c']);
        releaserOf(b)();
        releaserOf(c)();
        expect(semaphore.value).toBe(3);
        await expectNothingLeftReal(semaphore, [head.signal, others.signal], baseline);
      });

      it('leaves nothing after a weighted wait times out at the head and the one behind is granted', async () => {
        const semaphore = make(2);
        const baseline = activeTimeouts();
        const hold = semaphore.tryAcquire(1) as Releaser;
        const controller = new AbortController();
        const heavy = semaphore.acquire({ weight: 2, timeout: 5 });
        const light = semaphore.acquire({ signal: controller.signal, timeout: 60_000 });
        expectTimeoutError(await rejectionOf(heavy));
        const release = await light;
        expect(semaphore.value).toBe(0);
        release();
        hold();
        expect(semaphore.value).toBe(2);
        await expectNothingLeftReal(semaphore, [controller.signal], baseline);
      });
    });
  });

  describe('Semaphore', () => {
    it('a weight above the value waits until release() adds enough permits', async () => {
      const semaphore = new Semaphore(2);
      const big = track(semaphore.acquire({ weight: 5 }));
      const after = track(semaphore.acquire());
      expect(semaphore.waiterCount).toBe(2);
      expect(semaphore.value).toBe(2);
      semaphore.release(2);
      expect(semaphore.value).toBe(4);
      await flushMicrotasks();
      expect(big.status).toBe('pending');
      semaphore.release();
      expect(semaphore.value).toBe(0);
      expect(semaphore.waiterCount).toBe(1);
      await flushMicrotasks();
      releaserOf(big)();
      expect(semaphore.waiterCount).toBe(0);
      expect(semaphore.value).toBe(4);
      await flushMicrotasks();
      releaserOf(after)();
      expect(semaphore.value).toBe(5);
      expectNothingLeftFake(semaphore);
    });

    it('tryAcquire() of a weight above the value returns undefined, and release(weight) beyond it is allowed', () => {
      const semaphore = new Semaphore(1);
      expect(semaphore.tryAcquire(2)).toBeUndefined();
      semaphore.release(3);
      expect(semaphore.value).toBe(4);
      const release = semaphore.tryAcquire(4) as Releaser;
      expect(semaphore.value).toBe(0);
      release();
      expect(semaphore.value).toBe(4);
    });

    it('Semaphore(0) queues weighted waits, and one release grants as many as fit', async () => {
      const semaphore = new Semaphore(0);
      const log: string[] = [];
      tracked(log, 'a', semaphore.acquire({ weight: 2 }));
      tracked(log, 'b', semaphore.acquire({ weight: 2 }));
      semaphore.release(3);
      expect(semaphore.value).toBe(1);
      expect(semaphore.waiterCount).toBe(1);
      semaphore.release();
      expect(semaphore.value).toBe(0);
      expect(semaphore.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(log).toEqual(['a', 'b']);
    });
  });

  describe('BoundedSemaphore', () => {
    it('acquire() of a weight above the bound rejects at once with a RangeError and registers nothing', async () => {
      const semaphore = new BoundedSemaphore(3, { name: 'slots' });
      const controller = new AbortController();
      for (const options of [
        { weight: 4 },
        { weight: 4, signal: controller.signal },
        { weight: 10, timeout: 50 },
        { weight: 4, timeout: 0 },
        { weight: 4, signal: AbortSignal.abort('aborted') },
      ]) {
        const promise = callWithoutThrowing(() => semaphore.acquire(options));
        // Nothing registered, even for a moment: no waiter, timer or listener.
        expect(semaphore.waiterCount).toBe(0);
        expect(vi.getTimerCount()).toBe(0);
        expect(abortListeners(controller.signal)).toBe(0);
        const error = await rejectionOf(promise);
        expect(error).toBeInstanceOf(RangeError);
        expect((error as Error).message).toContain('The "weight" option');
        expect((error as Error).message).toContain('BoundedSemaphore "slots"');
        expect((error as Error).message).toContain('<= 3');
        expect(semaphore.value).toBe(3);
      }
      expectNothingLeftFake(semaphore, [controller.signal]);
    });

    it('an impossible weight is refused even while others wait, and they are still served', async () => {
      const semaphore = new BoundedSemaphore(2);
      const hold = semaphore.tryAcquire(2) as Releaser;
      const waiting = track(semaphore.acquire({ weight: 2 }));
      const before = stateOf(semaphore);
      expect(await rejectionOf(semaphore.acquire({ weight: 3 }))).toBeInstanceOf(RangeError);
      expect(stateOf(semaphore)).toEqual(before);
      hold();
      await flushMicrotasks();
      releaserOf(waiting)();
      expect(semaphore.value).toBe(2);
      expectNothingLeftFake(semaphore);
    });

    it('a weight equal to the bound waits for every permit, and is granted when the last comes back', async () => {
      const semaphore = new BoundedSemaphore(3);
      const one = semaphore.tryAcquire() as Releaser;
      const two = semaphore.tryAcquire() as Releaser;
      const all = track(semaphore.acquire({ weight: 3 }));
      one();
      expect(semaphore.value).toBe(2);
      expect(semaphore.waiterCount).toBe(1);
      two();
      expect(semaphore.value).toBe(0);
      expect(semaphore.waiterCount).toBe(0);
      await flushMicrotasks();
      releaserOf(all)();
      expect(semaphore.value).toBe(3);
    });

    it('tryAcquire() and release() of a weight above the bound throw a RangeError and change nothing', () => {
      const semaphore = new BoundedSemaphore(2, { name: 'slots' });
      semaphore.tryAcquire(2);
      const before = stateOf(semaphore);
      for (const call of [() => semaphore.tryAcquire(3), () => semaphore.release(3)]) {
        const error = thrownBy(call);
        expect(error).toBeInstanceOf(RangeError);
        expect((error as Error).message).toContain('The "weight" argument');
        expect((error as Error).message).toContain('BoundedSemaphore "slots"');
        expect(stateOf(semaphore)).toEqual(before);
      }
    });

    it('release(weight) that would raise the value above the bound throws a RangeError and changes nothing', async () => {
      const semaphore = new BoundedSemaphore(4, { name: 'slots' });
      semaphore.tryAcquire(3);
      const waiting = track(semaphore.acquire({ weight: 4 }));
      const before = stateOf(semaphore);
      expect(before.value).toBe(1);
      // 1 free + 4 > 4: refused, and the waiter (which 4 would satisfy) is not granted.
      const error = thrownBy(() => semaphore.release(4));
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toContain('BoundedSemaphore "slots"');
      expect(stateOf(semaphore)).toEqual(before);
      await flushMicrotasks();
      expect(waiting.status).toBe('pending');
      // Up to the bound is fine: 1 + 3 = 4, which the waiter takes in the same step.
      semaphore.release(3);
      expect(semaphore.value).toBe(0);
      expect(semaphore.waiterCount).toBe(0);
      await flushMicrotasks();
      releaserOf(waiting)();
      expect(semaphore.value).toBe(4);
      expectNothingLeftFake(semaphore);
    });

    it('a weighted Releaser called twice never over-releases', async () => {
      const semaphore = new BoundedSemaphore(3);
      const release = await semaphore.acquire({ weight: 3 });
      release();
      expect(() => release()).not.toThrow();
      expect(() => release[Symbol.dispose]()).not.toThrow();
      expect(semaphore.value).toBe(3);
    });
  });

  describe('Lock', () => {
    it('acquire({ weight }) rejects with a TypeError naming the unknown option, and changes nothing', async () => {
      const lock = new Lock();
      for (const weight of [2, 1]) {
        const error = await rejectionOf(callWithoutThrowing(() => lock.acquire({ weight } as never)));
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toContain('"weight"');
        expect(lock.isLocked()).toBe(false);
        expect(lock.waiterCount).toBe(0);
      }
      const release = lock.tryAcquire() as Releaser;
      const error = await rejectionOf(lock.acquire({ weight: 1, timeout: 10 } as never));
      expect(error).toBeInstanceOf(TypeError);
      expect(lock.waiterCount).toBe(0);
      release();
      expectNothingLeftFake(lock);
    });
  });
});

describe('weighted permits: a weight of 1 means what no weight means', () => {
  it('on a BoundedSemaphore(0), acquire({ weight: 1 }) waits like acquire(), and tryAcquire(1) returns undefined like tryAcquire()', async () => {
    const s = new BoundedSemaphore(0);
    const plain = track(s.acquire());
    const one = track(s.acquire({ weight: 1 }));
    await flushMicrotasks();
    expect(one.status).toBe(plain.status);
    expect(one.status).toBe('pending');
    expect(s.waiterCount).toBe(2);
    expect(s.tryAcquire(1)).toBeUndefined();
    expect(s.tryAcquire()).toBeUndefined();
    expect(() => s.tryAcquire(2)).toThrow(RangeError);
  });
});
