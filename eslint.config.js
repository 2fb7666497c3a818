import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { layerRules } from './eslint.layers.js';

export default tseslint.config(
  // test/fixtures/lint holds code that breaks the rules on purpose (test/lint-rules.test.ts).
  { ignores: ['node_modules/', 'dist/', 'test-results/', '.baton/', 'schema/', 'test/fixtures/lint/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', 'web/**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  ...layerRules(),
  { files: ['**/*.js'], languageOptions: { globals: globals.node } },
  {
    // The CLI and scripts talk to a terminal on purpose.
    files: ['src/interfaces/cli/**', 'scripts/**', 'bench/**', 'examples/**', 'bin/**'],
    rules: { 'no-console': 'off' },
  },
);
