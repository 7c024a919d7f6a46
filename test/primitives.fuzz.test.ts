/**
 * Fuzzed arguments for the in-process primitives of `waitsafe` (test/fuzz.ts says what is
 * checked): Event, Future, Lock, Semaphore, BoundedSemaphore, ReaderWriterLock, Condition,
 * Barrier and LockManager; the queues are in queues.fuzz.test.ts, the helpers and the inspector
 * in timeouts.fuzz.test.ts.
 */

import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Future,
  Lock,
  LockManager,
  ReaderWriterLock,
  type Releaser,
  Semaphore,
} from '../src/index.js';
import { snapshot, trackWaiters } from '../src/inspect/index.js';
import {
  abortedSignal,
  abortOf,
  anything,
  argsArb,
  assertAsync,
  assertSync,
  booleanArb,
  booleanProblems,
  checkAsync,
  checkSync,
  exactly,
  fnArb,
  fresh,
  functionProblems,
  hostileProblem,
  integerProblems,
  isPlainObject,
  keysIn,
  liveSignal,
  Make,
  materialize,
  msProblems,
  numberArb,
  optionsArb,
  optionsProblems,
  orAnything,
  PRIMITIVE_CHECKS,
  PRIMITIVE_FIELDS,
  type Problem,
  peek,
  type Spy,
  signalArb,
  signalProblems,
  signalsIn,
  spy,
  spyArb,
  stringArb,
  timeoutZero,
  typeError,
  WAIT_CHECKS,
  WAIT_FIELDS,
} from './fuzz.js';
import { flushMicrotasks, type Tracked, track } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/**
 * Hostile options (a revoked Proxy, a throwing getter): a constructor throws what reading them
 * throws, a waiting method rejects with it (never a synchronous throw).
 */
const hostile = { hostile: true };

/** Whether `value` is a number below `limit` (no conversion of other values). */
const isUnder = (value: unknown, limit: number) => typeof value === 'number' && value < limit;

/** `options.name`, as a constructor reads it. */
function nameOf(options: unknown): unknown {
  return peek(options, 'name');
}

/** Valid constructor options: none, or a name and a limit. */
const validPrimitiveOptions = fc.oneof(
  fc.constant(undefined),
  fc.record({ name: fc.string({ maxLength: 4 }), maxWaiters: fc.nat(5) }, { requiredKeys: [] }),
);

/** Valid wait options: none, a live signal, a timeout. */
const validWaitOptions: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc
    .record({ signal: liveSignal, timeout: fc.oneof(fc.nat(50), fc.constant(Infinity)) }, { requiredKeys: [] })
    .map((r) => new Make(fc.stringify(r), () => ({ ...r, ...(r.signal ? { signal: materialize(r.signal) } : {}) }))),
);

/** A valid `fn`: a spy. */
const validFn = spyArb;

/** Releases every hold in `holds`, in rounds, until `outcome` settles (grants may add holds). */
async function releaseAll(holds: Releaser[], outcome: Tracked<unknown>): Promise<void> {
  for (let round = 0; round < 5 && outcome.status === 'pending'; round++) {
    for (const release of holds.splice(0)) release();
    await flushMicrotasks();
  }
}

/** The checks of a spy-returning call once settled: fulfilled with what the spy returned, called once. */
function ranOnce(fn: unknown) {
  return (outcome: Tracked<unknown>) => {
    expect(outcome.status).toBe('fulfilled');
    expect(outcome.value).toBe('ran');
    expect((fn as Spy).calls).toBe(1);
  };
}

