/**
 * waitsafe/shared's recovery paths, in the test's own thread: what only another thread normally
 * runs or causes (a thread that died, inside the critical section or not; a section held too
 * long; a wait that gives up while the section is stuck), played by hand through the shared
 * memory (`DeadThread`, the header words) and fakes of the platform (the clock, `Atomics.wait`,
 * `Atomics.compareExchange`, the retry timers), so that mutation testing can reach it. Also the
 * checks of a handle's memory, the choice of the thread id, and the rebuild of the caches.
 * The same paths with real threads: test/shared-threads.test.ts.
 */

import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { Releaser } from '../src/index.js';
import { SharedBarrier, SharedEvent, SharedLock, SharedSemaphore, threadId } from '../src/shared/index.js';
import {
  A_HOLDS,
  A_MAILBOX,
  A_NONCE,
  A_TAG,
  AGENT,
  agentAt,
  chooseThreadId,
  H_A,
  H_B,
  H_CAPACITY,
  H_EPOCH,
  H_HEAD,
  H_KIND,
  H_MAGIC,
  H_QUEUED,
  H_SPIN,
  H_TAIL,
  H_TICKET,
  MAGIC,
  S_TICKET,
  slotAt,
  TAG,
  type ThreadHost,
  wordsFor,
} from '../src/shared/memory.js';
import { flushMicrotasks, rejectionOf, type Tracked, track } from './helpers.js';
import { DeadThread, deliver, expectIdle, memoryUse } from './shared-memory.js';

const memoryOf = (x: { handle: { buffer: SharedArrayBuffer } }): Int32Array => new Int32Array(x.handle.buffer);

/** Two thread ids that are not this thread's. */
const DEAD = threadId === 777 ? 776 : 777;
const OTHER = threadId === 888 ? 887 : 888;

/** The message of the error for a section held too long by thread `id`. */
const stuckMessage = (label: string, id: number): string =>
  `${label}: the shared state has been locked for over 1000 ms by thread ${id}; ` +
  `if that thread was terminated, call recover(${id}) from a thread that is still running`;

/** `performance.now()` (the clock the stuck limit is measured on) going up by `step` ms at every read. */
function steppingClock(step: number): MockInstance<() => number> {
  let t = 10_000;
  return vi.spyOn(performance, 'now').mockImplementation(() => {
    t += step;
    return t;
  });
}

/**
 * `Atomics.compareExchange` counting the tries on the SPIN word of `memory`. The first `busy`
 * tries fail as if another thread had just taken the section (SPIN is left as it is); after
 * `release` tries (if given), the holder leaves (SPIN 0), so a thread stuck for good gets in.
 */
function spinTries(memory: Int32Array, busy = 0, release = Infinity): { count: number } {
  const real = Atomics.compareExchange;
  const tries = { count: 0 };
  vi.spyOn(Atomics, 'compareExchange').mockImplementation(((
    array: Int32Array,
    index: number,
    expected: number,
    value: number,
  ) => {
    if (array.buffer === memory.buffer && index === H_SPIN && expected === 0) {
      tries.count++;
      if (tries.count <= busy) return 5;
      if (tries.count > release) Atomics.store(memory, H_SPIN, 0);
    }
    return real(array, index, expected, value);
  }) as typeof Atomics.compareExchange);
  return tries;
}

/** A thread that held the section and leaves it, as `exit` does: EPOCH bumped, SPIN free. */
function leave(memory: Int32Array): void {
  memory[H_EPOCH] = ((memory[H_EPOCH] as number) + 1) | 0;
  Atomics.store(memory, H_SPIN, 0);
}

let blocks: MockInstance<typeof Atomics.wait>;

