/**
 * Creation sites when waitsafe is bundled into the application (one file for the application,
 * waitsafe and its inspector, built by test/global-setup.ts from test/fixtures/bundled-app.ts):
 * the site is the application's line that constructed the primitive, never a line of waitsafe's
 * own code in the same file, in every runtime the suite runs in (the browser included), with
 * `Error.captureStackTrace` and without it.
 */

import { describe, expect, it } from 'vitest';
import type * as App from './fixtures/bundled-app.js';

/** Loads a file that test/global-setup.ts generated (by URL: the type checker runs before it). */
function loadGenerated(file: string): Promise<unknown> {
  return import(/* @vite-ignore */ new URL(`./.generated/${file}`, import.meta.url).href);
}

const app = (await loadGenerated('bundled-app.mjs')) as typeof App;
const expectedLines = ((await loadGenerated('bundled-app.lines.mjs')) as { default: Record<string, number> }).default;

/** The line of the bundle that the site of `name` must point at. */
function lineOf(name: string): number {
  const line = expectedLines[name];
  expect(line, `no line in the bundle holds ${name}`).toBeTypeOf('number');
  return line as number;
}

function expectSitesInBundle(rows: ReturnType<typeof App.createTracked>, tag: string): void {
  const cases = [
    ['Event', 'bundled-event'],
    ['BoundedSemaphore', 'bundled-semaphore'],
    ['Condition', 'bundled-condition'],
    // The Condition's own Lock has the Condition's site.
    ['Lock', 'bundled-condition'],
  ] as const;
  for (const [kind, name] of cases) {
    const row = rows.find((r) => r.kind === kind && r.name === `${tag}:${name}`);
    const site = row?.site ?? '';
    const match = /bundled-app\.mjs:(\d+)$/.exec(site);
    expect(match, `${kind} ${name}: ${site}`).not.toBeNull();
    expect(Number(match?.[1]), `${kind} ${name}: ${site}`).toBe(lineOf(name));
  }
}

describe('creation sites in a bundled application', () => {
  it('are the lines that constructed the primitives (frames skipped by function)', () => {
    expectSitesInBundle(app.createTracked('captured'), 'captured');
  });

  it('are the same lines without Error.captureStackTrace (constructor frames counted)', () => {
    const holder = Error as { captureStackTrace?: unknown };
    const saved = holder.captureStackTrace;
    delete holder.captureStackTrace;
    let rows: ReturnType<typeof App.createTracked>;
    try {
      rows = app.createTracked('counted');
    } finally {
      holder.captureStackTrace = saved;
    }
    expectSitesInBundle(rows, 'counted');
  });
});
