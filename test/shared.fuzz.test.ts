/**
 * Fuzzed arguments for `waitsafe/shared` (test/fuzz.ts says what is checked): the constructors,
 * `from(handle, options)`, and the methods that take arguments. Each primitive is shared with a
 * second instance (`from(handle)`, as another thread would map it) that holds or waits, so that
 * a pending call is woken by its platform wait. "Nothing left" includes the shared memory: no
 * slot, agent or queued wait, the section free, and no platform wait on it.
 */

import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Releaser } from '../src/index.js';
import { snapshot, trackWaiters } from '../src/inspect/index.js';
import { SharedBarrier, SharedEvent, SharedLock, SharedSemaphore, threadId } from '../src/shared/index.js';
import {
  abortOf,
  anything,
  argsArb,
  assertAsync,
  assertSync,
  checkAsync,
  checkSync,
  fnArb,
  fresh,
  functionProblems,
  hostileProblem,
  integerProblems,
  keysIn,
  limitProblems,
  Make,
  materialize,
  numberArb,
  optionsArb,
  optionsProblems,
  orAnything,
  PRIMITIVE_CHECKS,
  PRIMITIVE_FIELDS,
  type Problem,
  peek,
  type Spy,
  signalsIn,
  spyArb,
  stringArb,
  timeoutZero,
  typeError,
  WAIT_CHECKS,
  WAIT_FIELDS,
} from './fuzz.js';
import { abortListeners, nextMacrotask, type Tracked, track } from './helpers.js';
import { memoryUse, platformWaits } from './shared-memory.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Fewer runs: a pending call is woken by a platform wait, which takes real tasks. */
const RUNS = 60;

/** Lets the platform waits deliver (each resolves on a task of its own; real tasks under fake timers). */
async function deliver(): Promise<void> {
  for (let i = 0; i < 3; i++) await nextMacrotask();
}

type Kind = 'SharedLock' | 'SharedSemaphore' | 'SharedEvent' | 'SharedBarrier';
type AnyShared = SharedLock | SharedSemaphore | SharedEvent | SharedBarrier;
const KINDS: readonly Kind[] = ['SharedLock', 'SharedSemaphore', 'SharedEvent', 'SharedBarrier'];
const classes = { SharedLock, SharedSemaphore, SharedEvent, SharedBarrier } as const;

/** The kind of the primitive whose memory each buffer made here is. */
const kindOf = new WeakMap<object, Kind>();

function make(kind: Kind): AnyShared {
  const primitive =
    kind === 'SharedBarrier'
      ? new SharedBarrier(2)
      : kind === 'SharedSemaphore'
        ? new SharedSemaphore(2)
        : new classes[kind]();
  kindOf.set(primitive.handle.buffer, kind);
  return primitive;
}

/** The memory of a buffer, byte by byte, if it is a SharedArrayBuffer. */
function bytesOf(buffer: unknown): number[] | undefined {
  return buffer instanceof SharedArrayBuffer ? Array.from(new Uint8Array(buffer)) : undefined;
}

/** Hostile options (a revoked Proxy, a throwing getter) for the constructors and from(), which throw them. */
const hostile = { hostile: true };

/** `capacity`: an integer from 1 to 65,536 (default 256). */
const capacityArb = fc.oneof(numberArb, fc.integer({ min: 1, max: 300 }), fc.constantFrom(65_536, 65_537));
const SHARED_FIELDS = { ...PRIMITIVE_FIELDS, capacity: capacityArb };
const SHARED_CHECKS = {
  ...PRIMITIVE_CHECKS,
  capacity: (v: unknown) => integerProblems(v, '"capacity"', 1, 65_536, true),
};
const validSharedOptions = fc.oneof(
  fc.constant(undefined),
  fc.record({ name: fc.string({ maxLength: 4 }), capacity: fc.integer({ min: 1, max: 8 }) }, { requiredKeys: [] }),
);
const MAX = 2 ** 30 - 1;

