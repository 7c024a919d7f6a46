/**
 * SharedBarrier and SharedEvent in the test's own thread, for what otherwise only another thread
 * runs: the repairs that `recover()` makes after a thread died halfway through a trip, an abort
 * or a set (the memory it left is written by hand, see `DeadThread`), a critical section left
 * held, a set that lands between a wait's check and its section, and the wakes of other
 * instances. Also the exact messages, `String()`, the constructor's checks, and the shared words
 * (ROUND, GENERATION, the mailboxes) that the copies of waitsafe in other threads read.
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { SharedBarrier, SharedEvent, threadId } from '../src/shared/index.js';
import {
  A_MAILBOX,
  A_NONCE,
  A_TAG,
  agentAt,
  breakSlot,
  H_A,
  H_B,
  H_C,
  H_CAPACITY,
  queued,
  S_VALUE,
  S_WEIGHT,
  slotAt,
} from '../src/shared/memory.js';
import { flushMicrotasks, rejectionOf, track } from './helpers.js';
import { DeadThread, deliver, expectIdle, memoryUse } from './shared-memory.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** The id of the thread that "died": any id but this thread's. */
const DEAD = threadId === 777 ? 778 : 777;
/** What a barrier's broken slot holds in VALUE after an abort (barrier.ts's ABORTED). */
const ABORTED = 2;

const words = (handle: { buffer: SharedArrayBuffer }): Int32Array => new Int32Array(handle.buffer);

/** Every agent's MAILBOX word, by agent index. */
function mailboxes(handle: { buffer: SharedArrayBuffer }): number[] {
  const memory = words(handle);
  return Array.from(
    { length: memory[H_CAPACITY] as number },
    (_, i) => memory[agentAt(memory, i, A_MAILBOX)] as number,
  );
}

/** How much each mailbox went up during `fn`, for the mailboxes that changed. */
function wakesDuring(handle: { buffer: SharedArrayBuffer }, fn: () => void): number[] {
  const before = mailboxes(handle);
  fn();
  return mailboxes(handle)
    .map((value, i) => value - (before[i] as number))
    .filter((delta) => delta !== 0);
}

/**
 * Calls `fn` with a clock that jumps 600 ms at every read, so that a spin for a section another
 * thread holds gives up at once; returns its result and how often the clock was read.
 */
function withJumpingClock<T>(fn: () => T): { result: T; reads: number } {
  let t = performance.now();
  const clock = vi.spyOn(performance, 'now').mockImplementation(() => {
    t += 600;
    return t;
  });
  try {
    const result = fn();
    return { result, reads: clock.mock.calls.length };
  } finally {
    clock.mockRestore();
  }
}

const stuckMessage = (label: string): string =>
  `${label}: the shared state has been locked for over 1000 ms by thread ${DEAD}; ` +
  `if that thread was terminated, call recover(${DEAD}) from a thread that is still running`;

