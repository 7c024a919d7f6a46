/**
 * Releasers: once-only and Disposable. The fallback for runtimes without `Symbol.dispose` is in
 * `releaser-fallback.test.ts`; `using` as TypeScript compiles it for Node 20 runs in a child
 * process, in `releaser.node.test.ts`.
 */

import { describe, expect, it } from 'vitest';
import { BoundedSemaphore, Lock, Semaphore } from '../src/index.js';

describe('Releaser', () => {
  it('is keyed by the runtime Symbol.dispose when it exists', async () => {
    const lock = new Lock();
    const release = await lock.acquire();
    expect(Object.getOwnPropertySymbols(release)).toContain(Symbol.dispose);
    release[Symbol.dispose]();
    expect(lock.isLocked()).toBe(false);
  });

  it.each([
    ['Lock', () => new Lock()],
    ['Semaphore', () => new Semaphore(1)],
    ['BoundedSemaphore', () => new BoundedSemaphore(1)],
  ])('a %s releaser acts on its first call only, whether called or disposed', async (_, make) => {
    const primitive = make();
    const release = await primitive.acquire();
    const next = primitive.acquire();
    release();
    const nextRelease = await next;
    expect(primitive.isLocked()).toBe(true);
    release[Symbol.dispose]();
    release();
    expect(primitive.isLocked()).toBe(true);
    nextRelease[Symbol.dispose]();
    expect(primitive.isLocked()).toBe(false);
    nextRelease();
    expect(primitive.isLocked()).toBe(false);
  });
});
