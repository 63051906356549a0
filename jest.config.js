/** Jest runs the TypeScript sources as ES modules through ts-jest (see docs/adr/0001-toolchain.md). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/modules'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
};
