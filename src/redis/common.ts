/**
 * What the Redis primitives share: argument checks, ids, keys, the kind check's error, timers.
 *
 * @module
 */

import { badValue, checkInteger, invalidKeys } from '../core/options.js';
import type { RedisLike } from './adapters.js';
import { KIND_ERROR } from './scripts.js';

/** How often (ms) a process with pending waits polls: the heartbeat and the safety net. */
export const POLL_INTERVAL = 1_000;
/**
 * How long (ms) a waiter's queue entry lives without a heartbeat: a waiter whose process died
 * leaves the queue within this time (and a hand-off to it expires within it too).
 */
export const HEARTBEAT_TTL = 5_000;
/** The default lease (ms). */
export const DEFAULT_LEASE = 30_000;
/** The shortest lease (ms): renewals go every third of it. */
export const MIN_LEASE = 100;
/** The longest lease (ms): the longest delay a timer takes. */
export const MAX_LEASE = 2 ** 31 - 1;

export const noop = (): void => {};

/** Throws a TypeError unless `redis` is a {@link RedisLike}. */
export function checkRedis(redis: unknown): RedisLike {
  const r = redis as Partial<RedisLike> | null;
  if (typeof r !== 'object' || r === null || typeof r.eval !== 'function' || typeof r.subscribe !== 'function') {
    throw new TypeError(
      `The "redis" argument must be a RedisLike (nodeRedis(client) or ioredis(client)), got ${r === null ? 'null' : typeof r}`,
    );
  }
  return r as RedisLike;
}

/** Throws a TypeError unless `name` is a non-empty string. */
export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(
      `The "name" argument must be a non-empty string, got ${typeof name === 'string' ? 'an empty string' : name === null ? 'null' : typeof name}`,
    );
  }
  return name;
}

/** Checks constructor options with the keys `known`; returns them. */
export function checkOptions<T extends object>(options: unknown, known: readonly string[]): Partial<T> {
  if (options === undefined) return {};
  const error = invalidKeys(options, known);
  if (error !== undefined) throw error;
  return options as Partial<T>;
}

/** Checks the `lease` option. */
export function checkLease(lease: unknown): number {
  if (lease === undefined) return DEFAULT_LEASE;
  checkInteger(lease, 'The "lease" option', MIN_LEASE);
  if ((lease as number) > MAX_LEASE) {
    throw badValue('The "lease" option', `an integer from ${MIN_LEASE} to ${MAX_LEASE}`, lease, true);
  }
  return lease as number;
}

/** The keys of the primitive named `name`: `waitsafe:{name}:<part>`, one hash tag. */
export function keysOf(name: string, parts: readonly string[]): string[] {
  return parts.map((part) => `waitsafe:{${name}}:${part}`);
}

/** A random prefix for this process's ids, so that ids of all processes differ. */
function randomPrefix(): string {
  const bytes = new Uint8Array(8);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (array: Uint8Array) => Uint8Array } }).crypto;
  if (typeof crypto?.getRandomValues === 'function') crypto.getRandomValues(bytes);
  else {
    // Stryker disable next-line EqualityOperator: with <=, the extra write is at index 8 of an 8-byte Uint8Array, which is ignored
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const prefix = randomPrefix();
let counter = 0;

/** This process's part of every id it draws: the grants to its waiters go to its own channel. */
export const PROCESS = prefix;

/** A new id for a waiter or holder, unique across processes. */
export function newId(): string {
  counter++;
  return `${prefix}:${counter.toString(36)}`;
}

/** What a kind string in Redis names, for messages. */
function describeKind(kind: string): string {
  const slash = kind.indexOf('/');
  return slash === -1 ? `a ${kind}` : `a ${kind.slice(0, slash)} of ${kind.slice(slash + 1)} permits`;
}

/**
 * The error to reject with for a script's error: a TypeError if the name is used by another kind,
 * else the client's error as it is.
 */
export function scriptError(error: unknown, label: string, name: string): unknown {
  const message = String((error as { message?: unknown } | null)?.message);
  const at = message.indexOf(KIND_ERROR);
  if (at === -1) return error;
  const kind = message.slice(at + KIND_ERROR.length + 1).trim();
  return new TypeError(
    `${label}: the name ${JSON.stringify(name)} is in use by ${describeKind(kind)} on this Redis; a name can have one kind only`,
  );
}

/** Runs `redis.eval`; a synchronous throw and a script's error become rejections (see {@link scriptError}). */
export function evalScript(
  redis: RedisLike,
  script: string,
  keys: string[],
  args: string[],
  label: string,
  name: string,
): Promise<unknown[]> {
  let reply: Promise<unknown>;
  try {
    reply = redis.eval(script, keys, args);
  } catch (error) {
    return Promise.reject(scriptError(error, label, name));
  }
  return Promise.resolve(reply).then(
    (value) => (Array.isArray(value) ? value : [value]),
    (error: unknown) => {
      throw scriptError(error, label, name);
    },
  );
}

type SetTimeout = (callback: () => void, ms: number) => unknown;
type ClearTimeout = (handle: unknown) => void;

/** A timer that does not keep the process alive (`setTimeout` looked up at call time). */
export function startTimer(callback: () => void, ms: number): unknown {
  const set = (globalThis as unknown as { setTimeout: SetTimeout }).setTimeout;
  const handle = set(callback, ms) as { unref?: () => void } | undefined;
  handle?.unref?.();
  return handle;
}

export function stopTimer(handle: unknown): void {
  // Stryker disable next-line ConditionalExpression: clearTimeout(undefined) does nothing (HTML and Node timers alike)
  if (handle !== undefined) (globalThis as unknown as { clearTimeout: ClearTimeout }).clearTimeout(handle);
}
