// Lint: type-aware rules that catch what the compiler does not (floating promises above all),
// plus the layering rule of docs/architecture.md: nothing imports from api/ but composition roots.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**', 'bench/results/**', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['node:*', '../store/*', '../api/*', '../agent/*', '../drivers/*', '../controllers/*', '../scheduler/*', '../cli/*', '../client/*'], message: 'core has no I/O and imports nothing above it' },
      ] }],
    },
  },
  {
    files: ['src/scheduler/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['node:*', '../store/*', '../api/*', '../agent/*', '../drivers/*', '../controllers/*', '../cli/*', '../client/*'], message: 'the scheduler is pure: core only' },
      ] }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/api/**', 'src/sim/**', 'src/server/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['../api/*', '../cli/*'], message: 'only composition roots import from api/ and cli/' },
      ] }],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