describe('constructors', () => {
  let stopTracking: () => void = () => {};
  beforeAll(() => {
    // A constructor that throws must not reach the inspector: its count is part of the state.
    stopTracking = trackWaiters();
  });
  afterAll(() => stopTracking());
  /** The state a failed construction must leave as it was: the primitives the inspector sees. */
  const tracked = () => snapshot().primitives;

  const withOptionsOnly: ReadonlyArray<readonly [string, (options: unknown) => { name: string | undefined }]> = [
    ['Event', (o) => new Event(o as never)],
    ['Future', (o) => new Future(o as never)],
    ['Lock', (o) => new Lock(o as never)],
    ['ReaderWriterLock', (o) => new ReaderWriterLock(o as never)],
    ['LockManager', (o) => new LockManager(o as never)],
  ];

  it.each(withOptionsOnly)('new %s(options)', (_, make) => {
    assertSync([optionsArb(PRIMITIVE_FIELDS, hostile)], (o) => {
      const options = materialize(o);
      checkSync({
        call: () => make(options),
        problems: optionsProblems(options, PRIMITIVE_CHECKS),
        state: tracked,
        succeeded: (primitive) => expect(primitive.name).toBe(nameOf(options)),
      });
    });
  });

  it.each([
    ['Semaphore', (value: unknown, options: unknown) => new Semaphore(value as never, options as never)],
    ['BoundedSemaphore', (value: unknown, options: unknown) => new BoundedSemaphore(value as never, options as never)],
  ] as const)('new %s(value, options)', (_, make) => {
    assertSync(
      [argsArb([numberArb, optionsArb(PRIMITIVE_FIELDS, hostile)], [fc.nat(5), validPrimitiveOptions])],
      ([value, o]) => {
        const options = materialize(o);
        checkSync({
          call: () => make(value, options),
          // `value`: an integer >= 0, default 1.
          problems: [
            ...integerProblems(value, '"value"', 0, Infinity, true),
            ...optionsProblems(options, PRIMITIVE_CHECKS),
          ],
          state: tracked,
          succeeded: (semaphore) => {
            expect(semaphore.value).toBe(value ?? 1);
            expect(semaphore.name).toBe(nameOf(options));
          },
        });
      },
    );
  });

  it('new Barrier(parties, options)', () => {
    assertSync(
      [
        argsArb(
          [numberArb, optionsArb(PRIMITIVE_FIELDS, hostile)],
          [fc.integer({ min: 1, max: 5 }), validPrimitiveOptions],
        ),
      ],
      ([parties, o]) => {
        const options = materialize(o);
        checkSync({
          call: () => new Barrier(parties as never, options as never),
          // `parties`: an integer >= 1, no default.
          problems: [...integerProblems(parties, '"parties"', 1), ...optionsProblems(options, PRIMITIVE_CHECKS)],
          state: tracked,
          succeeded: (barrier) => expect(barrier.parties).toBe(parties),
        });
      },
    );
  });

  /** What may stand in the lock place: anything, a Lock, another primitive, options with known or unknown keys. */
  const lockArb: fc.Arbitrary<unknown> = fc.oneof(
    anything,
    fc.constant(undefined),
    fresh('new Lock()', () => new Lock()),
    fresh('new Semaphore(1)', () => new Semaphore(1)),
    fresh('new Event()', () => new Event()),
    optionsArb(PRIMITIVE_FIELDS, hostile),
  );

  /**
   * README: `lock` is a waitsafe Lock, undefined, or a plain options object standing in for the
   * options (then there may be no second argument); anything else is a TypeError naming "lock".
   */
  function conditionProblems(lock: unknown, options: unknown): Problem[] {
    // A revoked Proxy fails whatever is asked of it (a TypeError); a throwing getter as options.
    const trap = hostileProblem(lock);
    if (trap !== undefined && 'kind' in trap) return [trap];
    if (lock === undefined || lock instanceof Lock) return optionsProblems(options, PRIMITIVE_CHECKS);
    if (!isPlainObject(lock) || options !== undefined) return [typeError('"lock"')];
    if (keysIn(lock).some((key) => !Object.hasOwn(PRIMITIVE_CHECKS, key))) return [typeError('"lock"')];
    return optionsProblems(lock, PRIMITIVE_CHECKS);
  }

  it('new Condition(lock, options)', () => {
    assertSync(
      [
        argsArb(
          [lockArb, optionsArb(PRIMITIVE_FIELDS, hostile)],
          [fresh('new Lock()', () => new Lock()), validPrimitiveOptions],
        ),
      ],
      ([l, o]) => {
        const lock = materialize(l);
        const options = materialize(o);
        checkSync({
          call: () => new Condition(lock as never, options as never),
          problems: conditionProblems(lock, options),
          state: tracked,
          succeeded: (condition) => expect(condition.name).toBe(isPlainObject(lock) ? nameOf(lock) : nameOf(options)),
        });
      },
    );
  });
});