describe('constructors and from()', () => {
  let stopTracking: () => void = () => {};
  beforeAll(() => {
    // A constructor or from() that throws must not reach the inspector.
    stopTracking = trackWaiters();
  });
  afterAll(() => stopTracking());
  const tracked = () => snapshot().primitives;
  const nameOf = (options: unknown) => peek(options, 'name');

  it.each(['SharedLock', 'SharedEvent'] as const)('new %s(options)', (kind) => {
    assertSync(
      [optionsArb(SHARED_FIELDS, hostile)],
      (o) => {
        const options = materialize(o);
        checkSync({
          call: () => new classes[kind](options as never),
          problems: optionsProblems(options, SHARED_CHECKS),
          state: tracked,
          succeeded: (primitive) => expect(primitive.name).toBe(nameOf(options)),
        });
      },
      RUNS,
    );
  });

  it('new SharedSemaphore(value, options)', () => {
    assertSync(
      [argsArb([numberArb, optionsArb(SHARED_FIELDS, hostile)], [fc.nat(5), validSharedOptions])],
      ([value, o]) => {
        const options = materialize(o);
        checkSync({
          call: () => new SharedSemaphore(value as never, options as never),
          // `value`: an integer from 0 to 2^30 - 1, default 1.
          problems: [...integerProblems(value, '"value"', 0, MAX, true), ...optionsProblems(options, SHARED_CHECKS)],
          state: tracked,
          // -0 is 0 in shared memory.
          succeeded: (semaphore) => expect(semaphore.value === (value ?? 1)).toBe(true),
        });
      },
      RUNS,
    );
  });

  it('new SharedBarrier(parties, options)', () => {
    assertSync(
      [
        argsArb(
          [fc.oneof(numberArb, fc.integer({ min: 1, max: 10 })), optionsArb(SHARED_FIELDS, hostile)],
          [fc.integer({ min: 1, max: 5 }), validSharedOptions],
        ),
      ],
      ([parties, o]) => {
        const options = materialize(o);
        const problems = optionsProblems(options, SHARED_CHECKS);
        // `parties`: an integer from 1 to the capacity + 1 (the capacity given, if it is one, else
        // 256). When the options are wrong too, an error naming either is right.
        const given = peek(options, 'capacity');
        const capacity =
          Number.isInteger(given) && (given as number) >= 1 && (given as number) <= 65_536 ? (given as number) : 256;
        checkSync({
          call: () => new SharedBarrier(parties as never, options as never),
          problems: [...integerProblems(parties, '"parties"', 1, capacity + 1), ...problems],
          // Every refusal comes before anything is made: the inspector never sees it.
          state: tracked,
          succeeded: (barrier) => expect(barrier.parties).toBe(parties),
        });
      },
      RUNS,
    );
  });

  /** Handles: anything, the handles of each kind, and objects made like handles. */
  const bufferArb = fc.oneof(
    anything,
    fc.constantFrom(...KINDS).map((kind) => new Make(`${kind} buffer`, () => make(kind).handle.buffer)),
    fc.nat(2048).map((bytes) => new Make(`new SharedArrayBuffer(${bytes})`, () => new SharedArrayBuffer(bytes))),
    fresh('new ArrayBuffer(1024)', () => new ArrayBuffer(1024)),
  );
  /**
   * Handles for `from()` of `kind`: anything, the handles of each kind, objects made like handles,
   * and copies of a handle of `kind` with any name.
   */
  const handleArb = (kind: Kind) =>
    fc.oneof(
      anything,
      fc.constantFrom(...KINDS).map((other) => new Make(`${other} handle`, () => make(other).handle)),
      fc
        .record(
          { kind: fc.oneof(anything, fc.constantFrom(...KINDS)), name: stringArb, buffer: bufferArb },
          { requiredKeys: [] },
        )
        .map(
          (record) =>
            new Make(fc.stringify(record), () => ({
              ...record,
              ...('buffer' in record ? { buffer: materialize(record.buffer) } : {}),
            })),
        ),
      orAnything(fc.string({ maxLength: 4 })).map(
        (name) =>
          new Make(`{ ...${kind} handle, name: ${fc.stringify(name)} }`, () => ({ ...make(kind).handle, name })),
      ),
    );

  it.each(KINDS)('%s.from(handle, options)', (kind) => {
    assertSync(
      [
        argsArb(
          [handleArb(kind), optionsArb({ maxWaiters: numberArb }, hostile)],
          [fresh(`${kind} handle`, () => make(kind).handle), fc.constant(undefined)],
        ),
      ],
      ([h, o]) => {
        const handle = materialize(h);
        const options = materialize(o);
        const buffer =
          typeof handle === 'object' && handle !== null ? (handle as { buffer?: unknown }).buffer : undefined;
        const name = typeof handle === 'object' && handle !== null ? (handle as { name?: unknown }).name : undefined;
        // README: a TypeError for anything but a handle of its own class (its buffer, and a
        // string or no name); options: the local `maxWaiters` only.
        const handleProblems: Problem[] =
          typeof buffer === 'object' &&
          buffer !== null &&
          kindOf.get(buffer) === kind &&
          (name === undefined || typeof name === 'string')
            ? []
            : [typeError('"handle"')];
        const optionProblems: Problem[] =
          hostileProblem(options) !== undefined
            ? [hostileProblem(options) as Problem]
            : options === undefined
              ? []
              : typeof options !== 'object' || options === null
                ? [typeError('"options"')]
                : [
                    ...keysIn(options)
                      .filter((key) => key !== 'maxWaiters')
                      .map((key) => typeError(`"${key}"`)),
                    ...limitProblems((options as { maxWaiters?: unknown }).maxWaiters, '"maxWaiters"'),
                  ];
        checkSync({
          call: () => classes[kind].from(handle as never, options as never),
          problems: [...handleProblems, ...optionProblems],
          state: () => [tracked(), bytesOf(buffer)],
          succeeded: (primitive) => expect(primitive.name).toBe(name),
        });
      },
      RUNS,
    );
  });
});

