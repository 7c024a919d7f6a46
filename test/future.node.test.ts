/**
 * What of Future and isTimeoutError needs Node's modules (Node, Bun and Deno run this file):
 * a DOMException of another realm made in a `node:vm` context, and `util.inspect`.
 *
 * Node's, Bun's and Deno's vm contexts have no DOMException of their own, so the other realm's
 * is made there the way jsdom's is (webidl2js): a class of that realm whose `name` is a getter
 * over private state and whose prototype's `Symbol.toStringTag` is `'DOMException'`. In a browser
 * `test/future.test.ts` uses an iframe's own DOMException instead.
 */

import { inspect } from 'node:util';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Future, isTimeoutError } from '../src/index.js';
import { track } from './helpers.js';

/** A DOMException class made in a new vm context (another realm), as jsdom makes its own. */
function otherRealmDOMException(): new (message: string, name: string) => unknown {
  return runInNewContext(`
    class DOMException extends Error {
      #name;
      constructor(message, name) {
        super(message);
        this.#name = name;
      }
      get name() {
        return this.#name;
      }
    }
    Object.defineProperty(DOMException.prototype, Symbol.toStringTag, { value: 'DOMException', configurable: true });
    DOMException;
  `);
}

describe('isTimeoutError across realms', () => {
  it('is true for a TimeoutError DOMException of a vm context, which is no instance of this realm’s', () => {
    const Foreign = otherRealmDOMException();
    const error = new Foreign('too slow', 'TimeoutError');
    expect(error).not.toBeInstanceOf(DOMException);
    expect(error).not.toBeInstanceOf(Error);
    expect(isTimeoutError(error)).toBe(true);
  });

  it('is false for other DOMExceptions, Errors and objects of a vm context', () => {
    const Foreign = otherRealmDOMException();
    expect(isTimeoutError(new Foreign('stopped', 'AbortError'))).toBe(false);
    expect(isTimeoutError(runInNewContext(`Object.assign(new Error('slow'), { name: 'TimeoutError' })`))).toBe(false);
    expect(isTimeoutError(runInNewContext(`({ name: 'TimeoutError' })`))).toBe(false);
  });
});

describe('Future under util.inspect', () => {
  it('shows the readable state', () => {
    const future = new Future<number>({ name: 'id' });
    track(future.wait());
    expect(inspect(future)).toBe('Future "id" [pending, waiters:1]');
    future.setResult(1);
    expect(inspect(future)).toBe('Future "id" [done]');
    const failed = new Future<number>();
    failed.setException(new Error('no'));
    expect(inspect(failed)).toBe('Future [failed]');
  });
});