describe('Event', () => {
  it('wait(options)', async () => {
    await assertAsync(
      [fc.constantFrom('unset', 'set', 'waited'), optionsArb(WAIT_FIELDS, hostile)],
      async (state, o) => {
        const event = new Event();
        if (state === 'set') event.set();
        if (state === 'waited') void event.wait();
        const options = materialize(o);
        await checkAsync({
          call: () => event.wait(options as never),
          problems: optionsProblems(options, WAIT_CHECKS),
          otherwise: abortOf(options),
          timeoutZero: timeoutZero(options),
          state: () => String(event),
          signals: signalsIn(options),
          settle: () => event.set(),
        });
      },
    );
  });
});

describe('Future', () => {
  type State = 'pending' | 'waited' | 'done' | 'failed';
  const states = fc.constantFrom<State>('pending', 'waited', 'done', 'failed');

  function setup(state: State): Future<unknown> {
    const future = new Future<unknown>();
    // A waiter of the setup: its outcome is handled (setException rejects it).
    if (state === 'waited') track(future.wait());
    if (state === 'done') future.setResult('first');
    if (state === 'failed') future.setException(new Error('first'));
    return future;
  }

  /** The readable state, and the outcome itself (the first outcome stays). */
  function stateOf(future: Future<unknown>): unknown[] {
    let outcome: unknown;
    try {
      outcome = future.done() ? future.result() : undefined;
    } catch (error) {
      outcome = error;
    }
    return [String(future), future.waiterCount, outcome];
  }

  it.each(['setResult', 'setException'] as const)('%s(value)', (method) => {
    assertSync([states, anything], (state, value) => {
      const future = setup(state);
      checkSync({
        call: () => future[method](value),
        problems: [],
        // Any value is valid; a done Future refuses a second outcome.
        otherwise: state === 'done' || state === 'failed' ? { kind: 'InvalidStateError' } : undefined,
        state: () => stateOf(future),
        succeeded: () => {
          expect(future.done()).toBe(true);
          expect(future.waiterCount).toBe(0);
        },
      });
    });
  });

  it('wait(options)', async () => {
    await assertAsync([states, optionsArb(WAIT_FIELDS, hostile)], async (state, o) => {
      const future = setup(state);
      const options = materialize(o);
      const exception = state === 'failed' ? (stateOf(future)[2] as Error) : undefined;
      await checkAsync({
        call: () => future.wait(options as never),
        problems: optionsProblems(options, WAIT_CHECKS),
        // An aborted signal wins even over a done Future; a failed one rejects with its exception.
        otherwise: abortOf(options) ?? (exception === undefined ? undefined : exactly(exception)),
        timeoutZero: timeoutZero(options),
        state: () => stateOf(future),
        signals: signalsIn(options),
        settle: () => future.setResult('later'),
      });
    });
  });
});

/**
 * The permit-based primitives in a few states: free, held, held with a waiter queued. `holds`
 * collects the releasers of the holds, so that `releaseAll` can let a pending call through.
 */
type PermitState = 'free' | 'held' | 'queued';
const permitStates = fc.constantFrom<PermitState>('free', 'held', 'queued');

interface LockLike {
  acquire(options?: never): Promise<Releaser>;
  runExclusive(fn: never, options?: never): Promise<unknown>;
}

async function holdLock(lock: LockLike, state: PermitState): Promise<Releaser[]> {
  const holds: Releaser[] = [];
  if (state !== 'free') holds.push(await lock.acquire());
  if (state === 'queued') void lock.acquire().then((release) => holds.push(release));
  return holds;
}

describe.each([
  ['Lock', () => new Lock()],
  ['Condition', () => new Condition()],
  ['Semaphore', () => new Semaphore(1)],
] as const)('%s (acquire and runExclusive)', (_, make) => {
  it('acquire(options)', async () => {
    await assertAsync([permitStates, optionsArb(WAIT_FIELDS, hostile)], async (state, o) => {
      const lock = make();
      const holds = await holdLock(lock, state);
      const options = materialize(o);
      await checkAsync({
        call: () => lock.acquire(options as never),
        problems: optionsProblems(options, WAIT_CHECKS),
        otherwise: abortOf(options),
        timeoutZero: timeoutZero(options),
        state: () => String(lock),
        signals: signalsIn(options),
        settle: (outcome) => releaseAll(holds, outcome),
      });
    });
  });

  it('runExclusive(fn, options)', async () => {
    await assertAsync(
      [permitStates, argsArb([fnArb, optionsArb(WAIT_FIELDS, hostile)], [validFn, validWaitOptions])],
      async (state, [f, o]) => {
        const lock = make();
        const holds = await holdLock(lock, state);
        const fn = materialize(f);
        const options = materialize(o);
        await checkAsync({
          call: () => lock.runExclusive(fn as never, options as never),
          problems: [...functionProblems(fn, '"fn"'), ...optionsProblems(options, WAIT_CHECKS)],
          otherwise: abortOf(options),
          timeoutZero: timeoutZero(options),
          state: () => String(lock),
          signals: signalsIn(options),
          spies: [fn],
          settle: (outcome) => releaseAll(holds, outcome),
          settled: ranOnce(fn),
        });
      },
    );
  });
});