describe('SharedBarrier', () => {
  it('takes parties up to the capacity + 1 (default 256), and names the limit when past it', () => {
    expect(new SharedBarrier(257).parties).toBe(257);
    expect(() => new SharedBarrier(258)).toThrow(
      new RangeError('The "parties" argument must be an integer from 1 to the capacity + 1 (257), got 258'),
    );
    expect(new SharedBarrier(5, { capacity: 4 }).parties).toBe(5);
    expect(() => new SharedBarrier(6, { capacity: 4 })).toThrow(
      new RangeError('The "parties" argument must be an integer from 1 to the capacity + 1 (5), got 6'),
    );
    expect(new SharedBarrier(2, { capacity: 1 }).parties).toBe(2);
    expect(() => new SharedBarrier(3, { capacity: 1 })).toThrow(
      new RangeError('The "parties" argument must be an integer from 1 to the capacity + 1 (2), got 3'),
    );
    expect(() => new SharedBarrier(65_538, { capacity: 65_536 })).toThrow(
      new RangeError('The "parties" argument must be an integer from 1 to the capacity + 1 (65537), got 65538'),
    );
  });

  it('reports a bad capacity as such, not as too many parties', () => {
    expect(() => new SharedBarrier(3, { capacity: 1.5 })).toThrow(
      new RangeError('The "capacity" option must be an integer >= 1, got 1.5'),
    );
    expect(() => new SharedBarrier(70_000, { capacity: 65_537 })).toThrow(
      new RangeError('The "capacity" option must be an integer from 1 to 65536, got 65537'),
    );
    expect(() => new SharedBarrier(5, { capacity: 0 })).toThrow(
      new RangeError('The "capacity" option must be an integer >= 1, got 0'),
    );
  });

  it('shows its state in String()', async () => {
    const barrier = new SharedBarrier(3, { name: 'step' });
    expect(String(barrier)).toBe('SharedBarrier "step" [parties:3, waiting:0]');
    const wait = track(barrier.wait());
    expect(String(barrier)).toBe('SharedBarrier "step" [parties:3, waiting:1]');
    barrier.abort();
    await flushMicrotasks();
    expect(wait.status).toBe('rejected');
    expect(String(barrier)).toBe('SharedBarrier "step" [broken, parties:3, waiting:0]');
    barrier.reset();
    expect(String(barrier)).toBe('SharedBarrier "step" [parties:3, waiting:0]');
    expectIdle(barrier.handle);
  });

  it('rejects with exact messages: timeout 0, a timeout that elapses, broken, aborted, reset', async () => {
    vi.useFakeTimers();
    const barrier = new SharedBarrier(2, { name: 'b' });
    const zero = await rejectionOf(barrier.wait({ timeout: 0 }));
    expect(zero).toEqual(
      expect.objectContaining({ name: 'TimeoutError', message: 'SharedBarrier "b": wait() timed out after 0 ms' }),
    );
    expect(barrier.waiterCount).toBe(0);
    const timed = track(barrier.wait({ timeout: 5 }));
    vi.advanceTimersByTime(5);
    await flushMicrotasks();
    expect(timed.reason).toEqual(
      expect.objectContaining({ name: 'TimeoutError', message: 'SharedBarrier "b": wait() timed out after 5 ms' }),
    );
    const reset = track(barrier.wait());
    barrier.reset();
    await flushMicrotasks();
    expect(reset.reason).toEqual(
      expect.objectContaining({ name: 'BrokenBarrierError', message: 'SharedBarrier "b" was reset' }),
    );
    const aborted = track(barrier.wait());
    barrier.abort();
    await flushMicrotasks();
    expect(aborted.reason).toEqual(
      expect.objectContaining({ name: 'BrokenBarrierError', message: 'SharedBarrier "b" was aborted' }),
    );
    expect(await rejectionOf(barrier.wait())).toEqual(
      expect.objectContaining({ name: 'BrokenBarrierError', message: 'SharedBarrier "b" is broken' }),
    );
    // timeout 0 succeeds for the party that completes the round.
    barrier.reset();
    const first = track(barrier.wait());
    expect(await barrier.wait({ timeout: 0 })).toBe(1);
    await flushMicrotasks();
    expect(first.value).toBe(0);
    vi.useRealTimers();
    await deliver();
    expectIdle(barrier.handle);
  });

  it('commits abort() as broken and reset() as not, with or without waits', () => {
    const barrier = new SharedBarrier(2);
    const other = SharedBarrier.from(barrier.handle);
    barrier.reset();
    expect(other.isBroken()).toBe(false);
    barrier.abort();
    expect(other.isBroken()).toBe(true);
    barrier.abort();
    expect(other.isBroken()).toBe(true);
    other.reset();
    expect(barrier.isBroken()).toBe(false);
    expect(words(barrier.handle)[H_C]).toBe(0);
  });

  it('bumps ROUND by one at each trip: the waits of the next round are in round 1, then 2', async () => {
    const barrier = new SharedBarrier(2);
    const other = SharedBarrier.from(barrier.handle);
    const memory = words(barrier.handle);
    expect(memory[H_B]).toBe(0);
    const first = other.wait();
    expect(memory[slotAt(queued(memory)[0] as number, S_WEIGHT)]).toBe(0);
    expect(await Promise.all([first, barrier.wait()])).toEqual([0, 1]);
    expect(memory[H_B]).toBe(1);
    const second = other.wait();
    expect(memory[slotAt(queued(memory)[0] as number, S_WEIGHT)]).toBe(1);
    expect(await Promise.all([second, barrier.wait()])).toEqual([0, 1]);
    expect(memory[H_B]).toBe(2);
    await deliver();
    expectIdle(barrier.handle);
  });

  it('wakes each waiting instance once at a trip, a reset and an abort, however many waits it has', async () => {
    for (const end of ['trip', 'reset', 'abort'] as const) {
      const barrier = new SharedBarrier(5);
      const [a, b] = [SharedBarrier.from(barrier.handle), SharedBarrier.from(barrier.handle)];
      const waits = [a.wait(), a.wait(), b.wait(), b.wait()].map(track);
      const wakes = wakesDuring(barrier.handle, () => {
        if (end === 'trip') void barrier.wait();
        else barrier[end]();
      });
      expect(wakes).toEqual([1, 1]);
      await deliver();
      expect(waits.map((w) => w.status)).toEqual(Array(4).fill(end === 'trip' ? 'fulfilled' : 'rejected'));
      // The memory is still a barrier's (nothing was written outside the agents).
      expect(SharedBarrier.from(barrier.handle).parties).toBe(5);
      barrier.reset();
      expectIdle(barrier.handle);
    }
  });

  it('keeps its memory whole when a wait gives up', async () => {
    const barrier = new SharedBarrier(3);
    const controller = new AbortController();
    const wait = track(barrier.wait({ signal: controller.signal }));
    controller.abort('gone');
    await flushMicrotasks();
    expect(wait.reason).toBe('gone');
    expect(SharedBarrier.from(barrier.handle).parties).toBe(3);
    expectIdle(barrier.handle);
  });

  it('rejects a wait (never throws) while a dead thread holds the section', async () => {
    const barrier = new SharedBarrier(2, { name: 's' });
    const dead = new DeadThread(barrier.handle, DEAD);
    dead.dieInside();
    let wait: Promise<number> | undefined;
    expect(() => {
      wait = withJumpingClock(() => barrier.wait()).result;
    }).not.toThrow();
    expect(await rejectionOf(wait as Promise<number>)).toEqual(new Error(stuckMessage('SharedBarrier "s"')));
    expect(memoryUse(barrier.handle)).toEqual({ slots: 0, agents: 1, queued: 0, spin: DEAD + 1 });
    expect(barrier.recover(DEAD)).toBe(0);
    expectIdle(barrier.handle);
  });

  it('recover() finishes a trip a dead thread committed: the waits of the old round get their indices', async () => {
    const barrier = new SharedBarrier(3, { capacity: 8 });
    const memory = words(barrier.handle);
    const [a, b] = [SharedBarrier.from(barrier.handle), SharedBarrier.from(barrier.handle)];
    const first = track(a.wait());
    const second = track(b.wait());
    // The dead thread arrived last: indices in arrival order, ROUND bumped (the commit), the
    // first wait granted, then it died inside the section.
    const dead = new DeadThread(barrier.handle, DEAD);
    const round = queued(memory);
    round.forEach((slot, i) => {
      memory[slotAt(slot, S_VALUE)] = i;
    });
    memory[H_B] = 1;
    dead.grant(round[0] as number);
    dead.dieInside();
    await deliver();
    expect([first.status, second.status]).toEqual(['pending', 'pending']);
    expect(barrier.recover(DEAD)).toBe(0);
    await deliver();
    expect([first.value, second.value]).toEqual([0, 1]);
    // The next round goes on, in round 1.
    expect(await Promise.all([a.wait(), b.wait(), barrier.wait()])).toEqual([0, 1, 2]);
    expect(memory[H_B]).toBe(2);
    await deliver();
    expectIdle(barrier.handle);
  });

  it('recover() finishes an abort a dead thread committed: the waits left are aborted too', async () => {
    const barrier = new SharedBarrier(3, { capacity: 8, name: 'x' });
    const memory = words(barrier.handle);
    const [a, b] = [SharedBarrier.from(barrier.handle), SharedBarrier.from(barrier.handle)];
    const first = track(a.wait());
    const second = track(b.wait());
    const dead = new DeadThread(barrier.handle, DEAD);
    memory[H_C] = 1; // the commit
    breakSlot(memory, queued(memory)[0] as number, ABORTED);
    dead.dieInside();
    expect(barrier.recover(DEAD)).toBe(0);
    await deliver();
    for (const wait of [first, second]) {
      expect(wait.reason).toEqual(
        expect.objectContaining({ name: 'BrokenBarrierError', message: 'SharedBarrier "x" was aborted' }),
      );
    }
    expect(barrier.isBroken()).toBe(true);
    expectIdle(barrier.handle);
    barrier.reset();
    expect(await Promise.all([a.wait(), b.wait(), barrier.wait()])).toEqual([0, 1, 2]);
    await deliver();
    expectIdle(barrier.handle);
  });

  it('recover() leaves the waits of the current round waiting, and frees the dead thread’s', async () => {
    const barrier = new SharedBarrier(3, { capacity: 8 });
    const memory = words(barrier.handle);
    const [a, b] = [SharedBarrier.from(barrier.handle), SharedBarrier.from(barrier.handle)];
    expect(await Promise.all([a.wait(), b.wait(), barrier.wait()])).toEqual([0, 1, 2]); // now round 1
    const first = track(a.wait());
    const dead = new DeadThread(barrier.handle, DEAD);
    dead.wait(1);
    dead.dieInside();
    expect(barrier.recover(DEAD)).toBe(1);
    await deliver();
    expect(first.status).toBe('pending');
    expect(a.waiterCount).toBe(1);
    expect(memoryUse(barrier.handle)).toEqual({ slots: 1, agents: 1, queued: 1, spin: 0 });
    const second = track(b.wait());
    expect(await barrier.wait()).toBe(2);
    await deliver();
    expect([first.value, second.value]).toEqual([0, 1]);
    expect(memory[H_B]).toBe(2);
    expectIdle(barrier.handle);
  });
});

