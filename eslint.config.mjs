// Lint that catches real bugs: an unawaited promise in a consumer is lost data.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['src/api-client/schema.ts', 'dist/**', 'node_modules/**', '.local/**', 'stack/**', 'jest.config.js', 'eslint.config.mjs'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/require-await': 'off',
      // kafkajs hands eachBatch helpers as a payload object; destructuring them is its documented use.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