describe.each([
  ['Semaphore', false],
  ['BoundedSemaphore', true],
] as const)('%s (weights)', (_, bounded) => {
  /** Initial value and bound 3. */
  const BOUND = 3;
  const make = () => (bounded ? new BoundedSemaphore(BOUND) : new Semaphore(BOUND));
  /** Free (3), partly held (1 free), all held with a waiter for 1 queued. */
  function setup(state: PermitState): { semaphore: Semaphore; holds: Releaser[] } {
    const semaphore = make();
    const holds: Releaser[] = [];
    if (state === 'held') holds.push(semaphore.tryAcquire(2) as Releaser);
    if (state === 'queued') {
      holds.push(semaphore.tryAcquire(BOUND) as Releaser);
      void semaphore.acquire().then((release) => holds.push(release));
    }
    return { semaphore, holds };
  }

  /**
   * `weight`: an integer >= 1, default 1; on a BoundedSemaphore, at most its bound (TSDoc: a
   * weight above the bound can never be granted: a RangeError at once).
   */
  function weightProblems(weight: unknown, name: string): Problem[] {
    const problems = integerProblems(weight, name, 1, Infinity, true);
    if (problems.length === 0 && bounded && (weight as number) > BOUND) return [{ kind: 'RangeError', names: name }];
    return problems;
  }

  const weightedFields = { ...WAIT_FIELDS, weight: numberArb };

  it('acquire({ weight, signal, timeout })', async () => {
    await assertAsync([permitStates, optionsArb(weightedFields, hostile)], async (state, o) => {
      const { semaphore, holds } = setup(state);
      const options = materialize(o);
      const weight = peek(options, 'weight') as number | undefined;
      await checkAsync({
        call: () => semaphore.acquire(options as never),
        problems: optionsProblems(options, {
          ...WAIT_CHECKS,
          weight: (v) => weightProblems(v, '"weight"'),
        }),
        otherwise: abortOf(options),
        timeoutZero: timeoutZero(options),
        state: () => String(semaphore),
        signals: signalsIn(options),
        settle: async (outcome) => {
          await releaseAll(holds, outcome);
          // A plain Semaphore may wait for more permits than it started with.
          if (outcome.status === 'pending' && !bounded) semaphore.release(weight as number);
        },
      });
    });
  });

  it('tryAcquire(weight)', () => {
    assertSync([permitStates, numberArb], (state, weight) => {
      const { semaphore } = setup(state);
      checkSync({
        call: () => semaphore.tryAcquire(weight as never),
        problems: weightProblems(weight, '"weight"'),
        state: () => String(semaphore),
        succeeded: (release) => {
          // Free permits and nobody waiting: a Releaser; otherwise undefined.
          const w = (weight as number | undefined) ?? 1;
          expect(release === undefined).toBe(!(state !== 'queued' && w <= (state === 'held' ? 1 : BOUND)));
        },
      });
    });
  });

  it('release(weight)', () => {
    assertSync([permitStates, numberArb], (state, weight) => {
      const { semaphore } = setup(state);
      const problems = integerProblems(weight, '"weight"', 1, Infinity, true);
      const w = typeof weight === 'number' ? weight : 1;
      checkSync({
        call: () => semaphore.release(weight as never),
        problems,
        // A BoundedSemaphore refuses to free more permits than its initial value (a RangeError,
        // state unchanged); a plain Semaphore does not check.
        otherwise: bounded && semaphore.value + w > BOUND ? { kind: 'RangeError' } : undefined,
        state: () => String(semaphore),
      });
    });
  });
});

