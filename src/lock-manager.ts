/**
 * `LockManager`: the W3C Web Locks API (`navigator.locks`), in process, with waitsafe's waits.
 *
 * ## How it works
 *
 * Each resource name in use has a {@link NameState}: the name's waiter queue (a `WaiterQueue`
 * subclass, so requests wait, abort and time out through the engine like every other wait) and
 * the list of its current holds. A state is dropped in the same step in which the last hold of its
 * name is released or its last request leaves, so a name used once leaves nothing behind: the
 * state, without its name, becomes the one spare state a manager keeps for the next new name.
 *
 * The manager finds states by name without touching a `Map` in the common case, one name in use
 * at a time: that name's state is {@link Locks.solo}, the others are in a `Map` (which never
 * empties, see {@link KEEP_OPEN}), and a new name takes the spare state rather than a new one. A
 * request/release of a name used alone then costs no `Map` write and no allocation for the state.
 *
 * A request is granted at once, before `request()` returns, if it is compatible with the holds
 * of its name and nobody of that name waits (a waiting exclusive request blocks later shared
 * ones, as in a fair reader-writer lock). Otherwise it waits. Whenever a hold is released or the
 * head of a queue leaves (abort, timeout), {@link grantWaiting} grants the head: one exclusive
 * request, or the whole run of shared requests at the head, in that same synchronous step. A
 * grant is a {@link Hold}; its callback runs in a microtask, and the hold ends when the
 * callback's result settles. A steal ends every hold of its name at once (their promises reject
 * with an `AbortError`, their callbacks keep running, and their later end releases nothing) and
 * is granted ahead of the queue.
 *
 * @module
 */

import { append, type List, unlink } from './core/list.js';
import { badValue, isAbortSignal, type PrimitiveOptions } from './core/options.js';
import { keepShape, Primitive } from './core/primitive.js';
import { rejectWaiter } from './core/waiter.js';
import { type Waiter, WaiterQueue, watch } from './core/waiters.js';

const promiseThen = Promise.prototype.then;
const RESOLVED: Promise<void> = Promise.resolve();

/** A lock's mode: `'exclusive'` (one holder) or `'shared'` (any number of shared holders). */
type LockMode = 'exclusive' | 'shared';

/**
 * A lock, as `request()`'s callback receives it and as `query()` lists locks: a plain frozen
 * object with the lock's name and mode (the `Lock` and `LockInfo` of the Web Locks API, without
 * a `clientId`: everything in one process is one client).
 *
 * Each grant gets its own object, so holders of a shared lock can tell their locks apart (as
 * `Map` keys, for example).
 *
 * @example
 * ```ts
 * const locks = new LockManager();
 * await locks.request('cache', { mode: 'shared' }, (lock) => lock); // { name: 'cache', mode: 'shared' }
 * ```
 */
export interface LockInfo {
  /** The resource name given to `request()`. */
  readonly name: string;
  /** `'exclusive'` or `'shared'`. */
  readonly mode: 'exclusive' | 'shared';
}

/**
 * The options of {@link LockManager.request}: those of the Web Locks API, and waitsafe's
 * `timeout`.
 *
 * @example
 * ```ts
 * const options: LockRequestOptions = { mode: 'shared', timeout: 5_000 };
 * ```
 */
export interface LockRequestOptions {
  /** `'exclusive'` (the default): one holder at a time; `'shared'`: shared holders may overlap. */
  mode?: 'exclusive' | 'shared' | undefined;
  /**
   * Never wait: if the lock cannot be granted at once, the callback is called with `null`
   * instead of a lock.
   */
  ifAvailable?: boolean | undefined;
  /**
   * Release every current holder of the name (their `request()` promises reject with an
   * `AbortError` DOMException; their callbacks keep running) and be granted at once, ahead of
   * any waiting request. For recovery from a holder that is stuck; exclusive only.
   */
  steal?: boolean | undefined;
  /** Cancels a request that has not been granted yet: it rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
  /**
   * Milliseconds to wait for the grant before rejecting with a `TimeoutError` DOMException
   * (waitsafe's addition). `undefined` or `Infinity`: no limit. `0`: be granted at once or reject.
   */
  timeout?: number | undefined;
}

/** What `request()` calls once the lock is granted (or with `null`, for `ifAvailable`). */
type LockCallback = (lock: LockInfo | null) => unknown;

