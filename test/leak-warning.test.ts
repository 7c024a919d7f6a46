/**
 * The leak warning (README: `options.maxWaiters`): once per primitive, past its limit. It goes through
 * `process.emitWarning` where the runtime has it (Node, Bun, Deno) and `console.warn` elsewhere;
 * `spyOnWarnings()` watches whichever this runtime uses. What only Node's warning events show is
 * in `leak-warning.node.test.ts`.
 */

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Event, getDefaultMaxWaiters, Queue, setDefaultMaxWaiters } from '../src/index.js';
import { nodeProcess, spyOnWarnings } from './helpers.js';

afterEach(() => {
  setDefaultMaxWaiters(1000);
  vi.restoreAllMocks();
});

/** Starts `n` waits on `event` that the returned controller cancels. */
function addWaiters(event: Event, n: number, controller = new AbortController()): AbortController {
  for (let i = 0; i < n; i++) event.wait({ signal: controller.signal }).catch(() => {});
  return controller;
}

describe('leak warning', () => {
  it('is emitted once, when waiterCount first exceeds maxWaiters', () => {
    const warn = spyOnWarnings();
    const event = new Event({ name: 'pool', maxWaiters: 3 });
    const controller = addWaiters(event, 3);
    expect(warn).not.toHaveBeenCalled();
    addWaiters(event, 1, controller);
    expect(warn).toHaveBeenCalledTimes(1);
    addWaiters(event, 10, controller);
    expect(warn).toHaveBeenCalledTimes(1);
    controller.abort();
    addWaiters(event, 10);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('names the primitive, its name, the count and how to raise the limit', () => {
    const warn = spyOnWarnings();
    addWaiters(new Event({ name: 'pool', maxWaiters: 3 }), 4).abort();
    const message = String(warn.mock.calls[0]?.[0]);
    expect(message).toContain('Event "pool"');
    expect(message).toMatch(/\b4\b/);
    expect(message).toContain('maxWaiters');
    expect(message).toContain('setDefaultMaxWaiters');
  });

  it('is emitted once per primitive', () => {
    const warn = spyOnWarnings();
    const a = new Event({ name: 'a', maxWaiters: 1 });
    const b = new Event({ name: 'b', maxWaiters: 1 });
    addWaiters(a, 5).abort();
    addWaiters(b, 5).abort();
    addWaiters(a, 5).abort();
    expect(warn).toHaveBeenCalledTimes(2);
    expect(String(warn.mock.calls[0]?.[0])).toContain('Event "a"');
    expect(String(warn.mock.calls[1]?.[0])).toContain('Event "b"');
  });

  it('starts with a default limit of 1000 in a freshly loaded module', async () => {
    vi.resetModules();
    const fresh = await import('../src/index.js');
    expect(fresh.getDefaultMaxWaiters()).toBe(1000);
  });

  it('warns at 1001 waiters with the default limit of 1000', () => {
    const warn = spyOnWarnings();
    expect(getDefaultMaxWaiters()).toBe(1000);
    const event = new Event();
    const controller = addWaiters(event, 1000);
    expect(warn).not.toHaveBeenCalled();
    addWaiters(event, 1, controller);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/\b1001\b/);
    controller.abort();
  });

  it('does not count waits that never became waiters (timeout 0, already aborted, completed at once)', async () => {
    const warn = spyOnWarnings();
    const event = new Event({ maxWaiters: 1 });
    const aborted = AbortSignal.abort();
    for (let i = 0; i < 5; i++) {
      await event.wait({ timeout: 0 }).catch(() => {});
      await event.wait({ signal: aborted }).catch(() => {});
    }
    event.set();
    for (let i = 0; i < 5; i++) await event.wait();
    expect(warn).not.toHaveBeenCalled();
  });

  describe('limits', () => {
    it('a primitive own maxWaiters overrides the default', () => {
      const warn = spyOnWarnings();
      setDefaultMaxWaiters(2);
      const ownHigh = new Event({ name: 'high', maxWaiters: 100 });
      const ownLow = new Event({ name: 'low', maxWaiters: 1 });
      addWaiters(ownHigh, 50).abort();
      expect(warn).not.toHaveBeenCalled();
      addWaiters(ownLow, 2).abort();
      expect(warn).toHaveBeenCalledTimes(1);
    });

    it('setDefaultMaxWaiters() changes the limit of existing primitives without their own', () => {
      const warn = spyOnWarnings();
      const existing = new Event({ name: 'existing' });
      const own = new Event({ name: 'own', maxWaiters: 1000 });
      setDefaultMaxWaiters(2);
      expect(getDefaultMaxWaiters()).toBe(2);
      addWaiters(own, 3).abort();
      expect(warn).not.toHaveBeenCalled();
      addWaiters(existing, 3).abort();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toContain('Event "existing"');
    });

    it.each([
      ['0', 0],
      ['Infinity', Number.POSITIVE_INFINITY],
    ])('maxWaiters %s disables the warning', (_, maxWaiters) => {
      const warn = spyOnWarnings();
      addWaiters(new Event({ maxWaiters }), 1500).abort();
      expect(warn).not.toHaveBeenCalled();
    });

    it.each([
      ['0', 0],
      ['Infinity', Number.POSITIVE_INFINITY],
    ])('setDefaultMaxWaiters(%s) disables the warning for primitives without their own limit', (_, n) => {
      const warn = spyOnWarnings();
      setDefaultMaxWaiters(n);
      expect(getDefaultMaxWaiters()).toBe(n);
      addWaiters(new Event(), 1500).abort();
      expect(warn).not.toHaveBeenCalled();
      addWaiters(new Event({ maxWaiters: 1 }), 2).abort();
      expect(warn).toHaveBeenCalledTimes(1);
    });

    it('setDefaultMaxWaiters() throws a TypeError for a non-number and keeps the old default', () => {
      setDefaultMaxWaiters(7);
      for (const bad of ['10', null, undefined, 10n, {}]) {
        expect(() => setDefaultMaxWaiters(bad as never)).toThrow(TypeError);
      }
      expect(getDefaultMaxWaiters()).toBe(7);
    });

    it('setDefaultMaxWaiters() throws a RangeError for a negative, fractional or NaN limit and keeps the old default', () => {
      setDefaultMaxWaiters(7);
      for (const bad of [-1, 1.5, Number.NaN, Number.NEGATIVE_INFINITY]) {
        expect(() => setDefaultMaxWaiters(bad)).toThrow(RangeError);
      }
      expect(getDefaultMaxWaiters()).toBe(7);
    });
  });

  describe('without process.emitWarning', () => {
    it('falls back to console.warn with the same message, prefixed WaiterLeakWarning', () => {
      // A browser has no process.emitWarning; elsewhere take it away for the test.
      const runtime = nodeProcess as { emitWarning?: unknown } | undefined;
      const original = runtime?.emitWarning;
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      if (runtime !== undefined) runtime.emitWarning = undefined;
      try {
        addWaiters(new Event({ name: 'fallback', maxWaiters: 1 }), 3).abort();
      } finally {
        if (runtime !== undefined) runtime.emitWarning = original;
      }
      expect(warn).toHaveBeenCalledTimes(1);
      const message = String(warn.mock.calls[0]?.[0]);
      expect(message).toMatch(/^WaiterLeakWarning: /);
      expect(message).toContain('Event "fallback"');
      expect(message).toMatch(/\b2\b/);
      expect(message).toContain('maxWaiters');
    });

    it('falls back to console.warn where there is no process at all (a browser)', () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      vi.stubGlobal('process', undefined);
      try {
        addWaiters(new Event({ name: 'no-process', maxWaiters: 1 }), 3).abort();
      } finally {
        vi.unstubAllGlobals();
      }
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/^WaiterLeakWarning: .*Event "no-process"/);
    });
  });
});

