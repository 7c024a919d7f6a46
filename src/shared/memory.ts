/**
 * The shared memory of a `waitsafe/shared` primitive: one `SharedArrayBuffer`, read as an
 * `Int32Array`, that every thread holding the primitive's handle maps. The layout, its
 * invariants and the recovery of a dead thread are described in docs/architecture.md
 * ("waitsafe/shared").
 *
 * ```
 * header   MAGIC KIND CAPACITY SPIN TICKET QUEUED A B C HEAD TAIL FREE EPOCH - - -   (16 words)
 * slots    capacity x [STATE TICKET AGENT WEIGHT VALUE NEXT PREV]        (one per pending wait)
 * agents   capacity x [TAG MAILBOX HOLDS NONCE]                          (one per instance in use)
 * ```
 *
 * - A *slot* is one wait of one thread, from the moment it queues until its thread collects the
 *   outcome (or gives up). Its STATE is the commit point of every change: a grant is the one
 *   write QUEUED -> GRANTED. Waits are served in TICKET order. The queued slots are also linked
 *   in that order (HEAD, TAIL, NEXT, PREV) and the free ones in a list (FREE, NEXT), so every
 *   step is O(1); the links are caches that recovery rebuilds from the states and tickets.
 * - An *agent* is one instance (one thread's `from(handle)` or constructor) while it has waits
 *   or holds: TAG says which thread (its id + 1; 0 = free), MAILBOX is the word that thread's one
 *   `Atomics.waitAsync` waits on, HOLDS the permits it holds (locks and semaphores).
 * - Every change happens inside a critical section guarded by SPIN (0 = free, else the tag of
 *   the thread inside). Sections are short and never call user code.
 * - QUEUED, the links and, for permits, IN_USE are caches of what the slots and agents say:
 *   recovery recomputes them, so a thread that dies inside a section cannot leave them wrong.
 *
 * @module
 */

import { badValue } from '../core/options.js';
import { now } from '../core/timers.js';

/** "wsh1": the first word of every waitsafe/shared buffer. */
export const MAGIC = 0x77736831;

/** Header words. */
export const H_MAGIC = 0;
export const H_KIND = 1;
export const H_CAPACITY = 2;
export const H_SPIN = 3;
export const H_TICKET = 4;
/** Slots in state QUEUED (a cache). */
export const H_QUEUED = 5;
/** Kind-specific words. */
export const H_A = 6;
export const H_B = 7;
export const H_C = 8;
/** The queue's first and last slot + 1 (0: empty), and the first free slot + 1. */
export const H_HEAD = 9;
export const H_TAIL = 10;
export const H_FREE = 11;
/** How many times the critical section has been left (wraps): tells a slow owner from a dead one. */
export const H_EPOCH = 12;
export const HEADER = 16;

/** Slot words. */
export const SLOT = 7;
export const S_STATE = 0;
export const S_TICKET = 1;
/** The agent index + 1. */
export const S_AGENT = 2;
/** Permits: the weight. Event: the generation it waits past. Barrier: its round. */
export const S_WEIGHT = 3;
/** Barrier: the arrival index once tripped, or why it broke. */
export const S_VALUE = 4;
/** Links (slot + 1; 0: none): the next and previous queued slot, or the next free one. */
export const S_NEXT = 5;
export const S_PREV = 6;

/** Slot states. */
export const FREE = 0;
export const QUEUED = 1;
export const GRANTED = 2;
export const BROKEN = 3;

/** Agent words. */
export const AGENT = 4;
export const A_TAG = 0;
export const A_MAILBOX = 1;
export const A_HOLDS = 2;
/** Which instance of the thread owns it (a number unique in the thread). */
export const A_NONCE = 3;

/** The kinds, as stored in KIND. */
export const KINDS = { SharedLock: 1, SharedSemaphore: 2, SharedEvent: 3, SharedBarrier: 4 } as const;
export type KindName = keyof typeof KINDS;
const KIND_NAMES = Object.keys(KINDS) as KindName[];

/** Default and largest `capacity`. */
export const DEFAULT_CAPACITY = 256;
export const MAX_CAPACITY = 65_536;

/** How long a thread spins for the critical section before it reports the state as stuck (ms). */
const STUCK_MS = 1_000;