/**
 * One request, from its call to the end of its hold: the `data` of its waiter while it waits, then
 * a node of its name's list of holds. A request called back with `null` (`ifAvailable`) is a hold
 * that was never in any list.
 *
 * Who writes what: `prev`, `next` and `state` only {@link linkHold} and {@link unlinkHold};
 * `info` the grant; `callback` is cleared when it is called.
 */
interface Hold {
  prev: Hold | null;
  next: Hold | null;
  /** The name it holds; `null` while it waits, and once released or stolen. */
  state: NameState | null;
  readonly mode: LockMode;
  /** The lock given to the callback, made at the grant. */
  info: LockInfo | null;
  /** Its signal, while it waits with one. */
  readonly signal: AbortSignal | undefined;
  callback: LockCallback | null;
  /** Settles the caller's promise. */
  readonly resolve: (value: unknown) => void;
}

/** The state of one manager, shared by it and the states of its names. */
class Locks {
  /**
   * The state of a name that came into use while no other name was in use, so it is older than
   * every state in {@link names}; or `null`.
   */
  solo: NameState | null = null;
  /** The states of the other names in use, in the order they came into use, after {@link KEEP_OPEN}'s. */
  readonly names: Map<string, NameState> = new Map([[KEEP_OPEN, EMPTY]]);
  /** The last state dropped (with no name), which the next new name takes. */
  spare: NameState | null = null;
  /** Requests waiting, all names. */
  pending = 0;
  /** Holds, all names. */
  held = 0;
}

/**
 * The key of an entry that every manager's `Map` of names keeps, so that it never empties: V8
 * shrinks a `Map` (a runtime call and a new hash table) on a delete that leaves fewer entries than
 * half its buckets, which for a `Map` whose one name comes and goes is every delete: a get, set
 * and delete then take ~150 ns, against ~70 ns with this entry (Node 20). No request can use
 * `'-'`: names starting with `-` are reserved.
 */
// Stryker disable next-line StringLiteral: evaluated while the module loads, before Stryker switches a mutant on (a static mutant it cannot test); applied by hand, it fails test/lock-manager-mutants.test.ts
const KEEP_OPEN = '-';

/**
 * One resource name in use: its waiting requests (the queue itself, FIFO) and its holds. In use
 * only while the name has a hold or a waiting request; then the spare (see {@link dropIfIdle}).
 */
class NameState extends WaiterQueue<unknown> {
  /** The holds, in grant order (an intrusive list, `list.ts`). An exclusive hold is always alone. */
  readonly holds: List<Hold> = { head: null, tail: null };
  /** The name; `''` while the state is the spare (see {@link dropIfIdle}). */
  declare name: string;
  declare readonly locks: Locks;

  constructor(manager: LockManager, locks: Locks, name: string) {
    // Stryker disable next-line StringLiteral: the verb is read only by WaiterQueue's own timeout messages, which a NameState never makes: it overrides onExpire, and request() rejects timeout: 0 itself instead of calling wait()
    super(manager, 'request');
    this.name = name;
    this.locks = locks;
  }

  override detach(node: Waiter<unknown>): boolean {
    if (!super.detach(node))
      // Stryker disable next-line BooleanLiteral: unreachable and unread: a NameState detaches only nodes it still queues (its head, or a node its signal or timer hands back), and no caller reads the result
      return false;
    this.locks.pending--;
    // Stryker disable next-line BooleanLiteral: unread: no caller of a NameState's detach() reads its result (waiters.ts and waiter.ts ignore it, and nothing extends NameState)
    return true;
  }

  /** A request left (abort, timeout): reject it, then grant whoever now fits. */
  override onCancel(node: Waiter<unknown>, reason: unknown): void {
    super.onCancel(node, reason);
    grantWaiting(this);
    dropIfIdle(this);
  }

  override onExpire(node: Waiter<unknown>, ms: number): void {
    this.onCancel(node, requestTimeout(this.owner.label, this.name, ms));
  }
}

/** Links `hold` at the tail of `state`'s holds. */
function linkHold(state: NameState, hold: Hold): void {
  append(state.holds, hold);
  hold.state = state;
  state.locks.held++;
}

/** Unlinks `hold` from its name's holds. */
function unlinkHold(state: NameState, hold: Hold): void {
  unlink(state.holds, hold);
  hold.state = null;
  state.locks.held--;
}

/** Whether a request in `mode` is compatible with the holds of `state` (ignoring the queue). */
function fits(state: NameState, mode: LockMode): boolean {
  const first = state.holds.head;
  return first === null || (mode === 'shared' && first.mode === 'shared');
}

