/**
 * Errors the engine creates.
 *
 * @module
 */

import type { Primitive } from './primitive.js';

/** A fresh TimeoutError naming the primitive, the method and the milliseconds. */
export function timeoutError(owner: Primitive, verb: string, ms: number): DOMException {
  return new DOMException(`${owner.label}: ${verb}() timed out after ${ms} ms`, 'TimeoutError');
}
