/**
 * Fuzzing helpers for the `*.fuzz.test.ts` files: every public constructor and method is called
 * with any value (`fc.anything()`, numbers at the edges, values of the wrong kind) in each
 * argument position, the other arguments valid, and must
 *
 * 1. fail with one of the documented errors exactly when an independent predicate, written from
 *    the README and the TSDoc, says the arguments are invalid, and succeed otherwise;
 * 2. name the argument or option in the error's message;
 * 3. report the failure as a rejection when it returns a promise, and throw when it does not;
 * 4. leave the state it reads through its public API as it was when it fails, and leave no timer
 *    and no abort listener behind.
 *
 * The predicates here know only what the docs say ("a timeout is undefined or a number >= 0",
 * "a key the method does not know is a TypeError naming the key", ...), never the source.
 */

import fc from 'fast-check';
import { expect, vi } from 'vitest';
import { abortListeners, flushMicrotasks, type Tracked, track } from './helpers.js';

/** Runs per property: enough to meet every kind of value several times, and quick. */
export const RUNS = 120;

// ---------------------------------------------------------------------------------------------
// Values

/**
 * A value made afresh for each run (an AbortSignal, a spy, a primitive): what the arbitraries
 * give for the values a run changes (a signal gets listeners, a spy counts calls), so that a
 * replayed or shrunk case never sees a value a previous run used. {@link materialize} makes it.
 */
export class Make<T = unknown> {
  constructor(
    readonly label: string,
    readonly make: () => T,
  ) {}

  [fc.toStringMethod](): string {
    return this.label;
  }
}

/** The value `value` stands for: a {@link Make} is made now, anything else is itself. */
export function materialize(value: unknown): unknown {
  return value instanceof Make ? value.make() : value;
}

/** An arbitrary that makes a fresh value per run. */
export function fresh<T>(label: string, make: () => T): fc.Arbitrary<Make<T>> {
  return fc.constant(new Make(label, make));
}

/**
 * Any value: primitives, objects and arrays (sparse too), null-prototype objects, boxed values,
 * dates, maps, sets, typed arrays, bigints, strings that look like objects.
 */
export const anything: fc.Arbitrary<unknown> = fc.anything({
  maxDepth: 2,
  maxKeys: 3,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withObjectString: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
});

/** Numbers where the checks are: around 0 and 1, fractions, NaN, infinities, large integers. */
export const numbers: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: -3, max: 12 }),
  fc.double(),
  fc.constantFrom(0, -0, 0.5, 1.5, -1, Infinity, -Infinity, Number.NaN, 2 ** 30 - 1, 2 ** 30, 2 ** 31, 2 ** 53, 1e300),
);

/** A function that counts its calls. */
export interface Spy {
  (...args: unknown[]): unknown;
  calls: number;
}

/** A fresh {@link Spy} returning `result`. */
export function spy(result: unknown = 'ran'): Spy {
  const f = (() => {
    f.calls++;
    return result;
  }) as Spy;
  f.calls = 0;
  return f;
}

/** A fresh spy for each run. */
export const spyArb: fc.Arbitrary<Make<Spy>> = fresh('spy()', () => spy());

/** The controllers of the signals {@link liveSignal} made, for {@link abort}. */
const controllers = new WeakMap<AbortSignal, AbortController>();

/** A signal that has not aborted, fresh for each run. */
export const liveSignal: fc.Arbitrary<Make<AbortSignal>> = fresh('liveSignal', () => {
  const controller = new AbortController();
  controllers.set(controller.signal, controller);
  return controller.signal;
});

/** Aborts a signal {@link liveSignal} made, with `reason`. */
export function abort(signal: AbortSignal, reason?: unknown): void {
  controllers.get(signal)?.abort(reason);
}

