/**
 * Creation sites for the inspector (`waitsafe/inspect`): stack frames in the formats of V8 (Node,
 * Chromium, Deno), JavaScriptCore (Bun, Safari) and SpiderMonkey (Firefox), and the frames of
 * waitsafe itself skipped by function (`Error.captureStackTrace`), or, where a runtime lacks
 * it, by counting the constructor frames.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BoundedSemaphore, Condition, Event, Lock } from '../src/index.js';
import { snapshot, trackWaiters } from '../src/inspect/index.js';
import { parseFrames } from '../src/inspect/stacks.js';

describe('parseFrames reads every engine stack format', () => {
  it.each<[string, string, Array<{ file: string; line: string }>]>([
    [
      'V8 (Node)',
      'Error\n    at new Event (/app/node_modules/waitsafe/dist/esm/event.js:12:5)\n    at poll (/app/src/session.js:42:17)\n    at /app/src/main.js:3:1',
      [
        { file: '/app/node_modules/waitsafe/dist/esm/event.js', line: '12' },
        { file: '/app/src/session.js', line: '42' },
        { file: '/app/src/main.js', line: '3' },
      ],
    ],
    [
      'V8 (Chromium), http URLs and async frames',
      'Error\n    at poll (http://localhost:5173/src/session.ts?t=1700:42:17)\n    at async main (http://localhost:5173/src/main.ts:3:1)',
      [
        { file: 'http://localhost:5173/src/session.ts', line: '42' },
        { file: 'http://localhost:5173/src/main.ts', line: '3' },
      ],
    ],
    [
      'V8 (Deno), file URLs decoded to paths',
      'Error\n    at poll (file:///srv/my%20app/session.ts:42:17)\n    at ext:core/01_core.js:10:3',
      [
        { file: '/srv/my app/session.ts', line: '42' },
        { file: 'ext:core/01_core.js', line: '10' },
      ],
    ],
    [
      'V8 with spaces and parentheses in the path',
      'Error\n    at poll (/home/me/My Project (copy)/session.js:42:17)',
      [{ file: '/home/me/My Project (copy)/session.js', line: '42' }],
    ],
    [
      'JavaScriptCore (Bun), V8-like',
      'Error\n    at poll (/app/src/session.ts:42:17)\n    at <anonymous> (/app/src/main.ts:3:1)\n    at processTicksAndRejections (native:7:39)',
      [
        { file: '/app/src/session.ts', line: '42' },
        { file: '/app/src/main.ts', line: '3' },
        { file: 'native', line: '7' },
      ],
    ],
    [
      'JavaScriptCore (Safari)',
      'poll@https://example.com/assets/app.js:42:17\nglobal code@https://example.com/assets/app.js:3:1\nforEach@[native code]',
      [
        { file: 'https://example.com/assets/app.js', line: '42' },
        { file: 'https://example.com/assets/app.js', line: '3' },
      ],
    ],
    [
      'SpiderMonkey (Firefox), anonymous frames and @scope paths',
      'poll@http://localhost:8000/node_modules/@acme/lib/index.js:42:17\n@http://localhost:8000/main.js:3:1\n',
      [
        { file: 'http://localhost:8000/node_modules/@acme/lib/index.js', line: '42' },
        { file: 'http://localhost:8000/main.js', line: '3' },
      ],
    ],
  ])('%s', (_, stack, frames) => {
    expect(parseFrames(stack)).toEqual(frames);
  });

  it('returns no frame for no stack or lines without a location', () => {
    expect(parseFrames(undefined)).toEqual([]);
    expect(parseFrames('Error: boom\n    at <anonymous>\n    at native code')).toEqual([]);
  });
});

/** Returns the number of the line that called it (the line where the primitive was made). */
function mark(_primitive: unknown): string {
  return parseFrames(new Error().stack)[1]?.line ?? '';
}

describe('a creation site is the line that called the constructor', () => {
  let stop: () => void = () => {};
  beforeEach(() => {
    stop = trackWaiters({ stacks: true });
  });
  afterEach(() => {
    stop();
  });

  /** The site recorded for primitives named `name`. */
  function siteOf(name: string): string | undefined {
    return snapshot().rows.find((row) => row.name === name)?.site;
  }

  function makeAll(tag: string): Record<string, string> {
    class MySemaphore extends BoundedSemaphore {}
    return {
      event: mark(new Event({ name: `${tag}-event` })),
      bounded: mark(new BoundedSemaphore(1, { name: `${tag}-bounded` })),
      subclass: mark(new MySemaphore(1, { name: `${tag}-subclass` })),
      condition: mark(new Condition({ name: `${tag}-condition` })),
      lock: mark(new Lock({ name: `${tag}-lock` })),
    };
  }

  function expectSites(tag: string, lines: Record<string, string>): void {
    // In a browser the file is a URL; the dev server's query is not part of the site.
    const file = /stacks\.test\.ts$/;
    for (const [key, name] of [
      ['event', `${tag}-event`],
      ['bounded', `${tag}-bounded`],
      ['subclass', `${tag}-subclass`],
      ['condition', `${tag}-condition`],
      ['lock', `${tag}-lock`],
    ] as const) {
      const site = siteOf(name) ?? '';
      const at = site.lastIndexOf(':');
      expect(site.slice(0, at), `${name}: ${site}`).toMatch(file);
      expect(site.slice(at + 1), `${name}: ${site}`).toBe(lines[key]);
    }
    // A Condition's own Lock has the Condition's site.
    const own = snapshot().rows.filter((row) => row.name === `${tag}-condition`);
    expect(own.map((row) => row.kind).sort()).toEqual(['Condition', 'Lock']);
    expect(new Set(own.map((row) => row.site)).size).toBe(1);
  }

  it('with Error.captureStackTrace (skipping frames by function)', () => {
    expect(typeof (Error as { captureStackTrace?: unknown }).captureStackTrace).toBe('function');
    expectSites('captured', makeAll('captured'));
  });

  it('without Error.captureStackTrace (counting the constructor frames), as in older Firefox', () => {
    const holder = Error as { captureStackTrace?: unknown };
    const saved = holder.captureStackTrace;
    delete holder.captureStackTrace;
    let lines: Record<string, string>;
    try {
      lines = makeAll('counted');
    } finally {
      holder.captureStackTrace = saved;
    }
    expectSites('counted', lines);
  });
});
