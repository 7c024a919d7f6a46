/**
 * Reads the shared memory of a waitsafe/shared primitive from the outside, for the tests'
 * leak checks: slots and agents in use, and pending platform waits.
 */

import { expect } from 'vitest';

import {
  A_HOLDS,
  A_MAILBOX,
  A_TAG,
  AGENT,
  agentAt,
  agentBase,
  claimAgent,
  enqueue,
  FREE,
  grantSlot,
  H_CAPACITY,
  H_MAGIC,
  H_QUEUED,
  H_SPIN,
  MAGIC,
  S_STATE,
  slotAt,
} from '../src/shared/memory.js';
import { pendingPlatformWaits } from '../src/shared/primitive.js';
import { nextMacrotask } from './helpers.js';

/** What is in use in one primitive's memory. */
export interface MemoryUse {
  /** Slots not free (queued, granted or broken and not yet collected). */
  slots: number;
  /** Agents claimed. */
  agents: number;
  /** The QUEUED cache. */
  queued: number;
  /** The critical section's word (0: free). */
  spin: number;
}

/** Counts what is in use in the memory of `handle`. */
export function memoryUse(handle: { buffer: SharedArrayBuffer }): MemoryUse {
  const memory = new Int32Array(handle.buffer);
  const capacity = memory[H_CAPACITY] as number;
  let slots = 0;
  let agents = 0;
  for (let i = 0; i < capacity; i++) if (memory[slotAt(i, S_STATE)] !== FREE) slots++;
  const base = agentBase(memory);
  for (let i = 0; i < capacity; i++) if (memory[base + i * AGENT + A_TAG] !== 0) agents++;
  return { slots, agents, queued: memory[H_QUEUED] as number, spin: memory[H_SPIN] as number };
}

/**
 * How many platform waits (`Atomics.wait` or `waitAsync`, in any thread) are pending on the
 * mailbox words of `handle`'s agents: `Atomics.notify` returns how many waiters it woke, and
 * every platform wait of waitsafe/shared is on one of those words. Waking one is harmless (its
 * thread checks its slots and waits again), so this is safe to call at any time.
 */
export function platformWaits(handle: { buffer: SharedArrayBuffer }): number {
  const memory = new Int32Array(handle.buffer);
  const capacity = memory[H_CAPACITY] as number;
  const base = agentBase(memory);
  let woken = 0;
  for (let i = 0; i < capacity; i++) woken += Atomics.notify(memory, base + i * AGENT + A_MAILBOX);
  return woken;
}

/**
 * What a thread that has ended left in a primitive's memory, written in by hand: an agent tagged
 * with its id, its queued waits, its holds and its granted waits it never collected. For the
 * in-process tests of `recover()` and of the repairs (the mutants of that code run in the
 * test's own thread, which the thread tests' workers do not: CONTRIBUTING.md, "Mutation
 * testing"). Nothing is checked: the caller writes what a real thread could have left.
 */
export class DeadThread {
  readonly memory: Int32Array;
  /** The agent index it owns. */
  readonly agent: number;

  /** Claims a free agent of `handle`'s memory for the ended thread `id` (its TAG is `id + 1`). */
  constructor(handle: { buffer: SharedArrayBuffer }, id: number) {
    this.memory = new Int32Array(handle.buffer);
    const agent = claimAgent(this.memory, 0);
    if (agent === -1) throw new Error('DeadThread: no free agent');
    this.memory[agentAt(this.memory, agent, A_TAG)] = id + 1;
    this.agent = agent;
  }

  /** Queues a wait at the tail, as `enqueue` does inside a section; its slot. */
  wait(weight: number): number {
    const slot = enqueue(this.memory, this.agent, weight);
    if (slot === -1) throw new Error('DeadThread: no free slot');
    return slot;
  }

  /** Grants its queued `slot` (out of the queue, GRANTED), as another thread's release would. */
  grant(slot: number): void {
    grantSlot(this.memory, slot);
  }

  /** Sets the permits its agent holds (HOLDS); the kind's in-use count is the caller's. */
  hold(permits: number): void {
    this.memory[agentAt(this.memory, this.agent, A_HOLDS)] = permits;
  }

  /** Leaves the critical section held, as a thread that died inside it does. */
  dieInside(): void {
    Atomics.store(this.memory, H_SPIN, (this.memory[agentAt(this.memory, this.agent, A_TAG)] as number) | 0);
  }
}

/** Lets the platform waits of other instances deliver (each resolves on a task of its own). */
export async function deliver(): Promise<void> {
  for (let i = 0; i < 3; i++) await nextMacrotask();
}

/** Nothing left of `handle`'s waits: no slot, no agent, no platform wait, no keep-alive. */
export function expectIdle(handle: { buffer: SharedArrayBuffer }): void {
  expect(memoryUse(handle)).toEqual({ slots: 0, agents: 0, queued: 0, spin: 0 });
  // Still the memory of a primitive: no wake went astray to word 0.
  expect(new Int32Array(handle.buffer)[H_MAGIC]).toBe(MAGIC);
  expect(platformWaits(handle)).toBe(0);
  expect(pendingPlatformWaits()).toBe(0);
}