/**
 * Forgets `state` if nothing holds or requests its name any more, and keeps it, without its name,
 * as the spare. Called when one of its holds ends or one of its requests leaves, so `state` was in
 * use: requests wait only behind a hold, so even requests of one name that leave together (one
 * abort, one timer) leave its holds, and the state is dropped once.
 */
function dropIfIdle(state: NameState): void {
  if (
    state.holds.head !== null ||
    // Stryker disable next-line ConditionalExpression: with no hold left, the queue is empty too: grantWaiting, which runs just before, grants the head whenever no hold is left
    state.head !== null
  )
    return;
  const locks = state.locks;
  if (state === locks.solo) locks.solo = null;
  else locks.names.delete(state.name);
  // Stryker disable next-line StringLiteral: the spare's name is never read: the spare is neither solo nor in names, and a new name sets its own before any read (the line only lets go of the old name)
  state.name = '';
  locks.spare = state;
}

/** Grants `hold` on `state` and calls its callback in a microtask. */
function grant(state: NameState, hold: Hold): void {
  linkHold(state, hold);
  hold.info = Object.freeze({ name: state.name, mode: hold.mode });
  promiseThen.call(RESOLVED, () => invoke(hold));
}

/**
 * Grants the head of `state`'s queue while it fits: one exclusive request, or the whole run of
 * shared requests at the head.
 *
 * A request whose signal has aborted is never granted, even if the abort has not reached it yet
 * (another listener of that signal, running first, made room): it is rejected with the reason
 * instead, as the abort will do a moment later anyway.
 */
function grantWaiting(state: NameState): void {
  for (let node = state.head; node !== null; node = state.head) {
    const hold = node.data as Hold;
    const signal = hold.signal;
    if (signal?.aborted) {
      state.detach(node);
      rejectWaiter(node, signal.reason);
      continue;
    }
    if (!fits(state, hold.mode)) return;
    state.detach(node);
    grant(state, hold);
  }
}

/** Ends `hold`: frees its place, if it still has one, and grants whoever now fits. */
function release(hold: Hold): void {
  const state = hold.state;
  if (state === null) return;
  unlinkHold(state, hold);
  grantWaiting(state);
  dropIfIdle(state);
}

/** Rejects a caller's promise through its `resolve`, with a thenable that rejects. */
function rejectWith(resolve: (value: unknown) => void, reason: unknown): void {
  // biome-ignore lint/suspicious/noThenProperty: an intentional thenable (see rejectWaiter).
  resolve({ then: (_: unknown, reject: (reason: unknown) => void) => reject(reason) });
}

/**
 * Calls `hold`'s callback with its lock (or `null`), and ends the hold once the callback's result
 * settles: the request resolves with the value, or rejects with the error.
 */
function invoke(hold: Hold): void {
  const callback = hold.callback as LockCallback;
  hold.callback = null;
  let result: unknown;
  try {
    result = callback.call(undefined, hold.info);
  } catch (error) {
    release(hold);
    rejectWith(hold.resolve, error);
    return;
  }
  // A plain value: release now. Anything else may be a thenable: release once it settles. As in
  // the permit pool's runHeld: `Promise.resolve` returns a native promise as it is but reads its
  // `constructor`, which may throw; the built-in `then` never calls back synchronously. (`typeof`,
  // not runHeld's `Object(result) !== result`, which makes a wrapper of a primitive: ~8 ns.)
  if ((typeof result !== 'object' && typeof result !== 'function') || result === null) {
    release(hold);
    hold.resolve(result);
    return;
  }
  try {
    promiseThen.call(
      Promise.resolve(result),
      (value: unknown) => {
        release(hold);
        hold.resolve(value);
      },
      (error: unknown) => {
        release(hold);
        rejectWith(hold.resolve, error);
      },
    );
  } catch (error) {
    release(hold);
    rejectWith(hold.resolve, error);
  }
}

/** A fresh TimeoutError naming the manager, the lock name and the milliseconds. */
function requestTimeout(label: string, name: string, ms: number): DOMException {
  return new DOMException(`${label}: request(${JSON.stringify(name)}) timed out after ${ms} ms`, 'TimeoutError');
}

function notSupported(label: string, why: string): Promise<never> {
  return Promise.reject(new DOMException(`${label}: ${why}`, 'NotSupportedError'));
}