/** An already-aborted signal, with any reason (or the default AbortError), fresh for each run. */
export const abortedSignal: fc.Arbitrary<Make<AbortSignal>> = fc.oneof(anything, fc.constant(undefined)).map(
  (reason) =>
    new Make(`abortedSignal(${fc.stringify(reason)})`, () => {
      const controller = new AbortController();
      controller.abort(reason);
      return controller.signal;
    }),
);

/**
 * `arbitrary` (values of the right type, valid or not) twice as often as `anything`, and
 * `undefined` as often as `anything` if `absent`: so that valid and invalid calls both come often.
 */
export function orAnything(arbitrary: fc.Arbitrary<unknown>, absent = true): fc.Arbitrary<unknown> {
  const some = [
    { arbitrary: anything, weight: 1 },
    { arbitrary, weight: 2 },
  ];
  return fc.oneof(...some, ...(absent ? [{ arbitrary: fc.constant(undefined), weight: 1 }] : []));
}

/** `valid` three times out of four, `other` (anything, or wrong values) the fourth. */
export function mostly(valid: fc.Arbitrary<unknown>, other: fc.Arbitrary<unknown> = anything): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: other, weight: 1 });
}

/** What the `signal` option may be given: anything, a signal, aborted or not, or nothing. */
export const signalArb: fc.Arbitrary<unknown> = orAnything(
  fc.oneof({ arbitrary: liveSignal, weight: 2 }, { arbitrary: abortedSignal, weight: 1 }),
);

/** What a number argument or option may be given. */
export const numberArb: fc.Arbitrary<unknown> = orAnything(numbers);

/** What a function argument may be given: anything, or a spy. */
export const fnArb: fc.Arbitrary<unknown> = orAnything(spyArb, false);

/** What a string argument or option may be given. */
export const stringArb: fc.Arbitrary<unknown> = orAnything(fc.string({ maxLength: 6 }), false);

/** What a boolean argument or option may be given. */
export const booleanArb: fc.Arbitrary<unknown> = orAnything(fc.boolean());

/** The failure each hostile value made by {@link hostileArb} must cause. */
const hostile = new WeakMap<object, Problem>();

/**
 * What a call must fail with when `value` is hostile: a revoked Proxy (a TypeError from the
 * engine, whatever its message) or an object whose known key has a getter that throws (exactly
 * what it throws). `undefined` for any other value.
 */
export function hostileProblem(value: unknown): Problem | undefined {
  return typeof value === 'object' && value !== null ? hostile.get(value) : undefined;
}

/**
 * Hostile options: a revoked Proxy, or an object whose one key (one of `keys`) is a getter that
 * throws. Reading them throws, which a method must report as it reports a bad argument: as a
 * rejection if it returns a promise.
 */
export function hostileArb(keys: readonly string[]): fc.Arbitrary<Make<object>> {
  const revoked = fresh('revoked Proxy', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    hostile.set(proxy, { kind: 'TypeError' });
    return proxy;
  });
  const getters = fc.constantFrom(...keys).map(
    (key) =>
      new Make(`{ get ${key}() { throw } }`, () => {
        const error = new Error(`the getter of "${key}" threw`);
        const options = {};
        Object.defineProperty(options, key, {
          get() {
            throw error;
          },
          enumerable: true,
          configurable: true,
        });
        hostile.set(options, exactly(error));
        return options;
      }),
  );
  return keys.length === 0 ? revoked : fc.oneof(revoked, getters);
}

/** `value[key]`, without running a hostile value's traps or getters (`undefined` then). */
export function peek(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null || hostile.has(value)) return undefined;
  return (value as Record<string, unknown>)[key];
}

/**
 * An options argument: nothing, anything, or (most often) an object with some of the known keys
 * (`fields`, each with its own arbitrary), sometimes with no prototype, sometimes with unknown
 * keys as well; with `hostile`, sometimes a hostile value ({@link hostileArb}). Made afresh for
 * each run.
 */
