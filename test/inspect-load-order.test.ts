/**
 * The inspector when waitsafe loads after `trackWaiters()` (a program that starts tracking first
 * thing, e.g. from a `--import` preload). In its own file because it needs waitsafe's modules
 * unevaluated when the test starts: a browser evaluates a module once per test file, whatever
 * `vi.resetModules()` says, and nothing in this file loads waitsafe before the test does.
 */

import { describe, expect, it, vi } from 'vitest';

describe('trackWaiters and snapshot', () => {
  it('lists only primitives the caller created, also when waitsafe is loaded after trackWaiters()', async () => {
    // sleep, timeout, Deadline and linkSignals are not primitives: loading them tracks nothing.
    // Forget waitsafe's process-wide state (src/core/state.ts), so that the modules make a new one.
    delete (globalThis as Record<symbol, unknown>)[Symbol.for('waitsafe.state.1')];
    vi.resetModules();
    const inspect = await import('../src/inspect/index.js');
    const stop = inspect.trackWaiters();
    try {
      const ws = await import('../src/index.js');
      void new ws.Event({ name: 'mine' }).wait();
      const shot = inspect.snapshot();
      expect(shot.rows).toEqual([{ kind: 'Event', name: 'mine', site: undefined, primitives: 1, waiters: 1 }]);
      expect(shot.primitives).toBe(1);
    } finally {
      stop();
    }
  });
});
