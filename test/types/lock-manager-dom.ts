/**
 * Type-level checks, compiled by `tsc -p tsconfig.json` and `tsc -p test/tsconfig.json` (both have
 * lib "dom"), never run: waitsafe's LockManager can be passed wherever the DOM's `LockManager`
 * (the type of `navigator.locks`) is expected, so code written against `navigator.locks` takes it
 * unchanged; and the DOM's option and lock types fit ours.
 */

import { type LockInfo, LockManager, type LockRequestOptions } from '../../src/index.js';

/** The DOM's LockManager interface (our class shadows its name in this module). */
type DomLockManager = globalThis.LockManager;

/** Code written for `navigator.locks`, typed with the DOM's types. */
export async function countHeldAndTry(manager: DomLockManager): Promise<number> {
  const snapshot = await manager.query();
  const held = snapshot.held?.length ?? 0;
  const got = await manager.request('x', { mode: 'shared', ifAvailable: true }, async (lock) => (lock ? 1 : 0));
  const name = await manager.request('y', (lock) => lock?.name);
  return held + got + (name === undefined ? 0 : 1);
}

export function passes(manager: LockManager): Promise<number> {
  return countHeldAndTry(manager);
}

export const assignable: DomLockManager = new LockManager();

// The check is not vacuous: a manager whose query() does not give LockInfo arrays is refused.
// @ts-expect-error: `held` must be LockInfo[].
export const refused: DomLockManager = { query: async () => ({ held: 1 }), request: async () => undefined };

// The DOM's option bag is a LockRequestOptions, and our LockInfo is a DOM Lock and a DOM LockInfo.
const domOptions: LockOptions = { mode: 'exclusive', steal: false, signal: new AbortController().signal };
export const options: LockRequestOptions = domOptions;
const info: LockInfo = { name: 'x', mode: 'shared' };
export const asDomLock: Lock = info;
export const asDomInfo: globalThis.LockInfo = info;

// request() infers what the callback resolves with, as navigator.locks.request does.
export const inferred: Promise<number> = new LockManager().request('x', async () => 1);
export const inferredWithOptions: Promise<string | undefined> = new LockManager().request(
  'x',
  { timeout: 100 },
  (lock) => lock?.mode,
);