describe('ReaderWriterLock', () => {
  type RwState = 'free' | 'reading' | 'writing' | 'writer queued';
  const rwStates = fc.constantFrom<RwState>('free', 'reading', 'writing', 'writer queued');
  function setup(state: RwState): { rw: ReaderWriterLock; holds: Releaser[] } {
    const rw = new ReaderWriterLock();
    const holds: Releaser[] = [];
    if (state === 'reading' || state === 'writer queued') holds.push(rw.tryAcquireRead() as Releaser);
    if (state === 'writing') holds.push(rw.tryAcquireWrite() as Releaser);
    if (state === 'writer queued') void rw.acquireWrite().then((release) => holds.push(release));
    return { rw, holds };
  }

  it.each(['acquireRead', 'acquireWrite'] as const)('%s(options)', async (method) => {
    await assertAsync([rwStates, optionsArb(WAIT_FIELDS, hostile)], async (state, o) => {
      const { rw, holds } = setup(state);
      const options = materialize(o);
      await checkAsync({
        call: () => rw[method](options as never),
        problems: optionsProblems(options, WAIT_CHECKS),
        otherwise: abortOf(options),
        timeoutZero: timeoutZero(options),
        state: () => String(rw),
        signals: signalsIn(options),
        settle: (outcome) => releaseAll(holds, outcome),
      });
    });
  });

  it.each(['runRead', 'runWrite'] as const)('%s(fn, options)', async (method) => {
    await assertAsync(
      [rwStates, argsArb([fnArb, optionsArb(WAIT_FIELDS, hostile)], [validFn, validWaitOptions])],
      async (state, [f, o]) => {
        const { rw, holds } = setup(state);
        const fn = materialize(f);
        const options = materialize(o);
        await checkAsync({
          call: () => rw[method](fn as never, options as never),
          problems: [...functionProblems(fn, '"fn"'), ...optionsProblems(options, WAIT_CHECKS)],
          otherwise: abortOf(options),
          timeoutZero: timeoutZero(options),
          state: () => String(rw),
          signals: signalsIn(options),
          spies: [fn],
          settle: (outcome) => releaseAll(holds, outcome),
          settled: ranOnce(fn),
        });
      },
    );
  });
});

describe('Condition', () => {
  /** Held by the caller, or not (then every method that needs the lock fails with InvalidStateError). */
  const heldArb = fc.boolean();
  const notHeld: Problem = { kind: 'InvalidStateError' };

  /** Notifies every waiter and lets them take the lock back, until `outcome` settles. */
  async function notifyAll(condition: Condition, outcome: Tracked<unknown>): Promise<void> {
    for (let round = 0; round < 5 && outcome.status === 'pending'; round++) {
      const release = await condition.acquire();
      condition.notifyAll();
      release();
      await flushMicrotasks();
    }
  }

  it('wait(options)', async () => {
    await assertAsync([heldArb, optionsArb(WAIT_FIELDS, hostile)], async (held, o) => {
      const condition = new Condition();
      if (held) await condition.acquire();
      const options = materialize(o);
      await checkAsync({
        call: () => condition.wait(options as never),
        problems: optionsProblems(options, WAIT_CHECKS),
        // Not holding the lock is reported before an aborted signal.
        otherwise: held ? abortOf(options) : notHeld,
        timeoutZero: timeoutZero(options),
        state: () => String(condition),
        signals: signalsIn(options),
        settle: (outcome) => notifyAll(condition, outcome),
      });
    });
  });

  /** What may stand in the predicate place: anything, or a function that counts its calls and returns `ready`. */
  const predicateArb = fc.oneof(
    anything,
    fc.boolean().map(
      (ready) =>
        new Make(`predicate(${ready})`, () => {
          const predicate = (() => {
            predicate.calls++;
            return predicate.ready;
          }) as Spy & { ready: boolean };
          predicate.calls = 0;
          predicate.ready = ready;
          return predicate;
        }),
    ),
  );

  it('waitFor(predicate, options)', async () => {
    await assertAsync(
      [
        heldArb,
        argsArb(
          [predicateArb, optionsArb(WAIT_FIELDS, hostile)],
          [predicateArb.filter((p) => p instanceof Make), validWaitOptions],
        ),
      ],
      async (held, [p, o]) => {
        const condition = new Condition();
        if (held) await condition.acquire();
        const predicate = materialize(p);
        const options = materialize(o);
        await checkAsync({
          call: () => condition.waitFor(predicate as never, options as never),
          problems: [...functionProblems(predicate, '"predicate"'), ...optionsProblems(options, WAIT_CHECKS)],
          otherwise: held ? abortOf(options) : notHeld,
          // One deadline for the whole call, on the clock: a timeout under a millisecond may have
          // passed when the predicate has been called (with the fake clock, now + 5e-324 is now).
          timeoutZero: timeoutZero(options) || isUnder(peek(options, 'timeout'), 1),
          state: () => String(condition),
          signals: signalsIn(options),
          // A failed call never calls the predicate (an aborted signal included).
          spies: [predicate],
          settle: async (outcome) => {
            (predicate as { ready: boolean }).ready = true;
            await notifyAll(condition, outcome);
          },
          settled: (outcome) => {
            expect(outcome.status).toBe('fulfilled');
            expect(outcome.value).toBe(true);
          },
        });
      },
    );
  });

  it('notify(n)', async () => {
    await assertAsync([heldArb, numberArb], async (held, n) => {
      // One waiter, notified or not; the caller holds the lock again, or not.
      const condition = new Condition();
      await condition.acquire();
      void condition.wait();
      if (held) await condition.acquire();
      checkSync({
        call: () => condition.notify(n as never),
        // `n`: an integer >= 0, default 1; checked before the lock.
        problems: integerProblems(n, '"n"', 0, Infinity, true),
        otherwise: held ? undefined : notHeld,
        state: () => String(condition),
      });
    });
  });
});

