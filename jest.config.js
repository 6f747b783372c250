/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // src/ is a root so that coverage also counts the files no test loads (as 0 %), not only the ones some test imports.
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // cookie 2 (light-my-request's, under fastify.inject()) is ESM only; jest's CommonJS loader
    // needs it compiled to CommonJS, which ts-jest does for this one package.
    '/node_modules/cookie/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022', isolatedModules: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!cookie/)'],
  testTimeout: 60000,
  watchman: false,
  // Collected only with --coverage (`npm test` passes it). V8's own counters: no instrumentation pass over the sources,
  // so the run is barely slower. Code run by a spawned `bin/davis.js` (compiled, in dist/) is not counted.
  collectCoverageFrom: ['src/**/*.ts'],
  coverageProvider: 'v8',
  coverageReporters: ['text-summary', 'json-summary'],
  // Just under what `npm test` reaches: a change that drops coverage fails the run; raise these as tests are added.
  coverageThreshold: { global: { statements: 94, branches: 82, functions: 92, lines: 94 } },
};
