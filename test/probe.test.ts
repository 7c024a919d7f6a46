/**
 * The probe the leak checks count with (`probe.ts`), on every runtime: it must count listeners
 * and real timers as the platform keeps them, or "nothing left behind" would prove nothing. On
 * Node, `probe.node.test.ts` also compares it with Node's own `getEventListeners`.
 */

import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { probe } from './probe.js';

afterEach(() => {
  vi.useRealTimers();
});

const listeners = (target: EventTarget, type = 'ping') => probe.listenerCount(target, type);

describe('the probe counts listeners', () => {
  it('counts a listener added twice with the same capture flag once, and once per capture flag', () => {
    const target = new EventTarget();
    const seen: boolean[] = [];
    const listener = () => seen.push(true);
    target.addEventListener('ping', listener);
    target.addEventListener('ping', listener, { passive: true });
    expect(listeners(target)).toBe(1);
    target.addEventListener('ping', listener, true);
    expect(listeners(target)).toBe(2);
    target.dispatchEvent(new Event('ping'));
    expect(seen).toHaveLength(2);
    target.removeEventListener('ping', listener, { capture: true });
    expect(listeners(target)).toBe(1);
    target.removeEventListener('ping', listener);
    expect(listeners(target)).toBe(0);
  });

  it('counts listeners per target and per event type, and ignores removing one never added', () => {
    const a = new EventTarget();
    const b = new EventTarget();
    const listener = () => {};
    a.addEventListener('ping', listener);
    a.addEventListener('pong', listener);
    b.addEventListener('ping', () => {});
    expect([listeners(a), listeners(a, 'pong'), listeners(b)]).toEqual([1, 1, 1]);
    b.removeEventListener('ping', listener);
    a.removeEventListener('other', listener);
    expect([listeners(a), listeners(a, 'pong'), listeners(b)]).toEqual([1, 1, 1]);
  });

  it('stops counting a { once: true } listener when the event fires, and calls it once', () => {
    const target = new EventTarget();
    const calls: Array<[unknown, string]> = [];
    const listener = {
      handleEvent(event: Event) {
        calls.push([this, event.type]);
      },
    };
    target.addEventListener('ping', listener, { once: true });
    expect(listeners(target)).toBe(1);
    target.dispatchEvent(new Event('ping'));
    expect(listeners(target)).toBe(0);
    target.dispatchEvent(new Event('ping'));
    expect(calls).toEqual([[listener, 'ping']]);
  });

  it('counts a { once: true } listener removed before it fires as removed', () => {
    const target = new EventTarget();
    const listener = vi.fn();
    target.addEventListener('ping', listener, { once: true });
    target.removeEventListener('ping', listener);
    expect(listeners(target)).toBe(0);
    target.dispatchEvent(new Event('ping'));
    expect(listener).not.toHaveBeenCalled();
  });

  it('never counts a listener added with an aborted signal, and stops counting one when its signal aborts', () => {
    const target = new EventTarget();
    target.addEventListener('ping', () => {}, { signal: AbortSignal.abort() });
    expect(listeners(target)).toBe(0);
    const controller = new AbortController();
    const listener = vi.fn();
    target.addEventListener('ping', listener, { signal: controller.signal });
    expect(listeners(target)).toBe(1);
    controller.abort();
    expect(listeners(target)).toBe(0);
    target.dispatchEvent(new Event('ping'));
    expect(listener).not.toHaveBeenCalled();
  });

  it("counts an AbortSignal's abort listeners, and a { once } one goes when the signal aborts", () => {
    const controller = new AbortController();
    const listener = vi.fn();
    controller.signal.addEventListener('abort', listener, { once: true });
    controller.signal.addEventListener('abort', () => {});
    expect(listeners(controller.signal, 'abort')).toBe(2);
    controller.abort();
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listeners(controller.signal, 'abort')).toBe(1);
  });
});

describe('the probe counts real timers', () => {
  it('counts a timer until it fires', async () => {
    const before = probe.pendingTimers();
    const fired = new Promise<void>((resolve) => setTimeout(resolve, 1));
    expect(probe.pendingTimers()).toBe(before + 1);
    await fired;
    expect(probe.pendingTimers()).toBe(before);
  });

  it('counts a timer until it is cleared', () => {
    const before = probe.pendingTimers();
    const handle = setTimeout(() => {}, 60_000);
    expect(probe.pendingTimers()).toBe(before + 1);
    clearTimeout(handle);
    expect(probe.pendingTimers()).toBe(before);
    clearTimeout(handle);
    expect(probe.pendingTimers()).toBe(before);
  });

  it('counts no timer made under fake timers, and real ones again once they are uninstalled', () => {
    const before = probe.pendingTimers();
    vi.useFakeTimers();
    const fake = setTimeout(() => {}, 100);
    expect(vi.getTimerCount()).toBe(1);
    expect(probe.pendingTimers()).toBe(before);
    clearTimeout(fake);
    vi.useRealTimers();
    const real = setTimeout(() => {}, 100);
    expect(probe.pendingTimers()).toBe(before + 1);
    clearTimeout(real);
    expect(probe.pendingTimers()).toBe(before);
  });

  it('nextMacrotask() waits on real timers while fake ones are installed, so it returns', async () => {
    vi.useFakeTimers();
    await probe.nextMacrotask();
    expect(vi.getTimerCount()).toBe(0);
  });
});

/** The runtime this test file runs in. */
function currentRuntime(): string {
  const g = globalThis as { document?: unknown; Deno?: unknown; process?: { versions?: { bun?: string } } };
  if (g.document !== undefined) return navigator.userAgent.includes('Chrome') ? 'chromium' : navigator.userAgent;
  if (g.Deno !== undefined) return 'deno';
  if (g.process?.versions?.bun !== undefined) return 'bun';
  return 'node';
}

describe('the run', () => {
  it('runs its tests in the runtime it was started for, not in a fallback', () => {
    expect(currentRuntime()).toBe(inject('runtime'));
  });
});