/** What is left once every wait and hold has ended: nothing, in the memory, the timers and the signals. */
async function expectIdle(primitive: AnyShared, signals: readonly AbortSignal[]): Promise<void> {
  await deliver();
  expect(memoryUse(primitive.handle)).toEqual({ slots: 0, agents: 0, queued: 0, spin: 0 });
  // On this primitive's memory (a failed run elsewhere cannot spoil the count).
  expect(platformWaits(primitive.handle), 'platform waits left').toBe(0);
  vi.advanceTimersByTime(1);
  expect(vi.getTimerCount(), 'timers left').toBe(0);
  for (const signal of signals) expect(abortListeners(signal), 'listeners left').toBe(0);
}

const stateOf = (primitive: AnyShared) => [String(primitive), memoryUse(primitive.handle)];

/** Free, or held by another instance (a pending call is woken by its platform wait). */
const heldArb = fc.boolean();

describe.each(['SharedLock', 'SharedSemaphore'] as const)('%s', (kind) => {
  /** A semaphore of 2 permits, or a lock; held (all of it) by another instance, or free. */
  async function setup(held: boolean) {
    const primitive = make(kind) as SharedLock | SharedSemaphore;
    const other = (kind === 'SharedLock' ? SharedLock : SharedSemaphore).from(primitive.handle as never);
    const holds: Releaser[] = [];
    if (held)
      holds.push((kind === 'SharedLock' ? other.tryAcquire() : (other as SharedSemaphore).tryAcquire(2)) as Releaser);
    return { primitive, holds };
  }
  async function releaseAll(holds: Releaser[], outcome: Tracked<unknown>): Promise<void> {
    for (const release of holds.splice(0)) release();
    for (let i = 0; i < 3 && outcome.status === 'pending'; i++) await deliver();
  }
  const weighted = kind === 'SharedSemaphore';
  /** `weight` of a SharedSemaphore: an integer from 1 to 2^30 - 1; only 1 or 2 can be granted here. */
  const weightProblems = (v: unknown, name: string) => integerProblems(v, name, 1, MAX, true);

  it('acquire(options)', async () => {
    const fields = weighted ? { ...WAIT_FIELDS, weight: fc.oneof(numberArb, fc.constantFrom(1, 2)) } : WAIT_FIELDS;
    const checks = weighted ? { ...WAIT_CHECKS, weight: (v: unknown) => weightProblems(v, '"weight"') } : WAIT_CHECKS;
    await assertAsync(
      [heldArb, optionsArb(fields, hostile)],
      async (held, o) => {
        const { primitive, holds } = await setup(held);
        const options = materialize(o);
        const signals = signalsIn(options);
        await checkAsync({
          call: () => primitive.acquire(options as never),
          problems: optionsProblems(options, checks),
          otherwise: abortOf(options),
          timeoutZero: timeoutZero(options),
          state: () => stateOf(primitive),
          signals,
          settle: async (pending) => {
            await releaseAll(holds, pending);
            // A semaphore's value can grow: a weight above its 2 permits is granted once released.
            if (pending.status === 'pending' && primitive instanceof SharedSemaphore) {
              primitive.release((peek(options, 'weight') as number) - primitive.value);
              for (let i = 0; i < 3 && pending.status === 'pending'; i++) await deliver();
            }
          },
          leftovers: async () => {
            for (const release of holds.splice(0)) release();
            await expectIdle(primitive, signals);
          },
          settled: (settled) => {
            expect(settled.status).toBe('fulfilled');
            (settled.value as Releaser)();
          },
        });
      },
      RUNS,
    );
  });

  it('runExclusive(fn, options)', async () => {
    await assertAsync(
      [heldArb, argsArb([fnArb, optionsArb(WAIT_FIELDS, hostile)], [spyArb, fc.constant(undefined)])],
      async (held, [f, o]) => {
        const { primitive, holds } = await setup(held);
        const fn = materialize(f);
        const options = materialize(o);
        const signals = signalsIn(options);
        await checkAsync({
          call: () => primitive.runExclusive(fn as never, options as never),
          problems: [...functionProblems(fn, '"fn"'), ...optionsProblems(options, WAIT_CHECKS)],
          otherwise: abortOf(options),
          timeoutZero: timeoutZero(options),
          state: () => stateOf(primitive),
          signals,
          spies: [fn],
          settle: (pending) => releaseAll(holds, pending),
          settled: (settled) => {
            expect(settled.status).toBe('fulfilled');
            expect((fn as Spy).calls).toBe(1);
          },
          leftovers: async () => {
            for (const release of holds.splice(0)) release();
            await expectIdle(primitive, signals);
          },
        });
      },
      RUNS,
    );
  });
});