/** Words of a buffer of `capacity` slots and agents. */
export function wordsFor(capacity: number): number {
  return HEADER + capacity * (SLOT + AGENT);
}

/**
 * What `handle` holds: structured-cloneable, so `postMessage(x.handle)` carries it to another
 * thread, where `X.from(handle)` maps the same memory.
 *
 * @example
 * ```ts
 * const lock = new SharedLock({ name: 'cache' });
 * const handle: SharedHandle = lock.handle; // { kind: 'SharedLock', name: 'cache', buffer }
 * worker.postMessage(handle);
 * ```
 */
export interface SharedHandle {
  /** The class it belongs to: `'SharedLock'`, `'SharedSemaphore'`, `'SharedEvent'` or `'SharedBarrier'`. */
  readonly kind: string;
  /** The primitive's `name`, if it has one. */
  readonly name: string | undefined;
  /** The shared memory. */
  readonly buffer: SharedArrayBuffer;
}

type SharedArrayBufferConstructor = new (length: number) => SharedArrayBuffer;

/** A new zeroed buffer for a primitive of `kind`. */
export function allocate(kind: KindName, capacity: number, label: string): Int32Array {
  const SAB = (globalThis as { SharedArrayBuffer?: SharedArrayBufferConstructor }).SharedArrayBuffer;
  if (typeof SAB !== 'function') {
    throw new TypeError(
      `${label}: SharedArrayBuffer is not available here (in a browser, the page must be cross-origin isolated: see docs/threads.md)`,
    );
  }
  const memory = new Int32Array(new SAB(wordsFor(capacity) * 4));
  memory[H_KIND] = KINDS[kind];
  memory[H_CAPACITY] = capacity;
  for (let i = 0; i < capacity - 1; i++) memory[slotAt(i, S_NEXT)] = i + 2;
  memory[H_FREE] = 1;
  Atomics.store(memory, H_MAGIC, MAGIC);
  return memory;
}

// Stryker disable next-line ArrowFunction: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/shared-recovery.test.ts
const describe = (value: unknown): string =>
  value === null ? 'null' : typeof value === 'object' ? Object.prototype.toString.call(value) : typeof value;

/**
 * Checks a handle for a primitive of `kind` and maps its memory. Throws a TypeError naming the
 * argument for anything but a handle made by that kind (a handle of another kind included).
 */
export function adopt(handle: unknown, kind: KindName): { memory: Int32Array; name: string | undefined } {
  const what = `${kind}.from(): the "handle" argument`;
  if (typeof handle !== 'object' || handle === null) {
    throw new TypeError(`${what} must be the handle of a ${kind} (its .handle), got ${describe(handle)}`);
  }
  const { buffer, name } = handle as { buffer?: unknown; name?: unknown };
  if (Object.prototype.toString.call(buffer) !== '[object SharedArrayBuffer]') {
    throw new TypeError(`${what} must have a SharedArrayBuffer as its "buffer", got ${describe(buffer)}`);
  }
  if (name !== undefined && typeof name !== 'string') throw badValue(`${what}'s "name"`, 'a string', name);
  const bytes = (buffer as SharedArrayBuffer).byteLength;
  if (bytes < HEADER * 4 || bytes % 4 !== 0) {
    throw new TypeError(`${what}'s buffer is not the memory of a waitsafe/shared primitive (${bytes} bytes)`);
  }
  const memory = new Int32Array(buffer as SharedArrayBuffer);
  if (Atomics.load(memory, H_MAGIC) !== MAGIC) {
    throw new TypeError(`${what}'s buffer is not the memory of a waitsafe/shared primitive`);
  }
  const found = KIND_NAMES[(memory[H_KIND] as number) - 1];
  if (found !== kind) {
    throw new TypeError(`${what} is the handle of a ${found ?? 'primitive of an unknown kind'}, not of a ${kind}`);
  }
  const capacity = memory[H_CAPACITY] as number;
  if (!(capacity >= 1 && capacity <= MAX_CAPACITY) || bytes < wordsFor(capacity) * 4) {
    throw new TypeError(`${what}'s buffer is too small for its capacity (${bytes} bytes)`);
  }
  return { memory, name };
}