beforeEach(() => {
  // The 50 µs waits on SPIN return at once (and are counted): the same on every runtime, a
  // browser's main thread included, where the real one throws.
  blocks = vi.spyOn(Atomics, 'wait').mockImplementation(() => 'timed-out');
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('the memory of a handle', () => {
  it('throws a TypeError naming the page isolation where SharedArrayBuffer is missing', () => {
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'SharedArrayBuffer') as PropertyDescriptor;
    Object.defineProperty(globalThis, 'SharedArrayBuffer', { ...saved, value: undefined });
    let error: unknown;
    try {
      new SharedLock({ name: 'iso' });
    } catch (e) {
      error = e;
    } finally {
      Object.defineProperty(globalThis, 'SharedArrayBuffer', saved);
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(
      'SharedLock "iso": SharedArrayBuffer is not available here (in a browser, the page must be cross-origin isolated: see docs/threads.md)',
    );
    expect(new SharedLock().isLocked()).toBe(false);
  });

  const what = 'SharedLock.from(): the "handle" argument';
  /** A buffer of `bytes` bytes with the header of a lock of `capacity` (its KIND `kind`). */
  const header = (bytes: number, capacity: number, kind = 1): { buffer: SharedArrayBuffer } => {
    const buffer = new SharedArrayBuffer(bytes);
    const memory = new Int32Array(buffer, 0, Math.floor(bytes / 4));
    if (memory.length > H_CAPACITY) {
      memory[H_MAGIC] = MAGIC;
      memory[H_KIND] = kind;
      memory[H_CAPACITY] = capacity;
    }
    return { buffer };
  };
  const cases: ReadonlyArray<readonly [string, () => unknown, string]> = [
    ['undefined', () => undefined, `${what} must be the handle of a SharedLock (its .handle), got undefined`],
    ['null', () => null, `${what} must be the handle of a SharedLock (its .handle), got null`],
    ['a number', () => 42, `${what} must be the handle of a SharedLock (its .handle), got number`],
    ['no buffer', () => ({}), `${what} must have a SharedArrayBuffer as its "buffer", got undefined`],
    ['a null buffer', () => ({ buffer: null }), `${what} must have a SharedArrayBuffer as its "buffer", got null`],
    [
      'an array for a buffer',
      () => ({ buffer: [] }),
      `${what} must have a SharedArrayBuffer as its "buffer", got [object Array]`,
    ],
    [
      'a buffer of 8 bytes',
      () => ({ buffer: new SharedArrayBuffer(8) }),
      `${what}'s buffer is not the memory of a waitsafe/shared primitive (8 bytes)`,
    ],
    [
      'a buffer of a whole header (64 bytes) and no slot',
      () => header(64, 1),
      `${what}'s buffer is too small for its capacity (64 bytes)`,
    ],
    [
      'a buffer of 4 bytes short of its header',
      () => ({ buffer: new SharedArrayBuffer(60) }),
      `${what}'s buffer is not the memory of a waitsafe/shared primitive (60 bytes)`,
    ],
    [
      'a buffer whose length is not a multiple of 4',
      () => header(wordsFor(1) * 4 + 2, 1),
      `${what}'s buffer is not the memory of a waitsafe/shared primitive (${wordsFor(1) * 4 + 2} bytes)`,
    ],
    [
      'a buffer without the magic word',
      () => ({ buffer: new SharedArrayBuffer(4096) }),
      `${what}'s buffer is not the memory of a waitsafe/shared primitive`,
    ],
    [
      'a buffer of an unknown kind (5)',
      () => header(4096, 1, 5),
      `${what} is the handle of a primitive of an unknown kind, not of a SharedLock`,
    ],
    [
      'a buffer of an unknown kind (0)',
      () => header(4096, 1, 0),
      `${what} is the handle of a primitive of an unknown kind, not of a SharedLock`,
    ],
    ['a buffer of capacity 0', () => header(4096, 0), `${what}'s buffer is too small for its capacity (4096 bytes)`],
    ['a buffer of capacity -1', () => header(4096, -1), `${what}'s buffer is too small for its capacity (4096 bytes)`],
    [
      'a buffer of capacity 65,537 (large enough for it)',
      () => header(wordsFor(65_537) * 4, 65_537),
      `${what}'s buffer is too small for its capacity (${wordsFor(65_537) * 4} bytes)`,
    ],
    [
      'a buffer of capacity 1, one word short',
      () => header(wordsFor(1) * 4 - 4, 1),
      `${what}'s buffer is too small for its capacity (${wordsFor(1) * 4 - 4} bytes)`,
    ],
  ];
  it.each(cases)('rejects a handle with %s, with the exact message', (_, make, message) => {
    let error: unknown;
    try {
      SharedLock.from(make() as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(message);
  });

  it('adopts a buffer of capacity 1 and one of capacity 65,536, each exactly its size', () => {
    for (const capacity of [1, 65_536]) {
      const { buffer } = header(wordsFor(capacity) * 4, capacity);
      const memory = new Int32Array(buffer);
      // A free list, as allocate() leaves it: 1 -> 2 -> ... -> capacity.
      for (let i = 0; i < capacity - 1; i++) memory[slotAt(i, 5)] = i + 2;
      memory[11] = 1;
      memory[H_A] = 1;
      const lock = SharedLock.from({ kind: 'SharedLock', name: undefined, buffer });
      const release = lock.tryAcquire() as Releaser;
      expect(lock.isLocked()).toBe(true);
      release();
      expect(lock.isLocked()).toBe(false);
    }
  });
});

describe('the thread id', () => {
  const KEY = Symbol.for('waitsafe.shared.threadId');
  /** What `host` stores under the key every copy of waitsafe reads. */
  const stored = (host: ThreadHost): unknown => (host as Record<symbol, unknown>)[KEY];
  /** A Node-like host whose worker_threads says `threads`. */
  const nodeLike = (threads: object | undefined): ThreadHost => ({
    process: { getBuiltinModule: (id: string) => (id === 'node:worker_threads' ? threads : undefined) },
  });
  /** A Web Worker's global object: an instance of its WorkerGlobalScope. */
  const webWorker = (extra: ThreadHost): ThreadHost => {
    class Scope {}
    return Object.assign(new Scope(), { WorkerGlobalScope: Scope as unknown as abstract new () => unknown }, extra);
  };
  /** A host whose crypto draws `word`. */
  const drawing = (word: number): NonNullable<ThreadHost['crypto']> => ({
    getRandomValues(array: Uint32Array) {
      array[0] = word;
      return array;
    },
  });

  it('is the one already chosen in this thread, and TAG is that id + 1', () => {
    expect(chooseThreadId(globalThis as ThreadHost)).toBe(threadId);
    expect(TAG).toBe(threadId + 1);
    expect(chooseThreadId({ [KEY]: 12_345, crypto: drawing(7) } as ThreadHost)).toBe(12_345);
  });

  it("takes worker_threads' threadId where the host is Node-like, and stores it on the host", () => {
    const host = nodeLike({ isMainThread: false, threadId: 3 });
    expect(chooseThreadId(host)).toBe(3);
    expect(stored(host)).toBe(3);
    expect(chooseThreadId(host)).toBe(3);
    expect(chooseThreadId(nodeLike({ isMainThread: true, threadId: 0 }))).toBe(0);
    expect(chooseThreadId(nodeLike({ threadId: 0x3fffffff }))).toBe(0x3fffffff);
  });

  it("draws a random id from 2^29 to 2^30 - 1 where worker_threads' threadId is not a small integer", () => {
    for (const bad of [-1, 0x40000000, 1.5, '5', undefined]) {
      expect(chooseThreadId({ ...nodeLike({ threadId: bad }), crypto: drawing(9) })).toBe(0x20000000 + 9);
    }
    expect(chooseThreadId({ ...nodeLike(undefined), crypto: drawing(9) })).toBe(0x20000000 + 9);
    expect(chooseThreadId({ process: {}, crypto: drawing(9) })).toBe(0x20000000 + 9);
  });

  it('takes the random id from crypto, modulo 2^29, or from Math.random without it', () => {
    expect(chooseThreadId({ crypto: drawing(0xffffffff) })).toBe(0x20000000 + (0xffffffff % 0x20000000));
    expect(chooseThreadId({ crypto: drawing(0x20000000 + 5) })).toBe(0x20000000 + 5);
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.3);
    const host: ThreadHost = {};
    const expected = 0x20000000 + (Math.floor(0.3 * 0x100000000) % 0x20000000);
    expect(chooseThreadId(host)).toBe(expected);
    expect(stored(host)).toBe(expected);
    expect(chooseThreadId({ crypto: {} })).toBe(expected);
    expect(random).toHaveBeenCalledTimes(2);
    random.mockReturnValue(0.999_999_999);
    const high = chooseThreadId({});
    expect(high).toBeGreaterThanOrEqual(0x20000000);
    expect(high).toBeLessThanOrEqual(0x3fffffff);
  });

  it("takes no worker_threads id in a Web Worker that worker_threads calls its main thread (Deno's 0)", () => {
    const deno = webWorker({ ...nodeLike({ isMainThread: true, threadId: 0 }), crypto: drawing(11) });
    expect(chooseThreadId(deno)).toBe(0x20000000 + 11);
    // Not on a main thread: its id is worker_threads'.
    expect(chooseThreadId(webWorker(nodeLike({ isMainThread: false, threadId: 4 })))).toBe(4);
    expect(chooseThreadId(webWorker({ crypto: drawing(12) }))).toBe(0x20000000 + 12);
    // A global object that is not an instance of its WorkerGlobalScope is no Web Worker.
    class Scope {}
    const window: ThreadHost = {
      WorkerGlobalScope: Scope as unknown as abstract new () => unknown,
      ...nodeLike({ isMainThread: true, threadId: 6 }),
    };
    expect(chooseThreadId(window)).toBe(6);
  });
});

describe('the critical section', () => {
  it('spins 63 tries, then waits on SPIN 50 µs at a time, and throws once over 1 s naming the owner', () => {
    const lock = new SharedLock({ name: 'spin' });
    const memory = memoryOf(lock);
    Atomics.store(memory, H_SPIN, DEAD + 1);
    const tries = spinTries(memory);
    // Reads: the 64th try sets the deadline (+1000 ms); the clock is then 500, 1000 (not over)
    // and 1500 ms past it.
    const clock = steppingClock(500);
    expect(() => lock.tryAcquire()).toThrow(stuckMessage('SharedLock "spin"', DEAD));
    expect(tries.count).toBe(67);
    expect(clock).toHaveBeenCalledTimes(4);
    expect(blocks).toHaveBeenCalledTimes(4);
    expect(blocks).toHaveBeenLastCalledWith(memory, H_SPIN, DEAD + 1, 0.05);
    expect(memoryUse(lock.handle)).toEqual({ slots: 0, agents: 0, queued: 0, spin: DEAD + 1 });
  });

  it('throws at once while the owner it found stuck holds the section and nobody left it, else waits again', () => {
    const lock = new SharedLock({ name: 'again' });
    const memory = memoryOf(lock);
    Atomics.store(memory, H_SPIN, DEAD + 1);
    const clock = steppingClock(500);
    expect(() => lock.tryAcquire()).toThrow(stuckMessage('SharedLock "again"', DEAD));
    clock.mockClear();
    // Nothing changed: at once, without a try or a look at the clock.
    const tries = spinTries(memory);
    expect(() => lock.release()).toThrow(stuckMessage('SharedLock "again"', DEAD));
    expect(tries.count).toBe(0);
    expect(clock).not.toHaveBeenCalled();
    // The same owner, but it left the section and took it again since: a slow owner, wait again.
    memory[H_EPOCH] = (memory[H_EPOCH] as number) + 1;
    expect(() => lock.tryAcquire()).toThrow(stuckMessage('SharedLock "again"', DEAD));
    expect(tries.count).toBe(67);
    expect(clock).toHaveBeenCalledTimes(4);
    // Another thread holds it now (EPOCH unchanged): wait again, and name that one.
    Atomics.store(memory, H_SPIN, OTHER + 1);
    expect(() => lock.tryAcquire()).toThrow(stuckMessage('SharedLock "again"', OTHER));
    expect(tries.count).toBe(134);
    // Another instance found nothing stuck yet: it waits too.
    expect(() => SharedLock.from(lock.handle).tryAcquire()).toThrow(stuckMessage('SharedLock "again"', OTHER));
    expect(tries.count).toBe(201);
    // The owner leaves: the section is free at the first try.
    leave(memory);
    const release = lock.tryAcquire() as Releaser;
    expect(tries.count).toBe(202);
    expect(lock.isLocked()).toBe(true);
    release();
    expectIdle(lock.handle);
  });

  it('neither blocks nor reports a section that is taken and left between its tries as stuck', () => {
    const lock = new SharedLock();
    const memory = memoryOf(lock);
    // 200 tries fail, but SPIN reads 0 every time: another thread is in and out again.
    const tries = spinTries(memory, 200);
    const clock = steppingClock(500);
    const release = lock.tryAcquire() as Releaser;
    expect(tries.count).toBe(201);
    expect(blocks).not.toHaveBeenCalled();
    // It kept an eye on the clock while it could block, but a free SPIN is nobody to blame.
    expect(clock.mock.calls.length).toBe(201 - 64);
    release();
    expectIdle(lock.handle);
  });

  it('bumps EPOCH (wrapping) every time the section is left', () => {
    const lock = new SharedLock();
    const memory = memoryOf(lock);
    expect(memory[H_EPOCH]).toBe(0);
    const release = lock.tryAcquire() as Releaser;
    expect(memory[H_EPOCH]).toBe(1);
    release();
    expect(memory[H_EPOCH]).toBe(2);
    memory[H_EPOCH] = 0x7fffffff;
    expect(lock.isLocked()).toBe(false);
    lock.tryAcquire();
    expect(memory[H_EPOCH]).toBe(-0x80000000);
  });
});

describe('the caches rebuilt by recover()', () => {
  // Waits in slots 1, 2, 0 (in that order), with tickets from `first` + 1 on: the links and the
  // count broken as by a thread that died halfway through a change, then rebuilt by recover().
  it.each([
    ['where ticket + next would wrap (2^30)', 0x3ffffffd],
    ['where the tickets wrap (2^31)', 0x7ffffffd],
    ['from 0', 0],
  ])('orders the queue by distance from the next ticket %s', async (_, first) => {
    const lock = new SharedLock({ capacity: 4 });
    const memory = memoryOf(lock);
    const other = SharedLock.from(lock.handle);
    let held = lock.tryAcquire() as Releaser;
    memory[H_TICKET] = first;
    const controller = new AbortController();
    const gone = track(other.acquire({ signal: controller.signal }));
    const waits = [track(other.acquire()), track(other.acquire())];
    controller.abort();
    waits.push(track(other.acquire()));
    await flushMicrotasks();
    expect(gone.status).toBe('rejected');
    expect([1, 2, 0].map((slot) => memory[slotAt(slot, S_TICKET)])).toEqual(
      [first + 1, first + 2, first + 3].map((t) => t | 0),
    );
    memory[H_HEAD] = 0;
    memory[H_TAIL] = 0;
    memory[H_QUEUED] = 99;
    expect(lock.recover(DEAD)).toBe(0);
    expect(memoryUse(lock.handle)).toMatchObject({ queued: 3, slots: 3 });
    for (let i = 0; i < 3; i++) {
      held();
      await deliver();
      expect(waits.map((w) => w.status)).toEqual(
        ['fulfilled', 'fulfilled', 'fulfilled'].map((s, j) => (j <= i ? s : 'pending')),
      );
      held = (waits[i] as Tracked<Releaser>).value as Releaser;
    }
    held();
    await deliver();
    expectIdle(lock.handle);
  });

  it("puts the free slots only on the free list, in slot order: a granted, uncollected one stays its waiter's", async () => {
    const lock = new SharedLock({ capacity: 3 });
    const waiter = SharedLock.from(lock.handle);
    const other = SharedLock.from(lock.handle);
    const held = lock.tryAcquire() as Releaser;
    const granted = track(waiter.acquire());
    held(); // slot 0 granted; its thread has not looked yet
    expect(lock.recover(DEAD)).toBe(0);
    const more = [track(other.acquire()), track(other.acquire())];
    const error = await rejectionOf(other.acquire());
    expect((error as Error).message).toBe('SharedLock: all 3 shared slots are in use; raise the "capacity" option');
    await deliver();
    expect(granted.status).toBe('fulfilled');
    (granted.value as Releaser)();
    await deliver();
    expect(more.map((w) => w.status)).toEqual(['fulfilled', 'pending']);
    (more[0] as Tracked<Releaser>).value?.();
    await deliver();
    (more[1] as Tracked<Releaser>).value?.();
    await deliver();
    expectIdle(lock.handle);
  });
});

describe('agents', () => {
  it('takes the first free agent, and none past the last: a full memory rejects with a RangeError', async () => {
    // A buffer one agent larger than its capacity needs (from() accepts it): nothing may use the rest.
    const capacity = 2;
    const lock = new SharedLock({ capacity });
    const buffer = new SharedArrayBuffer((wordsFor(capacity) + AGENT) * 4);
    new Int32Array(buffer).set(memoryOf(lock));
    const handle = { kind: 'SharedLock', name: undefined, buffer };
    const [a, b, c] = [SharedLock.from(handle), SharedLock.from(handle), SharedLock.from(handle)];
    const memory = new Int32Array(buffer);
    const held = a.tryAcquire() as Releaser;
    expect(memory[agentAt(memory, 0, A_TAG)]).toBe(TAG);
    expect(memory[agentAt(memory, 0, A_HOLDS)]).toBe(1);
    const waiting = track(b.acquire());
    expect(memory[agentAt(memory, 1, A_TAG)]).toBe(TAG);
    const error = await rejectionOf(c.acquire());
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe('SharedLock: all 2 shared slots are in use; raise the "capacity" option');
    expect(memory.subarray(wordsFor(capacity))).toEqual(new Int32Array(AGENT));
    expect(memoryUse(handle)).toEqual({ slots: 1, agents: 2, queued: 1, spin: 0 });
    held();
    await deliver();
    (waiting.value as Releaser)();
    await deliver();
    expectIdle(handle);
  });
});

describe('recover()', () => {
  it('rejects a bad thread id with the exact RangeError', () => {
    const lock = new SharedLock();
    expect(() => lock.recover(0x40000000)).toThrow(
      'The "threadId" argument must be an integer from 0 to 2^30 - 1, got 1073741824',
    );
    expect(() => lock.recover(threadId)).toThrow(
      `The "threadId" argument must be another thread's id, not this thread's, got ${threadId}`,
    );
    expect(lock.recover(0x3fffffff === threadId ? 0x3ffffffe : 0x3fffffff)).toBe(0);
  });

  it("counts a dead thread's holds, queued waits and granted waits' weights, to the last agent and slot", async () => {
    const capacity = 4;
    const semaphore = new SharedSemaphore(10, { capacity });
    // One agent more than the capacity needs, with the dead thread's tag and holds: not an agent.
    const buffer = new SharedArrayBuffer((wordsFor(capacity) + AGENT) * 4);
    new Int32Array(buffer).set(memoryOf(semaphore));
    const handle = { kind: 'SharedSemaphore', name: undefined, buffer };
    const memory = new Int32Array(buffer);
    memory[wordsFor(capacity) + A_TAG] = DEAD + 1;
    memory[wordsFor(capacity) + A_HOLDS] = 5;
    // Agent 0: thread `small` (tag 1, 2 or 3: a slot state) holding 4 (the dead agent + 1): what
    // the word after the last slot (agent 0's TAG, then HOLDS) would look like to the slot loop.
    const small = [0, 1, 2].find((id) => id !== threadId) as number;
    const other = new DeadThread(handle, small);
    other.hold(4);
    const live = SharedSemaphore.from(handle);
    const held = live.tryAcquire(1) as Releaser; // agent 1
    const filler = new DeadThread(handle, OTHER); // agent 2, so that the dead one is the last
    const dead = new DeadThread(handle, DEAD);
    expect(dead.agent).toBe(capacity - 1);
    dead.hold(2);
    memory[H_B] = 4 + 1 + 2; // IN_USE: the holds
    const granted = dead.wait(3); // slot 0: granted below, never collected
    dead.grant(granted);
    memory[H_B] = (memory[H_B] as number) + 3; // all 10 in use
    const waits = [track(live.acquire({ weight: 1 })), track(live.acquire({ weight: 1 }))]; // slots 1, 2
    expect(dead.wait(5)).toBe(capacity - 1); // the last slot, queued
    expect(memoryUse(handle)).toEqual({ slots: 4, agents: 4, queued: 3, spin: 0 });
    const mailbox = memory[agentAt(memory, dead.agent, A_MAILBOX)] as number;
    // Holds 2, the granted weight 3, one queued wait.
    expect(live.recover(DEAD)).toBe(2 + 3 + 1);
    expect(memory[agentAt(memory, dead.agent, A_TAG)]).toBe(0);
    expect(memory[agentAt(memory, dead.agent, A_HOLDS)]).toBe(0);
    expect(memory[agentAt(memory, dead.agent, A_MAILBOX)]).toBe(mailbox + 1);
    // The words past the last agent and the other dead thread are left alone.
    expect(memory.subarray(wordsFor(capacity))).toEqual(Int32Array.of(DEAD + 1, 0, 5, 0));
    expect(memory[agentAt(memory, other.agent, A_TAG)]).toBe(small + 1);
    // With the dead thread's permits back, the live waits fit.
    expect(live.value).toBe(10 - 4 - 1 - 2);
    await deliver();
    expect(waits.map((w) => w.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(live.recover(small)).toBe(4);
    expect(live.recover(OTHER)).toBe(0);
    expect(filler.agent).toBe(2);
    for (const wait of waits) (wait.value as Releaser)();
    held();
    await deliver();
    expect(live.value).toBe(10);
    expect(memoryUse(handle)).toEqual({ slots: 0, agents: 0, queued: 0, spin: 0 });
  });

  it('counts a granted, uncollected wait of an event or a barrier as nothing, its queued ones as one', () => {
    const event = new SharedEvent();
    const dead = new DeadThread(event.handle, DEAD);
    const slot = dead.wait(memoryOf(event)[H_B] as number);
    dead.wait(memoryOf(event)[H_B] as number);
    dead.grant(slot);
    expect(event.recover(DEAD)).toBe(1);
    expectIdle(event.handle);
    const barrier = new SharedBarrier(3);
    const gone = new DeadThread(barrier.handle, DEAD);
    gone.wait(memoryOf(barrier)[H_B] as number);
    expect(barrier.recover(DEAD)).toBe(1);
    expectIdle(barrier.handle);
  });

  it('leaves the section exactly once, even when it wakes its own agent', () => {
    const lock = new SharedLock();
    const memory = memoryOf(lock);
    const held = lock.tryAcquire() as Releaser;
    new DeadThread(lock.handle, DEAD).wait(1);
    const epoch = memory[H_EPOCH] as number;
    expect(lock.recover(DEAD)).toBe(1);
    expect(memory[H_EPOCH]).toBe(epoch + 1);
    held();
    expectIdle(lock.handle);
  });

  it('takes over a section the dead thread died in, at once, but waits for one a live thread holds', () => {
    const lock = new SharedLock({ name: 'r' });
    const memory = memoryOf(lock);
    const dead = new DeadThread(lock.handle, DEAD);
    dead.wait(1);
    dead.dieInside();
    const clock = steppingClock(500);
    expect(lock.recover(DEAD)).toBe(1);
    expect(clock).not.toHaveBeenCalled();
    expectIdle(lock.handle);
    Atomics.store(memory, H_SPIN, OTHER + 1);
    expect(() => lock.recover(DEAD)).toThrow(stuckMessage('SharedLock "r"', OTHER));
    expect(memoryUse(lock.handle).spin).toBe(OTHER + 1);
  });
});

describe('waits while the section is stuck', () => {
  it('ends a wait that gives up at once, and lets its queued slot go 100 ms after recover()', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const lock = new SharedLock({ name: 'g' });
    const waiter = SharedLock.from(lock.handle);
    let held = lock.tryAcquire() as Releaser;
    const controller = new AbortController();
    const gone = track(waiter.acquire({ signal: controller.signal }));
    const stays = track(waiter.acquire());
    new DeadThread(lock.handle, DEAD).dieInside();
    steppingClock(500);
    controller.abort('stop');
    await flushMicrotasks();
    expect(gone.status).toBe('rejected');
    expect(gone.reason).toBe('stop');
    expect(waiter.waiterCount).toBe(1);
    // Its slot waits for the section.
    expect(memoryUse(lock.handle)).toEqual({ slots: 2, agents: 3, queued: 2, spin: DEAD + 1 });
    expect(vi.getTimerCount()).toBe(1);
    // Still stuck 100 ms later: it tries again 100 ms after that.
    vi.advanceTimersByTime(100);
    expect(memoryUse(lock.handle)).toEqual({ slots: 2, agents: 3, queued: 2, spin: DEAD + 1 });
    expect(vi.getTimerCount()).toBe(1);
    expect(lock.recover(DEAD)).toBe(0);
    expect(memoryUse(lock.handle)).toEqual({ slots: 2, agents: 2, queued: 2, spin: 0 });
    vi.advanceTimersByTime(100);
    expect(memoryUse(lock.handle)).toEqual({ slots: 1, agents: 2, queued: 1, spin: 0 });
    expect(vi.getTimerCount()).toBe(0);
    // Still held by its holder, and the other wait still waits.
    expect(lock.isLocked()).toBe(true);
    await flushMicrotasks();
    expect(stays.status).toBe('pending');
    expect(memoryOf(lock)[H_MAGIC]).toBe(MAGIC);
    // The other wait of that instance is still watched by its platform wait.
    held();
    await deliver();
    expect(stays.status).toBe('fulfilled');
    held = stays.value as Releaser;
    held();
    await deliver();
    expectIdle(lock.handle);
  });

  it('hands a slot granted after its wait gave up back: the permits go to the next waiter', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const semaphore = new SharedSemaphore(2, { name: 'h' });
    const waiter = SharedSemaphore.from(semaphore.handle);
    const next = SharedSemaphore.from(semaphore.handle);
    const held = semaphore.tryAcquire(2) as Releaser;
    const controller = new AbortController();
    const gone = track(waiter.acquire({ weight: 2, signal: controller.signal }));
    const after = track(next.acquire({ weight: 2 }));
    new DeadThread(semaphore.handle, DEAD).dieInside();
    steppingClock(500);
    controller.abort();
    await flushMicrotasks();
    expect(gone.status).toBe('rejected');
    semaphore.recover(DEAD);
    held(); // granted to the wait that gave up
    expect(semaphore.value).toBe(0);
    await deliver();
    expect(after.status).toBe('pending');
    vi.advanceTimersByTime(100);
    await deliver();
    expect(after.status).toBe('fulfilled');
    expect(semaphore.value).toBe(0);
    (after.value as Releaser)();
    expect(semaphore.value).toBe(2);
    await deliver();
    expectIdle(semaphore.handle);
  });

  it('lets go of a slot an event granted, or a barrier broke, after its wait gave up', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    steppingClock(500);
    const event = new SharedEvent();
    const watcher = SharedEvent.from(event.handle);
    const controller = new AbortController();
    const gone = track(watcher.wait({ signal: controller.signal }));
    new DeadThread(event.handle, DEAD).dieInside();
    controller.abort();
    event.recover(DEAD);
    event.set();
    expect(memoryUse(event.handle).slots).toBe(1);
    vi.advanceTimersByTime(100);
    await deliver();
    expect(gone.status).toBe('rejected');
    expectIdle(event.handle);

    const barrier = new SharedBarrier(3);
    const party = SharedBarrier.from(barrier.handle);
    const stop = new AbortController();
    const left = track(party.wait({ signal: stop.signal }));
    new DeadThread(barrier.handle, DEAD).dieInside();
    stop.abort();
    barrier.recover(DEAD);
    barrier.reset(); // breaks the slot of the wait that gave up
    expect(memoryUse(barrier.handle).slots).toBe(1);
    vi.advanceTimersByTime(100);
    await deliver();
    expect(left.status).toBe('rejected');
    expectIdle(barrier.handle);
  });

  it('leaves no retry for a wait whose slot its batch already let go when the section got stuck in between', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const semaphore = new SharedSemaphore(2);
    const mine = SharedSemaphore.from(semaphore.handle);
    const behind = SharedSemaphore.from(semaphore.handle);
    const held = semaphore.tryAcquire(1) as Releaser;
    const dead = new DeadThread(semaphore.handle, DEAD);
    const controller = new AbortController();
    // One abort ends both: the first lets both slots go and grants the wait behind them.
    const heavy = track(mine.acquire({ weight: 2, signal: controller.signal }));
    const light = track(mine.acquire({ weight: 1, signal: controller.signal }));
    const next = track(behind.acquire({ weight: 1 }));
    // As it wakes that waiter, another thread enters the section and dies there: the second
    // wait finds the section stuck, its slot already let go.
    const notify = Atomics.notify;
    const memory = memoryOf(semaphore);
    let died = false;
    vi.spyOn(Atomics, 'notify').mockImplementation((array, index, count) => {
      if (!died && Atomics.load(memory, H_SPIN) === 0) {
        died = true;
        dead.dieInside();
      }
      return notify(array, index, count);
    });
    steppingClock(500);
    controller.abort();
    await flushMicrotasks();
    expect([heavy.status, light.status]).toEqual(['rejected', 'rejected']);
    expect(vi.getTimerCount()).toBe(0);
    expect(memoryUse(semaphore.handle)).toMatchObject({ slots: 1, queued: 0, spin: DEAD + 1 });
    expect(semaphore.recover(DEAD)).toBe(0);
    await deliver();
    expect(next.status).toBe('fulfilled');
    // New waits of that instance take the slots let go; nothing takes them from under them.
    const later = [track(mine.acquire({ weight: 1 })), track(mine.acquire({ weight: 1 }))];
    vi.advanceTimersByTime(200);
    expect(memoryUse(semaphore.handle)).toMatchObject({ slots: 2, queued: 2 });
    held();
    (next.value as Releaser)();
    await deliver();
    expect(later.map((w) => w.status)).toEqual(['fulfilled', 'fulfilled']);
    for (const wait of later) (wait.value as Releaser)();
    await deliver();
    expectIdle(semaphore.handle);
  });

  it('collects a grant once a slow owner leaves the section, 100 ms later', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const lock = new SharedLock();
    const memory = memoryOf(lock);
    const waiter = SharedLock.from(lock.handle);
    const held = lock.tryAcquire() as Releaser;
    const wait = track(waiter.acquire());
    held(); // granted; its thread wakes on a task of its own
    Atomics.store(memory, H_SPIN, OTHER + 1); // a slow thread enters the section
    steppingClock(500);
    await deliver();
    // It woke, found the section stuck, and looks again 100 ms later.
    expect(wait.status).toBe('pending');
    expect(memoryUse(lock.handle)).toEqual({ slots: 1, agents: 1, queued: 0, spin: OTHER + 1 });
    expect(vi.getTimerCount()).toBe(1);
    leave(memory);
    vi.advanceTimersByTime(100);
    await flushMicrotasks();
    expect(wait.status).toBe('fulfilled');
    (wait.value as Releaser)();
    await deliver();
    expectIdle(lock.handle);
  });
});

