// TypeDoc options for `npm run docs` (paths are relative to this file). TypeDoc runs on this
// workspace's TypeScript 6, through ./tsconfig.json; the package itself builds with TypeScript 7.
/** @type {Partial<import('typedoc').TypeDocOptions>} */
const config = {
  // One entry point per public export of package.json; add ../../src/shared/index.ts here (and
  // to package.json "exports") when it ships.
  entryPoints: ['../../src/index.ts', '../../src/inspect/index.ts', '../../src/redis/index.ts'],
  tsconfig: './tsconfig.json',
  out: '../../api', // untracked (.gitignore)
  name: 'waitsafe',
  readme: 'none',
  // No links into a git host: a clone's remote may be a local path (as in CI), which TypeDoc
  // warns about, and the reference is read next to the source anyway.
  disableSources: true,
  plugin: ['./require-examples.mjs'], // every public symbol needs an @example
  excludePrivate: true,
  excludeProtected: true,
  excludeInternal: true,
  excludeExternals: true,
  // Fail on public symbols without TSDoc, on broken {@link}s, and on public API that refers to
  // a type the docs do not include.
  validation: { notExported: true, notDocumented: true, invalidLink: true },
  treatValidationWarningsAsErrors: true,
};

export default config;