export function optionsArb(
  fields: Record<string, fc.Arbitrary<unknown>>,
  { hostile: withHostile = false }: { hostile?: boolean } = {},
): fc.Arbitrary<unknown> {
  const record = fc.record(fields, { requiredKeys: [] });
  const unknownKeys = fc.dictionary(
    fc.string({ maxLength: 6 }).filter((key) => !Object.hasOwn(fields, key)),
    anything,
    { minKeys: 1, maxKeys: 2 },
  );
  const built = fc
    .tuple(
      record,
      fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: unknownKeys, weight: 1 }),
      fc.boolean(),
    )
    .map(([known, unknown, bare]) => {
      const label = `${bare ? 'bare ' : ''}${fc.stringify({ ...(unknown ?? {}), ...known })}`;
      return new Make(label, () => {
        const options: Record<string, unknown> = bare ? Object.create(null) : {};
        for (const key of Object.keys(unknown ?? {})) {
          Object.defineProperty(options, key, {
            value: (unknown as Record<string, unknown>)[key],
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        for (const [key, value] of Object.entries(known)) options[key] = materialize(value);
        return options;
      });
    });
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 2 },
    { arbitrary: anything, weight: 2 },
    { arbitrary: built, weight: 8 },
    ...(withHostile ? [{ arbitrary: hostileArb(Object.keys(fields)), weight: 1 }] : []),
  );
}

/** The options of a wait: `{ signal, timeout }`. */
export const WAIT_FIELDS = { signal: signalArb, timeout: numberArb };

/** The options of every primitive's constructor: `{ name, maxWaiters }`. */
export const PRIMITIVE_FIELDS = { name: stringArb, maxWaiters: numberArb };

// ---------------------------------------------------------------------------------------------
// Predicates, from the docs

/** An error the call must fail with. */
export type Problem =
  /**
   * `'TypeError'`, `'RangeError'`, or the name of a DOMException or of a library error; `names`:
   * what the message must contain (the argument or option, quoted as the messages quote them).
   */
  | { readonly kind: string; readonly names?: string }
  /** This exact value (an aborted signal's reason, a Future's exception). */
  | { readonly exact: unknown };

export const typeError = (names: string): Problem => ({ kind: 'TypeError', names });
export const rangeError = (names: string): Problem => ({ kind: 'RangeError', names });
export const exactly = (value: unknown): Problem => ({ exact: value });

/** Every key a `for...in` sees: options are read as a whole, inherited keys included. */
export function keysIn(object: object): string[] {
  const keys: string[] = [];
  for (const key in object) keys.push(key);
  return keys;
}

/** A plain object: its prototype is `Object.prototype` or `null`. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Milliseconds (`timeout`, `ms`, `idleTimeout`): a number `>= 0`, `Infinity` for no limit. */
export function msProblems(value: unknown, name: string, optional = true): Problem[] {
  if (value === undefined && optional) return [];
  if (typeof value !== 'number') return [typeError(name)];
  if (Number.isNaN(value) || value < 0) return [rangeError(name)];
  return [];
}

/** An integer from `min` to `max`; `undefined` too if `optional`. */
export function integerProblems(
  value: unknown,
  name: string,
  min: number,
  max = Infinity,
  optional = false,
): Problem[] {
  if (value === undefined && optional) return [];
  if (typeof value !== 'number') return [typeError(name)];
  if (!Number.isInteger(value) || value < min || value > max) return [rangeError(name)];
  return [];
}

/** A `maxWaiters` limit: an integer `>= 0` or `Infinity`. */
export function limitProblems(value: unknown, name: string): Problem[] {
  if (value === undefined) return [];
  if (typeof value !== 'number') return [typeError(name)];
  if (value === Infinity) return [];
  if (!Number.isInteger(value) || value < 0) return [rangeError(name)];
  return [];
}

/** A `signal` option: undefined or an AbortSignal. */
export function signalProblems(value: unknown, name = '"signal"'): Problem[] {
  return value === undefined || value instanceof AbortSignal ? [] : [typeError(name)];
}

