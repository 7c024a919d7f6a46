/**
 * The DOMExceptions the engine creates (TimeoutError, InvalidStateError). The domain errors
 * (BrokenBarrierError, the queue errors) are in `src/errors.ts`.
 *
 * @module
 */

import type { WaitOwner } from './waiter.js';

/** A fresh TimeoutError naming the primitive, the method and the milliseconds. */
export function timeoutError(owner: WaitOwner, verb: string, ms: number): DOMException {
  return new DOMException(`${owner.label}: ${verb}() timed out after ${ms} ms`, 'TimeoutError');
}

/** A fresh `InvalidStateError` DOMException, for a call the primitive's state does not allow. */
export function invalidStateError(message: string): DOMException {
  return new DOMException(message, 'InvalidStateError');
}
