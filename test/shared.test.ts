/**
 * waitsafe/shared on the thread that runs the test: several instances of one primitive (each
 * `from(handle)` is its own agent, woken through its own platform wait, as another thread
 * would be), handles, bad input, capacity, readable state, and the leak invariants after waits
 * that give up. The same with real threads: test/shared-threads.test.ts.
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Releaser } from '../src/index.js';
import * as inspect from '../src/inspect/index.js';
import { SharedBarrier, SharedEvent, SharedLock, SharedSemaphore, threadId } from '../src/shared/index.js';
import { H_HEAD, H_QUEUED, H_SPIN, H_TAIL, S_NEXT, slotAt } from '../src/shared/memory.js';
import { pendingPlatformWaits } from '../src/shared/primitive.js';
import { flushMicrotasks, rejectionOf, type Tracked, track } from './helpers.js';
import { deliver, expectIdle, memoryUse } from './shared-memory.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('handles', () => {
  it('maps the same primitive from a handle, with its name, and the handle survives structuredClone', async () => {
    const lock = new SharedLock({ name: 'cache' });
    expect(lock.handle).toEqual({ kind: 'SharedLock', name: 'cache', buffer: lock.handle.buffer });
    expect(lock.handle).toBe(lock.handle);
    expect(Object.isFrozen(lock.handle)).toBe(true);
    const same = SharedLock.from(structuredClone(lock.handle));
    expect(same.name).toBe('cache');
    const release = lock.tryAcquire() as Releaser;
    expect(same.isLocked()).toBe(true);
    expect(same.tryAcquire()).toBeUndefined();
    release();
    expect(same.isLocked()).toBe(false);
    const again = same.tryAcquire() as Releaser;
    expect(lock.isLocked()).toBe(true);
    again();
    expectIdle(lock.handle);
  });

  it('gives each kind its own from(), with the state in the memory', () => {
    const semaphore = new SharedSemaphore(3);
    semaphore.tryAcquire(2);
    expect(SharedSemaphore.from(semaphore.handle).value).toBe(1);
    const event = new SharedEvent();
    event.set();
    expect(SharedEvent.from(event.handle).isSet()).toBe(true);
    const barrier = new SharedBarrier(4);
    expect(SharedBarrier.from(barrier.handle).parties).toBe(4);
  });

  const bad: ReadonlyArray<readonly [string, () => unknown, RegExp]> = [
    ['undefined', () => undefined, /"handle" argument must be the handle of a SharedLock/],
    ['null', () => null, /"handle" argument must be the handle of a SharedLock/],
    ['a number', () => 42, /"handle" argument must be the handle of a SharedLock/],
    ['a bare SharedArrayBuffer', () => new SharedArrayBuffer(1024), /must have a SharedArrayBuffer as its "buffer"/],
    ['an object without a buffer', () => ({ kind: 'SharedLock' }), /must have a SharedArrayBuffer as its "buffer"/],
    [
      'an ArrayBuffer (detachable) for a buffer',
      () => ({ buffer: new ArrayBuffer(4096) }),
      /must have a SharedArrayBuffer as its "buffer"/,
    ],
    [
      'a detached ArrayBuffer for a buffer',
      () => {
        const buffer = new ArrayBuffer(4096);
        structuredClone(buffer, { transfer: [buffer] });
        return { buffer };
      },
      /must have a SharedArrayBuffer as its "buffer"/,
    ],
    [
      'a too small buffer',
      () => ({ buffer: new SharedArrayBuffer(8) }),
      /not the memory of a waitsafe\/shared primitive/,
    ],
    [
      'a zeroed buffer',
      () => ({ buffer: new SharedArrayBuffer(4096) }),
      /not the memory of a waitsafe\/shared primitive/,
    ],
    [
      'the handle of a SharedEvent',
      () => new SharedEvent().handle,
      /is the handle of a SharedEvent, not of a SharedLock/,
    ],
    [
      'the handle of a SharedSemaphore',
      () => new SharedSemaphore().handle,
      /is the handle of a SharedSemaphore, not of a SharedLock/,
    ],
    [
      'a truncated copy of a real buffer',
      () => {
        const whole = new Int32Array(new SharedLock().handle.buffer);
        const part = new Int32Array(new SharedArrayBuffer(64 * 4));
        part.set(whole.subarray(0, 64));
        return { buffer: part.buffer };
      },
      /too small for its capacity/,
    ],
    [
      'a handle whose name is not a string',
      () => ({ ...new SharedLock().handle, name: 7 }),
      /"name".*must be a string/,
    ],
  ];
  it.each(bad)('rejects %s with a TypeError naming the handle', (_, make, message) => {
    const handle = make();
    let error: unknown;
    try {
      SharedLock.from(handle as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
  });

  it('leaves the primitive of a rejected handle untouched', () => {
    const event = new SharedEvent();
    const before = new Int32Array(event.handle.buffer).slice();
    expect(() => SharedLock.from(event.handle as never)).toThrow(TypeError);
    expect(() => SharedSemaphore.from(event.handle as never)).toThrow(TypeError);
    expect(new Int32Array(event.handle.buffer)).toEqual(before);
    event.set();
    expect(event.isSet()).toBe(true);
  });

  it('rejects bad options of from() and of the constructors with errors naming them', () => {
    const lock = new SharedLock();
    expect(() => SharedLock.from(lock.handle, { capacity: 5 } as never)).toThrow(/unknown option "capacity"/);
    expect(() => SharedLock.from(lock.handle, 'x' as never)).toThrow(TypeError);
    expect(() => SharedLock.from(lock.handle, { maxWaiters: -1 })).toThrow(RangeError);
    expect(() => new SharedLock({ capacity: 0 })).toThrow(/"capacity"/);
    expect(() => new SharedLock({ capacity: 65_537 })).toThrow(RangeError);
    expect(() => new SharedLock({ capacity: '8' as never })).toThrow(TypeError);
    expect(() => new SharedLock({ priority: 1 } as never)).toThrow(/"priority"/);
    expect(() => new SharedSemaphore(-1)).toThrow(/"value"/);
    expect(() => new SharedSemaphore(2 ** 30)).toThrow(RangeError);
    expect(() => new SharedBarrier(0)).toThrow(/"parties"/);
    expect(() => new SharedBarrier(10, { capacity: 4 })).toThrow(/"parties"/);
    expect(new SharedBarrier(5, { capacity: 4 }).parties).toBe(5);
  });
});

describe('across instances (each with its own platform wait)', () => {
  it('hands the lock over at release in FIFO order across instances, woken by their platform waits', async () => {
    const lock = new SharedLock();
    const [a, b, c] = [SharedLock.from(lock.handle), SharedLock.from(lock.handle), SharedLock.from(lock.handle)];
    const held = lock.tryAcquire() as Releaser;
    const order: string[] = [];
    const record = (label: string) => (release: Releaser) => {
      order.push(label);
      return release;
    };
    const waits = [a.acquire().then(record('a')), b.acquire().then(record('b')), c.acquire().then(record('c'))];
    expect(memoryUse(lock.handle)).toMatchObject({ slots: 3, agents: 4, queued: 3 });
    // One platform wait per waiting instance.
    expect(pendingPlatformWaits()).toBe(3);
    expect(lock.tryAcquire()).toBeUndefined(); // no barging
    held();
    // Handed over in that step: still locked, by a's slot.
    expect(lock.isLocked()).toBe(true);
    expect(lock.tryAcquire()).toBeUndefined();
    for (const wait of waits) (await wait)();
    expect(order).toEqual(['a', 'b', 'c']);
    await deliver();
    expectIdle(lock.handle);
  });

  it('serves weights in FIFO order across instances: a heavy head blocks a lighter waiter behind it', async () => {
    const semaphore = new SharedSemaphore(3);
    const heavy = SharedSemaphore.from(semaphore.handle);
    const light = SharedSemaphore.from(semaphore.handle);
    const first = semaphore.tryAcquire(2) as Releaser;
    const all = track(heavy.acquire({ weight: 3 }));
    const one = track(light.acquire({ weight: 1 }));
    await deliver();
    expect(semaphore.value).toBe(1); // one is free, but the head wants 3
    expect([all.status, one.status]).toEqual(['pending', 'pending']);
    first();
    await deliver();
    expect([all.status, one.status]).toEqual(['fulfilled', 'pending']);
    (all.value as Releaser)();
    await deliver();
    expect(one.status).toBe('fulfilled');
    (one.value as Releaser)();
    expect(semaphore.value).toBe(3);
    await deliver();
    expectIdle(semaphore.handle);
  });

  it('lets the waiters behind a heavy head that gives up in, in that same step', async () => {
    const semaphore = new SharedSemaphore(2);
    const holder = semaphore.tryAcquire(1) as Releaser;
    const controller = new AbortController();
    const heavy = track(semaphore.acquire({ weight: 2, signal: controller.signal }));
    const light = track(semaphore.acquire({ weight: 1 }));
    controller.abort();
    expect(semaphore.value).toBe(0); // the light waiter took the free permit at once
    await flushMicrotasks();
    expect([heavy.status, light.status]).toEqual(['rejected', 'fulfilled']);
    (light.value as Releaser)();
    holder();
    await deliver();
    expectIdle(semaphore.handle);
  });

  it('wakes the waiters of every instance at set(), and set(); clear() does not un-wake them', async () => {
    const event = new SharedEvent();
    const others = [SharedEvent.from(event.handle), SharedEvent.from(event.handle)];
    const waits = [event, ...others].map((e) => track(e.wait()));
    event.set();
    event.clear();
    await deliver();
    expect(waits.map((w) => w.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(event.isSet()).toBe(false);
    expect(others[0]?.isSet()).toBe(false);
    expectIdle(event.handle);
  });

  it('trips a barrier across instances with indices unique per round, in arrival order', async () => {
    const barrier = new SharedBarrier(3);
    const parties = [barrier, SharedBarrier.from(barrier.handle), SharedBarrier.from(barrier.handle)];
    for (let round = 0; round < 3; round++) {
      const indices = await Promise.all(parties.map((p) => p.wait()));
      expect(indices).toEqual([0, 1, 2]);
    }
    await deliver();
    expectIdle(barrier.handle);
  });

  it('breaks the waits of every instance at reset() and abort()', async () => {
    const barrier = new SharedBarrier(3);
    const other = SharedBarrier.from(barrier.handle);
    const first = track(other.wait());
    barrier.reset();
    await deliver();
    expect(first.status).toBe('rejected');
    expect((first.reason as Error).name).toBe('BrokenBarrierError');
    expect((first.reason as Error).message).toContain('was reset');
    const second = track(other.wait());
    barrier.abort();
    expect(other.isBroken()).toBe(true);
    await deliver();
    expect((second.reason as Error).message).toContain('was aborted');
    expect((await rejectionOf(other.wait())) as Error).toBeInstanceOf(Error);
    barrier.reset();
    expect(other.isBroken()).toBe(false);
    expectIdle(barrier.handle);
  });

  it('lets none of the waits one abort ends be granted by another of them leaving (weights)', async () => {
    const semaphore = new SharedSemaphore(2);
    const holder = semaphore.tryAcquire(1) as Releaser;
    const controller = new AbortController();
    // Same instance and different ones: one signal for a heavy head and a light wait behind it.
    const heavy = track(semaphore.acquire({ weight: 2, signal: controller.signal }));
    const light = track(semaphore.acquire({ weight: 1, signal: controller.signal }));
    const other = SharedSemaphore.from(semaphore.handle);
    const lightOther = track(other.acquire({ weight: 1 }));
    controller.abort();
    await flushMicrotasks();
    // As in-process: both waits on the aborted signal reject; the one on no signal gets the permit.
    expect([heavy.status, light.status]).toEqual(['rejected', 'rejected']);
    await deliver();
    expect(lightOther.status).toBe('fulfilled');
    expect(semaphore.value).toBe(0);
    (lightOther.value as Releaser)();
    holder();
    await deliver();
    expectIdle(semaphore.handle);
  });

  it('keeps a releaser whose release threw (a stuck section) usable after recover()', async () => {
    const lock = new SharedLock();
    const memory = new Int32Array(lock.handle.buffer);
    const release = lock.tryAcquire() as Releaser;
    Atomics.store(memory, H_SPIN, 778);
    expect(() => release()).toThrow(/thread 777/);
    // Found stuck once: the next call throws at once, without spinning (which reads the clock).
    const clock = vi.spyOn(performance, 'now');
    expect(() => release()).toThrow(/thread 777/);
    expect(clock).not.toHaveBeenCalled();
    clock.mockRestore();
    lock.recover(777);
    expect(lock.isLocked()).toBe(true);
    release();
    expect(lock.isLocked()).toBe(false);
    expectIdle(lock.handle);
  });

  it('resolves a wait granted in shared memory before its abort is seen: the grant came first', async () => {
    const lock = new SharedLock();
    const waiter = SharedLock.from(lock.handle);
    const held = lock.tryAcquire() as Releaser;
    const controller = new AbortController();
    const wait = track(waiter.acquire({ signal: controller.signal }));
    held(); // granted in memory; waiter's thread has not woken yet
    controller.abort();
    await flushMicrotasks();
    expect(wait.status).toBe('fulfilled');
    expect(lock.isLocked()).toBe(true);
    (wait.value as Releaser)();
    await deliver();
    expectIdle(lock.handle);
  });

  it('leaves no slot, agent, platform wait or keep-alive after 10,000 waits given up over 4 instances', async () => {
    const lock = new SharedLock({ capacity: 1024 });
    const instances = [0, 1, 2, 3].map(() => SharedLock.from(lock.handle));
    const held = lock.tryAcquire() as Releaser;
    let rejected = 0;
    for (let batch = 0; batch < 10; batch++) {
      const controller = new AbortController();
      const waits: Promise<unknown>[] = [];
      for (let i = 0; i < 1000; i++) {
        const instance = instances[i % 4] as SharedLock;
        const options = i % 2 === 0 ? { signal: controller.signal } : { timeout: 1 };
        waits.push(instance.acquire(options).catch(() => rejected++));
      }
      controller.abort();
      await Promise.all(waits);
    }
    // Every wait gave up: half by abort, half by timeout.
    expect(rejected).toBe(10_000);
    for (const instance of instances) expect(instance.waiterCount).toBe(0);
    expect(memoryUse(lock.handle)).toEqual({ slots: 0, agents: 1, queued: 0, spin: 0 }); // the holder
    held();
    await deliver();
    expectIdle(lock.handle);
  });

  it('rejects a wait past the capacity with a RangeError, and the primitive goes on', async () => {
    const lock = new SharedLock({ name: 'small', capacity: 2 });
    const held = lock.tryAcquire() as Releaser;
    const waits = [track(lock.acquire()), track(lock.acquire())];
    const error = await rejectionOf(lock.acquire());
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toContain('SharedLock "small": all 2 shared slots are in use');
    expect(memoryUse(lock.handle)).toMatchObject({ slots: 2, queued: 2 });
    held();
    await flushMicrotasks();
    expect(waits.map((w) => w.status)).toEqual(['fulfilled', 'pending']);
    (waits[0] as Tracked<Releaser>).value?.();
    await flushMicrotasks();
    (waits[1] as Tracked<Releaser>).value?.();
    await deliver();
    expectIdle(lock.handle);
  });
});

describe('state, errors and the inspector', () => {
  it('shows its state in String() and toStringTag, and throws InvalidStateError on a release of a free lock', () => {
    const lock = new SharedLock({ name: 'db' });
    expect(String(lock)).toBe('SharedLock "db" [unlocked, waiters:0]');
    expect(Object.prototype.toString.call(lock)).toBe('[object SharedLock]');
    expect(() => lock.release()).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    expect(memoryUse(lock.handle)).toEqual({ slots: 0, agents: 0, queued: 0, spin: 0 });
    const semaphore = new SharedSemaphore(2);
    expect(String(semaphore)).toBe('SharedSemaphore [value:2, waiters:0]');
    const event = new SharedEvent();
    event.set();
    expect(String(event)).toBe('SharedEvent [set, waiters:0]');
    const barrier = new SharedBarrier(2);
    barrier.abort();
    expect(String(barrier)).toBe('SharedBarrier [broken, parties:2, waiting:0]');
  });

  it('lets any instance release a lock asyncio style, and adds permits on a semaphore release beyond its holds', async () => {
    const lock = new SharedLock();
    const other = SharedLock.from(lock.handle);
    lock.tryAcquire();
    other.release();
    expect(lock.isLocked()).toBe(false);
    const semaphore = new SharedSemaphore(0);
    SharedSemaphore.from(semaphore.handle).release(2);
    expect(semaphore.value).toBe(2);
    expect(() => semaphore.release(2 ** 30 - 1)).toThrow(RangeError);
    expect(semaphore.value).toBe(2);
    expect(() => semaphore.release(0)).toThrow(/"weight"/);
    expect(() => semaphore.tryAcquire(1.5)).toThrow(/"weight"/);
    expect(await rejectionOf(semaphore.acquire({ weight: 'x' as never }))).toBeInstanceOf(TypeError);
    expect(await rejectionOf(lock.runExclusive(123 as never))).toBeInstanceOf(TypeError);
    expectIdle(lock.handle);
  });

  it('rejects recover() of this thread or of a bad id', () => {
    const lock = new SharedLock();
    expect(() => lock.recover(threadId)).toThrow(RangeError);
    expect(() => lock.recover(-1)).toThrow(RangeError);
    expect(() => lock.recover('1' as never)).toThrow(TypeError);
    expect(lock.recover(threadId === 1 ? 2 : 1)).toBe(0);
  });

  it('reports a critical section left held by a dead thread, and recover() takes it over and repairs the caches', async () => {
    const lock = new SharedLock({ name: 'stuck' });
    const memory = new Int32Array(lock.handle.buffer);
    const held = lock.tryAcquire() as Releaser;
    const first = track(lock.acquire());
    const second = track(lock.acquire());
    const third = track(lock.acquire());
    // A thread (id 777) died inside a critical section, halfway through unlinking: the links and
    // the count no longer match the slots.
    const dead = 777;
    Atomics.store(memory, H_SPIN, dead + 1);
    memory[H_QUEUED] = 99;
    memory[H_HEAD] = 0;
    memory[H_TAIL] = 0;
    memory[slotAt(0, S_NEXT)] = 0;
    const error = await rejectionOf(lock.acquire());
    expect((error as Error).message).toMatch(/locked for over 1000 ms by thread 777; .*call recover\(777\)/);
    expect(() => lock.release()).toThrow(/thread 777/);
    expect(lock.recover(dead)).toBe(0);
    expect(memoryUse(lock.handle)).toMatchObject({ queued: 3, spin: 0 });
    // The queue is whole again, in arrival order.
    held();
    await flushMicrotasks();
    expect([first.status, second.status, third.status]).toEqual(['fulfilled', 'pending', 'pending']);
    (first.value as Releaser)();
    await flushMicrotasks();
    expect([second.status, third.status]).toEqual(['fulfilled', 'pending']);
    (second.value as Releaser)();
    await flushMicrotasks();
    (third.value as Releaser)();
    await deliver();
    expectIdle(lock.handle);
  });

  it('is tracked by the inspector like any primitive', () => {
    const stop = inspect.trackWaiters();
    try {
      const lock = new SharedLock({ name: 'tracked' });
      const mapped = SharedLock.from(lock.handle);
      const rows = inspect.snapshot().rows.filter((row) => row.kind === 'SharedLock' && row.name === 'tracked');
      expect(rows.reduce((n, row) => n + row.primitives, 0)).toBe(2);
      expect(mapped.name).toBe('tracked');
    } finally {
      stop();
    }
  });
});