/** Where every copy of waitsafe in this thread finds the id the first one chose. */
// Stryker disable next-line StringLiteral: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/shared-recovery.test.ts
const THREAD_ID_KEY = Symbol.for('waitsafe.shared.threadId');

/** What {@link chooseThreadId} reads of a thread's global object. @internal */
export interface ThreadHost {
  [THREAD_ID_KEY]?: unknown;
  WorkerGlobalScope?: abstract new () => unknown;
  process?: { getBuiltinModule?: (id: string) => unknown };
  crypto?: { getRandomValues?: (array: Uint32Array) => Uint32Array };
}

/**
 * The id of the thread whose global object is `host`: the one a copy of waitsafe already chose
 * and stored on `host`, else worker_threads' `threadId` where the thread is one of its threads,
 * else a random number; stored on `host` for the other copies. The module calls it once, with
 * `globalThis`. @internal
 */
export function chooseThreadId(host: ThreadHost): number {
  const chosen = host[THREAD_ID_KEY];
  if (typeof chosen === 'number') return chosen;
  let id = nodeThreadId(host);
  if (id === undefined) {
    const crypto = host.crypto;
    const word = new Uint32Array(1);
    if (typeof crypto?.getRandomValues === 'function') crypto.getRandomValues(word);
    else word[0] = Math.floor(Math.random() * 0x100000000);
    // 2^29 .. 2^30 - 1: never one of the small ids worker_threads hands out.
    id = 0x20000000 + ((word[0] as number) % 0x20000000);
  }
  Object.defineProperty(host, THREAD_ID_KEY, { value: id });
  return id;
}

/**
 * `worker_threads.threadId`, where the thread of `host` is one of worker_threads' (Node 20.16+,
 * Bun, Deno: through `process.getBuiltinModule`). Not in a Web Worker, which worker_threads may
 * call its main thread (Deno: `threadId` 0 in every Web Worker).
 */
function nodeThreadId(host: ThreadHost): number | undefined {
  // A missing link (no process, no getBuiltinModule, no module) throws a TypeError: not Node-like.
  try {
    const threads = (host.process as { getBuiltinModule(id: string): unknown }).getBuiltinModule(
      'node:worker_threads',
    ) as { isMainThread: unknown; threadId: unknown };
    const scope = host.WorkerGlobalScope;
    if (typeof scope === 'function' && host instanceof scope && threads.isMainThread !== false) return undefined;
    const id = threads.threadId;
    if (Number.isInteger(id) && (id as number) >= 0 && (id as number) <= 0x3fffffff) return id as number;
  } catch {
    // not Node-like
  }
  return undefined;
}

/**
 * This thread's id, as `recover()` takes it: in a worker_threads thread (Node 20.16+, Bun, Deno),
 * `worker_threads.threadId`, so a parent can pass its `worker.threadId`; elsewhere (browsers,
 * Web Workers, Node before 20.16) a random number from 2^29 to 2^30 - 1, the same for every
 * copy of waitsafe in the thread, that the thread can post to its parent.
 *
 * @example
 * ```ts
 * import { threadId } from 'waitsafe/shared';
 * parent.postMessage({ ready: true, threadId }); // in a Web Worker: tell the parent who it is
 * ```
 */
export const threadId: number = chooseThreadId(globalThis as ThreadHost);
/** What SPIN and agents' TAG hold for this thread. */
// Stryker disable next-line ArithmeticOperator: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/shared-recovery.test.ts and test/shared-threads.test.ts
export const TAG = threadId + 1;

/** What a thread that found the section stuck remembers: its owner, and how many times it had been left then. */
export interface Stuck {
  owner: number;
  epoch: number;
}

/** Spins before a thread that finds the section taken starts to give its core away between tries. */
const SPINS = 64;
/** False where this thread may not block (a browser's main thread): then it only spins. */
// Stryker disable next-line BooleanLiteral: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/shared-recovery.test.ts
let canBlock = true;

/**
 * Enters the critical section of `memory`. A thread that finds it taken spins a little, then
 * waits on the SPIN word for at most 50 µs at a time (`Atomics.wait`, where the thread may block),
 * so that a holder the OS took off the CPU gets a core back. After {@link STUCK_MS} it throws, and
 * remembers the owner and the section's EPOCH in `stuck`: as long as both are unchanged (the
 * owner still holds it, and nobody has left it since), the next calls throw at once instead of
 * waiting again. An owner that is only slow bumps EPOCH when it leaves.
 */
