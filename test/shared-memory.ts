/**
 * Reads the shared memory of a waitsafe/shared primitive from the outside, for the tests'
 * leak checks: slots and agents in use, and pending platform waits.
 */

import {
  A_MAILBOX,
  A_TAG,
  AGENT,
  agentBase,
  FREE,
  H_CAPACITY,
  H_QUEUED,
  H_SPIN,
  S_STATE,
  slotAt,
} from '../src/shared/memory.js';

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
