/**
 * The leak warning as Node's warning machinery carries it: `process.emitWarning` with a type and
 * a code, delivered to `process.on('warning')` listeners. The rest of the warning's behaviour,
 * the same on every runtime, is in `leak-warning.test.ts`.
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { Event } from '../src/index.js';
import { collectWarnings } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Starts `n` waits on `event` that the returned controller cancels. */
function addWaiters(event: Event, n: number, controller = new AbortController()): AbortController {
  for (let i = 0; i < n; i++) event.wait({ signal: controller.signal }).catch(() => {});
  return controller;
}

describe('leak warning on Node', () => {
  it('is a process.emitWarning with type WaiterLeakWarning and code WAITSAFE_MAX_WAITERS', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    addWaiters(new Event({ maxWaiters: 1 }), 2).abort();
    expect(warn).toHaveBeenCalledWith(expect.any(String), { type: 'WaiterLeakWarning', code: 'WAITSAFE_MAX_WAITERS' });
  });

  it('reaches process listeners as a WaiterLeakWarning', async () => {
    const event = new Event({ name: 'real', maxWaiters: 2 });
    const controller = new AbortController();
    // Keep Node from printing it to stderr during the test run.
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const warnings = await collectWarnings(() => {
      addWaiters(event, 3, controller);
    });
    stderr.mockRestore();
    controller.abort();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.name).toBe('WaiterLeakWarning');
    expect((warnings[0] as Error & { code?: string }).code).toBe('WAITSAFE_MAX_WAITERS');
    expect(warnings[0]?.message).toContain('Event "real"');
  });
});