export function enter(memory: Int32Array, label: string, stuck: Stuck): void {
  // Found stuck, and its owner still holds it with nobody having left it since: throw at once.
  if (
    stuck.owner !== 0 &&
    Atomics.load(memory, H_SPIN) === stuck.owner &&
    Atomics.load(memory, H_EPOCH) === stuck.epoch
  ) {
    throw stuckError(label, stuck.owner);
  }
  let deadline = 0;
  for (let i = 1; ; i++) {
    if (Atomics.compareExchange(memory, H_SPIN, 0, TAG) === 0) {
      stuck.owner = 0;
      return;
    }
    if (i < SPINS) continue;
    const owner = Atomics.load(memory, H_SPIN);
    if (owner !== 0 && canBlock) {
      try {
        Atomics.wait(memory, H_SPIN, owner, 0.05);
      } catch {
        canBlock = false; // not allowed on this thread: spin
      }
    }
    if (canBlock || (i & 0x3ff) === 0) {
      const t = now();
      if (deadline === 0) deadline = t + STUCK_MS;
      else if (t > deadline && owner !== 0) {
        stuck.owner = owner;
        stuck.epoch = Atomics.load(memory, H_EPOCH);
        throw stuckError(label, owner);
      }
    }
  }
}

function stuckError(label: string, owner: number): Error {
  return new Error(
    `${label}: the shared state has been locked for over ${STUCK_MS} ms by thread ${owner - 1}; ` +
      `if that thread was terminated, call recover(${owner - 1}) from a thread that is still running`,
  );
}

/** Leaves the critical section. */
export function exit(memory: Int32Array): void {
  memory[H_EPOCH] = ((memory[H_EPOCH] as number) + 1) | 0;
  Atomics.store(memory, H_SPIN, 0);
}

/** Wakes the one `Atomics.waitAsync` of agent `agent` (index), if any. Inside a section or not. */
export function wake(memory: Int32Array, agent: number): void {
  const at = agentBase(memory) + agent * AGENT + A_MAILBOX;
  Atomics.add(memory, at, 1);
  Atomics.notify(memory, at);
}

/** The first word of the agents. */
export const agentBase = (memory: Int32Array): number => HEADER + (memory[H_CAPACITY] as number) * SLOT;

/** The head of the queue (the queued slot with the smallest ticket), or -1. */
export function head(memory: Int32Array): number {
  return (memory[H_HEAD] as number) - 1;
}

/** The queued slots, in ticket order. */
export function queued(memory: Int32Array): number[] {
  const list: number[] = [];
  for (let slot = head(memory); slot !== -1; slot = (memory[slotAt(slot, S_NEXT)] as number) - 1) list.push(slot);
  return list;
}

/** Takes a free slot for agent `agent` (index) and queues it at the tail; -1 if none is free. */
export function enqueue(memory: Int32Array, agent: number, weight: number): number {
  const slot = (memory[H_FREE] as number) - 1;
  if (slot === -1) return -1;
  memory[H_FREE] = memory[slotAt(slot, S_NEXT)] as number;
  const ticket = memory[H_TICKET] as number;
  memory[H_TICKET] = (ticket + 1) | 0;
  memory[slotAt(slot, S_TICKET)] = ticket;
  memory[slotAt(slot, S_AGENT)] = agent + 1;
  memory[slotAt(slot, S_WEIGHT)] = weight;
  memory[slotAt(slot, S_VALUE)] = 0;
  const tail = memory[H_TAIL] as number;
  memory[slotAt(slot, S_NEXT)] = 0;
  memory[slotAt(slot, S_PREV)] = tail;
  if (tail === 0) memory[H_HEAD] = slot + 1;
  else memory[slotAt(tail - 1, S_NEXT)] = slot + 1;
  memory[H_TAIL] = slot + 1;
  memory[slotAt(slot, S_STATE)] = QUEUED; // the commit
  memory[H_QUEUED] = (memory[H_QUEUED] as number) + 1;
  return slot;
}

