import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import type { Problem } from '../problems.ts';
import { normalizeManifest } from './model.ts';
import { parseManifest } from './parse.ts';
import type { ParsedSource } from './parse.ts';
import { LIMITS, ManifestSchema, TIERS } from './schema.ts';

const SHOP = `name: shop
services:
  orders:
    version: 2.1.0
    tier: critical
    owner: checkout-team
    run: { command: node, args: [orders.ts] }
    instances: { min: 2, max: 4 }
    health: { http: { path: /healthz } }
    dependsOn:
      payments: ^1.5.0
      notifications: { range: ^1.0.0, optional: true }
    routes:
      - { path: /api/orders, methods: [GET, POST] }
  payments:
    version: 1.5.0
    tier: critical
    run: { command: node, args: [payments.ts] }
  notifications:
    version: 1.2.0
    tier: low
    image: notifications:1.2.0
    instances: 3
`;

function parsed(text: string): ParsedSource {
  const result = parseManifest(text);
  if (!result.ok) assert.fail(`expected a valid manifest, got ${JSON.stringify(result.problems, null, 2)}`);
  return result.value;
}

function problemsOf(text: string, file?: string): readonly Problem[] {
  const result = parseManifest(text, file === undefined ? {} : { file });
  if (result.ok) assert.fail('expected problems, the manifest was accepted');
  return result.problems;
}

function only(problems: readonly Problem[], code: string): Problem {
  const matching = problems.filter((p) => p.code === code);
  assert.equal(matching.length, 1, `one ${code} in ${JSON.stringify(problems, null, 2)}`);
  return matching[0]!;
}