describe('Barrier', () => {
  type BarrierState = 'empty' | 'one waiting' | 'last' | 'alone' | 'broken';
  const barrierStates = fc.constantFrom<BarrierState>('empty', 'one waiting', 'last', 'alone', 'broken');

  it('wait(options)', async () => {
    await assertAsync([barrierStates, optionsArb(WAIT_FIELDS, hostile)], async (state, o) => {
      const parties = state === 'alone' ? 1 : state === 'last' ? 2 : 3;
      const barrier = new Barrier(parties);
      const others: Tracked<number>[] = [];
      if (state === 'one waiting' || state === 'last') others.push(track(barrier.wait()));
      if (state === 'broken') barrier.abort();
      const options = materialize(o);
      await checkAsync({
        call: () => barrier.wait(options as never),
        problems: optionsProblems(options, WAIT_CHECKS),
        otherwise: abortOf(options) ?? (state === 'broken' ? { kind: 'BrokenBarrierError' } : undefined),
        timeoutZero: timeoutZero(options),
        state: () => String(barrier),
        signals: signalsIn(options),
        settle: async (outcome) => {
          for (let i = 0; i < parties && outcome.status === 'pending'; i++) {
            others.push(track(barrier.wait()));
            await flushMicrotasks();
          }
        },
      });
    });
  });
});

