import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { STATUS } from '../src/interfaces/http/problem.ts';
import { ERRORS, GATEWAY_ERRORS } from '../src/domain/errors.ts';
import { GATEWAY_STATUS } from '../src/engines/gateway/problem-response.ts';

const doc = readFileSync(join(import.meta.dirname, '../docs/errors.md'), 'utf8');
const [apiSection, gatewaySection = ''] = doc.split(/^## Gateway$/m);

function rows(section: string) {
  return new Map(
    [...section.matchAll(/^\| `([a-z-]+)` \| (\d{3}) \| (yes|no) \|/gm)].map((m) => [
      m[1]!,
      { status: Number(m[2]), retryable: m[3] === 'yes' },
    ]),
  );
}

it('documents every error code with its status and retry meaning in docs/errors.md', () => {
  const documented = rows(apiSection!);
  assert.deepEqual(
    [...documented.keys()].sort(),
    Object.keys(ERRORS).sort(),
    'docs/errors.md lists exactly the catalogue',
  );
  for (const [code, { retryable }] of Object.entries(ERRORS)) {
    assert.deepEqual(documented.get(code), { status: STATUS[code as keyof typeof ERRORS], retryable }, code);
  }
});

it("documents every gateway code with the gateway's status and retry meaning", () => {
  const documented = rows(gatewaySection);
  assert.deepEqual(
    [...documented.keys()].sort(),
    Object.keys(GATEWAY_ERRORS).sort(),
    "docs/errors.md's Gateway section lists exactly the gateway's codes",
  );
  for (const [code, { retryable }] of Object.entries(GATEWAY_ERRORS)) {
    const key = code as keyof typeof GATEWAY_ERRORS;
    assert.deepEqual(documented.get(code), { status: GATEWAY_STATUS[key], retryable }, code);
  }
});

it('gives a code the API and the gateway share one meaning and one status', () => {
  for (const code of Object.keys(GATEWAY_ERRORS)) {
    if (!(code in ERRORS)) continue;
    const key = code as keyof typeof ERRORS & keyof typeof GATEWAY_ERRORS;
    assert.deepEqual(GATEWAY_ERRORS[key], ERRORS[key], code);
    assert.equal(GATEWAY_STATUS[key], STATUS[key], code);
  }
});
