/**
 * Two copies of waitsafe/shared in one thread (an ESM and a CommonJS build, or two bundles) that
 * map the same memory: each instance must own its agent alone. An agent says which instance owns
 * it by the thread's TAG and a per-instance NONCE; copies that counted their instances apart gave
 * the first instance of each the same NONCE, so one could take the other's agent for its own.
 * Node-only: a browser evaluates a module once, whatever `vi.resetModules()` says.
 */

import { expect, it, vi } from 'vitest';
import type { Releaser } from '../src/index.js';
import { A_NONCE, A_TAG, agentAt } from '../src/shared/memory.js';
import { memoryUse } from './shared-memory.js';

type Shared = typeof import('../src/shared/index.js');

/** A fresh copy of waitsafe/shared (sharing the thread's waitsafe state, as real copies do). */
async function copy(): Promise<Shared> {
  vi.resetModules();
  return await import('../src/shared/index.js');
}

it('gives instances of two copies different nonces, so one never takes the agent another copy claimed for its own', async () => {
  const one = await copy();
  const two = await copy();
  expect(one.SharedLock).not.toBe(two.SharedLock);
  const x = new one.SharedLock();
  const memory = new Int32Array(x.handle.buffer);
  expect(x.tryAcquire()).toBeTypeOf('function');
  // Another instance releases the lock asyncio style: x's agent (0) is freed under it.
  one.SharedLock.from(x.handle).release();
  expect(memoryUse(x.handle).agents).toBe(0);
  // The first instance of the other copy claims that same agent (0).
  const y = two.SharedLock.from(x.handle);
  const holdY = y.tryAcquire() as Releaser;
  expect(memory[agentAt(memory, 0, A_TAG)]).not.toBe(0);
  // x must see that agent 0 is not its own any more: its wait claims another agent.
  const wait = x.acquire();
  expect(memoryUse(x.handle)).toMatchObject({ agents: 2, queued: 1 });
  expect(memory[agentAt(memory, 1, A_NONCE)]).not.toBe(memory[agentAt(memory, 0, A_NONCE)]);
  holdY();
  const release = await wait;
  expect(x.isLocked()).toBe(true);
  release();
  expect(x.isLocked()).toBe(false);
  expect(memoryUse(x.handle)).toMatchObject({ slots: 0, agents: 0, queued: 0 });
});