describe('leak warning, against a model', () => {
  it("counts a Queue's getters, putters and joiners together, however they interleave", () => {
    const warn = spyOnWarnings();
    const queue = new Queue<number>({ name: 'jobs', maxWaiters: 4 });
    queue.putNowait(1);
    queue.getNowait(); // one unfinished item: join() waits
    const controller = new AbortController();
    const { signal } = controller;
    queue.join({ signal }).catch(() => {});
    queue.get({ signal }).catch(() => {});
    queue.join({ signal }).catch(() => {});
    queue.join({ signal }).catch(() => {});
    expect(queue.waiterCount).toBe(4);
    expect(warn).not.toHaveBeenCalled();
    queue.join({ signal }).catch(() => {});
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain('Queue "jobs"');
    controller.abort();
  });

  it('warns at the next registration after the default drops below the count', () => {
    const warn = spyOnWarnings();
    const event = new Event({ name: 'late' });
    const controller = addWaiters(event, 5);
    expect(warn).not.toHaveBeenCalled();
    setDefaultMaxWaiters(5);
    expect(warn).not.toHaveBeenCalled();
    addWaiters(event, 1, controller);
    expect(warn).toHaveBeenCalledTimes(1);
    controller.abort();
  });

  it('fires exactly when waiterCount first exceeds the limit, for any registrations, releases and default changes', () => {
    // The check runs only when a queue leaves its quiet range (src/core/waiter.ts, QuietRange):
    // a Queue's getters, putters and joiners share its limit, and the default may change at any
    // time, so those are what the sequences mix.
    type Step =
      | { kind: 'get' }
      | { kind: 'join' }
      | { kind: 'put-full' }
      | { kind: 'abort-all' }
      | { kind: 'put' }
      | { kind: 'default'; n: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.constantFrom<Step>({ kind: 'get' }, { kind: 'join' }, { kind: 'put-full' }),
      fc.record({ kind: fc.constant('abort-all' as const) }),
      fc.record({ kind: fc.constant('put' as const) }),
      fc.record({ kind: fc.constant('default' as const), n: fc.integer({ min: 0, max: 12 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.option(fc.integer({ min: 1, max: 8 })), (steps, own) => {
        setDefaultMaxWaiters(6);
        const warn = spyOnWarnings();
        // Two queues: one that waits for items (getters, joiners), one kept full (putters).
        const empty = new Queue<number>(own === null ? {} : { maxWaiters: own });
        const full = new Queue<number>({ maxSize: 1, ...(own === null ? {} : { maxWaiters: own }) });
        full.putNowait(0);
        let controller = new AbortController();
        const expected = { empty: 0, full: 0 };
        const check = (queue: Queue<number>, key: 'empty' | 'full') => {
          const limit = own ?? getDefaultMaxWaiters();
          if (expected[key] === 0 && limit !== 0 && limit !== Number.POSITIVE_INFINITY && queue.waiterCount > limit) {
            expected[key] = 1;
          }
        };
        for (const s of steps) {
          const signal = controller.signal;
          const before = { empty: empty.waiterCount, full: full.waiterCount };
          if (s.kind === 'get') empty.get({ signal }).catch(() => {});
          else if (s.kind === 'join') {
            // join() waits only while items are unfinished: keep one unfinished item around.
            if (empty.size === 0 && empty.waiterCount === 0) empty.putNowait(1);
            empty.join({ signal }).catch(() => {});
          } else if (s.kind === 'put-full') full.put(1, { signal }).catch(() => {});
          else if (s.kind === 'put') {
            if (empty.waiterCount > 0) empty.putNowait(2);
          } else if (s.kind === 'abort-all') {
            controller.abort();
            controller = new AbortController();
          } else setDefaultMaxWaiters(s.n);
          // The check runs when a wait registers: where the count grew.
          if (empty.waiterCount > before.empty) check(empty, 'empty');
          if (full.waiterCount > before.full) check(full, 'full');
        }
        controller.abort();
        expect(warn).toHaveBeenCalledTimes(expected.empty + expected.full);
        vi.restoreAllMocks();
      }),
      { numRuns: 300 },
    );
  });
});
