import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds the fixtures every runtime loads (the bundled application of inspect-bundled.test.ts).
    globalSetup: ['test/global-setup.ts'],
    // Tests that need `gc()` check for it and skip cleanly without it.
    execArgv: ['--expose-gc'],
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/results.json' },
  },
});