describe('SharedEvent', () => {
  it('shows its state in String()', async () => {
    const event = new SharedEvent({ name: 'ready' });
    expect(String(event)).toBe('SharedEvent "ready" [unset, waiters:0]');
    const waits = [track(event.wait()), track(event.wait())];
    expect(String(event)).toBe('SharedEvent "ready" [unset, waiters:2]');
    event.set();
    expect(String(event)).toBe('SharedEvent "ready" [set, waiters:0]');
    await flushMicrotasks();
    expect(waits.map((w) => w.value)).toEqual([true, true]);
    expectIdle(event.handle);
  });

  it('rejects with exact timeout messages: timeout 0, and one that elapses', async () => {
    vi.useFakeTimers();
    const event = new SharedEvent({ name: 'e' });
    expect(await rejectionOf(event.wait({ timeout: 0 }))).toEqual(
      expect.objectContaining({ name: 'TimeoutError', message: 'SharedEvent "e": wait() timed out after 0 ms' }),
    );
    const timed = track(event.wait({ timeout: 5 }));
    vi.advanceTimersByTime(5);
    await flushMicrotasks();
    expect(timed.reason).toEqual(
      expect.objectContaining({ name: 'TimeoutError', message: 'SharedEvent "e": wait() timed out after 5 ms' }),
    );
    event.set();
    expect(await event.wait({ timeout: 0 })).toBe(true);
    vi.useRealTimers();
    await deliver();
    expectIdle(event.handle);
  });

  it('bumps GENERATION once per set() that sets it, not when already set', () => {
    const event = new SharedEvent();
    const memory = words(event.handle);
    expect(memory[H_B]).toBe(0);
    event.set();
    expect(memory[H_B]).toBe(1);
    const wakes = wakesDuring(event.handle, () => SharedEvent.from(event.handle).set());
    expect(wakes).toEqual([]);
    expect(memory[H_B]).toBe(1);
    expect(memory[H_A]).toBe(1);
    event.clear();
    event.set();
    expect(memory[H_B]).toBe(2);
  });

  it('wakes each waiting instance once at set(), however many waits it has', async () => {
    const event = new SharedEvent();
    const [a, b] = [SharedEvent.from(event.handle), SharedEvent.from(event.handle)];
    const waits = [a.wait(), a.wait(), b.wait(), b.wait()].map(track);
    expect(wakesDuring(event.handle, () => event.set())).toEqual([1, 1]);
    await deliver();
    expect(waits.map((w) => w.value)).toEqual([true, true, true, true]);
    expect(SharedEvent.from(event.handle).isSet()).toBe(true);
    expectIdle(event.handle);
  });

  it('keeps its memory whole when a wait gives up', async () => {
    const event = new SharedEvent();
    const controller = new AbortController();
    const wait = track(event.wait({ signal: controller.signal }));
    controller.abort('gone');
    await flushMicrotasks();
    expect(wait.reason).toBe('gone');
    expect(SharedEvent.from(event.handle).isSet()).toBe(false);
    expectIdle(event.handle);
  });

  it('resolves a wait of a set event without the section, even while a dead thread holds it', async () => {
    const event = new SharedEvent();
    event.set();
    new DeadThread(event.handle, DEAD).dieInside();
    const { result, reads } = withJumpingClock(() => track(event.wait()));
    await flushMicrotasks();
    expect(result.value).toBe(true);
    expect(reads).toBe(0);
    expect(event.recover(DEAD)).toBe(0);
    expectIdle(event.handle);
  });

  it('rejects a wait of an unset event (never throws) while a dead thread holds the section', async () => {
    const event = new SharedEvent({ name: 's' });
    new DeadThread(event.handle, DEAD).dieInside();
    let wait: Promise<true> | undefined;
    expect(() => {
      wait = withJumpingClock(() => event.wait()).result;
    }).not.toThrow();
    expect(await rejectionOf(wait as Promise<true>)).toEqual(new Error(stuckMessage('SharedEvent "s"')));
    expect(memoryUse(event.handle).spin).toBe(DEAD + 1);
    expect(event.recover(DEAD)).toBe(0);
    expectIdle(event.handle);
  });

  it('resolves a wait at once when a set() in another instance lands between its check and its section', async () => {
    const event = new SharedEvent();
    const other = SharedEvent.from(event.handle);
    const compareExchange = Atomics.compareExchange as (
      memory: Int32Array,
      index: number,
      expected: number,
      value: number,
    ) => number;
    let landed = false;
    vi.spyOn(Atomics, 'compareExchange').mockImplementation(((
      memory: Int32Array,
      index: number,
      expected: number,
      value: number,
    ) => {
      if (!landed) {
        landed = true;
        other.set(); // its own compareExchange is the real one
      }
      return compareExchange(memory, index, expected, value);
    }) as typeof Atomics.compareExchange);
    const wait = track(event.wait());
    vi.restoreAllMocks();
    expect(landed).toBe(true);
    expect(event.waiterCount).toBe(0);
    await flushMicrotasks();
    expect(wait.status).toBe('fulfilled');
    expect(wait.value).toBe(true);
    expectIdle(event.handle);
  });

  it('recover() finishes a set a dead thread committed: the waits of the old generation are granted', async () => {
    const event = new SharedEvent({ capacity: 8 });
    const memory = words(event.handle);
    const [a, b] = [SharedEvent.from(event.handle), SharedEvent.from(event.handle)];
    const waits = [a.wait(), a.wait(), b.wait()].map(track);
    const dead = new DeadThread(event.handle, DEAD);
    memory[H_A] = 1;
    memory[H_B] = 1; // the commit
    dead.grant(queued(memory)[0] as number);
    dead.dieInside();
    await deliver();
    expect(waits.map((w) => w.status)).toEqual(['pending', 'pending', 'pending']);
    expect(event.recover(DEAD)).toBe(0);
    await deliver();
    expect(waits.map((w) => w.value)).toEqual([true, true, true]);
    expect(event.isSet()).toBe(true);
    expectIdle(event.handle);
  });

  it('recover() leaves the waits of the current generation waiting, and frees the dead thread’s', async () => {
    const event = new SharedEvent({ capacity: 8 });
    const memory = words(event.handle);
    event.set();
    event.clear(); // generation 1
    const a = SharedEvent.from(event.handle);
    const wait = track(a.wait());
    const dead = new DeadThread(event.handle, DEAD);
    dead.wait(1);
    dead.dieInside();
    expect(event.recover(DEAD)).toBe(1);
    await deliver();
    expect(wait.status).toBe('pending');
    expect(memoryUse(event.handle)).toEqual({ slots: 1, agents: 1, queued: 1, spin: 0 });
    event.set();
    await deliver();
    expect(wait.value).toBe(true);
    expect(memory[H_B]).toBe(2);
    expectIdle(event.handle);
  });
});

describe('recover() reads only the slots', () => {
  it.each([
    ['SharedBarrier', () => new SharedBarrier(2, { capacity: 4 })],
    ['SharedEvent', () => new SharedEvent({ capacity: 4 })],
  ] as const)('%s: leaves the first agent after them (a live thread 0’s) as it is', (_, make) => {
    const primitive = make();
    const memory = words(primitive.handle);
    // Thread 0 is alive and has an agent: the first one, whose TAG (1) reads as QUEUED and
    // whose NONCE as a round or generation if read as a slot.
    const zero = new DeadThread(primitive.handle, 0);
    expect(zero.agent).toBe(0);
    memory[agentAt(memory, 0, A_NONCE)] = 7;
    new DeadThread(primitive.handle, DEAD).dieInside();
    expect(primitive.recover(DEAD)).toBe(0);
    expect(memory[agentAt(memory, 0, A_TAG)]).toBe(1);
    expect(memory[agentAt(memory, 0, A_NONCE)]).toBe(7);
    expect(memoryUse(primitive.handle)).toEqual({ slots: 0, agents: 1, queued: 0, spin: 0 });
  });
});
