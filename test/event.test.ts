import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Event } from '../src/index.js';
import { expectNothingLeftFake, flushMicrotasks, track } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Event', () => {
  describe('state', () => {
    it('starts unset', () => {
      expect(new Event().isSet()).toBe(false);
    });

    it('isSet() is true after set() and false after clear()', () => {
      const event = new Event();
      event.set();
      expect(event.isSet()).toBe(true);
      event.clear();
      expect(event.isSet()).toBe(false);
    });

    it('set() is idempotent', async () => {
      const event = new Event();
      const waiting = track(event.wait());
      event.set();
      event.set();
      expect(event.isSet()).toBe(true);
      await flushMicrotasks();
      expect(waiting.settlements).toBe(1);
      expect(waiting.value).toBe(true);
      expect(await event.wait()).toBe(true);
      expectNothingLeftFake(event);
    });

    it('clear() on an unset event does nothing', () => {
      const event = new Event();
      event.clear();
      expect(event.isSet()).toBe(false);
      expect(String(event)).toBe('Event [unset, waiters:0]');
    });
  });

  describe('set() and wait()', () => {
    it('set() wakes every current waiter with true, in arrival order', async () => {
      const event = new Event();
      const order: number[] = [];
      const waits = [0, 1, 2, 3].map((i) =>
        event.wait().then((value) => {
          order.push(i);
          return value;
        }),
      );
      expect(event.waiterCount).toBe(4);
      event.set();
      expect(event.waiterCount).toBe(0);
      expect(await Promise.all(waits)).toEqual([true, true, true, true]);
      expect(order).toEqual([0, 1, 2, 3]);
      expectNothingLeftFake(event);
    });

    it('wait() resolves with true at once when the event is set, without counting as a waiter', async () => {
      const event = new Event();
      event.set();
      const waiting = track(event.wait());
      expect(event.waiterCount).toBe(0);
      await Promise.resolve();
      expect(waiting.status).toBe('fulfilled');
      expect(waiting.value).toBe(true);
      expectNothingLeftFake(event);
    });

    it('wait() resolves with true at once when set, even with a timeout and a signal', async () => {
      const event = new Event();
      event.set();
      const controller = new AbortController();
      expect(await event.wait({ timeout: 0, signal: controller.signal })).toBe(true);
      expect(await event.wait({ timeout: 10, signal: controller.signal })).toBe(true);
      expectNothingLeftFake(event, [controller.signal]);
    });

    it('set(); clear(); in one tick does not un-wake the waiters set() released', async () => {
      const event = new Event();
      const controller = new AbortController();
      const waits = [
        track(event.wait()),
        track(event.wait({ timeout: 50 })),
        track(event.wait({ signal: controller.signal })),
      ];
      event.set();
      event.clear();
      controller.abort('after clear');
      vi.advanceTimersByTime(100);
      await flushMicrotasks();
      for (const w of waits) {
        expect(w.settlements).toBe(1);
        expect(w.value).toBe(true);
      }
      expect(event.isSet()).toBe(false);
      expectNothingLeftFake(event, [controller.signal]);
    });

    it('after clear(), later waits block until the next set()', async () => {
      const event = new Event();
      event.set();
      event.clear();
      const waiting = track(event.wait());
      await flushMicrotasks();
      expect(waiting.status).toBe('pending');
      expect(event.waiterCount).toBe(1);
      event.set();
      await flushMicrotasks();
      expect(waiting.value).toBe(true);
      expectNothingLeftFake(event);
    });

    it('a wait that starts after set(); clear(); is not released by that set()', async () => {
      const event = new Event();
      const early = track(event.wait());
      event.set();
      event.clear();
      const late = track(event.wait());
      await flushMicrotasks();
      expect(early.value).toBe(true);
      expect(late.status).toBe('pending');
      expect(event.waiterCount).toBe(1);
      event.set();
      await flushMicrotasks();
      expect(late.value).toBe(true);
    });

    it('set() wakes waiters that arrived on a cleared event again after a previous round', async () => {
      const event = new Event();
      for (let round = 0; round < 3; round++) {
        const waits = [track(event.wait()), track(event.wait({ timeout: 1_000 }))];
        expect(event.waiterCount).toBe(2);
        event.set();
        event.clear();
        await flushMicrotasks();
        for (const w of waits) expect(w.value).toBe(true);
      }
      expectNothingLeftFake(event);
    });
  });

  describe('constructor options', () => {
    it('exposes name, undefined when not given', () => {
      expect(new Event({ name: 'ready' }).name).toBe('ready');
      expect(new Event().name).toBeUndefined();
      expect(new Event({}).name).toBeUndefined();
      expect(new Event({ name: '' }).name).toBe('');
    });

    it.each([
      ['options null', null],
      ['options a string', 'ready'],
      ['options a number', 1],
      ['name a number', { name: 1 }],
      ['name null', { name: null }],
      ['maxWaiters a string', { maxWaiters: '10' }],
      ['maxWaiters null', { maxWaiters: null }],
    ])('throws a TypeError when %s', (_, options) => {
      expect(() => new Event(options as never)).toThrow(TypeError);
    });

    it('names the offending option in the TypeError message', () => {
      expect(() => new Event({ name: 1 } as never)).toThrow(/\bname\b/);
      expect(() => new Event({ maxWaiters: '10' } as never)).toThrow(/\bmaxWaiters\b/);
      expect(() => new Event(null as never)).toThrow(/\boptions\b/);
    });

    it.each([
      ['negative', -1],
      ['fractional', 1.5],
      ['NaN', Number.NaN],
      ['-Infinity', Number.NEGATIVE_INFINITY],
    ])('throws a RangeError naming maxWaiters when it is %s', (_, maxWaiters) => {
      expect(() => new Event({ maxWaiters })).toThrow(RangeError);
      expect(() => new Event({ maxWaiters })).toThrow(/\bmaxWaiters\b/);
    });

    it('accepts maxWaiters 0, Infinity and positive integers', () => {
      for (const maxWaiters of [0, 1, 1000, Number.POSITIVE_INFINITY]) {
        expect(new Event({ maxWaiters }).waiterCount).toBe(0);
      }
    });
  });

  describe('readable state', () => {
    it('String() shows the name, the state and the waiter count', () => {
      const event = new Event({ name: 'ready' });
      track(event.wait());
      expect(String(event)).toBe('Event "ready" [unset, waiters:1]');
      event.set();
      expect(String(event)).toBe('Event "ready" [set, waiters:0]');
    });

    it('String() of an unnamed event shows no name', () => {
      const event = new Event();
      expect(String(event)).toBe('Event [unset, waiters:0]');
      event.set();
      expect(String(event)).toBe('Event [set, waiters:0]');
      expect(`${event}`).toBe('Event [set, waiters:0]');
    });

    it('Symbol.toStringTag is the class name', () => {
      const event = new Event({ name: 'ready' });
      expect(event[Symbol.toStringTag]).toBe('Event');
      expect(Object.prototype.toString.call(event)).toBe('[object Event]');
    });

    it('the waiter count in the readable state follows aborts and timeouts', () => {
      const event = new Event();
      const controller = new AbortController();
      track(event.wait({ signal: controller.signal }));
      track(event.wait({ timeout: 10 }));
      expect(String(event)).toBe('Event [unset, waiters:2]');
      controller.abort();
      expect(String(event)).toBe('Event [unset, waiters:1]');
      vi.advanceTimersByTime(10);
      expect(String(event)).toBe('Event [unset, waiters:0]');
      expectNothingLeftFake(event, [controller.signal]);
    });
  });
});