/**
 * The Web Locks API (`navigator.locks`) in process: named locks, exclusive or shared, held for as
 * long as an async callback runs. Code written for `navigator.locks` runs unchanged against it,
 * and every request can also give up through waitsafe's `timeout`.
 *
 * Locks of one name are granted in FIFO order, like a {@link ReaderWriterLock} per name: shared
 * holders overlap, an exclusive request waits for all of them, and a waiting exclusive request
 * blocks the shared requests made after it. The state of a name exists only while the name is
 * held or requested, so any number of distinct names can be used (a million names used once
 * leave nothing).
 *
 * `String(manager)` shows the number of holds and of waiting requests over all names:
 * `LockManager "app" [held:2, waiters:1]`. {@link LockManager.query} lists them.
 *
 * Differences from a browser's `navigator.locks`, all following waitsafe's rules for every wait:
 * a request that can be granted at once is granted before `request()` returns (a browser grants
 * it a task later), so an abort right after the call changes nothing; once granted, a request's
 * `signal` is ignored, and its callback runs (in a microtask). Options must have the right types
 * (`ifAvailable: 1` is a TypeError, not `true`), and the name must be a string. Unknown option keys
 * are ignored, as WebIDL does. There is no `clientId`: the whole process is one client.
 *
 * @example
 * ```ts
 * import { LockManager } from 'waitsafe';
 *
 * const locks = new LockManager({ name: 'app' });
 * let balance = 100;
 *
 * const withdraw = (amount: number) =>
 *   locks.request('account:42', async () => {
 *     const before = balance;
 *     await work(); // no other request for 'account:42' runs meanwhile
 *     balance = before - amount;
 *     return balance;
 *   });
 *
 * await Promise.all([withdraw(10), withdraw(20)]);
 * balance; // 70
 * String(locks); // 'LockManager "app" [held:0, waiters:0]'
 * ```
 */
export class LockManager extends Primitive {
  readonly #locks: Locks = new Locks();

  /**
   * @param options `name` (shown in messages and `String(manager)`) and `maxWaiters` (warn once
   *   when more requests than this wait, over all names; default {@link getDefaultMaxWaiters}).
   * @throws {TypeError} If `options`, `name` or `maxWaiters` has the wrong type, or `options` has a key it does not know.
   * @throws {RangeError} If `maxWaiters` is not an integer `>= 0` or `Infinity`.
   */
  constructor(options?: PrimitiveOptions) {
    super(options);
  }