/** A function argument or option. */
export function functionProblems(value: unknown, name: string, optional = false): Problem[] {
  if (value === undefined && optional) return [];
  return typeof value === 'function' ? [] : [typeError(name)];
}

/** A string option: undefined or a string. */
export function stringProblems(value: unknown, name: string): Problem[] {
  return value === undefined || typeof value === 'string' ? [] : [typeError(name)];
}

/** A boolean option or argument: undefined or a boolean. */
export function booleanProblems(value: unknown, name: string): Problem[] {
  return value === undefined || typeof value === 'boolean' ? [] : [typeError(name)];
}

/** How each known option is checked. */
export type OptionChecks = Record<string, (value: unknown) => Problem[]>;

/** The checks of a wait's options. */
export const WAIT_CHECKS: OptionChecks = {
  signal: (v) => signalProblems(v),
  timeout: (v) => msProblems(v, '"timeout"'),
};

/** The checks of a primitive's constructor options. */
export const PRIMITIVE_CHECKS: OptionChecks = {
  name: (v) => stringProblems(v, '"name"'),
  maxWaiters: (v) => limitProblems(v, '"maxWaiters"'),
};

/**
 * The problems of an options argument: `undefined` or an object (a TypeError naming
 * `"options"` otherwise), whose every key (inherited ones too) is known (a TypeError naming the
 * key otherwise), and whose known keys pass their checks.
 */
export function optionsProblems(options: unknown, checks: OptionChecks, optional = true): Problem[] {
  if (options === undefined && optional) return [];
  const trap = hostileProblem(options);
  if (trap !== undefined) return [trap];
  if (typeof options !== 'object' || options === null) return [typeError('"options"')];
  const problems: Problem[] = [];
  for (const key of keysIn(options)) if (!Object.hasOwn(checks, key)) problems.push(typeError(`"${key}"`));
  for (const [key, check] of Object.entries(checks)) {
    problems.push(...check((options as Record<string, unknown>)[key]));
  }
  return problems;
}

/** The signal of an options argument, if it is an AbortSignal. */
export function signalOf(options: unknown): AbortSignal | undefined {
  const signal = peek(options, 'signal');
  return signal instanceof AbortSignal ? signal : undefined;
}

/** The reason of an already-aborted signal in `options`, as the Problem a valid call must fail with. */
export function abortOf(options: unknown): Problem | undefined {
  const signal = signalOf(options);
  return signal?.aborted ? exactly(signal.reason) : undefined;
}

/** Whether `options` asks for `timeout: 0`. */
export function timeoutZero(options: unknown): boolean {
  return peek(options, 'timeout') === 0;
}

// ---------------------------------------------------------------------------------------------
// Checks

function describeValue(value: unknown): string {
  if (value instanceof Error || value instanceof DOMException) return `${value.name}: ${value.message}`;
  return fc.stringify(value);
}

function describeProblem(problem: Problem): string {
  return 'exact' in problem
    ? `exactly ${fc.stringify(problem.exact)}`
    : `${problem.kind}${problem.names === undefined ? '' : ` naming ${problem.names}`}`;
}

function isKind(error: unknown, kind: string): boolean {
  if (kind === 'TypeError') return error instanceof TypeError;
  if (kind === 'RangeError') return error instanceof RangeError;
  if (error instanceof DOMException) return error.name === kind;
  return error instanceof Error && error.name === kind && error.constructor.name === kind;
}

/** Whether `error` is the error `problem` describes: its type, and a message naming the argument. */
export function matches(error: unknown, problem: Problem): boolean {
  if ('exact' in problem) return Object.is(error, problem.exact);
  if (!isKind(error, problem.kind)) return false;
  return problem.names === undefined || String((error as Error).message).includes(problem.names);
}