/** Takes a queued slot out of the queue's links and count (its state is the caller's). */
function unlink(memory: Int32Array, slot: number): void {
  const next = memory[slotAt(slot, S_NEXT)] as number;
  const prev = memory[slotAt(slot, S_PREV)] as number;
  if (prev === 0) memory[H_HEAD] = next;
  else memory[slotAt(prev - 1, S_NEXT)] = next;
  if (next === 0) memory[H_TAIL] = prev;
  else memory[slotAt(next - 1, S_PREV)] = prev;
  memory[H_QUEUED] = (memory[H_QUEUED] as number) - 1;
}

/** Grants a queued slot: out of the queue, GRANTED. */
export function grantSlot(memory: Int32Array, slot: number): void {
  unlink(memory, slot);
  memory[slotAt(slot, S_STATE)] = GRANTED; // the commit
}

/** Breaks a queued slot (a barrier's reset or abort): out of the queue, BROKEN, `why` in VALUE. */
export function breakSlot(memory: Int32Array, slot: number, why: number): void {
  unlink(memory, slot);
  memory[slotAt(slot, S_VALUE)] = why;
  memory[slotAt(slot, S_STATE)] = BROKEN;
}

/** Frees a slot: out of the queue if queued, then FREE and on the free list. */
export function freeSlot(memory: Int32Array, slot: number): void {
  if (memory[slotAt(slot, S_STATE)] === QUEUED) unlink(memory, slot);
  memory[slotAt(slot, S_STATE)] = FREE;
  memory[slotAt(slot, S_NEXT)] = memory[H_FREE] as number;
  memory[H_FREE] = slot + 1;
}

/**
 * Rebuilds the caches from the slots' states and tickets: the queue's links (in ticket order),
 * QUEUED and the free list. For recovery, after a thread may have died halfway through a change.
 */
export function rebuild(memory: Int32Array): void {
  const capacity = memory[H_CAPACITY] as number;
  const waiting: number[] = [];
  memory[H_FREE] = 0;
  for (let slot = capacity - 1; slot >= 0; slot--) {
    const state = memory[slotAt(slot, S_STATE)];
    if (state === QUEUED) waiting.push(slot);
    else if (state === FREE) {
      memory[slotAt(slot, S_NEXT)] = memory[H_FREE] as number;
      memory[H_FREE] = slot + 1;
    }
  }
  // Tickets wrap: order by distance from the next ticket to be drawn.
  const next = memory[H_TICKET] as number;
  const distance = (slot: number) => ((memory[slotAt(slot, S_TICKET)] as number) - next) | 0;
  waiting.sort((x, y) => distance(x) - distance(y));
  memory[H_HEAD] = 0;
  memory[H_TAIL] = 0;
  memory[H_QUEUED] = 0;
  for (const slot of waiting) {
    const tail = memory[H_TAIL] as number;
    memory[slotAt(slot, S_NEXT)] = 0;
    memory[slotAt(slot, S_PREV)] = tail;
    if (tail === 0) memory[H_HEAD] = slot + 1;
    else memory[slotAt(tail - 1, S_NEXT)] = slot + 1;
    memory[H_TAIL] = slot + 1;
    memory[H_QUEUED] = (memory[H_QUEUED] as number) + 1;
  }
}

/** Takes a free agent for the instance `nonce` of this thread; -1 if none is free. */
export function claimAgent(memory: Int32Array, nonce: number): number {
  const capacity = memory[H_CAPACITY] as number;
  const base = agentBase(memory);
  for (let i = 0, at = base; i < capacity; i++, at += AGENT) {
    if ((memory[at + A_TAG] as number) !== 0) continue;
    memory[at + A_HOLDS] = 0;
    memory[at + A_NONCE] = nonce;
    // Stryker disable next-line ArithmeticOperator: A_TAG is 0, so at - A_TAG is at + A_TAG
    memory[at + A_TAG] = TAG; // the commit
    return i;
  }
  return -1;
}

/** A slot's word. */
export const slotAt = (slot: number, word: number): number => HEADER + slot * SLOT + word;
/** An agent's word. */
export const agentAt = (memory: Int32Array, agent: number, word: number): number =>
  agentBase(memory) + agent * AGENT + word;
