/**
 * SharedLock and SharedSemaphore (src/shared/permits.ts, lock.ts, semaphore.ts) played out in the
 * test's own thread: what other threads do to the permits is done here by other instances over
 * the same handle (each its own agent with its own platform wait) and by `DeadThread`'s memory
 * written by hand. The thread tests exercise the same code in worker threads, where a mutation
 * test cannot switch its mutants on; these tests reach it in-process: a release by an instance
 * that holds nothing (taking the hold of another agent, or the weight of a grant not collected
 * yet), full memory, recover() of a thread that held permits, the exact messages and `String()`.
 */

import { describe, expect, it } from 'vitest';
import type { Releaser } from '../src/index.js';
import { SharedLock, SharedSemaphore, threadId } from '../src/shared/index.js';
import { A_MAILBOX, A_NONCE, agentAt, H_B } from '../src/shared/memory.js';
import { flushMicrotasks, rejectionOf, track } from './helpers.js';
import { DeadThread, deliver, expectIdle, memoryUse } from './shared-memory.js';

/** Permits' IN_USE word (header word B). */
const IN_USE = H_B;

const NOT_LOCKED = 'SharedLock: release() called while the lock is not locked';

describe('a lock released asyncio style by an instance that holds nothing', () => {
  it('takes the hold of the first agent that holds it, and keeps that agent while it still waits', async () => {
    const lock = new SharedLock();
    const first = SharedLock.from(lock.handle);
    const holder = SharedLock.from(lock.handle);
    const waiter = SharedLock.from(lock.handle);
    const other = SharedLock.from(lock.handle);
    // The holder gets its hold through a wait, so that it owns agent 1 and agent 0 is free again.
    const firstRelease = first.tryAcquire() as Releaser;
    const held = track(holder.acquire());
    firstRelease();
    await deliver();
    expect(held.status).toBe('fulfilled');
    // Agent 0: a waiter holding nothing; agent 1: the holder, waiting again.
    const waited = track(waiter.acquire());
    const again = track(holder.acquire());
    expect(memoryUse(lock.handle)).toEqual({ slots: 2, agents: 2, queued: 2, spin: 0 });
    other.release();
    // The hold went to the head of the queue; the holder's agent stays: it still owns a slot.
    expect(lock.isLocked()).toBe(true);
    expect(memoryUse(lock.handle)).toEqual({ slots: 2, agents: 2, queued: 1, spin: 0 });
    expect(new Int32Array(lock.handle.buffer)[IN_USE]).toBe(1);
    await deliver();
    expect([waited.status, again.status]).toEqual(['fulfilled', 'pending']);
    (waited.value as Releaser)();
    await deliver();
    expect(again.status).toBe('fulfilled');
    expect(memoryUse(lock.handle)).toEqual({ slots: 0, agents: 1, queued: 0, spin: 0 });
    (again.value as Releaser)();
    // The holder's first releaser: its hold was taken, and the lock is free now.
    expect(() => (held.value as Releaser)()).toThrow(NOT_LOCKED);
    await deliver();
    expectIdle(lock.handle);
  });

  it("frees the holder's agent when it waits for nothing, even while another agent waits", async () => {
    const lock = new SharedLock();
    const holder = SharedLock.from(lock.handle);
    const waiter = SharedLock.from(lock.handle);
    const other = SharedLock.from(lock.handle);
    const release = holder.tryAcquire() as Releaser;
    const waited = track(waiter.acquire());
    other.release();
    // Handed to the waiter in that step; only the waiter's agent is left.
    expect(lock.isLocked()).toBe(true);
    expect(memoryUse(lock.handle)).toEqual({ slots: 1, agents: 1, queued: 0, spin: 0 });
    // The memory is whole: another thread can still map it.
    expect(SharedLock.from(lock.handle).isLocked()).toBe(true);
    await deliver();
    expect(waited.status).toBe('fulfilled');
    (waited.value as Releaser)();
    expect(() => release()).toThrow(NOT_LOCKED);
    await deliver();
    expectIdle(lock.handle);
  });

  it('leaves the free slots alone when the releasing instance has no agent, and frees a holder whose waits ended', async () => {
    const lock = new SharedLock({ capacity: 2 });
    const holder = SharedLock.from(lock.handle);
    const other = SharedLock.from(lock.handle);
    const later = SharedLock.from(lock.handle);
    holder.tryAcquire();
    // Two waits of the holder that give up, the first one first: the last slot is freed in front
    // of the other. Free slots keep the agent they had.
    const controllers = [new AbortController(), new AbortController()];
    const waits = controllers.map((c) => holder.acquire({ signal: c.signal }).catch(() => 'gave up'));
    for (const controller of controllers) controller.abort();
    expect(await Promise.all(waits)).toEqual(['gave up', 'gave up']);
    expect(memoryUse(lock.handle)).toEqual({ slots: 0, agents: 1, queued: 0, spin: 0 });
    other.release();
    expect(lock.isLocked()).toBe(false);
    expectIdle(lock.handle);
    // Both slots are still free.
    const release = later.tryAcquire() as Releaser;
    const [one, two] = [track(lock.acquire()), track(lock.acquire())];
    const queued = [one, two];
    await flushMicrotasks();
    expect(queued.map((q) => q.status)).toEqual(['pending', 'pending']);
    expect(memoryUse(lock.handle)).toEqual({ slots: 2, agents: 2, queued: 2, spin: 0 });
    release();
    await deliver();
    (one.value as Releaser)();
    await flushMicrotasks();
    (two.value as Releaser)();
    await deliver();
    expectIdle(lock.handle);
  });

  it('takes the permit back from a grant not collected yet: that waiter collects a hold of nothing', async () => {
    const lock = new SharedLock();
    const holder = SharedLock.from(lock.handle);
    const first = SharedLock.from(lock.handle);
    const second = SharedLock.from(lock.handle);
    const other = SharedLock.from(lock.handle);
    const release = holder.tryAcquire() as Releaser;
    const one = track(first.acquire());
    const two = track(second.acquire());
    release(); // granted to `first`, whose thread has not woken yet
    expect(memoryUse(lock.handle)).toEqual({ slots: 2, agents: 2, queued: 1, spin: 0 });
    other.release(); // taken from that grant, and handed on to `second`
    expect(lock.isLocked()).toBe(true);
    expect(memoryUse(lock.handle)).toEqual({ slots: 2, agents: 2, queued: 0, spin: 0 });
    other.release(); // taken from the second grant too
    expect(lock.isLocked()).toBe(false);
    expect(new Int32Array(lock.handle.buffer)[IN_USE]).toBe(0);
    await deliver();
    expect([one.status, two.status]).toEqual(['fulfilled', 'fulfilled']);
    // They hold nothing: their agents are gone, and the lock is free.
    expectIdle(lock.handle);
    expect(() => (one.value as Releaser)()).toThrow(NOT_LOCKED);
    // Once another instance holds the lock, their releasers release nothing.
    const third = other.tryAcquire() as Releaser;
    (two.value as Releaser)();
    expect(lock.isLocked()).toBe(true);
    third();
    expect(lock.isLocked()).toBe(false);
    expectIdle(lock.handle);
  });

  it('takes the permit back from a grant without touching the agent of a waiting thread whose TAG reads as GRANTED', async () => {
    const lock = new SharedLock();
    const memory = new Int32Array(lock.handle.buffer);
    const holder = SharedLock.from(lock.handle);
    const first = SharedLock.from(lock.handle);
    const other = SharedLock.from(lock.handle);
    const release = holder.tryAcquire() as Releaser;
    const one = track(first.acquire()); // agent 1
    release(); // granted to `first`, uncollected; agent 0 is free again
    // Agent 0: a waiting thread of id 1, whose TAG (2) is a granted slot's state. It is this
    // thread when this thread's id is 1.
    let finish: () => Promise<void>;
    if (threadId === 1) {
      const waiting = track(SharedLock.from(lock.handle).acquire());
      finish = async () => {
        await deliver();
        (waiting.value as Releaser)();
      };
    } else {
      const running = new DeadThread(lock.handle, 1);
      running.wait(1);
      memory[agentAt(memory, running.agent, A_NONCE)] = 0x7ff0;
      finish = async () => {
        expect(lock.recover(1)).toBe(1);
      };
    }
    const nonce = memory[agentAt(memory, 0, A_NONCE)];
    other.release(); // taken from `first`'s grant, and handed to agent 0's wait
    expect(memory[agentAt(memory, 0, A_NONCE)]).toBe(nonce);
    expect(lock.isLocked()).toBe(true);
    await finish();
    expect(lock.isLocked()).toBe(false);
    await deliver();
    expect(one.status).toBe('fulfilled');
    expectIdle(lock.handle);
  });

  it('throws an InvalidStateError with its message when the lock is not locked', () => {
    const lock = new SharedLock({ name: 'db' });
    let error: unknown;
    try {
      SharedLock.from(lock.handle).release();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('InvalidStateError');
    expect((error as DOMException).message).toBe('SharedLock "db": release() called while the lock is not locked');
    expectIdle(lock.handle);
  });
});

describe('waking and granting across instances', () => {
  it('wakes an instance once for all its waits granted in one step', async () => {
    const semaphore = new SharedSemaphore(2);
    const waiter = SharedSemaphore.from(semaphore.handle);
    const release = semaphore.tryAcquire(2) as Releaser;
    const waits = [track(waiter.acquire()), track(waiter.acquire())];
    const memory = new Int32Array(semaphore.handle.buffer);
    const mailbox = agentAt(memory, 1, A_MAILBOX); // agent 0 is the holder's
    const before = Atomics.load(memory, mailbox);
    release();
    expect(Atomics.load(memory, mailbox)).toBe(before + 1);
    await deliver();
    expect(waits.map((w) => w.status)).toEqual(['fulfilled', 'fulfilled']);
    for (const wait of waits) (wait.value as Releaser)();
    expect(semaphore.value).toBe(2);
    await deliver();
    expectIdle(semaphore.handle);
  });

  it('grants the lighter waiters of another instance when a heavy head of one instance gives up', async () => {
    const semaphore = new SharedSemaphore(2);
    const heavy = SharedSemaphore.from(semaphore.handle);
    const light = SharedSemaphore.from(semaphore.handle);
    const holder = semaphore.tryAcquire(1) as Releaser;
    const controller = new AbortController();
    const big = track(heavy.acquire({ weight: 2, signal: controller.signal }));
    const small = track(light.acquire());
    expect(semaphore.isLocked()).toBe(true);
    controller.abort();
    expect(semaphore.value).toBe(0);
    await deliver();
    expect([big.status, small.status]).toEqual(['rejected', 'fulfilled']);
    (small.value as Releaser)();
    holder();
    expect(semaphore.value).toBe(2);
    await deliver();
    expectIdle(semaphore.handle);
  });

  it('takes no free permit while another waits (no barging), and isLocked() says so', async () => {
    const semaphore = new SharedSemaphore(3);
    const other = SharedSemaphore.from(semaphore.handle);
    expect(semaphore.isLocked()).toBe(false);
    const two = semaphore.tryAcquire(2) as Releaser;
    expect(semaphore.isLocked()).toBe(false); // one free, nobody waits
    const heavy = track(other.acquire({ weight: 2 }));
    expect(semaphore.value).toBe(1);
    expect(semaphore.isLocked()).toBe(true); // one free, but the head waits for two
    expect(other.isLocked()).toBe(true);
    expect(semaphore.tryAcquire(1)).toBeUndefined();
    const error = await rejectionOf(semaphore.acquire({ timeout: 0 }));
    expect((error as DOMException).message).toBe('SharedSemaphore: acquire() timed out after 0 ms');
    two();
    expect(semaphore.value).toBe(1);
    await deliver();
    expect(heavy.status).toBe('fulfilled');
    (heavy.value as Releaser)();
    const all = semaphore.tryAcquire(3) as Releaser;
    expect(semaphore.value).toBe(0);
    expect(semaphore.isLocked()).toBe(true); // none free
    all();
    await deliver();
    expectIdle(semaphore.handle);
    expect(new SharedSemaphore(0).isLocked()).toBe(true);
  });
});

describe('acquire', () => {
  it('rejects when every agent is taken by another instance, at once and through tryAcquire', async () => {
    const semaphore = new SharedSemaphore(2, { capacity: 1 });
    const other = SharedSemaphore.from(semaphore.handle);
    const release = semaphore.tryAcquire() as Releaser;
    const message = 'SharedSemaphore: all 1 shared slots are in use; raise the "capacity" option';
    const error = await rejectionOf(other.acquire());
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe(message);
    expect(() => other.tryAcquire()).toThrow(message);
    expect(semaphore.value).toBe(1);
    expect(memoryUse(semaphore.handle)).toEqual({ slots: 0, agents: 1, queued: 0, spin: 0 });
    release();
    expect(semaphore.value).toBe(2);
    expectIdle(semaphore.handle);
    // With the agent free again, the other instance gets it.
    (other.tryAcquire() as Releaser)();
    expectIdle(semaphore.handle);
  });

  it('rejects timeout: 0 on a held lock, and a timeout that elapses, with their exact messages', async () => {
    const lock = new SharedLock({ name: 'row' });
    const other = SharedLock.from(lock.handle);
    const release = lock.tryAcquire() as Releaser;
    const now = (await rejectionOf(other.acquire({ timeout: 0 }))) as DOMException;
    expect(now.name).toBe('TimeoutError');
    expect(now.message).toBe('SharedLock "row": acquire() timed out after 0 ms');
    expect(memoryUse(lock.handle)).toEqual({ slots: 0, agents: 1, queued: 0, spin: 0 });
    const later = (await rejectionOf(other.acquire({ timeout: 1 }))) as DOMException;
    expect(later.name).toBe('TimeoutError');
    expect(later.message).toBe('SharedLock "row": acquire() timed out after 1 ms');
    expect(String(lock)).toBe('SharedLock "row" [locked, waiters:0]');
    const waiting = track(other.acquire());
    expect(String(other)).toBe('SharedLock "row" [locked, waiters:1]');
    release();
    await deliver();
    (waiting.value as Releaser)();
    expect(String(other)).toBe('SharedLock "row" [unlocked, waiters:0]');
    await deliver();
    expectIdle(lock.handle);
  });

  it('releases and rejects when the function of runExclusive throws', async () => {
    const lock = new SharedLock();
    const semaphore = new SharedSemaphore(1);
    const boom = new Error('boom');
    const fail = (): never => {
      throw boom;
    };
    expect(await rejectionOf(lock.runExclusive(fail))).toBe(boom);
    expect(lock.isLocked()).toBe(false);
    expect(await rejectionOf(semaphore.runExclusive(fail))).toBe(boom);
    expect(semaphore.value).toBe(1);
    expectIdle(lock.handle);
    expectIdle(semaphore.handle);
  });
});

describe("SharedSemaphore's checks and String()", () => {
  it('rejects a release that would raise the value past 2^30 - 1, with its message', () => {
    const semaphore = new SharedSemaphore(2, { name: 'pool' });
    expect(() => semaphore.release(2 ** 30 - 2)).toThrow(
      new RangeError('SharedSemaphore "pool": release(1073741822) would raise the value past 2^30 - 1'),
    );
    semaphore.release(2 ** 30 - 3);
    expect(semaphore.value).toBe(2 ** 30 - 1);
    expect(String(semaphore)).toBe('SharedSemaphore "pool" [value:1073741823, waiters:0]');
  });

  it('names the bad value and weight in its errors', async () => {
    const messageOf = (fn: () => unknown): [string, string] => {
      try {
        fn();
      } catch (error) {
        return [(error as Error).constructor.name, (error as Error).message];
      }
      return ['', 'no error'];
    };
    expect(messageOf(() => new SharedSemaphore(2 ** 30))).toEqual([
      'RangeError',
      'The "value" argument must be an integer from 0 to 2^30 - 1, got 1073741824',
    ]);
    const semaphore = new SharedSemaphore(1);
    expect(messageOf(() => semaphore.release('2' as never))).toEqual([
      'TypeError',
      'The "weight" argument must be a number, got string',
    ]);
    expect(messageOf(() => semaphore.tryAcquire(0))).toEqual([
      'RangeError',
      'The "weight" argument must be an integer from 1 to 2^30 - 1, got 0',
    ]);
    expect(messageOf(() => semaphore.release(2 ** 30))).toEqual([
      'RangeError',
      'The "weight" argument must be an integer from 1 to 2^30 - 1, got 1073741824',
    ]);
    const error = (await rejectionOf(semaphore.acquire({ weight: 1.5 }))) as Error;
    expect([error.constructor.name, error.message]).toEqual([
      'RangeError',
      'The "weight" option must be an integer from 1 to 2^30 - 1, got 1.5',
    ]);
    expect(semaphore.value).toBe(1);
    expectIdle(semaphore.handle);
  });
});

describe('recover() of a thread that held permits', () => {
  it('counts its holds, its granted waits by weight and its queued waits, and grants whoever fits', async () => {
    const semaphore = new SharedSemaphore(4);
    const memory = new Int32Array(semaphore.handle.buffer);
    const dead = new DeadThread(semaphore.handle, 777);
    dead.hold(1);
    dead.grant(dead.wait(2));
    dead.wait(3);
    memory[IN_USE] = 3;
    expect(semaphore.value).toBe(1);
    const other = SharedSemaphore.from(semaphore.handle);
    const waiting = track(other.acquire({ weight: 2 }));
    expect(semaphore.tryAcquire()).toBeUndefined();
    expect(semaphore.recover(777)).toBe(1 + 2 + 1);
    // Granted in that step: its own hold is all that is in use.
    expect(semaphore.value).toBe(2);
    expect(memoryUse(semaphore.handle)).toEqual({ slots: 1, agents: 1, queued: 0, spin: 0 });
    await deliver();
    expect(waiting.status).toBe('fulfilled');
    (waiting.value as Releaser)();
    expect(semaphore.value).toBe(4);
    await deliver();
    expectIdle(semaphore.handle);
  });

  it("keeps the live threads' holds and granted waits in use", async () => {
    const semaphore = new SharedSemaphore(4);
    const memory = new Int32Array(semaphore.handle.buffer);
    // Agent 0: a running thread of id 1 (its TAG, 2, reads as a granted slot's state) holds one
    // permit. It is this thread when this thread's id is 1.
    let releaseRunning: () => void;
    if (threadId === 1) {
      releaseRunning = SharedSemaphore.from(semaphore.handle).tryAcquire() as Releaser;
    } else {
      const running = new DeadThread(semaphore.handle, 1);
      running.hold(1);
      memory[agentAt(memory, running.agent, A_NONCE)] = 0x7ff0;
      memory[IN_USE] = 1;
      releaseRunning = () => expect(semaphore.recover(1)).toBe(1);
    }
    const dead = new DeadThread(semaphore.handle, 777);
    dead.hold(1);
    memory[IN_USE] = 2;
    const release = semaphore.tryAcquire(1) as Releaser;
    const waiter = SharedSemaphore.from(semaphore.handle);
    const waiting = track(waiter.acquire({ weight: 2 }));
    release(); // granted to the waiter, whose thread has not woken yet
    expect(semaphore.value).toBe(0);
    expect(semaphore.recover(777)).toBe(1);
    // The running thread's permit and the uncollected grant stay in use.
    expect(semaphore.value).toBe(1);
    await deliver();
    expect(waiting.status).toBe('fulfilled');
    (waiting.value as Releaser)();
    expect(semaphore.value).toBe(3);
    releaseRunning();
    expect(semaphore.value).toBe(4);
    await deliver();
    expectIdle(semaphore.handle);
  });

  it('hands the lock a dead thread held to the next waiter', async () => {
    const lock = new SharedLock();
    const memory = new Int32Array(lock.handle.buffer);
    const dead = new DeadThread(lock.handle, 777);
    dead.hold(1);
    memory[IN_USE] = 1;
    const other = SharedLock.from(lock.handle);
    const waiting = track(other.acquire());
    expect(lock.recover(777)).toBe(1);
    expect(lock.isLocked()).toBe(true);
    await deliver();
    expect(waiting.status).toBe('fulfilled');
    (waiting.value as Releaser)();
    expect(lock.isLocked()).toBe(false);
    await deliver();
    expectIdle(lock.handle);
  });
});
