/**
 * Releasers on a runtime without `Symbol.dispose` when waitsafe loads. In its own file because
 * waitsafe must load for the first time while `Symbol.dispose` is hidden: a browser evaluates a
 * module once per test file, whatever `vi.resetModules()` says, and nothing in this file loads
 * waitsafe before the test does.
 */

import { describe, expect, it, vi } from 'vitest';

describe('Releaser', () => {
  it('falls back to Symbol.for("Symbol.dispose") when the runtime has no Symbol.dispose, without patching globals', async () => {
    // Node 20's Symbol.dispose is not configurable, so hide it behind a stand-in Symbol while a
    // fresh copy of the module loads, then put the real Symbol back.
    const RealSymbol = Symbol;
    const withoutDispose = new Proxy(() => {}, {
      apply: (_target, _this, args: [string?]) => RealSymbol(...args),
      get: (_target, key) => (key === 'dispose' || key === 'asyncDispose' ? undefined : Reflect.get(RealSymbol, key)),
    });
    vi.resetModules();
    let fresh: typeof import('../src/index.js');
    vi.stubGlobal('Symbol', withoutDispose);
    try {
      fresh = await import('../src/index.js');
      expect((globalThis.Symbol as { dispose?: symbol }).dispose).toBeUndefined();
    } finally {
      vi.unstubAllGlobals();
    }
    expect(globalThis.Symbol).toBe(RealSymbol);
    const fallback = RealSymbol.for('Symbol.dispose');
    const lock = new fresh.Lock();
    const release = await lock.acquire();
    const keys = Object.getOwnPropertySymbols(release);
    expect(keys).toContain(fallback);
    expect(keys).not.toContain(RealSymbol.dispose);
    (release as unknown as Record<symbol, () => void>)[fallback]?.();
    expect(lock.isLocked()).toBe(false);
    release();
    expect(lock.isLocked()).toBe(false);
  });
});
