// Lint: typescript-eslint's recommended rules over every package, tests and benchmarks.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/gen/**', 'node_modules/**', '.tap/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [{ name: 'node:child_process', importNames: ['exec', 'execSync'], message: 'never a shell: use the Runner (argv arrays)' }] }],
    },
  },
);
