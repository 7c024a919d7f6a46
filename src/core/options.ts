/**
 * Validation of the options every wait and every primitive takes.
 *
 * @module
 */

/**
 * Options that every waiting method takes as its last argument.
 *
 * @example
 * ```ts
 * await event.wait({ timeout: 5_000 });                           // give up after 5 s
 * using release = await lock.acquire({ signal: request.signal }); // give up when the request is aborted
 * ```
 */
export interface WaitOptions {
  /** Cancels the wait: it rejects with `signal.reason`, and nothing of it is left behind. */
  signal?: AbortSignal | undefined;
  /**
   * Milliseconds to wait before rejecting with a `TimeoutError` DOMException. `undefined` or
   * `Infinity`: no limit. `0`: succeed only if the operation can complete at once.
   *
   * Waits with equal timeouts share one timer. `setTimeout`, `clearTimeout` and `performance`
   * are looked up on `globalThis` when used, so a test runner's fake timers apply, also when
   * they fake `setTimeout` but not the clock.
   */
  timeout?: number | undefined;
}

/**
 * Constructor options shared by every primitive.
 *
 * @example
 * ```ts
 * const ready = new Event({ name: 'ready', maxWaiters: 10_000 });
 * String(ready); // 'Event "ready" [unset, waiters:0]'
 * ```
 */
export interface PrimitiveOptions {
  /** A name shown in `String(x)`, in timeout messages and in leak warnings. */
  name?: string | undefined;
  /**
   * Warn once when more than this many waits are pending at once (a likely waiter leak).
   * Default: {@link getDefaultMaxWaiters} at the time of the check; `0` or `Infinity` disables.
   */
  maxWaiters?: number | undefined;
}

/** Duck-typed so that signals from another realm (a `vm` context, jsdom) are accepted. */
export function isAbortSignal(value: unknown): value is AbortSignal {
  const signal = value as AbortSignal | null | undefined;
  return (
    typeof signal?.aborted === 'boolean' &&
    typeof signal.addEventListener === 'function' &&
    typeof signal.removeEventListener === 'function'
  );
}

/**
 * The error for a bad argument or option: a TypeError naming `what` and the type it got, or,
 * with `range` (the type is right, the value is not), a RangeError with the value.
 *
 * @param what `The "timeout" option`, `The "n" argument`, ...
 * @param must What it must be: `a number`, `>= 0 or Infinity`, ...
 */
export function badValue(what: string, must: string, value: unknown, range?: boolean): TypeError {
  const got = range ? String(value) : value === null ? 'null' : typeof value;
  return new (range ? RangeError : TypeError)(`${what} must be ${must}, got ${got}`);
}

/** The options a waiting method knows. */
// Stryker disable next-line ArrayDeclaration,StringLiteral: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/messages.test.ts
export const WAIT_KEYS: readonly string[] = ['signal', 'timeout'];
/** The options of `sleep`, `timeout`, `timeoutAt` and `Deadline`. */
// Stryker disable next-line ArrayDeclaration,StringLiteral: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/messages.test.ts
export const SIGNAL_KEYS: readonly string[] = ['signal'];
/** The keys of a weighted acquire's options (`Semaphore.acquire`). */
// Stryker disable next-line ArrayDeclaration,StringLiteral: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/messages.test.ts
export const WEIGHTED_KEYS: readonly string[] = ['signal', 'timeout', 'weight'];
/** The options every primitive's constructor knows. */
export const PRIMITIVE_KEYS: readonly string[] = ['name', 'maxWaiters'];

/**
 * Checks that `options` is an object whose (enumerable) keys are all in `known`, so that a
 * misspelled option (`{ timout: 5 }`) is an error instead of a wait without a limit. Returns the
 * error, or `undefined`.
 */
export function invalidKeys(options: unknown, known: readonly string[]): TypeError | undefined {
  if (typeof options !== 'object' || options === null) {
    return badValue('The "options" argument', 'an object or undefined', options);
  }
  for (const key in options) {
    if (!known.includes(key)) {
      return new TypeError(`Unknown option "${key}" (known: ${known.join(', ')})`);
    }
  }
  return undefined;
}

/**
 * Checks a `WaitOptions` argument (or, with `known` = {@link SIGNAL_KEYS}, a `{ signal }` one):
 * its keys, types and ranges, without looking at whether its signal is aborted. Returns the
 * error to reject with, or `undefined`.
 */
export function invalidOptions(options: unknown, known = WAIT_KEYS): TypeError | undefined {
  const error = invalidKeys(options, known);
  if (error !== undefined) return error;
  // An unknown `timeout` was reported above, so it is undefined here unless `known` has it.
  const { signal, timeout } = options as WaitOptions;
  if (timeout !== undefined) {
    if (typeof timeout !== 'number') return badValue('The "timeout" option', 'a number of milliseconds', timeout);
    if (!(timeout >= 0)) return badValue('The "timeout" option', '>= 0 or Infinity', timeout, true);
  }
  if (signal !== undefined && !isAbortSignal(signal)) return badValue('The "signal" option', 'an AbortSignal', signal);
  return undefined;
}

/**
 * Checks a `WaitOptions` argument. Returns a rejected promise (TypeError, RangeError, or the
 * signal's reason if it is already aborted) or `undefined` if the wait may go on. A method with
 * more options passes their keys in `known` and checks them with `check` (before the abort).
 */
export function rejectInvalid(
  options: unknown,
  known?: readonly string[],
  check?: (options: never) => Error | undefined,
): Promise<never> | undefined {
  try {
    const error = invalidOptions(options, known) ?? check?.(options as never);
    if (error !== undefined) return Promise.reject(error);
    const signal = (options as WaitOptions).signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
  } catch (error) {
    // Options that throw when read (a getter, a revoked Proxy): a rejection too, never a throw.
    return Promise.reject(error);
  }
  return undefined;
}

/** Checks a limit such as `maxWaiters`: an integer >= 0 or Infinity. Throws otherwise. */
export function checkLimit(value: unknown, what: string): number {
  if (typeof value !== 'number') throw badValue(what, 'a number', value);
  if (!(value >= 0) || (!Number.isInteger(value) && value !== Infinity)) {
    throw badValue(what, 'an integer >= 0 or Infinity', value, true);
  }
  return value;
}

/** Checks an integer argument or option `>= min`; throws a TypeError or RangeError naming `what`. */
export function checkInteger(value: unknown, what: string, min: number): number {
  if (typeof value !== 'number') throw badValue(what, 'a number', value);
  if (!Number.isInteger(value) || value < min) throw badValue(what, `an integer >= ${min}`, value, true);
  return value;
}

/** Checks that a callback argument or option is a function; throws a TypeError naming `what`. */
export function checkFunction(value: unknown, what: string): void {
  if (typeof value !== 'function') throw badValue(what, 'a function', value);
}
