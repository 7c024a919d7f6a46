import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Barrier, BrokenBarrierError } from '../src/index.js';
import {
  expectNothingLeftFake,
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

function expectBroken(error: unknown, message?: string): void {
  expect(error).toBeInstanceOf(BrokenBarrierError);
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).name).toBe('BrokenBarrierError');
  if (message !== undefined) expect((error as Error).message).toContain(message);
}

function values(waits: readonly Tracked<number>[]): unknown[] {
  return waits.map((w) => (w.status === 'fulfilled' ? w.value : w.status));
}

describe('Barrier', () => {
  describe('constructor', () => {
    it.each([
      ['undefined', undefined],
      ['a string', '3'],
      ['null', null],
      ['a bigint', 3n],
    ])('throws a TypeError naming "parties" when parties is %s', (_, parties) => {
      expect(() => new Barrier(parties as never)).toThrow(TypeError);
      expect(() => new Barrier(parties as never)).toThrow(/\bparties\b/);
    });

    it.each([
      ['0', 0],
      ['-1', -1],
      ['1.5', 1.5],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
    ])('throws a RangeError naming "parties" when parties is %s', (_, parties) => {
      expect(() => new Barrier(parties)).toThrow(RangeError);
      expect(() => new Barrier(parties)).toThrow(/\bparties\b/);
    });

    it('exposes parties and name, and starts not broken with nobody waiting', () => {
      const barrier = new Barrier(3, { name: 'start' });
      expect(barrier.parties).toBe(3);
      expect(barrier.name).toBe('start');
      expect(barrier.isBroken()).toBe(false);
      expect(barrier.waiterCount).toBe(0);
      expect(new Barrier(1).name).toBeUndefined();
    });

    it('validates options', () => {
      expect(() => new Barrier(2, null as never)).toThrow(TypeError);
      expect(() => new Barrier(2, { name: 1 } as never)).toThrow(TypeError);
      expect(() => new Barrier(2, { maxWaiters: -1 })).toThrow(RangeError);
    });
  });

  describe('wait()', () => {
    it('blocks until all parties arrive, then releases them all in the same step', async () => {
      const barrier = new Barrier(3);
      const a = track(barrier.wait());
      const b = track(barrier.wait());
      expect(barrier.waiterCount).toBe(2);
      await flushMicrotasks();
      expect(values([a, b])).toEqual(['pending', 'pending']);
      const c = track(barrier.wait());
      expect(barrier.waiterCount).toBe(0);
      await flushMicrotasks();
      expect(values([a, b, c])).toEqual([0, 1, 2]);
      expectNothingLeftFake(barrier);
    });

    it('assigns unique indices in arrival order, 0 for the first and parties - 1 for the last, every round', async () => {
      const barrier = new Barrier(4);
      for (let round = 0; round < 3; round++) {
        const waits = [0, 1, 2, 3].map(() => track(barrier.wait({ timeout: 1_000 })));
        await flushMicrotasks();
        expect(values(waits)).toEqual([0, 1, 2, 3]);
      }
      expectNothingLeftFake(barrier);
    });

    it('counts a party that arrives as soon as the round trips toward the next round', async () => {
      const barrier = new Barrier(2);
      const next: Tracked<number>[] = [];
      const first = barrier.wait().then((index) => {
        next.push(track(barrier.wait()));
        return index;
      });
      expect(await barrier.wait()).toBe(1);
      expect(await first).toBe(0);
      expect(barrier.waiterCount).toBe(1);
      const last = track(barrier.wait());
      await flushMicrotasks();
      expect(values([...next, last])).toEqual([0, 1]);
    });

    it('with parties 1, every wait resolves with 0 at once without counting as a waiter', async () => {
      const barrier = new Barrier(1);
      const waits = [track(barrier.wait()), track(barrier.wait({ timeout: 0 })), track(barrier.wait({ timeout: 10 }))];
      expect(barrier.waiterCount).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      await flushMicrotasks();
      expect(values(waits)).toEqual([0, 0, 0]);
    });

    it('timeout: 0 succeeds for the party that completes the round, and rejects for any other', async () => {
      const barrier = new Barrier(2);
      expectTimeoutError(await rejectionOf(barrier.wait({ timeout: 0 })));
      expect(barrier.waiterCount).toBe(0);
      const first = track(barrier.wait());
      expect(await barrier.wait({ timeout: 0 })).toBe(1);
      await flushMicrotasks();
      expect(first.value).toBe(0);
    });

    it('an already-aborted signal rejects without arriving, even for the last party', async () => {
      const barrier = new Barrier(2);
      const first = track(barrier.wait());
      const reason = { why: 'not coming' };
      expect(await rejectionOf(barrier.wait({ signal: AbortSignal.abort(reason) }))).toBe(reason);
      expect(barrier.waiterCount).toBe(1);
      expect(first.status).toBe('pending');
    });

    it('keeps the index of a party whose signal aborts after the barrier tripped', async () => {
      const barrier = new Barrier(2);
      const controller = new AbortController();
      const first = track(barrier.wait({ signal: controller.signal }));
      const second = track(barrier.wait());
      controller.abort();
      await flushMicrotasks();
      expect(values([first, second])).toEqual([0, 1]);
      expectNothingLeftFake(barrier, [controller.signal]);
    });
  });

  describe('a party that gives up leaves the round (test_filling_tasks_cancel_one)', () => {
    it('an aborted party leaves: the count drops, the barrier is not broken, the round trips with the others', async () => {
      const barrier = new Barrier(3);
      const controller = new AbortController();
      const a = track(barrier.wait());
      const b = track(barrier.wait({ signal: controller.signal }));
      controller.abort('b leaves');
      expect(barrier.waiterCount).toBe(1);
      expect(barrier.isBroken()).toBe(false);
      const c = track(barrier.wait());
      await flushMicrotasks();
      expect(b.reason).toBe('b leaves');
      expect(values([a, c])).toEqual(['pending', 'pending']);
      const d = track(barrier.wait());
      await flushMicrotasks();
      // Indices are assigned at the trip: unique, in arrival order among those present.
      expect(values([a, c, d])).toEqual([0, 1, 2]);
      expectNothingLeftFake(barrier, [controller.signal]);
    });

    it('a timed-out party leaves the same way, and the round still needs all parties', async () => {
      const barrier = new Barrier(3);
      const early = track(barrier.wait({ timeout: 10 }));
      const a = track(barrier.wait());
      vi.advanceTimersByTime(10);
      expect(barrier.waiterCount).toBe(1);
      const b = track(barrier.wait());
      await flushMicrotasks();
      expectTimeoutError(early.reason);
      expect(values([a, b])).toEqual(['pending', 'pending']);
      const c = track(barrier.wait());
      await flushMicrotasks();
      expect(values([a, b, c])).toEqual([0, 1, 2]);
      expectNothingLeftFake(barrier);
    });

    it('the first party leaving keeps indices unique (asyncio can repeat one here)', async () => {
      const barrier = new Barrier(3);
      const controller = new AbortController();
      const leaving = track(barrier.wait({ signal: controller.signal }));
      const a = track(barrier.wait());
      controller.abort();
      const b = track(barrier.wait());
      const c = track(barrier.wait());
      await flushMicrotasks();
      expect(leaving.status).toBe('rejected');
      expect(values([a, b, c])).toEqual([0, 1, 2]);
    });
  });

  describe('reset() and abort()', () => {
    it('reset() rejects every waiting party with a fresh BrokenBarrierError at once, and the barrier is usable again', async () => {
      const barrier = new Barrier(3, { name: 'start' });
      const controller = new AbortController();
      const waits = [track(barrier.wait({ signal: controller.signal, timeout: 100 })), track(barrier.wait())];
      barrier.reset();
      expect(barrier.waiterCount).toBe(0);
      expect(barrier.isBroken()).toBe(false);
      await flushMicrotasks();
      for (const w of waits) expectBroken(w.reason, 'Barrier "start"');
      expect(waits[0]?.reason).not.toBe(waits[1]?.reason);
      expectNothingLeftFake(barrier, [controller.signal]);
      const round = [track(barrier.wait()), track(barrier.wait()), track(barrier.wait())];
      await flushMicrotasks();
      expect(values(round)).toEqual([0, 1, 2]);
    });

    it('abort() rejects every waiting party with a fresh BrokenBarrierError and breaks the barrier', async () => {
      const barrier = new Barrier(3, { name: 'start' });
      const controller = new AbortController();
      const waits = [track(barrier.wait({ signal: controller.signal, timeout: 100 })), track(barrier.wait())];
      barrier.abort();
      expect(barrier.waiterCount).toBe(0);
      expect(barrier.isBroken()).toBe(true);
      await flushMicrotasks();
      for (const w of waits) expectBroken(w.reason, 'Barrier "start"');
      expect(waits[0]?.reason).not.toBe(waits[1]?.reason);
      expectNothingLeftFake(barrier, [controller.signal]);
    });

    it('stays broken until reset(): new waits reject with a BrokenBarrierError without waiting', async () => {
      const barrier = new Barrier(2);
      barrier.abort();
      const controller = new AbortController();
      const waits = [
        track(barrier.wait()),
        track(barrier.wait({ timeout: 100, signal: controller.signal })),
        track(barrier.wait({ timeout: 0 })),
        track(barrier.wait()),
      ];
      expect(barrier.waiterCount).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      await flushMicrotasks();
      for (const w of waits) expectBroken(w.reason);
      expect(new Set(waits.map((w) => w.reason)).size).toBe(4);
      barrier.reset();
      expect(barrier.isBroken()).toBe(false);
      const round = [track(barrier.wait()), track(barrier.wait())];
      await flushMicrotasks();
      expect(values(round)).toEqual([0, 1]);
      expectNothingLeftFake(barrier, [controller.signal]);
    });

    it('a broken barrier reports an already-aborted signal with its reason first', async () => {
      const barrier = new Barrier(2);
      barrier.abort();
      const reason = new Error('gave up');
      expect(await rejectionOf(barrier.wait({ signal: AbortSignal.abort(reason) }))).toBe(reason);
    });

    it('reset() and abort() with nobody waiting are harmless and repeatable', async () => {
      const barrier = new Barrier(2);
      barrier.reset();
      barrier.abort();
      barrier.abort();
      expect(barrier.isBroken()).toBe(true);
      barrier.reset();
      barrier.reset();
      expect(barrier.isBroken()).toBe(false);
      const round = [track(barrier.wait()), track(barrier.wait())];
      await flushMicrotasks();
      expect(values(round)).toEqual([0, 1]);
    });

    it('a reset starts a new round: parties arriving after it count from zero', async () => {
      const barrier = new Barrier(3);
      const before = track(barrier.wait());
      barrier.reset();
      const after = [track(barrier.wait()), track(barrier.wait())];
      expect(barrier.waiterCount).toBe(2);
      await flushMicrotasks();
      expectBroken(before.reason);
      expect(values(after)).toEqual(['pending', 'pending']);
      const last = track(barrier.wait());
      await flushMicrotasks();
      expect(values([...after, last])).toEqual([0, 1, 2]);
    });
  });

  describe('readable state', () => {
    it('String() shows the name, the parties and the waiting count, and broken when broken', () => {
      expect(String(new Barrier(3))).toBe('Barrier [parties:3, waiting:0]');
      const barrier = new Barrier(3, { name: 'start' });
      track(barrier.wait());
      expect(String(barrier)).toBe('Barrier "start" [parties:3, waiting:1]');
      barrier.abort();
      expect(String(barrier)).toContain('broken');
      expect(String(barrier)).toBe('Barrier "start" [broken, parties:3, waiting:0]');
      barrier.reset();
      expect(String(barrier)).toBe('Barrier "start" [parties:3, waiting:0]');
    });

    it('Symbol.toStringTag is Barrier', () => {
      const barrier = new Barrier(2);
      expect(barrier[Symbol.toStringTag]).toBe('Barrier');
      expect(Object.prototype.toString.call(barrier)).toBe('[object Barrier]');
    });
  });

  describe('BrokenBarrierError', () => {
    it('is an Error named BrokenBarrierError with a default message', () => {
      const error = new BrokenBarrierError();
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('BrokenBarrierError');
      expect(error.message.length).toBeGreaterThan(0);
    });
  });

  describe('leak warning', () => {
    it('warns once, naming the Barrier, when the waiting parties first exceed maxWaiters', () => {
      const warn = spyOnWarnings();
      const barrier = new Barrier(10, { name: 'start', maxWaiters: 2 });
      track(barrier.wait());
      track(barrier.wait());
      expect(warn).not.toHaveBeenCalled();
      track(barrier.wait());
      track(barrier.wait());
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toContain('Barrier "start"');
      barrier.reset();
    });
  });
});
