/**
 * What every primitive shares: `name`, the leak warning, and the readable state.
 *
 * @module
 */

import { badValue, checkLimit, invalidKeys, PRIMITIVE_KEYS, type PrimitiveOptions } from './options.js';
import { type AnyClass, state } from './state.js';

/**
 * Sets the `maxWaiters` limit used by every primitive that was not given its own, including
 * primitives that already exist (the limit is read at each check).
 *
 * @param n An integer `>= 0`, or `Infinity`; `0` or `Infinity` disables the warning.
 * @throws {TypeError} If `n` is not a number.
 * @throws {RangeError} If `n` is negative, NaN or not an integer.
 *
 * @example
 * ```ts
 * import { setDefaultMaxWaiters } from 'waitsafe';
 * setDefaultMaxWaiters(10_000); // this service legitimately queues many waiters
 * ```
 */
export function setDefaultMaxWaiters(n: number): void {
  state.maxWaiters = checkLimit(n, 'The "n" argument');
}

/**
 * The `maxWaiters` limit of primitives that were not given their own (initially 1000).
 *
 * @example
 * ```ts
 * import { getDefaultMaxWaiters } from 'waitsafe';
 * getDefaultMaxWaiters(); // 1000
 * ```
 */
export function getDefaultMaxWaiters(): number {
  return state.maxWaiters;
}

// Stryker disable next-line StringLiteral: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/util-inspect.node.test.ts
const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

/**
 * The inspector's hook: called with each new primitive, the class constructed (its caller is the
 * creation site), and whether a primitive made it for itself.
 */
type Tracker = (primitive: Primitive, maker: AnyClass, owned: boolean) => void;

/** True while a primitive constructs one for itself (a Condition's own Lock). */
let owning = false;
/** True while {@link keepShape} constructs its instance, which the inspector never sees. */
// Stryker disable next-line BooleanLiteral: keepShape() sets it before any read that matters: the first primitive of each class is made by keepShape() as its module loads
let keeping = false;
/** The instances {@link keepShape} made: alive for as long as the module is. */
// Stryker disable next-line ArrayDeclaration: the array only keeps its elements alive; nothing reads it
const shapes: Primitive[] = [];

/**
 * Keeps one private, never-used instance of a class alive, so that V8 keeps its hidden class.
 * When a full GC finds no instance of a class alive (a service whose per-request Events all
 * finished), V8 drops the hidden class its instances ended with, and every optimized function
 * that embedded it deoptimizes ("reason: weak objects" under `node --trace-deopt`): the next
 * 20,000 waits cost several times the floor (`node --expose-gc bench/profile.mjs after-gc`,
 * docs/benchmarks.md). An instance kept here keeps the hidden class, and that code, alive.
 */
// Stryker disable next-line BlockStatement: an instance kept alive only keeps optimized code from deoptimizing after a full GC: a matter of speed, measured by bench/profile.mjs after-gc
export function keepShape(make: () => Primitive): void {
  keeping = true;
  // Stryker disable next-line BlockStatement: as above
  try {
    shapes.push(make());
  } finally {
    keeping = false;
  }
}

/**
 * Runs `make`, which constructs primitives on behalf of the primitive being constructed (a
 * Condition's own Lock): the inspector gives them their owner's creation site.
 */
export function createOwned<T>(make: () => T): T {
  owning = true;
  try {
    return make();
  } finally {
    owning = false;
  }
}

function emitLeakWarning(message: string): void {
  const process = (globalThis as { process?: { emitWarning?: (message: string, options: object) => void } }).process;
  if (typeof process?.emitWarning === 'function') {
    process.emitWarning(message, { type: 'WaiterLeakWarning', code: 'WAITSAFE_MAX_WAITERS' });
  } else {
    console.warn(`WaiterLeakWarning: ${message}`);
  }
}

/** Base class of every primitive. Not exported from the package. */
export abstract class Primitive {
  /**
   * The name given to the constructor, if any. It appears in `String(x)`, timeout messages and
   * leak warnings.
   *
   * @example
   * ```ts
   * new Event({ name: 'ready' }).name; // 'ready'
   * ```
   */
  readonly name: string | undefined = undefined;
  /** Its own limit; `undefined`: the default at check time; `0` once it has warned. */
  #maxWaiters: number | undefined = undefined;

  /** The constructor options this class knows; others are a TypeError. @internal */
  static optionKeys: readonly string[] = PRIMITIVE_KEYS;

  constructor(options: unknown) {
    if (options !== undefined) {
      const error = invalidKeys(options, (new.target as typeof Primitive).optionKeys);
      if (error !== undefined) throw error;
      const { name, maxWaiters } = options as PrimitiveOptions;
      if (name !== undefined && typeof name !== 'string') throw badValue('The "name" option', 'a string', name);
      this.name = name;
      if (maxWaiters !== undefined) this.#maxWaiters = checkLimit(maxWaiters, 'The "maxWaiters" option');
    }
    // Without trackWaiters() this is one comparison. The tracker is process-wide (`state.ts`).
    const track = state.track as Tracker | undefined;
    if (track !== undefined && !keeping) track(this, new.target, owning);
  }

  /**
   * Number of waits currently pending on this primitive. It drops in the same synchronous step
   * in which a wait is granted, aborted or timed out.
   *
   * @example
   * ```ts
   * const e = new Event();
   * const waiting = e.wait({ timeout: 1_000 });
   * e.waiterCount; // 1
   * e.set();
   * e.waiterCount; // 0
   * ```
   */
  abstract get waiterCount(): number;

  /** The class name, as `Object.prototype.toString` and `String(x)` show it. */
  abstract get [Symbol.toStringTag](): string;

  /** The state inside the brackets of `String(x)`, e.g. `unset, waiters:1`. */
  protected abstract describeState(): string;

  /** `Kind "name"`, as used in messages. @internal */
  get label(): string {
    const kind = this[Symbol.toStringTag];
    return this.name === undefined ? kind : `${kind} ${JSON.stringify(this.name)}`;
  }

  /** Emits the one-time leak warning if `waiterCount` is past the limit. @internal */
  checkWaiters(): void {
    const max = this.#maxWaiters ?? state.maxWaiters;
    // Stryker disable next-line ConditionalExpression: a shortcut only: no count is above Infinity
    if (max === 0 || max === Infinity) return;
    const count = this.waiterCount;
    if (count <= max) return;
    // Warn once: a limit of 0 disables further checks of this primitive.
    this.#maxWaiters = 0;
    emitLeakWarning(
      `${this.label}: ${count} pending waiters, over maxWaiters (${max}), a likely leak. ` +
        'If expected, raise the "maxWaiters" option or setDefaultMaxWaiters(n) (0 or Infinity: off).',
    );
  }

  /**
   * The readable state, in the spirit of asyncio's repr. Node's `util.inspect` shows the same.
   *
   * @example
   * ```ts
   * const ready = new Event({ name: 'ready' });
   * void ready.wait();
   * String(ready); // 'Event "ready" [unset, waiters:1]'
   * ```
   */
  toString(): string {
    return `${this.label} [${this.describeState()}]`;
  }

  /** Node's `util.inspect` shows the readable state. */
  [inspectCustom](): string {
    return this.toString();
  }
}