  /**
   * Requests the exclusive lock `name` with the default options (the form with `options`, next,
   * says everything): calls `callback` with the lock once it is granted (at once if the lock is
   * free, else in FIFO order), holds it until the promise `callback` returns settles, and settles
   * with that outcome.
   *
   * @param name The resource name: any string not starting with `-`.
   * @param callback Called with the granted lock.
   * @returns A promise of what `callback` returns (awaited). It never throws synchronously.
   * @throws {TypeError} (as a rejection) If `name` is not a string or `callback` is not a function.
   * @throws {DOMException} (as a rejection) `NotSupportedError` if `name` starts with `-`;
   *   `AbortError` if the lock is stolen while held.
   * @throws {unknown} (as a rejection) What `callback` throws or rejects with.
   *
   * @example
   * ```ts
   * const locks = new LockManager();
   * await locks.request('job', async () => 'ran'); // 'ran'
   * ```
   */
  request<T>(name: string, callback: (lock: LockInfo | null) => T | PromiseLike<T>): Promise<T>;
  /**
   * Requests the lock `name`, calls `callback` with it once it is granted, holds it until the
   * promise `callback` returns settles, and settles with that outcome, as `navigator.locks`
   * does. Granted at once (before `request()` returns) if it is compatible with the current
   * holders of `name` and no request of `name` waits; otherwise it waits in FIFO order. The
   * callback always runs asynchronously, in a microtask after the grant.
   *
   * - `mode: 'shared'`: shared holders of one name overlap; an exclusive request waits for all
   *   of them.
   * - `ifAvailable: true`: never waits; if the lock cannot be granted at once, `callback` is
   *   called with `null` instead (and the request settles with its outcome).
   * - `steal: true`: every current hold of `name` ends at once (its `request()` rejects with an
   *   `AbortError` DOMException, its callback keeps running, and its end releases nothing), and
   *   this request is granted at once, ahead of waiting requests.
   *
   * *Cancellation.* With `signal`, a request that waits rejects with `signal.reason` (the exact
   * value) when the signal aborts; if it is already aborted, the call rejects at once and
   * registers nothing, even if the lock is free. With `timeout`, it rejects with a
   * `TimeoutError` DOMException naming the manager and the lock after that many milliseconds
   * (`timeout: 0` rejects at once unless the lock can be granted now). Either way the request is
   * unlinked in the same synchronous step, `waiterCount` drops, and, if it was at the head, the
   * requests behind it that now fit are granted; giving up loses nothing but the place in the
   * queue, and `callback` is never called. Once the lock is granted, a later abort changes
   * nothing: the callback runs and the lock is held until its result settles.
   *
   * @param name The resource name: any string not starting with `-`.
   * @param options `mode`, `ifAvailable`, `steal`, `signal` and/or `timeout` (milliseconds;
   *   `Infinity` or absent: no limit). Other keys are ignored, as WebIDL does.
   * @param callback Called with the granted lock (or `null`, see `ifAvailable`).
   * @returns A promise of what `callback` returns (awaited). It never throws synchronously.
   * @throws {TypeError} (as a rejection) If `name` is not a string, `callback` is not a function,
   *   `options` is not an object or undefined, or `mode`, `ifAvailable`, `steal`, `signal` or
   *   `timeout` has the wrong type.
   * @throws {RangeError} (as a rejection) If `timeout` is negative or NaN.
   * @throws {DOMException} (as a rejection) `NotSupportedError` if `name` starts with `-`, or for
   *   `steal` with `ifAvailable` or with `mode: 'shared'`, or `signal` or `timeout` with `steal`
   *   or `ifAvailable`.
   * @throws {DOMException} (as a rejection) `TimeoutError` when the timeout elapses.
   * @throws {DOMException} (as a rejection) `AbortError` if the lock is stolen while held.
   * @throws {unknown} (as a rejection) `signal.reason`, the exact value, when the signal aborts
   *   (at once if it is already aborted); what `callback` throws or rejects with.
   *
   * @example Hold a lock while async work runs; give up after 5 s
   * ```ts
   * const locks = new LockManager();
   * const saved = await locks.request('settings', { timeout: 5_000 }, async (lock) => {
   *   await work(lock?.name);
   *   return 'saved';
   * });
   * saved; // 'saved'
   * ```
   *
   * @example Shared and exclusive, FIFO per name
   * ```ts
   * const locks = new LockManager();
   * const order: string[] = [];
   * const log = (what: string) => async () => {
   *   order.push(`${what} start`);
   *   await work();
   *   order.push(`${what} end`);
   * };
   * await Promise.all([
   *   locks.request('db', { mode: 'shared' }, log('read 1')),
   *   locks.request('db', { mode: 'shared' }, log('read 2')),
   *   locks.request('db', log('write')), // waits for both reads
   *   locks.request('db', { mode: 'shared' }, log('read 3')), // waits for the write
   * ]);
   * order; // ['read 1 start', 'read 2 start', 'read 1 end', 'read 2 end', 'write start', 'write end', 'read 3 start', 'read 3 end']
   * ```
   *
   * @example Try once with ifAvailable
   * ```ts
   * const locks = new LockManager();
   * const job = await locks.request('nightly-job', { ifAvailable: true }, async (lock) => {
   *   if (lock === null) return 'already running';
   *   await work();
   *   return 'done';
   * });
   * job; // 'done'
   * ```
   */
  request<T>(
    name: string,
    options: LockRequestOptions,
    callback: (lock: LockInfo | null) => T | PromiseLike<T>,
  ): Promise<T>;
  request(name: string, optionsOrCallback: unknown, maybeCallback?: unknown): Promise<unknown> {
    try {
      return this.#parse(name, optionsOrCallback, maybeCallback);
    } catch (error) {
      // A getter of `options` threw: a rejection, as WebIDL makes of any argument that fails to convert.
      return Promise.reject(error);
    }
  }

