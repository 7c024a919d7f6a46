import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';

/** `command -v chromium`: the system Chromium the browser project drives (none is downloaded). */
function chromiumPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'chromium');
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return undefined;
}

const setupFiles = ['test/setup.ts'];
// Builds the fixtures every runtime loads (the bundled application of inspect-bundled.test.ts).
const globalSetup = ['test/global-setup.ts'];

/** The runtime running vitest, which its `node` project's workers run on too (test/probe.test.ts). */
const runtime = (globalThis as { Deno?: unknown }).Deno !== undefined ? 'deno' : process.versions.bun ? 'bun' : 'node';

/**
 * Cross-origin isolation for the browser project, so that `crossOriginIsolated` is true and a
 * SharedArrayBuffer can be shared with Web Workers (waitsafe/shared's thread tests, test/threads.ts).
 * Vitest's browser server sets `server.headers` on every response it sends, the orchestrator page
 * and the tester iframe the tests run in included, and the worker scripts (same origin, so
 * `require-corp` lets them load).
 */
const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Two projects (docs/runtimes.md): `node` runs every test file and is also what Bun and Deno run
 * (`scripts/test.mjs`); `chromium` runs every file but the Node-only `*.node.test.ts` in headless
 * Chromium. `npm test` runs them all; `npx vitest run --project node` is the quick loop.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          globalSetup,
          setupFiles,
          // GC tests need `gc()`: Node and Bun take --expose-gc, Deno translates it for V8.
          execArgv: ['--expose-gc'],
          provide: { runtime },
        },
      },
      {
        server: { headers: crossOriginIsolation },
        test: {
          name: 'chromium',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.node.test.ts'],
          globalSetup,
          setupFiles,
          provide: { runtime: 'chromium' },
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: {
                // A missing Chromium fails the chromium project only, when it launches.
                executablePath: chromiumPath() ?? 'chromium (not found on PATH)',
                args: [
                  '--no-sandbox',
                  '--disable-gpu',
                  // This network refuses the hosts Chromium keeps calling without these.
                  '--disable-background-networking',
                  '--disable-component-update',
                  '--disable-sync',
                  '--no-first-run',
                  // `gc()` for the garbage-collection tests.
                  '--js-flags=--expose-gc',
                ],
              },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
