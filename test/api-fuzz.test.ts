// Every operation of /v1/openapi.json with malformed path, query and body values: a few
// thousand seeded requests against a real control plane (simulated runtime) as its admin.
// Whatever a client sends, the answer is never a 5xx, and every error is problem+json.
// The seed is printed; BATON_TEST_SEED replays a run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { tempDir } from './support/baton-process.ts';
import { withSeed, type SeededRandom } from './support/seeded-random.ts';

const REQUESTS = Number(process.env['BATON_FUZZ_REQUESTS'] ?? 3000);

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly params: readonly { name: string; in: 'path' | 'query' }[];
  readonly hasBody: boolean;
}

const MANIFEST = `
name: fuzz
services:
  api:
    version: 1.0.0
    tier: high
    run: { command: node, args: [api.js] }
    routes: [{ path: /api }]
`;

const STRINGS = [
  '',
  ' ',
  'constructor',
  '__proto__',
  'toString',
  '..',
  '../../etc/passwd',
  '%00',
  '%ff',
  '%',
  '-1',
  '0',
  '1e309',
  '9007199254740993',
  'NaN',
  'true',
  'null',
  '[]',
  '{}',
  'api',
  '1.0.0',
  '💥',
  'é'.repeat(300),
  'x'.repeat(5000),
  '<script>',
  "' OR 1=1 --",
  '${services.api.url}',
  '\u0000',
  '2026-13-45T99:99:99Z',
  'fast',
  '99999999999999999999h',
];

function pick<T>(random: SeededRandom, items: readonly T[]): T {
  return items[random.int(items.length)]!;
}

function junkValue(random: SeededRandom, depth = 0): unknown {
  switch (random.int(depth > 2 ? 6 : 9)) {
    case 0:
      return pick(random, STRINGS);
    case 1:
      return pick(random, [0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 1001, 65536]);
    case 2:
      return random.next() < 0.5;
    case 3:
      return null;
    case 4:
      return pick(random, ['1.0.0', 'api', 'viewer', 'admin', '10m', '/api']);
    case 5:
      return random.int(200);
    case 6:
      return Array.from({ length: random.int(4) }, () => junkValue(random, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: random.int(5) }, () => [
          pick(random, [
            ...STRINGS.slice(0, 22),
            'manifest',
            'weights',
            'service',
            'to',
            'name',
            'role',
            'instances',
            'delay',
            'abort',
          ]),
          junkValue(random, depth + 1),
        ]),
      );
  }
}

/** A query value: strings as they are, anything else as JSON (an object may have its own `toString`). */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function body(random: SeededRandom): { type: string | undefined; text: string | undefined } {
  switch (random.int(8)) {
    case 0:
      return { type: undefined, text: undefined };
    case 1:
      return { type: 'application/json', text: '{"manifest": ' };
    case 2:
      return { type: 'text/plain', text: 'hello' };
    case 3:
      return {
        type: 'application/yaml',
        text: pick(random, ['a: [', 'name: x\nservices: {}\n', ': :', MANIFEST]),
      };
    case 4:
      return { type: 'application/json', text: JSON.stringify(pick(random, STRINGS)) };
    case 5:
      return { type: 'application/x-protobuf', text: '\u0000\u00ff\u0012garbage' };
    default:
      return { type: 'application/json', text: JSON.stringify(junkValue(random)) };
  }
}

describe('API fuzz', () => {
  let plane: ControlPlane;
  let dir: { path: string; remove: () => Promise<void> };
  let operations: Operation[];

  before(async () => {
    dir = await tempDir('fuzz');
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: `${dir.path}/state`,
      runtime: 'simulated',
      stopInstancesOnClose: true,
      logger: pino({ level: 'silent' }),
    });
    const auth = { authorization: `Bearer ${plane.token}` };
    const applied = await fetch(`${plane.url}/v1/apply`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ manifest: MANIFEST }),
    });
    assert.equal(applied.status, 201);
    const openapi = (await (await fetch(`${plane.url}/v1/openapi.json`, { headers: auth })).json()) as {
      paths: Record<string, Record<string, { parameters?: Operation['params']; requestBody?: unknown }>>;
    };
    operations = Object.entries(openapi.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        params: op.parameters ?? [],
        hasBody: op.requestBody !== undefined,
      })),
    );
  });
  after(async () => {
    await plane.close();
    await dir.remove();
  });

  it('answers every malformed request below 500, every error as problem+json', () =>
    withSeed(async (random) => {
      console.error(
        `API fuzz: seed ${random.seed} (replay with BATON_TEST_SEED=${random.seed}), ${REQUESTS} requests over ${operations.length} operations`,
      );
      assert.ok(operations.length >= 30, `the document lists ${operations.length} operations`);
      const failures: string[] = [];
      const statuses = new Map<number, number>();
      for (let i = 0; i < REQUESTS; i++) {
        const op = operations[i % operations.length]!;
        const path = op.path.replace(/\{(\w+)\}/g, () =>
          // Sometimes as sent raw: a broken percent-encoding must be a 400 or 404 too.
          random.next() < 0.15
            ? pick(random, ['%', '%ff', '%E0%A4%A', '%00', '..%2f..', ';', '%2e%2e'])
            : encodeURIComponent(pick(random, STRINGS)).slice(0, 3000),
        );
        const query = new URLSearchParams();
        for (const p of op.params.filter((p) => p.in === 'query'))
          if (random.next() < 0.6) query.set(p.name, asText(junkValue(random)).slice(0, 2000));
        if (random.next() < 0.2) query.set(pick(random, STRINGS).slice(0, 50) || 'x', 'y');
        const { type, text } =
          op.hasBody || random.next() < 0.2 ? body(random) : { type: undefined, text: undefined };
        const url = `${plane.url}${path}${query.size ? `?${query}` : ''}`;
        const headers: Record<string, string> = { authorization: `Bearer ${plane.token}` };
        if (type) headers['content-type'] = type;
        let response: Response;
        try {
          response = await fetch(url, {
            method: op.method,
            headers,
            ...(text === undefined || op.method === 'GET' ? {} : { body: text }),
            signal: AbortSignal.timeout(10_000),
          });
        } catch (error) {
          failures.push(`${op.method} ${url.slice(0, 200)}: no answer (${(error as Error).message})`);
          continue;
        }
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const contentType = response.headers.get('content-type') ?? '';
        const streaming = /event-stream|ndjson/.test(contentType);
        const answer = streaming ? '' : await response.text();
        if (streaming) await response.body?.cancel();
        if (response.status >= 500)
          failures.push(`${op.method} ${url.slice(0, 200)} → ${response.status} ${answer.slice(0, 300)}`);
        else if (response.status >= 400 && !contentType.includes('application/problem+json'))
          failures.push(`${op.method} ${url.slice(0, 200)} → ${response.status} as ${contentType}`);
      }
      console.error(
        `API fuzz: statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`,
      );
      assert.deepEqual(failures.slice(0, 20), [], `${failures.length} bad answers`);
    }));
});