  /** `request()`'s arguments checked, in WebIDL's order; then {@link #request}. */
  #parse(name: string, optionsOrCallback: unknown, maybeCallback: unknown): Promise<unknown> {
    // The overloads, as WebIDL resolves them: (name, callback) or (name, options, callback).
    let options: unknown;
    let callback: unknown;
    if (maybeCallback === undefined) callback = optionsOrCallback;
    else {
      options = optionsOrCallback;
      callback = maybeCallback;
    }
    if (typeof name !== 'string') return Promise.reject(badValue('The "name" argument', 'a string', name));
    let mode: LockMode = 'exclusive';
    let ifAvailable = false;
    let steal = false;
    let signal: AbortSignal | undefined;
    let timeout: number | undefined;
    if (options !== undefined) {
      if (typeof options !== 'object' || options === null) {
        return Promise.reject(badValue('The "options" argument', 'an object or undefined', options));
      }
      // Each member is read once, in WebIDL's (alphabetical) order; unknown keys are ignored.
      const o = options as LockRequestOptions;
      const ifAvailableOption = o.ifAvailable;
      const modeOption = o.mode;
      const signalOption = o.signal;
      const stealOption = o.steal;
      const timeoutOption = o.timeout;
      if (ifAvailableOption !== undefined) {
        if (typeof ifAvailableOption !== 'boolean') {
          return Promise.reject(badValue('The "ifAvailable" option', 'a boolean', ifAvailableOption));
        }
        ifAvailable = ifAvailableOption;
      }
      if (modeOption !== undefined) {
        if (modeOption !== 'exclusive' && modeOption !== 'shared') {
          const got = typeof modeOption === 'string' ? JSON.stringify(modeOption) : badValueType(modeOption);
          return Promise.reject(new TypeError(`The "mode" option must be "exclusive" or "shared", got ${got}`));
        }
        mode = modeOption;
      }
      if (signalOption !== undefined) {
        if (!isAbortSignal(signalOption)) {
          return Promise.reject(badValue('The "signal" option', 'an AbortSignal', signalOption));
        }
        signal = signalOption;
      }
      if (stealOption !== undefined) {
        if (typeof stealOption !== 'boolean') {
          return Promise.reject(badValue('The "steal" option', 'a boolean', stealOption));
        }
        steal = stealOption;
      }
      if (timeoutOption !== undefined) {
        if (typeof timeoutOption !== 'number') {
          return Promise.reject(badValue('The "timeout" option', 'a number of milliseconds', timeoutOption));
        }
        if (!(timeoutOption >= 0)) {
          return Promise.reject(badValue('The "timeout" option', '>= 0 or Infinity', timeoutOption, true));
        }
        timeout = timeoutOption;
      }
    }
    if (typeof callback !== 'function') {
      return Promise.reject(badValue('The "callback" argument', 'a function', callback));
    }
    if (name.startsWith('-')) {
      return notSupported(this.label, `lock names starting with "-" are reserved, got ${JSON.stringify(name)}`);
    }
    if (steal && ifAvailable) {
      return notSupported(this.label, 'the "steal" and "ifAvailable" options exclude each other');
    }
    if (steal && mode !== 'exclusive') return notSupported(this.label, 'the "steal" option needs mode "exclusive"');
    if (signal !== undefined && (steal || ifAvailable)) {
      return notSupported(this.label, `the "signal" option cannot be used with "${steal ? 'steal' : 'ifAvailable'}"`);
    }
    if (timeout !== undefined && (steal || ifAvailable)) {
      return notSupported(this.label, `the "timeout" option cannot be used with "${steal ? 'steal' : 'ifAvailable'}"`);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.#request(name, mode, ifAvailable, steal, signal, timeout, callback as LockCallback);
  }