describe.each(KINDS)('%s', (kind) => {
  it('recover(threadId)', () => {
    assertSync(
      [heldArb, fc.oneof(numberArb, fc.constant(threadId), fc.integer({ min: 0, max: 2 ** 30 }))],
      (held, id) => {
        const primitive = make(kind);
        // This thread holds it (a lock or a semaphore), or not.
        const release =
          held && (primitive instanceof SharedLock || primitive instanceof SharedSemaphore)
            ? primitive.tryAcquire()
            : undefined;
        // An integer from 0 to 2^30 - 1, and not this thread's own id.
        const problems = integerProblems(id, '"threadId"', 0, MAX);
        const before = stateOf(primitive);
        checkSync({
          call: () => primitive.recover(id as never),
          problems: problems.length === 0 && id === threadId ? [{ kind: 'RangeError', names: '"threadId"' }] : problems,
          state: () => stateOf(primitive),
          // No other thread holds or waits here: nothing to recover, this thread's hold kept.
          succeeded: (recovered) => {
            expect(recovered).toBe(0);
            expect(stateOf(primitive)).toEqual(before);
          },
          leftovers: () => release?.(),
        });
      },
      RUNS,
    );
  });
});

describe('SharedSemaphore', () => {
  const states = fc.constantFrom('free', 'held', 'full');
  /** Free (2 of 2), one held, at the most (2^30 - 1) free. */
  function setup(state: string): SharedSemaphore {
    const semaphore = new SharedSemaphore(state === 'full' ? MAX : 2);
    if (state === 'held') semaphore.tryAcquire(1);
    return semaphore;
  }
  const weightArb = fc.oneof(numberArb, fc.constantFrom(1, 2, MAX));

  it('tryAcquire(weight)', () => {
    assertSync(
      [states, weightArb],
      (state, weight) => {
        const semaphore = setup(state);
        const free = semaphore.value;
        checkSync({
          call: () => semaphore.tryAcquire(weight as never),
          problems: integerProblems(weight, '"weight"', 1, MAX, true),
          state: () => stateOf(semaphore),
          // Nobody waits: a Releaser exactly when the permits are free.
          succeeded: (release) => {
            expect(release !== undefined).toBe(((weight as number | undefined) ?? 1) <= free);
            release?.();
          },
        });
      },
      RUNS,
    );
  });

  it('release(weight)', () => {
    assertSync(
      [states, weightArb],
      (state, weight) => {
        const semaphore = setup(state);
        const w = typeof weight === 'number' ? weight : 1;
        checkSync({
          call: () => semaphore.release(weight as never),
          problems: integerProblems(weight, '"weight"', 1, MAX, true),
          // The value may not pass 2^30 - 1 (a RangeError, state unchanged).
          otherwise: semaphore.value + w > MAX ? { kind: 'RangeError' } : undefined,
          state: () => stateOf(semaphore),
          succeeded: () => expect(semaphore.value).toBeLessThanOrEqual(MAX),
        });
      },
      RUNS,
    );
  });
});

