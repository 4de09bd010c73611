// Two projects: fast unit tests beside the code, and integration tests under test/ that
// run against the real local stack (Kafka, ClickHouse) started by scripts/test-all.sh.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
// The OpenAPI validator's reference parser ships only ES modules: swc turns them into CommonJS.
const swcJs = [
  '@swc/jest',
  { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } },
];
const ESM_PACKAGES = '@apidevtools/json-schema-ref-parser';
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      // test/*.spec.ts: checks of the repository itself (docs), fast like unit tests.
      roots: ['<rootDir>/src', '<rootDir>/test'],
      testMatch: ['**/*.spec.ts'],
      transform: { '^.+\\.ts$': swc, [`/node_modules/${ESM_PACKAGES}/.+\\.js$`]: swcJs },
      transformIgnorePatterns: [`/node_modules/(?!${ESM_PACKAGES}/)`],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.int-spec.ts'],
      transform: { '^.+\\.ts$': swc },
      setupFilesAfterEnv: ['<rootDir>/test/support/jest-setup.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};