  /** `request()` once its arguments are valid. */
  #request(
    name: string,
    mode: LockMode,
    ifAvailable: boolean,
    steal: boolean,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    callback: LockCallback,
  ): Promise<unknown> {
    const locks = this.#locks;
    const { solo, names } = locks;
    // names.size === 1: KEEP_OPEN's entry alone.
    let state =
      solo !== null && solo.name === name
        ? solo
        : // Stryker disable next-line ConditionalExpression: a faster path only: with KEEP_OPEN's entry alone, names.get(name) is undefined too (names starting with "-" were rejected)
          names.size === 1
          ? undefined
          : names.get(name);
    const now = steal || state === undefined || (state.head === null && fits(state, mode));
    if (!now && timeout === 0) return Promise.reject(requestTimeout(this.label, name, 0));
    let resolve: (value: unknown) => void = undefined as never;
    const promise = new Promise<unknown>((r) => {
      resolve = r;
    });
    const hold: Hold = {
      prev: null,
      next: null,
      state: null,
      mode,
      info: null,
      signal: now ? undefined : signal,
      callback,
      resolve,
    };
    if (now) {
      if (state === undefined) {
        state = locks.spare ?? new NameState(this, locks, name);
        locks.spare = null;
        state.name = name;
        if (
          // Stryker disable next-line ConditionalExpression,EqualityOperator: a faster path only: a manager that never takes the solo slot (condition false, or solo !== null while solo starts null) keeps every state in names, found and listed in the same order
          solo === null &&
          names.size === 1
        )
          locks.solo = state;
        else names.set(name, state);
      } else if (steal) {
        for (let stolen = state.holds.head; stolen !== null; stolen = state.holds.head) {
          unlinkHold(state, stolen);
          rejectWith(
            stolen.resolve,
            new DOMException(`${this.label}: the lock ${JSON.stringify(name)} was stolen`, 'AbortError'),
          );
        }
      }
      grant(state, hold);
    } else if (ifAvailable) {
      // Not granted, and never held: the callback learns it with `null`.
      promiseThen.call(RESOLVED, () => invoke(hold));
    } else {
      // Counted before it is linked: the leak check that linking runs reads waiterCount.
      locks.pending++;
      watch(state as NameState, signal, timeout, hold, resolve);
    }
    return promise;
  }

  /**
   * A snapshot of the locks held and requested now, as `navigator.locks.query()` gives it: each
   * hold and each waiting request as a frozen `{ name, mode }`. Waiting requests of one name are
   * listed in queue order, holds of one name in grant order; names come in the order they came
   * into use.
   *
   * @returns A promise of `{ held, pending }`. It never rejects.
   *
   * @example
   * ```ts
   * const locks = new LockManager();
   * await locks.request('a', async () => {
   *   void locks.request('a', { mode: 'shared' }, () => {}); // waits
   *   await locks.query(); // { held: [{ name: 'a', mode: 'exclusive' }], pending: [{ name: 'a', mode: 'shared' }] }
   * });
   * await locks.query(); // { held: [], pending: [] }
   * ```
   */
  query(): Promise<{
    /** Every hold now: per name in grant order (an exclusive hold alone, or the shared holds). */
    held: LockInfo[];
    /** Every waiting request now: per name in queue order. */
    pending: LockInfo[];
  }> {
    const held: LockInfo[] = [];
    const pending: LockInfo[] = [];
    const { solo, names } = this.#locks;
    // The solo name came into use before every name in `names`; KEEP_OPEN's state lists nothing.
    for (const state of solo === null ? names.values() : [solo, ...names.values()]) {
      const name = state.name;
      for (let hold = state.holds.head; hold !== null; hold = hold.next) {
        held.push(Object.freeze({ name, mode: hold.mode }));
      }
      for (let node = state.head; node !== null; node = node.next) {
        pending.push(Object.freeze({ name, mode: (node.data as Hold).mode }));
      }
    }
    return Promise.resolve({ held, pending });
  }

  /**
   * Number of requests waiting now, over all names. It drops in the same synchronous step in
   * which a request is granted, aborted or timed out.
   *
   * @example
   * ```ts
   * const locks = new LockManager();
   * void locks.request('a', () => work());
   * void locks.request('a', () => work()); // waits for the first
   * locks.waiterCount; // 1
   * ```
   */
  get waiterCount(): number {
    return this.#locks.pending;
  }

  /**
   * `'LockManager'`, as `Object.prototype.toString` shows it.
   *
   * @example
   * ```ts
   * Object.prototype.toString.call(new LockManager()); // '[object LockManager]'
   * ```
   */
  get [Symbol.toStringTag](): string {
    return 'LockManager';
  }

  protected describeState(): string {
    return `held:${this.#locks.held}, waiters:${this.#locks.pending}`;
  }
}

/** What `badValue` says a value is: its type, or `null`. */
function badValueType(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

/**
 * The value of every manager's {@link KEEP_OPEN} entry: a state that is never held or requested,
 * so `query()` lists nothing of it. Alive as long as the module is, it also keeps the hidden class
 * of the states alive, so a full GC that finds no name in use does not deoptimize the request
 * path (see keepShape).
 */
const EMPTY = new NameState(undefined as never, undefined as never, KEEP_OPEN);

// One LockManager stays alive, for the same reason (see keepShape).
// Stryker disable next-line ArrowFunction: evaluated while the module loads, and a matter of speed only: the instance kept only keeps optimized code from deoptimizing after a full GC (bench/profile.mjs after-gc)
keepShape(() => new LockManager());