/** 1-based line and column of the first occurrence of `needle`, to keep expectations readable. */
function where(text: string, needle: string, occurrence = 1): { line: number; column: number } {
  let index = -1;
  for (let i = 0; i < occurrence; i++) index = text.indexOf(needle, index + 1);
  assert.notEqual(index, -1, `${needle} is in the text`);
  const before = text.slice(0, index).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

function at(problem: Problem | undefined): { line: number | undefined; column: number | undefined } {
  return { line: problem?.line, column: problem?.column };
}

describe('parseManifest: valid manifests', () => {
  it('normalises: shorthands expanded, defaults applied, services sorted', () => {
    const { manifest } = parsed(SHOP);
    assert.equal(manifest.name, 'shop');
    assert.deepEqual(Object.keys(manifest.services), ['notifications', 'orders', 'payments']);

    const orders = manifest.services['orders']!;
    assert.deepEqual(orders.dependsOn, {
      notifications: { range: '^1.0.0', optional: true },
      payments: { range: '^1.5.0', optional: false },
    });
    assert.deepEqual(orders.instances, { min: 2, max: 4 });
    assert.deepEqual(orders.run, { command: 'node', args: ['orders.ts'] });
    assert.equal(orders.mode, 'cattle');
    assert.deepEqual(orders.health, {
      http: { path: '/healthz' },
      interval: '5s',
      timeout: '2s',
      failureThreshold: 3,
      successThreshold: 1,
      startupGrace: '30s',
    });
    assert.deepEqual(orders.routes, [{ path: '/api/orders', methods: ['GET', 'POST'], stripPrefix: false }]);
    assert.deepEqual(orders.rollout, {
      strategy: 'rolling',
      maxSurge: 1,
      maxUnavailable: 0,
      autoRollback: true,
      deadline: '5m',
      crashLoopLimit: 3,
    });

    const payments = manifest.services['payments']!;
    assert.deepEqual(payments.instances, { min: 1, max: 1 });
    assert.deepEqual(payments.dependsOn, {});
    assert.deepEqual(payments.env, {});
    assert.deepEqual(manifest.services['notifications']!.instances, { min: 3, max: 3 });
  });

  it('returns no warnings for a clean manifest', () => {
    const result = parseManifest(SHOP);
    assert.equal(result.ok, true);
    assert.deepEqual(result.ok && result.warnings, []);
  });

  it('accepts anchors and merge keys, and locates merged fields at their source', () => {
    const text = `name: shop
services:
  a:
    <<: &defaults { tier: low, run: { command: node } }
    version: 1.0.0
  b:
    <<: *defaults
    version: 2.0.0
`;
    const { manifest, locate } = parsed(text);
    assert.equal(manifest.services['b']!.tier, 'low');
    assert.deepEqual(manifest.services['b']!.run, { command: 'node', args: [] });
    assert.deepEqual(locate(['services', 'b', 'tier']), where(text, 'low'));
    assert.deepEqual(locate(['services', 'b', 'version']), where(text, '2.0.0'));
  });

  it('tags what a service builds by architecture, service and version, unless it names the image', () => {
    const { manifest } = parsed(`name: shop
services:
  web:
    version: 1.3.0+git.5
    tier: high
    build: { context: ., args: { SERVICE: web } }
    resources: { pids: 64 }
  api:
    version: 2.0.0
    tier: high
    image: registry.local/api:2
    build: { context: api, dockerfile: images/api.Dockerfile, target: runtime }
    cmd: [serve, --port, "8080"]
    user: "1000:1000"
`);
    const web = manifest.services['web']!;
    assert.equal(web.image, 'shop/web:1.3.0_git.5');
    assert.deepEqual(web.build, { context: '.', dockerfile: 'Dockerfile', args: { SERVICE: 'web' } });
    assert.equal(web.resources?.pids, 64);
    const api = manifest.services['api']!;
    assert.equal(api.image, 'registry.local/api:2');
    assert.deepEqual(api.cmd, ['serve', '--port', '8080']);
    assert.equal(api.user, '1000:1000');
  });

  it('needs run, image or build', () => {
    const problems = problemsOf('name: shop\nservices:\n  web: { version: 1.0.0, tier: low }\n');
    assert.ok(
      problems.some((p) => /`run` \(a local process\), or `image` or `build`/.test(p.message)),
      JSON.stringify(problems),
    );
  });
});

describe('parseManifest: located problems', () => {
  it('places a misspelt key at the key and suggests the right spelling', () => {
    const text = SHOP.replace('    dependsOn:', '    depends_on:');
    const problem = only(problemsOf(text, 'baton.yaml'), 'unknown-key');
    assert.equal(problem.severity, 'error');
    assert.equal(problem.message, 'unknown key `depends_on`');
    assert.equal(problem.hint, 'did you mean `dependsOn`?');
    assert.deepEqual(problem.path, ['services', 'orders', 'depends_on']);
    assert.deepEqual(at(problem), { line: 10, column: 5 });
    assert.equal(problem.file, 'baton.yaml');
  });

  it('lists the allowed keys when nothing is close', () => {
    const text = SHOP.replace('    owner: checkout-team', '    zzz: 1');
    const problem = only(problemsOf(text), 'unknown-key');
    assert.match(problem.hint ?? '', /^allowed keys here: version, tier, owner, /);
  });

  it('suggests inside unions and hides the missing field the typo explains', () => {
    const text = SHOP.replace('{ range: ^1.0.0, optional: true }', '{ rnage: ^1.0.0, optional: true }');
    const problems = problemsOf(text);
    assert.deepEqual(
      problems.map((p) => [p.code, p.hint]),
      [['unknown-key', 'did you mean `range`?']],
    );
    assert.deepEqual(at(problems[0]), where(text, 'rnage'));
  });

  it('returns every problem at once, sorted by line then column', () => {
    const text = `name: shop
services:
  orders:
    version: 2.x
    tier: critcal
    run: { command: node, args: [orders.ts] }
    instances: { min: 5, max: 2 }
    ports: [{ name: http, port: two }]
    routes: [{ path: api }]
`;
    const problems = problemsOf(text);
    assert.deepEqual(
      problems.map((p) => p.code),
      ['invalid-value', 'invalid-value', 'invalid-combination', 'invalid-type', 'invalid-format'],
    );
    const lines = problems.map((p) => p.line!);
    assert.deepEqual(lines, [4, 5, 7, 8, 9]);
    const port = problems[3]!;
    assert.equal(port.message, 'expected a number, found the string "two"');
    assert.deepEqual(at(port), where(text, 'two'));
    assert.deepEqual(port.path, ['services', 'orders', 'ports', 0, 'port']);
  });

  it('suggests the closest tier and lists them all', () => {
    const text = SHOP.replace('tier: critical', 'tier: critcal');
    const problem = only(problemsOf(text), 'invalid-value');
    assert.equal(problem.message, 'must be one of critical, high, medium, low, found "critcal"');
    assert.equal(problem.hint, 'did you mean `critical`?');
    assert.deepEqual(problem.path, ['services', 'orders', 'tier']);
    assert.deepEqual(at(problem), where(text, 'critcal'));
  });

  it('rejects a version that is not semver, and says how a number lost its spelling', () => {
    const text = SHOP.replace('version: 2.1.0', 'version: 2.x').replace('version: 1.5.0', 'version: 1.0');
    const problems = problemsOf(text);
    const [orders, payments] = problems;
    assert.equal(orders?.message, 'must be a semantic version such as 1.4.2, found "2.x"');
    assert.deepEqual(orders?.path, ['services', 'orders', 'version']);
    assert.deepEqual(at(orders), where(text, '2.x'));
    assert.equal(payments?.code, 'invalid-type');
    assert.equal(payments?.message, 'expected a string, found the number 1');
    assert.equal(
      payments?.hint,
      'a version has three parts (major.minor.patch): write 1.0.0; YAML reads 1.0 as a number',
    );
  });

  it('rejects a dependency range that is not a semver range', () => {
    const text = SHOP.replace('payments: ^1.5.0', 'payments: ^^1.5');
    const problem = only(problemsOf(text), 'invalid-value');
    assert.match(problem.message, /^must be a semver range such as/);
    assert.deepEqual(problem.path, ['services', 'orders', 'dependsOn', 'payments']);
    assert.deepEqual(at(problem), where(text, '^^1.5'));
  });

  it('refuses retrying on a status another attempt cannot change, at the status', () => {
    const text = SHOP.replace(
      '{ path: /api/orders, methods: [GET, POST] }',
      '{ path: /api/orders, methods: [GET, POST], retryOn: [500, 404] }',
    );
    const problem = only(problemsOf(text), 'invalid-value');
    assert.match(problem.message, /retry on 408, 425, 429 or a 5xx status/);
    assert.deepEqual(problem.path, ['services', 'orders', 'routes', 0, 'retryOn', 1]);
    assert.deepEqual(at(problem), where(text, '404'));
    const accepted = parsed(text.replace('404', '429'));
    assert.deepEqual(accepted.manifest.services.orders!.routes[0]!.retryOn, [500, 429]);
  });

  it('says what a dependency may be when it is neither a range nor a mapping', () => {
    const text = SHOP.replace('payments: ^1.5.0', 'payments: [1]');
    const problem = only(problemsOf(text), 'invalid-type');
    assert.equal(problem.message, 'expected a string or a mapping, found a list');
  });

  it('rejects a bad service name at the key, suggests one, and still checks its body', () => {
    const text = SHOP.replace(
      '  payments:\n    version: 1.5.0\n    tier: critical',
      '  Payments_API:\n    version: 1.5.0\n    tier: vital',
    );
    const problems = problemsOf(text);
    const name = only(problems, 'invalid-name');
    assert.deepEqual(name.path, ['services', 'Payments_API']);
    assert.deepEqual(at(name), where(text, 'Payments_API'));
    assert.equal(name.hint, 'rename it to `payments-api`');
    assert.match(name.message, /^`Payments_API` is not a valid name: it must be lowercase letters/);
    const tier = only(problems, 'invalid-value');
    assert.deepEqual(tier.path, ['services', 'Payments_API', 'tier']);
  });

  it('rejects dependency targets that are not valid names', () => {
    const text = SHOP.replace('payments: ^1.5.0', 'Payments Service: ^1.5.0');
    const problem = only(problemsOf(text), 'invalid-name');
    assert.deepEqual(problem.path, ['services', 'orders', 'dependsOn', 'Payments Service']);
    assert.deepEqual(at(problem), where(text, 'Payments Service'));
    assert.equal(problem.hint, 'rename it to `payments-service`');
  });

  it('places a missing field at the mapping that lacks it and says what the field is', () => {
    const text = SHOP.replace('    tier: low\n', '');
    const problem = only(problemsOf(text), 'missing-field');
    assert.equal(problem.message, 'missing required field `tier`');
    assert.deepEqual(problem.path, ['services', 'notifications', 'tier']);
    assert.deepEqual(at(problem), where(text, 'notifications:', 2));
    assert.equal(
      problem.hint,
      'How critical the service is to the business; one of critical, high, medium, low',
    );
  });

  it('names the value found for a service that is not a mapping', () => {
    const problems = problemsOf('name: shop\nservices:\n  orders:\n');
    const problem = only(problems, 'invalid-type');
    assert.equal(problem.message, 'expected a mapping, found an empty value');
    assert.deepEqual(at(problem), { line: 3, column: 3 });
  });
});

describe('parseManifest: YAML errors', () => {
  it('reports every syntax error with its line and column', () => {
    const text = 'name: shop\nservices:\n  orders: { version: 1.0.0\n  pay: [1, 2\nx: y: z\n';
    const problems = problemsOf(text);
    assert.ok(problems.length >= 2, JSON.stringify(problems));
    for (const p of problems) {
      assert.equal(p.code, 'yaml-syntax');
      assert.ok(p.line !== undefined && p.column !== undefined);
    }
    assert.deepEqual(
      problems.map((p) => p.line),
      [...problems.map((p) => p.line!)].sort((a, b) => a - b),
    );
    assert.ok(
      problems.some((p) => p.line === 5),
      'the compact mapping on line 5 is named',
    );
  });

  it('explains tabs used for indentation', () => {
    const problem = problemsOf('name: shop\nservices:\n\torders: {}\n')[0];
    assert.equal(problem?.code, 'yaml-syntax');
    assert.equal(problem?.line, 3);
    assert.match(problem?.hint ?? '', /spaces/);
  });

  it('rejects duplicate keys at the second one and still validates the rest', () => {
    const text = SHOP.replace(
      '    owner: checkout-team\n',
      '    tier: high\n    owner: checkout-team\n',
    ).replace('tier: low', 'tier: loww');
    const problems = problemsOf(text);
    const duplicate = only(problems, 'duplicate-key');
    assert.deepEqual(duplicate.path, ['services', 'orders', 'tier']);
    assert.deepEqual(at(duplicate), where(text, 'tier', 2));
    assert.equal(duplicate.message, 'duplicate key `tier`: it already appears earlier in this mapping');
    assert.equal(only(problems, 'invalid-value').hint, 'did you mean `low`?');
  });

  it('rejects an alias to an anchor that does not exist', () => {
    const text = 'name: shop\nservices:\n  a: *nope\n';
    const problem = only(problemsOf(text), 'yaml-syntax');
    assert.equal(problem.message, 'unknown alias `*nope`');
    assert.deepEqual(at(problem), where(text, '*nope'));
  });

  it('stops an alias bomb before expanding it', () => {
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i <= 8; i++)
      text += `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    const problem = problemsOf(`name: shop\nservices: {}\nbomb:\n${text.replace(/^/gm, '  ')}`)[0];
    assert.equal(problem?.code, 'yaml-alias-limit');
  });

  it('stops aliases that stay under the alias count but expand to too many values', () => {
    const big = `[${Array(1_100).fill('1').join(', ')}]`;
    const uses = Array(1_000).fill('*big').join(', ');
    const problem = problemsOf(`name: shop\nservices: {}\nbig: &big ${big}\nmany: [${uses}]\n`)[0];
    assert.equal(problem?.code, 'yaml-alias-limit');
  });
});

describe('parseManifest: document shape and limits', () => {
  for (const [label, text] of [
    ['an empty file', ''],
    ['only comments', '# nothing yet\n'],
    ['an explicit null', '~\n'],
  ] as const) {
    it(`rejects ${label} with a minimal manifest as the hint`, () => {
      const problem = only(problemsOf(text), 'empty-manifest');
      assert.deepEqual(at(problem), { line: 1, column: 1 });
      assert.match(problem.hint ?? '', /name: shop\nservices:\n {2}web:\n {4}version: 1\.0\.0/);
    });
  }

  it('rejects a top level that is not a mapping', () => {
    const problem = only(problemsOf('- orders\n- payments\n'), 'not-a-mapping');
    assert.match(problem.message, /found a list$/);
    assert.match(problem.hint ?? '', /minimal manifest/);
  });

  it('rejects a manifest over 1 MiB before parsing it, measuring UTF-8 bytes', () => {
    // 600,000 characters, 1.2 MB: under the limit in characters, over it in bytes.
    const text = `name: shop\nservices: {}\ndescription: ${'é'.repeat(600_000)}\n`;
    assert.ok(text.length < LIMITS.manifestBytes);
    const problem = only(problemsOf(text), 'manifest-too-large');
    assert.equal(
      problem.message,
      `the manifest is ${Buffer.byteLength(text)} bytes; the limit is 1048576 bytes (1 MiB)`,
    );
  });

  it('accepts a manifest of exactly 1 MiB', () => {
    const head = 'name: shop\nservices: {}\n#';
    const text = head + 'x'.repeat(LIMITS.manifestBytes - head.length);
    assert.equal(Buffer.byteLength(text), LIMITS.manifestBytes);
    assert.equal(parseManifest(text).ok, true);
  });

  it('rejects more services than the limit', () => {
    const count = LIMITS.services + 1;
    const lines = Array.from({ length: count }, (_, i) => `  s${i}: { version: 1.0.0, tier: low, image: x }`);
    const text = `name: shop\nservices:\n${lines.join('\n')}\n`;
    const problem = only(problemsOf(text), 'too-many-services');
    assert.equal(problem.message, `${count} services; the limit is ${LIMITS.services}`);
    assert.deepEqual(at(problem), { line: 2, column: 1 });
  });

  it('rejects more dependencies than the limit', () => {
    const deps = Array.from({ length: LIMITS.dependenciesPerService + 1 }, (_, i) => `d${i}: ^1.0.0`);
    const text = `name: shop\nservices:\n  a:\n    version: 1.0.0\n    tier: low\n    image: x\n    dependsOn: { ${deps.join(', ')} }\n`;
    const problem = only(problemsOf(text), 'too-many-dependencies');
    assert.deepEqual(problem.path, ['services', 'a', 'dependsOn']);
    assert.deepEqual(at(problem), where(text, '{ d0'));
  });
});

describe('locate', () => {
  const { locate } = parsed(SHOP);

  it('finds a scalar value', () => {
    assert.deepEqual(locate(['services', 'orders', 'dependsOn', 'payments']), where(SHOP, '^1.5.0'));
    assert.deepEqual(locate(['services', 'orders', 'health', 'http', 'path']), where(SHOP, '/healthz'));
  });

  it('finds list items by index', () => {
    assert.deepEqual(locate(['services', 'orders', 'routes', 0, 'methods', 1]), where(SHOP, 'POST'));
    assert.deepEqual(locate(['services', 'orders', 'routes', 0]), where(SHOP, '{ path: /api'));
  });

  it('places an entry holding a block at its key, and a flow value at the value', () => {
    assert.deepEqual(locate(['services', 'orders']), where(SHOP, 'orders:'));
    assert.deepEqual(locate(['services', 'orders', 'dependsOn']), where(SHOP, 'dependsOn:'));
    assert.deepEqual(locate(['services', 'orders', 'instances']), where(SHOP, '{ min: 2'));
  });

  it('falls back to the nearest ancestor that exists', () => {
    assert.deepEqual(locate(['services', 'orders', 'dependsOn', 'ghost']), where(SHOP, 'dependsOn:'));
    assert.deepEqual(locate(['services', 'orders', 'routes', 7, 'path']), where(SHOP, 'routes:'));
    assert.deepEqual(
      locate(['services', 'payments', 'run', 'args', 0, 'deeper']),
      where(SHOP, 'payments.ts'),
    );
    assert.deepEqual(locate(['nowhere']), { line: 1, column: 1 });
    assert.deepEqual(locate([]), { line: 1, column: 1 });
  });

  it('places every dependency edge of any valid manifest on the line of its key', () => {
    fc.assert(
      fc.property(manifestArbitrary, (input) => {
        const text = stringify(input);
        const result = parseManifest(text);
        assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
        assert.deepEqual(result.value.manifest, normalizeManifest(ManifestSchema.parse(input)));
        const lines = text.split('\n');
        for (const [service, spec] of Object.entries(input.services)) {
          for (const target of Object.keys(spec.dependsOn)) {
            const position = result.value.locate(['services', service, 'dependsOn', target]);
            assert.ok(position !== undefined);
            assert.ok(lines[position.line - 1]!.includes(`${target}:`), `${target} on line ${position.line}`);
          }
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('parseManifest: robustness', () => {
  it('never throws, whatever the text', () => {
    const yamlish = fc.stringMatching(/^[a-z:{}[\]\-,&*!|>'" \n\t#0-9.^<]{0,80}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string(), yamlish), (text) => {
        const result = parseManifest(`name: x\nservices:\n  a:\n    ${text}`);
        if (!result.ok) assert.ok(result.problems.length > 0);
      }),
      { numRuns: 300 },
    );
  });
});

const nameArbitrary = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
const serviceArbitrary = (names: readonly string[]) =>
  fc.record({
    version: fc.tuple(fc.nat(20), fc.nat(20), fc.nat(20)).map(([a, b, c]) => `${a}.${b}.${c}`),
    tier: fc.constantFrom(...TIERS),
    image: fc.constant('registry/app:1'),
    instances: fc.oneof(
      fc.nat(10),
      fc.nat(5).map((min) => ({ min, max: min + 1 })),
    ),
    dependsOn: fc.dictionary(
      fc.constantFrom(...names),
      fc.oneof(
        fc.constantFrom('^1.0.0', '>=2.1 <3', '~0.4.2'),
        fc.record({ range: fc.constant('^1.2.0'), optional: fc.boolean() }),
      ),
      { maxKeys: 4 },
    ),
  });
const manifestArbitrary = fc.uniqueArray(nameArbitrary, { minLength: 1, maxLength: 8 }).chain((names) =>
  fc.record({
    name: nameArbitrary,
    services: fc.record(Object.fromEntries(names.map((n) => [n, serviceArbitrary(names)]))),
  }),
);