describe('SharedEvent', () => {
  it('wait(options)', async () => {
    await assertAsync(
      [fc.boolean(), optionsArb(WAIT_FIELDS, hostile)],
      async (set, o) => {
        const event = make('SharedEvent') as SharedEvent;
        const other = SharedEvent.from(event.handle);
        if (set) other.set();
        const options = materialize(o);
        const signals = signalsIn(options);
        await checkAsync({
          call: () => event.wait(options as never),
          problems: optionsProblems(options, WAIT_CHECKS),
          otherwise: abortOf(options),
          timeoutZero: timeoutZero(options),
          state: () => stateOf(event),
          signals,
          settle: async (pending) => {
            other.set();
            for (let i = 0; i < 3 && pending.status === 'pending'; i++) await deliver();
          },
          leftovers: () => expectIdle(event, signals),
        });
      },
      RUNS,
    );
  });
});

describe('SharedBarrier', () => {
  it('wait(options)', async () => {
    await assertAsync(
      [fc.constantFrom('alone', 'first', 'last', 'broken'), optionsArb(WAIT_FIELDS, hostile)],
      async (state, o) => {
        const barrier = state === 'alone' ? new SharedBarrier(1) : (make('SharedBarrier') as SharedBarrier);
        const other = SharedBarrier.from(barrier.handle);
        const others: Tracked<number>[] = [];
        if (state === 'last') others.push(track(other.wait()));
        if (state === 'broken') other.abort();
        await deliver();
        const options = materialize(o);
        const signals = signalsIn(options);
        await checkAsync({
          call: () => barrier.wait(options as never),
          problems: optionsProblems(options, WAIT_CHECKS),
          otherwise: abortOf(options) ?? (state === 'broken' ? { kind: 'BrokenBarrierError' } : undefined),
          timeoutZero: timeoutZero(options),
          state: () => stateOf(barrier),
          signals,
          settle: async (pending) => {
            others.push(track(other.wait()));
            for (let i = 0; i < 3 && pending.status === 'pending'; i++) await deliver();
          },
          leftovers: async () => {
            // A party of the setup left waiting by a failed call: reset ends it.
            barrier.reset();
            await expectIdle(barrier, signals);
          },
        });
      },
      RUNS,
    );
  });
});
