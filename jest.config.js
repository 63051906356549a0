/** Jest runs the TypeScript sources as ES modules through ts-jest (see docs/adr/0001-toolchain.md). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/modules'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The sources take inversify as `#inversify`: the one-file build `npm run build` writes (as a service does at
    // run time, docs/adr/0006-bundled-inversify.md). Tests that import the `inversify` package get the package, so
    // the suites also prove that the two copies share bindings and metadata.
    '^#inversify$': '<rootDir>/dist/vendor/inversify.js',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  // In CI only: once every suite has finished, exit even if a client connection is still open, so a leaked
  // handle cannot hang the pipeline after a green run (one of three CI runs on 30 Nov kept a Kafka connection to
  // the shared broker open after all 79 suites passed; not reproduced since: on 1 Dec all 82 suites, in band with
  // --detectOpenHandles and the real servers, reported no open handle and Jest exited by itself). Jest still
  // prints that it forced the exit, and on a developer machine it waits and warns as usual:
  // `npx jest --detectOpenHandles` shows the culprit.
  forceExit: process.env.CI === 'true',
};
