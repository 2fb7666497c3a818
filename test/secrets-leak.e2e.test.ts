// The must-show of secrets: a known secret goes in (through the CLI), services run with it,
// the architecture is changed, diffed and rolled back, the secret rotated; then every API
// route (from the OpenAPI document), the CLI's read commands, the dashboard's requests, every
// log file, event and the bytes of the store (SQLite file and WAL; a dump of the PostgreSQL
// database) are searched for the plaintexts: none may hold one. The instances that refer to
// the secret must have received it, and the one that does not, not.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { bearer } from './support/api-token.ts';
import { BATON_BIN, REPO, tempDir } from './support/baton-process.ts';
import { eventually } from './support/eventually.ts';

const run = promisify(execFile);
const PG_URL = process.env.BATON_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// Random, so that nothing could contain it by chance; base64 and hex of it are searched too.
const FIRST = `pw-${randomBytes(12).toString('hex')}`;
const ROTATED = `pw-${randomBytes(12).toString('hex')}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function manifest(version: string): string {
  const service = (v: string, env: string) =>
    [
      `    version: ${v}`,
      '    tier: high',
      `    run: { command: ${process.execPath}, args: [${join(REPO, 'test/fixtures/secret-service.ts')}] }`,
      '    health: { http: { path: /healthz }, interval: 200ms, startupGrace: 20s }',
      `    env: { ${env} }`,
    ].join('\n');
  return [
    'name: leak',
    'services:',
    '  client:',
    service(version, 'DB_PASSWORD: "${secret:DB_PASSWORD}", MODE: prod'),
    '  bystander:',
    service('1.0.0', 'MODE: prod'),
    '',
  ].join('\n');
}

/** Every form a plaintext could take on the way out. */
function needles(): { label: string; bytes: Buffer }[] {
  return [FIRST, ROTATED].flatMap((secret) => [
    { label: secret, bytes: Buffer.from(secret) },
    { label: `base64(${secret})`, bytes: Buffer.from(Buffer.from(secret).toString('base64').slice(0, 24)) },
    { label: `utf16(${secret})`, bytes: Buffer.from(secret, 'utf16le') },
  ]);
}

class Haystack {
  readonly places: string[] = [];
  readonly found: string[] = [];
  add(place: string, content: Buffer | string): void {
    this.places.push(place);
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    for (const needle of needles())
      if (bytes.includes(needle.bytes)) this.found.push(`${needle.label} in ${place}`);
  }
}

async function readWithin(response: Response, ms: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  let text = '';
  const decoder = new TextDecoder();
  const stop = setTimeout(() => void reader.cancel().catch(() => {}), ms);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // cancelled: a stream that would go on forever
  } finally {
    clearTimeout(stop);
  }
  return text;
}

/** A command that must succeed: its output, checked for the plaintext like any other. */
async function mustCli(hay: Haystack, url: string, args: string[], input?: string): Promise<void> {
  const output = await cli(url, args, input);
  assert.match(output, /\(exit 0\)/, output);
  hay.add('cli', output);
}

/** The control plane's admin token, for the CLI and the API calls. */
let token = '';

async function cli(url: string, args: string[], input?: string): Promise<string> {
  const child = spawn(process.execPath, [BATON_BIN, ...args], {
    cwd: REPO,
    env: { ...process.env, BATON_SERVER: url, BATON_TOKEN: token, NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  child.stdin.end(input ?? '');
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return `$ baton ${args.join(' ')} (exit ${code})\n${output}`;
}

async function digests(plane: ControlPlane, service: string): Promise<(string | null)[]> {
  const endpoints = plane.registry.endpoints(service, undefined);
  return Promise.all(
    endpoints.map(async (e) => {
      const body = (await (await fetch(`http://${e.address}:${e.port}/digest`)).json()) as {
        digest: string | null;
      };
      return body.digest;
    }),
  );
}

