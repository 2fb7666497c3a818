// The dependency direction of Baton's layers, kept by lint (see DESIGN.md, Layers):
// no import cycles anywhere; the domain imports nothing outside it; ports know only the
// domain; engines never reach interfaces or adapters; only the composition root
// (src/server.ts) constructs adapters. Tests are their own composition roots: they may wire
// real adapters into what they test, so the layer zones leave them out (cycles still count).
// A separate module so that test/lint-rules.test.ts can show each rule failing on purpose.
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

const outside = (layer) => `imports nothing outside ${layer}`;

/** `basePath`: the absolute folder holding src/, also the lint's working directory. */
export function layerRules(basePath = import.meta.dirname) {
  const at = (path) => `./${path}`;
  const source = 'src';
  return [
    {
      files: ['**/*.ts', '**/*.tsx'],
      plugins: { 'import-x': importX },
      settings: {
        'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js'] })],
        // Without these, TypeScript files are not parsed when followed, and no cycle through them is seen.
        'import-x/extensions': ['.ts', '.tsx', '.js'],
        'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      },
      rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
    },
    {
      files: [`${source}/**/*.ts`],
      ignores: ['**/*.test.ts'],
      rules: {
        'import-x/no-restricted-paths': [
          'error',
          {
            basePath,
            zones: [
              {
                target: at('src/domain'),
                from: at('src'),
                except: ['./domain'],
                message: `the domain ${outside('src/domain')}: it is pure (no I/O, no ports)`,
              },
              {
                target: at('src/ports'),
                from: [at('src/engines'), at('src/adapters'), at('src/interfaces'), at('src/server.ts')],
                message: 'ports know only the domain: engines and adapters depend on them, not the reverse',
              },
              {
                target: at('src/engines'),
                from: [at('src/interfaces'), at('src/adapters'), at('src/server.ts')],
                message:
                  'engines talk to the world through ports; interfaces call engines, never the reverse',
              },
              {
                target: at('src/interfaces'),
                from: at('src/adapters'),
                message: 'only the composition root (src/server.ts) chooses and constructs adapters',
              },
            ],
          },
        ],
      },
    },
    {
      files: [`${source}/domain/**/*.ts`],
      ignores: ['**/*.test.ts'],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            paths: ['fs', 'fs/promises', 'net', 'http', 'https', 'child_process', 'os', 'process', 'sqlite']
              .flatMap((name) => [name, `node:${name}`])
              .map((name) => ({ name, message: 'the domain does no I/O: take it through a port' })),
          },
        ],
      },
    },
  ];
}