/** Checks that `error` is one of `problems` (type, then message). */
export function expectOneOf(error: unknown, problems: readonly Problem[]): void {
  if (problems.some((problem) => matches(error, problem))) return;
  const typed = problems.some((problem) => !('exact' in problem) && isKind(error, problem.kind));
  expect.fail(
    `${typed ? 'the message does not name the argument' : 'wrong error'}: got ${describeValue(error)}; ` +
      `expected one of: ${problems.map(describeProblem).join('; ')}`,
  );
}

/** What a call must do: fail with one of `problems`, or, when there is none, with `otherwise`, or succeed. */
export interface Expected {
  /** What is wrong with the arguments (empty: nothing). The call must fail with one of them. */
  readonly problems: readonly Problem[];
  /**
   * With valid arguments: what the call must fail with anyway (an already-aborted signal's
   * reason, a state error such as a shut-down queue), if anything.
   */
  readonly otherwise?: Problem | undefined;
}

/** The failures a call may end with: the problems, or else `otherwise`; `undefined`: it must succeed. */
function failuresOf(expected: Expected): readonly Problem[] | undefined {
  if (expected.problems.length > 0) return expected.problems;
  return expected.otherwise === undefined ? undefined : [expected.otherwise];
}

/**
 * Under fake timers: lets the next macrotask pass (the shared timers and listeners of waits that
 * ended are released by then), and checks that no timer and no listener on `signals` is left.
 */
export function expectNothingLeft(signals: readonly AbortSignal[]): void {
  vi.advanceTimersByTime(1);
  expect(vi.getTimerCount(), 'timers left behind').toBe(0);
  for (const signal of signals) expect(abortListeners(signal), 'abort listeners left behind').toBe(0);
}

/** The AbortSignals among `values` and in their `signal` options. */
export function signalsIn(...values: unknown[]): AbortSignal[] {
  const signals: AbortSignal[] = [];
  for (const value of values) {
    if (hostileProblem(value) !== undefined) continue;
    if (value instanceof AbortSignal) signals.push(value);
    const signal = signalOf(value);
    if (signal !== undefined) signals.push(signal);
  }
  return signals;
}

/** A call of a method that returns a promise. */
export interface AsyncCall extends Expected {
  readonly call: () => unknown;
  /** The state read through the public API: unchanged by a call that fails. */
  readonly state: () => unknown;
  /** Signals given to the call: no listener may be left on them. */
  readonly signals?: readonly AbortSignal[] | undefined;
  /** Spies given to the call that a failed call must not have called. */
  readonly spies?: readonly unknown[] | undefined;
  /** `timeout: 0` was asked for: with valid arguments, a TimeoutError is a success too. */
  readonly timeoutZero?: boolean | undefined;
  /** Ends a pending call with valid arguments (releases a lock, sets an event, ...). */
  readonly settle?: ((outcome: Tracked<unknown>) => unknown) | undefined;
  /** Checks a valid call once settled; by default it must have been fulfilled. */
  readonly settled?: ((outcome: Tracked<unknown>) => void) | undefined;
  /** Checks what is left; by default {@link expectNothingLeft} on `signals`. */
  readonly leftovers?: (() => void | Promise<void>) | undefined;
}

/**
 * Runs a call of a promise-returning method and checks it against what is expected: it never
 * throws synchronously; with invalid arguments it rejects with one of the problems, changes no
 * state and calls no spy; with valid ones it succeeds (after `settle` if it was pending); and
 * nothing is left behind. Returns how the call settled.
 */