async function scenario(storeKind: 'sqlite' | 'postgres'): Promise<void> {
  // Readable by all (tempDir): as root, the instances run as nobody.
  const dir = (await tempDir(`leak-${storeKind}`)).path;
  const stateDir = join(dir, 'state');
  const database = `baton_leak_${randomBytes(5).toString('hex')}`;
  const admin = storeKind === 'postgres' ? new pg.Client({ connectionString: PG_URL }) : undefined;
  let plane: ControlPlane | undefined;
  try {
    let store: string | undefined;
    if (admin) {
      await admin.connect();
      await admin.query(`CREATE DATABASE ${database}`);
      store = PG_URL.replace(/\/[^/]*$/, `/${database}`);
    }
    const logFile = join(dir, 'control-plane.log');
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir,
      store,
      baseDir: REPO,
      stopInstancesOnClose: true,
      eastWest: false,
      logger: pino({ level: 'trace' }, pino.destination({ dest: logFile, sync: true })),
    });
    const { url } = plane;
    token = plane.token ?? '';
    const hay = new Haystack();
    const api = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(url + path, {
        method,
        headers: { ...bearer(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await readWithin(response, 1_500);
      hay.add(`${method} ${path} → ${response.status}`, text);
      return { status: response.status, text };
    };

    // The secret goes in through the CLI, then the architecture that uses it.
    await mustCli(hay, url, ['secrets', 'set', 'DB_PASSWORD'], `${FIRST}\n`);
    const file = join(dir, 'baton.yaml');
    await writeFile(file, manifest('1.0.0'));
    await mustCli(hay, url, ['apply', '-f', file, '-m', 'first']);
    await eventually(async () => (await digests(plane!, 'client'))[0] === sha256(FIRST), {
      what: 'client runs with the secret',
      timeoutMs: 30_000,
    });
    assert.deepEqual(
      await digests(plane, 'bystander'),
      [null],
      'a service that does not refer to it never gets it',
    );

    // Change, diff, roll back, rotate.
    await writeFile(file, manifest('1.1.0'));
    await mustCli(hay, url, ['apply', '-f', file, '-m', 'second']);
    await mustCli(hay, url, ['diff', '1', '2']);
    await mustCli(hay, url, ['rollback', '--to', '1', '-m', 'back', '--yes']);
    await mustCli(hay, url, ['secrets', 'set', 'DB_PASSWORD'], `${ROTATED}\n`);
    await eventually(
      async () => {
        const seen = await digests(plane!, 'client');
        return seen.length === 1 && seen[0] === sha256(ROTATED);
      },
      { what: 'the rotated secret reaches client by a restart', timeoutMs: 30_000 },
    );
    for (const args of [
      ['history'],
      ['show', '1'],
      ['show', '3'],
      ['status', '-o', 'json'],
      ['secrets', 'list'],
      ['secrets', 'list', '-o', 'json'],
      ['logs', 'client', '--all'],
      ['graph'],
      ['validate', '-f', file],
      ['apply', '-f', file, '--dry-run'],
      ['traces'],
      ['traffic', 'client'],
    ])
      hay.add('cli', await cli(url, args));

    // Every route of the API, as its OpenAPI document lists them; bodies that are accepted or
    // refused alike. Last, so that what they change cannot disturb the checks above.
    const openapi = JSON.parse((await api('GET', '/v1/openapi.json')).text) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const fill = (path: string) =>
      path.replace(/\{(\w+)\}/g, (_, p: string) =>
        p === 'name' || p === 'service'
          ? 'client'
          : p === 'number' || p === 'from'
            ? '1'
            : p === 'to'
              ? '3'
              : 'x',
      );
    let routes = 0;
    for (const [path, methods] of Object.entries(openapi.paths)) {
      for (const method of Object.keys(methods)) {
        routes++;
        const concrete = fill(path);
        if (method === 'get') {
          await api('GET', concrete);
          await api('GET', `${concrete}${concrete.includes('?') ? '&' : '?'}limit=1000`);
        } else await api(method.toUpperCase(), concrete, method === 'delete' ? undefined : {});
      }
    }
    assert.ok(routes >= 30, `the OpenAPI document lists the routes (${routes})`);
    // The dashboard's own requests, as web/src makes them, and the event log whole.
    for (const path of [
      '/',
      '/v1/status',
      '/v1/services',
      '/v1/services/client',
      '/v1/revisions?limit=100',
      '/v1/revisions/1/diff/3',
      '/v1/events?limit=1000',
      '/v1/events?service=client',
      '/v1/graph',
      '/v1/gateway/snapshot',
      '/v1/secrets',
    ])
      await api('GET', path);
    // A request that carries the secret itself, malformed: the error must not echo it.
    const malformed = await fetch(`${url}/v1/secrets/DB_PASSWORD`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...bearer(token) },
      body: `{"value": ${FIRST}}`,
    });
    hay.add('PUT malformed', await malformed.text());
    for (const event of await plane.store.readEvents({ limit: 100_000 }))
      hay.add(`event ${event.seq}`, JSON.stringify(event));

    // The database and its WAL while the control plane runs (closing checkpoints the WAL away)…
    for (const path of await filesUnder(stateDir))
      if (/state\.db/.test(path)) hay.add(`${path} (open)`, await readFile(path));
    await plane.close();
    plane = undefined;
    // …and everything on disk after: the store, the trace store, instance logs, the control plane's log.
    for (const path of await filesUnder(dir)) {
      if (path.endsWith('secrets.key')) continue;
      hay.add(path, await readFile(path));
    }
    if (admin) {
      const { stdout } = await run('pg_dump', ['--data-only', '--inserts', store!], {
        maxBuffer: 64 * 1024 * 1024,
      });
      assert.match(stdout, /INSERT INTO public\.secrets/, 'the dump holds the secrets table');
      hay.add('pg_dump', stdout);
    }
    assert.ok(
      hay.places.some((p) => p.endsWith('state.db-wal (open)') || p === 'pg_dump'),
      'the store was searched',
    );
    assert.deepEqual(hay.found, [], `searched ${hay.places.length} places`);
  } finally {
    await plane?.close().catch(() => {});
    if (admin) {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
      await admin.end();
    }
    await rm(dir, { recursive: true, force: true });
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('a known secret never leaves in plain text', { timeout: 600_000 }, () => {
  it('on SQLite: API, CLI, dashboard requests, events, logs, the database file and its WAL', () =>
    scenario('sqlite'));
  it('on PostgreSQL: the same, and a dump of the database', () => scenario('postgres'));
});
