// Jest in ESM mode (npm test passes --experimental-vm-modules). Sources are
// TypeScript with explicit .ts import extensions: Node 24 runs them as they
// are, and here swc strips the types.
//
// Three projects:
//   unit        *.test.ts beside the code they pin down (api/, sidecar/, operator/)
//   integration test/integration: real sidecar processes against fake providers;
//               test/images: what the Dockerfiles assemble, built and run without Docker
//   e2e         test/e2e: a real etcd + kube-apiserver started by the global setup
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2024' }, module: { type: 'es6' } }];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

/** @type {import('jest').Config} */
export default {
  // A global option (jest ignores it per project): the e2e and chaos files set longer ones themselves.
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{api,common,sidecar,operator,hack,bench}/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/fakes/**/*.test.ts', '<rootDir>/test/images/**/*.test.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/e2e/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/e2e/harness/global-teardown.ts',
    },
    // chaos: the faults matrix, outages, secrets and bad input against real sidecar processes
    { ...common, displayName: 'chaos', testMatch: ['<rootDir>/test/chaos/**/*.test.ts', '<rootDir>/test/fuzz/**/*.test.ts'] },
    // soak: sustained load; LLMROUTE_SOAK_SECONDS sets its length (30 by default, 600 for npm run test:soak)
    { ...common, displayName: 'soak', testMatch: ['<rootDir>/test/soak/**/*.test.ts'] },
  ],
};
