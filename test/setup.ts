/**
 * Setup file of every test project: installs the probe (`probe.ts`) before any test module or
 * waitsafe loads, so it counts every listener and real timer from the start.
 */
import './probe.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The runtime a run was started for (`provide` in vitest.config.ts; test/probe.test.ts). */
    runtime: 'node' | 'bun' | 'deno' | 'chromium';
  }
}