describe('LockManager', () => {
  type ManagerState = 'free' | 'held' | 'shared';
  const managerStates = fc.constantFrom<ManagerState>('free', 'held', 'shared');
  /** The name the setup holds; any string, and reserved names (starting with `-`). */
  const NAME = 'res';
  const nameArb = fc.oneof(
    stringArb,
    fc.constant(NAME),
    fc.string({ maxLength: 3 }).map((s) => `-${s}`),
  );
  const requestFields = {
    mode: orAnything(fc.constantFrom('exclusive', 'shared', 'Shared')),
    ifAvailable: booleanArb,
    steal: booleanArb,
    signal: signalArb,
    timeout: numberArb,
  };

  /**
   * README and TSDoc: `name` a string, `options` an object or undefined whose `mode` is
   * 'exclusive' or 'shared', `ifAvailable` and `steal` booleans, `signal` an AbortSignal, `timeout`
   * a number >= 0 (unknown keys are ignored), `callback` a function: TypeError or RangeError
   * naming it. Then NotSupportedError: a name starting with `-`, `steal` with `ifAvailable` or
   * `'shared'`, `signal` or `timeout` with `steal` or `ifAvailable`.
   */
  function requestProblems(name: unknown, options: unknown, callback: unknown): Problem[] {
    const problems: Problem[] = [];
    if (typeof name !== 'string') problems.push(typeError('"name"'));
    const trap = hostileProblem(options);
    if (trap !== undefined) problems.push(trap);
    else if (options !== undefined) {
      if (typeof options !== 'object' || options === null) problems.push(typeError('"options"'));
      else {
        const o = options as Record<string, unknown>;
        problems.push(...booleanProblems(o.ifAvailable, '"ifAvailable"'));
        if (o.mode !== undefined && o.mode !== 'exclusive' && o.mode !== 'shared') problems.push(typeError('"mode"'));
        problems.push(...signalProblems(o.signal));
        problems.push(...booleanProblems(o.steal, '"steal"'));
        problems.push(...msProblems(o.timeout, '"timeout"'));
      }
    }
    problems.push(...functionProblems(callback, '"callback"'));
    if (problems.length > 0) return problems;
    const o = (options ?? {}) as {
      mode?: string;
      ifAvailable?: boolean;
      steal?: boolean;
      signal?: unknown;
      timeout?: unknown;
    };
    const notSupported = (names: string): Problem => ({ kind: 'NotSupportedError', names });
    if ((name as string).startsWith('-')) problems.push(notSupported('name'));
    if (o.steal && o.ifAvailable) problems.push(notSupported('"steal"'));
    if (o.steal && o.mode === 'shared') problems.push(notSupported('"steal"'));
    if (o.signal !== undefined && (o.steal || o.ifAvailable)) problems.push(notSupported('"signal"'));
    if (o.timeout !== undefined && (o.steal || o.ifAvailable)) problems.push(notSupported('"timeout"'));
    return problems;
  }

  /** Runs one request on a manager in `state`, and checks it. */
  async function checkRequest(state: ManagerState, twoArguments: boolean, name: unknown, o: unknown, f: unknown) {
    const locks = new LockManager();
    let release = (): void => {};
    const holder =
      state === 'free'
        ? undefined
        : track(
            locks.request(NAME, { mode: state === 'held' ? 'exclusive' : 'shared' }, () => {
              return new Promise<void>((resolve) => {
                release = resolve;
              });
            }),
          );
    await flushMicrotasks();
    const options = twoArguments ? undefined : materialize(o);
    const callback = materialize(f);
    await checkAsync({
      call: () =>
        twoArguments
          ? locks.request(name as never, callback as never)
          : locks.request(name as never, options as never, callback as never),
      // (name, options, undefined) is the two-argument form: `options` is then the callback.
      problems:
        callback === undefined && !twoArguments
          ? requestProblems(name, undefined, options)
          : requestProblems(name, options, callback),
      otherwise: abortOf(options),
      timeoutZero: timeoutZero(options),
      state: () => String(locks),
      signals: signalsIn(options),
      spies: [callback],
      settle: () => release(),
      settled: (outcome) => ranOnce(callback)(outcome),
    });
    // The holder of the setup ends (or was stolen).
    release();
    await flushMicrotasks();
    expect(holder?.status ?? 'fulfilled').not.toBe('pending');
  }

  it('request(name, options, callback) and request(name, callback)', async () => {
    await assertAsync(
      [
        managerStates,
        fc.boolean(),
        argsArb(
          [nameArb, optionsArb(requestFields, hostile), fnArb],
          [fc.constantFrom(NAME, 'other'), validWaitOptions, validFn],
        ),
      ],
      async (state, twoArguments, [name, o, f]) => checkRequest(state, twoArguments, name, o, f),
    );
  });

  it('request(name, options, callback): every combination of valid option values', async () => {
    // The combinations the Web Locks API refuses (NotSupportedError) need several options at once.
    const combination = fc.record({
      mode: fc.constantFrom(undefined, 'exclusive', 'shared'),
      ifAvailable: fc.constantFrom(undefined, false, true),
      steal: fc.constantFrom(undefined, false, true),
      signal: fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 3 },
        { arbitrary: liveSignal, weight: 1 },
        { arbitrary: abortedSignal, weight: 1 },
      ),
      timeout: fc.constantFrom(undefined, undefined, undefined, 0, 10),
    });
    await assertAsync(
      [managerStates, fc.constantFrom(NAME, 'other', '-'), combination],
      async (state, name, record) => {
        const options = new Make(fc.stringify(record), () => ({
          ...record,
          signal: materialize(record.signal),
        }));
        await checkRequest(state, false, name, options, spy());
      },
      300,
    );
  });
});