export async function checkAsync(c: AsyncCall): Promise<Tracked<unknown>> {
  const before = c.state();
  let result: unknown;
  try {
    result = c.call();
  } catch (error) {
    expect.fail(`threw synchronously instead of rejecting: ${describeValue(error)}`);
  }
  expect(result, 'returns a promise').toBeInstanceOf(Promise);
  const outcome = track(result as Promise<unknown>);
  await flushMicrotasks();
  const failures = failuresOf(c);
  if (failures !== undefined) {
    if (outcome.status !== 'rejected') expect.fail(`expected a rejection, got ${outcome.status}`);
    expectOneOf(outcome.reason, failures);
    expect(c.state(), 'state after a rejected call').toEqual(before);
    for (const s of c.spies ?? []) if (typeof s === 'function') expect((s as Spy).calls, 'spy calls').toBe(0);
  } else if (outcome.status === 'rejected') {
    const timedOut = outcome.reason instanceof DOMException && outcome.reason.name === 'TimeoutError';
    if (!(c.timeoutZero && timedOut)) expect.fail(`valid arguments, but rejected: ${describeValue(outcome.reason)}`);
    expect(c.state(), 'state after a timeout of 0').toEqual(before);
  } else {
    if (outcome.status === 'pending' && c.settle !== undefined) {
      await c.settle(outcome);
      await flushMicrotasks();
    }
    if (c.settled !== undefined) c.settled(outcome);
    else if (outcome.status !== 'fulfilled') {
      expect.fail(`valid arguments: expected a fulfilment, got ${outcome.status} ${describeValue(outcome.reason)}`);
    }
  }
  await (c.leftovers ?? (() => expectNothingLeft(c.signals ?? [])))();
  return outcome;
}

/** A call of a constructor or of a synchronous method. */
export interface SyncCall<T> extends Expected {
  readonly call: () => T;
  /** The state read through the public API (and the inspector's count): unchanged by a throw. */
  readonly state: () => unknown;
  readonly signals?: readonly AbortSignal[] | undefined;
  /** Checks (and cleans up after) a call that succeeded. */
  readonly succeeded?: ((value: T) => void) | undefined;
  readonly leftovers?: (() => void) | undefined;
}

/**
 * Runs a constructor or synchronous method and checks it against what is expected: with invalid
 * arguments it throws one of the problems (never returns a rejected promise) and changes no
 * state; with valid ones it returns. Nothing is left behind either way.
 */
export function checkSync<T>(c: SyncCall<T>): void {
  const before = c.state();
  let threw = false;
  let error: unknown;
  let value: T | undefined;
  try {
    value = c.call();
  } catch (caught) {
    threw = true;
    error = caught;
  }
  const failures = failuresOf(c);
  if (failures !== undefined) {
    if (!threw) expect.fail(`expected a throw, got ${describeValue(value)}`);
    expectOneOf(error, failures);
    expect(c.state(), 'state after a throw').toEqual(before);
  } else {
    if (threw) expect.fail(`valid arguments, but threw: ${describeValue(error)}`);
    expect(value, 'a synchronous method returns no promise').not.toBeInstanceOf(Promise);
    c.succeeded?.(value as T);
  }
  (c.leftovers ?? (() => expectNothingLeft(c.signals ?? [])))();
}

/**
 * Arguments for a call: each position fuzzed alone with the others valid (`valid[i]`), or all of
 * them fuzzed at once.
 */
export function argsArb<Ts extends [unknown, ...unknown[]]>(
  fuzzed: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  valid: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
): fc.Arbitrary<Ts> {
  const all = fuzzed as readonly fc.Arbitrary<unknown>[];
  const alone = all.map((arb, i) =>
    fc.tuple(
      ...all.map((_, j) => (j === i ? arb : ((valid as readonly fc.Arbitrary<unknown>[])[j] as fc.Arbitrary<unknown>))),
    ),
  );
  return fc.oneof(fc.tuple(...all), ...alone) as unknown as fc.Arbitrary<Ts>;
}

/** Runs `property` `RUNS` times (async). */
export function assertAsync<Ts extends [unknown, ...unknown[]]>(
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => Promise<void>,
  runs = RUNS,
): Promise<void> {
  return fc.assert(fc.asyncProperty(...arbitraries, predicate), { numRuns: runs });
}

/** Runs `property` `RUNS` times (sync). */
export function assertSync<Ts extends [unknown, ...unknown[]]>(
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => void,
  runs = RUNS,
): void {
  fc.assert(fc.property(...arbitraries, predicate), { numRuns: runs });
}