describe('a thread that may not block', () => {
  // Last: the thread remembers that it may not block (module state) for the rest of the file.
  it('spins instead, reading the clock every 1024 tries, once Atomics.wait is refused', () => {
    blocks.mockImplementation(() => {
      throw new TypeError('Atomics.wait cannot be called in this context');
    });
    const lock = new SharedLock({ name: 'nb' });
    const memory = memoryOf(lock);
    Atomics.store(memory, H_SPIN, DEAD + 1);
    // A section stuck for good, except that the holder leaves after 20,000 tries.
    const tries = spinTries(memory, 0, 20_000);
    const clock = steppingClock(500);
    expect(() => lock.tryAcquire()).toThrow(stuckMessage('SharedLock "nb"', DEAD));
    expect(blocks).toHaveBeenCalledTimes(1);
    // Clock reads at tries 1024 (the deadline), 2048, 3072 and 4096 (over).
    expect(clock).toHaveBeenCalledTimes(4);
    expect(tries.count).toBe(4096);
    // Another instance of this thread does not try to block at all.
    expect(() => SharedLock.from(lock.handle).tryAcquire()).toThrow(stuckMessage('SharedLock "nb"', DEAD));
    expect(blocks).toHaveBeenCalledTimes(1);
    expect(tries.count).toBe(8192);
    expect(memory[agentAt(memory, 0, A_NONCE)]).toBe(0);
  });
});
