// Jest in ESM mode (npm test passes --experimental-vm-modules). Sources are
// TypeScript with explicit .ts import extensions: Node 24 runs them as they
// are, and here swc strips the types.
//
// Projects. `npm test` runs the first two (the fast loop); `npm run test:all`
// runs them all (what CI runs). LLMROUTE_TEST_PROJECTS, a comma-separated
// list, keeps only those it names: `npm test` sets it to unit,integration
// (an environment variable rather than --selectProjects, which would take
// the file paths given after it, as in `npm test -- test/integration`, for
// project names):
//   unit        *.test.ts beside the code they pin down (api/, sidecar/, operator/)
//   integration test/integration: real sidecar processes against fake providers;
//               test/fakes: the fakes themselves
//   images      test/images: what the Dockerfiles assemble, compiled, npm-installed
//               and run without Docker (slow: a build and an npm ci)
//   e2e         test/e2e: a real etcd + kube-apiserver started by the global setup
//   chaos       the faults matrix, outages, secrets and bad input against real sidecar processes
//   soak        sustained load
//   node        test/node: a real single node (containerd, kubelet, control plane, as root) started
//               by the global setup, the README's story on it (npm run test:node for it alone)
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2024' }, module: { type: 'es6' } }];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

const only = process.env.LLMROUTE_TEST_PROJECTS?.split(',').map((p) => p.trim());

/** @type {import('jest').Config} */
export default {
  // A global option (jest ignores it per project): the e2e and chaos files set longer ones themselves.
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{api,common,sidecar,operator,hack,bench}/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/fakes/**/*.test.ts'] },
    { ...common, displayName: 'images', testMatch: ['<rootDir>/test/images/**/*.test.ts'] },
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
    {
      ...common,
      displayName: 'node',
      testMatch: ['<rootDir>/test/node/**/*.test.ts'],
      globalSetup: '<rootDir>/test/node/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/node/harness/global-teardown.ts',
    },
  ].filter((p) => !only || only.includes(p.displayName)),
};
