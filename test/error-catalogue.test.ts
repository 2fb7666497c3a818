import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { STATUS } from '../src/interfaces/http/problem.ts';
import { ERRORS } from '../src/domain/errors.ts';

it('documents every error code with its status and retry meaning in docs/errors.md', () => {
  const doc = readFileSync(join(import.meta.dirname, '../docs/errors.md'), 'utf8');
  const rows = new Map(
    [...doc.matchAll(/^\| `([a-z-]+)` \| (\d{3}) \| (yes|no) \|/gm)].map((m) => [
      m[1]!,
      { status: Number(m[2]), retryable: m[3] === 'yes' },
    ]),
  );
  assert.deepEqual(
    [...rows.keys()].sort(),
    Object.keys(ERRORS).sort(),
    'docs/errors.md lists exactly the catalogue',
  );
  for (const [code, { retryable }] of Object.entries(ERRORS)) {
    assert.deepEqual(rows.get(code), { status: STATUS[code as keyof typeof ERRORS], retryable }, code);
  }
});
