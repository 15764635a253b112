// Jest runs the TypeScript sources directly through SWC (fast, no type-check: `tsc` does that
// in `npm test`). ESM mode: run through `npm run jest`, which passes --experimental-vm-modules.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022', experimental: { keepImportAttributes: true } },
      module: { type: 'es6' },
    }],
  },
  // Sources import siblings as `./x.js` (NodeNext); map those back to the .ts files.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
  // Far above any test's own work: a PGlite service start alone can take a minute on a loaded machine.
  testTimeout: 120_000,
  maxWorkers: 2,
};
