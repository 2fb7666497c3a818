// The layer and cycle rules (eslint.layers.js) fail on code that breaks them: a fixture
// tree with one break of each kind, and the clean files beside them not reported. The
// project's own `npm run lint` runs the same rules and passes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { layerRules } from '../eslint.layers.js';
import { REPO } from './support/baton-process.ts';

const FIXTURES = join(REPO, 'test/fixtures/lint');

it('reports an import cycle and every wrong-layer import of the fixture, and nothing else', async () => {
  const eslint = new ESLint({
    cwd: FIXTURES,
    overrideConfigFile: true,
    overrideConfig: [
      { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
      ...layerRules(FIXTURES),
    ],
  });
  const results = await eslint.lintFiles(['**/*.ts']);
  const reported = results
    .flatMap((result) =>
      result.messages.map((m) => `${result.filePath.slice(FIXTURES.length + 1)}:${m.line} ${m.ruleId}`),
    )
    .sort();
  assert.deepEqual(reported, [
    'cycle/a.ts:1 import-x/no-cycle',
    'cycle/b.ts:1 import-x/no-cycle',
    'src/domain/leaky.ts:2 no-restricted-imports',
    'src/domain/leaky.ts:3 import-x/no-restricted-paths',
    'src/engines/engine.ts:2 import-x/no-restricted-paths',
    'src/engines/engine.ts:3 import-x/no-restricted-paths',
    'src/interfaces/cli.ts:2 import-x/no-restricted-paths',
    'src/ports/port.ts:3 import-x/no-restricted-paths',
  ]);
});
