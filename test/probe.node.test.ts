/**
 * The probe (`probe.ts`) against Node's own count: `getEventListeners` from node:events sees the
 * listeners the platform really holds. `probe.test.ts` checks the probe on every runtime.
 */

import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Event } from '../src/index.js';
import { flushMicrotasks, nextMacrotask } from './helpers.js';
import { probe } from './probe.js';

describe('the probe on Node', () => {
  it('counts the same abort listeners as node:events getEventListeners, step by step', () => {
    const controller = new AbortController();
    const { signal } = controller;
    const counts: Array<[number, number]> = [];
    const step = () => counts.push([probe.listenerCount(signal, 'abort'), getEventListeners(signal, 'abort').length]);
    const listener = () => {};
    const captured = () => {};
    const object = { handleEvent() {} };
    signal.addEventListener('abort', listener);
    step();
    signal.addEventListener('abort', listener);
    step();
    signal.addEventListener('abort', captured, { capture: true });
    step();
    signal.addEventListener('abort', object, { once: true });
    step();
    // In the options form: Node 20 ignores a bare `true` there and keeps the capture listener.
    signal.removeEventListener('abort', captured, { capture: true });
    step();
    controller.abort();
    step();
    signal.removeEventListener('abort', listener);
    step();
    expect(counts.map(([mine]) => mine)).toEqual([1, 1, 2, 3, 2, 1, 0]);
    expect(counts.map(([, node]) => node)).toEqual(counts.map(([mine]) => mine));
  });

  it('sees the one listener waitsafe shares among waits on a signal, and its removal, as Node does', async () => {
    const event = new Event();
    const controller = new AbortController();
    const { signal } = controller;
    const waits = [event.wait({ signal }), event.wait({ signal })];
    expect(probe.listenerCount(signal, 'abort')).toBe(1);
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    event.set();
    await Promise.all(waits);
    await flushMicrotasks();
    await nextMacrotask();
    expect(probe.listenerCount(signal, 'abort')).toBe(0);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
