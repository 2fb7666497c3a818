// OTLP trace ingest: how many spans per second the control plane stores (and maps, and
// counts into RED) from OTLP/protobuf batches of 512 spans, and what CPU that costs it;
// then how long a 1,000-span trace takes to show, and how much disk a million spans take.
//
//   node bench/otlp-ingest.ts [seconds per phase = 15] [senders = 4] [--store postgres://…]
//
// Three processes: `baton server` (the control plane, its CPU read from /proc), a load
// generator (this file with --generate: several concurrent senders, each POSTing fresh
// batches built with the official OTel serializer), and this one, which conducts. Phases:
// as fast as the senders can go, then paced at the goal rate (30,000 spans/s).
//
// With --store, the same again on a control plane whose store (and so span store) is that
// PostgreSQL server, in a scratch database created for the run and dropped after it: the
// SQLite span store is the peer, measured in the same run. The database's CPU is counted
// too (the backends serving the scratch database, read from /proc: the server must be on
// this machine).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { bearer, serverToken } from '../test/support/api-token.ts';
import { median } from './stats.ts';

/** The control plane's admin token (it may export spans of every service); the generator child gets it by environment. */
let token = process.env['BATON_TOKEN'] ?? '';

const REPO = join(import.meta.dirname, '..');
const BATCH = 512;
const GOAL_SPANS_PER_SECOND = 30_000;
const SERVICES = ['web', 'orders', 'inventory', 'payments'] as const;
const RESOURCES = new Map<string, Resource>(
  SERVICES.map((service) => [
    service,
    resourceFromAttributes({
      'service.name': service,
      'service.instance.id': `${service}-${randomBytes(4).toString('hex')}`,
      'service.version': '1.4.2',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.name': 'opentelemetry',
      'telemetry.sdk.version': '2.12.1',
    }),
  ]),
);
const SCOPE = { name: '@baton/sdk', version: '0.1.0' };

interface SpanPlan {
  readonly service: (typeof SERVICES)[number];
  readonly parent: number | undefined;
  readonly kind: SpanKind;
  readonly name: string;
  readonly attributes: Attributes;
  readonly at: number;
  readonly ms: number;
}

const server = (route: string, method = 'POST'): Attributes => ({
  'http.request.method': method,
  'url.path': route,
  'url.scheme': 'http',
  'server.port': 7102,
  'client.address': '127.0.0.1',
  'http.route': route,
  'http.response.status_code': 201,
});
const client = (peer: string, path: string): Attributes => ({
  'http.request.method': 'POST',
  'url.full': `http://127.0.0.1:7103${path}`,
  'server.address': '127.0.0.1',
  'server.port': 7103,
  'peer.service': peer,
  'http.response.status_code': 201,
});

/** One checkout, as the shop's services trace it: 8 spans over 4 services. */
const CHECKOUT: readonly SpanPlan[] = [
  {
    service: 'web',
    parent: undefined,
    kind: SpanKind.SERVER,
    name: 'POST /api/checkout',
    attributes: server('/api/checkout'),
    at: 0,
    ms: 40,
  },
  {
    service: 'web',
    parent: 0,
    kind: SpanKind.CLIENT,
    name: 'POST orders',
    attributes: client('orders', '/orders'),
    at: 1,
    ms: 38,
  },
  {
    service: 'orders',
    parent: 1,
    kind: SpanKind.SERVER,
    name: 'POST /orders',
    attributes: server('/orders'),
    at: 2,
    ms: 35,
  },
  {
    service: 'orders',
    parent: 2,
    kind: SpanKind.CLIENT,
    name: 'POST inventory',
    attributes: client('inventory', '/reservations'),
    at: 3,
    ms: 8,
  },
  {
    service: 'inventory',
    parent: 3,
    kind: SpanKind.SERVER,
    name: 'POST /reservations',
    attributes: server('/reservations'),
    at: 4,
    ms: 6,
  },
  {
    service: 'orders',
    parent: 2,
    kind: SpanKind.CLIENT,
    name: 'POST payments',
    attributes: client('payments', '/charges'),
    at: 12,
    ms: 22,
  },
  {
    service: 'payments',
    parent: 5,
    kind: SpanKind.SERVER,
    name: 'POST /charges',
    attributes: server('/charges'),
    at: 13,
    ms: 20,
  },
  {
    service: 'payments',
    parent: 6,
    kind: SpanKind.INTERNAL,
    name: 'discover ledger',
    attributes: { 'baton.discovery.service': 'ledger' },
    at: 14,
    ms: 1,
  },
];

function hrTime(ms: number): [number, number] {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/** Finished spans shaped as the OTel SDK hands them to an exporter. */
function readableSpan(
  traceId: string,
  spanId: string,
  parentId: string | undefined,
  plan: SpanPlan,
  startMs: number,
): ReadableSpan {
  return {
    name: plan.name,
    kind: plan.kind,
    spanContext: () => ({ traceId, spanId, traceFlags: 1 }),
    parentSpanContext: parentId
      ? { traceId, spanId: parentId, traceFlags: 1, isRemote: plan.kind === SpanKind.SERVER }
      : undefined,
    startTime: hrTime(startMs + plan.at),
    endTime: hrTime(startMs + plan.at + plan.ms),
    duration: hrTime(plan.ms),
    status: { code: SpanStatusCode.UNSET },
    attributes: plan.attributes,
    links: [],
    events: [],
    ended: true,
    resource: RESOURCES.get(plan.service)!,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** A batch of `count` spans: whole checkouts with fresh ids, as a collector would forward them. */
export function batch(count = BATCH): Uint8Array {
  const spans: ReadableSpan[] = [];
  const now = Date.now();
  const ids = randomBytes(Math.ceil(count / CHECKOUT.length) * (16 + 8 * CHECKOUT.length)).toString('hex');
  let cursor = 0;
  const take = (bytes: number) => ids.slice(cursor, (cursor += bytes * 2));
  while (spans.length < count) {
    const traceId = take(16);
    const spanIds = CHECKOUT.map(() => take(8));
    for (const [i, plan] of CHECKOUT.entries()) {
      if (spans.length === count) break;
      spans.push(
        readableSpan(
          traceId,
          spanIds[i]!,
          plan.parent === undefined ? undefined : spanIds[plan.parent],
          plan,
          now,
        ),
      );
    }
  }
  return ProtobufTraceSerializer.serializeRequest(spans)!;
}

/** One trace of `count` spans: a root with a fan of calls, each with a few levels below. */
function bigTrace(count: number): { traceId: string; body: Uint8Array } {
  const traceId = randomBytes(16).toString('hex');
  const spans: ReadableSpan[] = [];
  const now = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const spanId = randomBytes(8).toString('hex');
    ids.push(spanId);
    const parent = i === 0 ? undefined : ids[i % 5 === 1 ? 0 : i - 1];
    const plan = CHECKOUT[i % CHECKOUT.length]!;
    spans.push(
      readableSpan(traceId, spanId, parent, { ...plan, at: i * 0.05, ms: i === 0 ? count : 0.04 }, now),
    );
  }
  return { traceId, body: ProtobufTraceSerializer.serializeRequest(spans)! };
}

// ---------------------------------------------------------------------------- generator

/**
 * Fresh batches at almost no cost, so that the generator is not what limits the rate: one
 * batch serialised by the OTel serializer, then copies of it with every trace and span id
 * replaced by new random ones (consistently: a parent id still names its parent).
 */
class BatchFactory {
  readonly #template = batch();
  readonly #groups: { readonly length: number; readonly offsets: number[] }[] = [];
  readonly #idBytes: number;

  constructor() {
    const byId = new Map<string, { length: number; offsets: number[] }>();
    const note = (start: number, end: number) => {
      const key = Buffer.from(this.#template.subarray(start, end)).toString('hex');
      let group = byId.get(key);
      if (group === undefined) {
        group = { length: end - start, offsets: [] };
        byId.set(key, group);
      }
      group.offsets.push(start);
    };
    const bytes = this.#template;
    fields(
      bytes,
      0,
      bytes.length,
      (f, a, b) =>
        f !== 1 ||
        fields(
          bytes,
          a,
          b,
          (f, a, b) =>
            f !== 2 ||
            fields(
              bytes,
              a,
              b,
              (f, a, b) =>
                f !== 2 ||
                fields(bytes, a, b, (f, a, b) => {
                  if (f === 1 || f === 2 || f === 4) note(a, b);
                  return true;
                }),
            ),
        ),
    );
    this.#groups = [...byId.values()];
    this.#idBytes = this.#groups.reduce((sum, g) => sum + g.length, 0);
  }

  next(): Uint8Array {
    const out = Buffer.from(this.#template);
    const fresh = randomBytes(this.#idBytes);
    let cursor = 0;
    for (const group of this.#groups) {
      for (const offset of group.offsets) fresh.copy(out, offset, cursor, cursor + group.length);
      cursor += group.length;
    }
    return out;
  }
}

/** Calls `visit` with each length-delimited field's number and value range in [from, to). */
function fields(
  bytes: Uint8Array,
  from: number,
  to: number,
  visit: (field: number, start: number, end: number) => boolean,
): boolean {
  let pos = from;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (pos < to) {
    const tag = varint();
    const type = tag % 8;
    if (type === 0) varint();
    else if (type === 1) pos += 8;
    else if (type === 5) pos += 4;
    else {
      const length = varint();
      visit(Math.floor(tag / 8), pos, pos + length);
      pos += length;
    }
  }
  return true;
}

async function generate(url: string, senders: number, seconds: number, rate: number): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  const interval = rate > 0 ? (BATCH * senders * 1000) / rate : 0; // ms between one sender's batches
  let spans = 0;
  let failed = 0;
  const factory = new BatchFactory();
  const sender = async (index: number) => {
    let next = performance.now() + (interval * index) / senders;
    while (performance.now() < deadline) {
      if (interval > 0) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        next += interval;
      }
      const body = factory.next();
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', ...bearer(token) },
        body,
      });
      await response.arrayBuffer();
      if (response.ok) spans += BATCH;
      else failed++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: senders }, (_, i) => sender(i)));
  process.stdout.write(
    JSON.stringify({ spans, failed, seconds: (performance.now() - started) / 1000 }) + '\n',
  );
}

// ---------------------------------------------------------------------------- conductor

const CLOCK_TICKS = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime + stime
}

function startBaton(stateDir: string, store?: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      join(REPO, 'bin/baton.js'),
      'server',
      '--listen',
      '127.0.0.1:0',
      '--state-dir',
      stateDir,
      '--log-level',
      'warn',
      ...(store === undefined ? [] : ['--store', store]),
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ child, url: match[1]! });
    });
    child.once('exit', (code) => reject(new Error(`baton server exited with ${code}`)));
  });
}

function runGenerator(
  url: string,
  senders: number,
  seconds: number,
  rate: number,
): Promise<{ spans: number; failed: number; seconds: number }> {
  const child = spawn(
    process.execPath,
    [import.meta.filename, '--generate', url, String(senders), String(seconds), String(rate)],
    {
      // The token by environment, never on a command line other users can read.
      env: { ...process.env, BATON_TOKEN: token },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as never) : reject(new Error(`generator exited ${code}`)),
    ),
  );
}

/** Where the spans go: the embedded SQLite file, or a PostgreSQL database (and its backends' CPU). */
interface SpanStoreUnderTest {
  readonly name: string;
  readonly store: string | undefined;
  /** CPU seconds the database has spent for this control plane so far (0 for SQLite: it runs inside). */
  databaseCpu(): Promise<number>;
  /** Spans stored and the bytes they take. */
  size(stateDir: string): Promise<{ spans: number; used: number; onDisk: number }>;
  close(): Promise<void>;
}

function sqliteUnderTest(): SpanStoreUnderTest {
  return {
    name: 'SQLite',
    store: undefined,
    databaseCpu: async () => 0,
    async size(stateDir) {
      const path = join(stateDir, 'traces.db');
      const db = new DatabaseSync(path, { readOnly: true });
      const spans = (db.prepare('SELECT count(*) AS n FROM spans').get() as { n: number }).n;
      const pragma = (name: string) => (db.prepare(`PRAGMA ${name}`).get() as Record<string, number>)[name]!;
      const used = (pragma('page_count') - pragma('freelist_count')) * pragma('page_size');
      db.close();
      return { spans, used, onDisk: statSync(path).size };
    },
    close: async () => {},
  };
}

async function postgresUnderTest(url: string): Promise<SpanStoreUnderTest> {
  const database = `baton_otlp_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const store = url.replace(/\/[^/?]*(\?|$)/, `/${database}$1`);
  // Backends come and go with the pool: a backend's CPU is remembered once seen, and added
  // up with what every live one has spent.
  const spent = new Map<number, number>();
  return {
    name: 'PostgreSQL',
    store,
    async databaseCpu() {
      const { rows } = await admin.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = $1',
        [database],
      );
      for (const { pid } of rows) {
        try {
          spent.set(pid, cpuSeconds(pid));
        } catch {
          // ended meanwhile: its last reading stands
        }
      }
      return [...spent.values()].reduce((a, b) => a + b, 0);
    },
    async size() {
      // Rows and their indexes and TOAST, as pg_total_relation_size counts them; on a fresh
      // database nothing was deleted, so that is also what the files hold.
      const scratch = new pg.Client({ connectionString: store });
      await scratch.connect();
      try {
        const { rows } = await scratch.query<{ spans: string; used: string }>(
          `SELECT (SELECT count(*) FROM baton_traces.spans) AS spans,
             (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'baton_traces' AND c.relkind = 'r') AS used`,
        );
        const used = Number(rows[0]!.used);
        return { spans: Number(rows[0]!.spans), used, onDisk: used };
      } finally {
        await scratch.end();
      }
    },
    async close() {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    },
  };
}

interface PhaseResult {
  readonly spansPerSecond: number;
  readonly cores: number;
  readonly databaseCores: number;
  readonly spans: number;
}

async function phase(
  name: string,
  baton: { child: ChildProcess; url: string },
  under: SpanStoreUnderTest,
  senders: number,
  seconds: number,
  rate: number,
): Promise<PhaseResult> {
  const cpuBefore = cpuSeconds(baton.child.pid!);
  const databaseBefore = await under.databaseCpu();
  const wallBefore = performance.now();
  const result = await runGenerator(`${baton.url}/v1/traces`, senders, seconds, rate);
  const wall = (performance.now() - wallBefore) / 1000;
  const cpu = cpuSeconds(baton.child.pid!) - cpuBefore;
  const databaseCpu = (await under.databaseCpu()) - databaseBefore;
  // The generator process takes a moment to start and stop: CPU over the whole wall time.
  const spansPerSecond = result.spans / result.seconds;
  const cores = cpu / wall;
  const database = under.store === undefined ? '' : `  database ${(databaseCpu / wall).toFixed(2)} cores`;
  console.log(
    `${`${under.name}: ${name}`.padEnd(38)} ${Math.round(spansPerSecond).toLocaleString('en').padStart(8)} spans/s  ` +
      `control plane ${cores.toFixed(2)} cores${database}  ${Math.round(result.spans / (cpu + databaseCpu))
        .toLocaleString('en')
        .padStart(8)} spans per CPU-second  ` +
      `(${result.spans.toLocaleString('en')} spans, ${result.failed} failed batches)`,
  );
  return { spansPerSecond, cores, databaseCores: databaseCpu / wall, spans: result.spans };
}

async function measure(under: SpanStoreUnderTest, seconds: number, senders: number): Promise<PhaseResult> {
  const dir = await mkdtemp(join(tmpdir(), 'baton-otlp-bench-'));
  const stateDir = join(dir, 'state');
  const baton = await startBaton(stateDir, under.store);
  token = await serverToken(stateDir);
  let fastest: PhaseResult;
  try {
    await phase('warm-up', baton, under, senders, 3, 0);
    fastest = await phase('as fast as possible', baton, under, senders, seconds, 0);
    await phase(
      `paced at ${GOAL_SPANS_PER_SECOND.toLocaleString('en')}/s`,
      baton,
      under,
      senders,
      seconds,
      GOAL_SPANS_PER_SECOND,
    );

    const big = bigTrace(1_000);
    const posted = await fetch(`${baton.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', ...bearer(token) },
      body: big.body,
    });
    if (!posted.ok) throw new Error(`the 1,000-span trace was refused: ${posted.status}`);
    const timings: number[] = [];
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      const view = (await (
        await fetch(`${baton.url}/v1/traces/${big.traceId}`, { headers: bearer(token) })
      ).json()) as {
        rows: unknown[];
      };
      timings.push(performance.now() - started);
      if (view.rows.length !== 1_000) throw new Error(`expected 1,000 rows, got ${view.rows.length}`);
    }
    const searches: number[] = [];
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      await (
        await fetch(`${baton.url}/v1/traces?service=payments&minDuration=30ms&limit=20`, {
          headers: bearer(token),
        })
      ).json();
      searches.push(performance.now() - started);
    }
    console.log(
      `${under.name}: GET /v1/traces/{id}, 1,000 spans: median ${median(timings).toFixed(1)} ms (call tree + waterfall, JSON over HTTP)` +
        `\n${under.name}: GET /v1/traces?service=payments&minDuration=30ms&limit=20: median ${median(searches).toFixed(1)} ms`,
    );
  } finally {
    baton.child.kill('SIGTERM');
    await new Promise((resolve) => baton.child.once('exit', resolve));
  }
  const { spans, used, onDisk } = await under.size(stateDir);
  console.log(
    `${under.name}: store: ${spans.toLocaleString('en')} spans in ${(used / 1024 / 1024).toFixed(1)} MiB ` +
      `(${(onDisk / 1024 / 1024).toFixed(1)} MiB on disk) → ${(((used / spans) * 1e6) / 1024 / 1024).toFixed(0)} MiB per million spans\n`,
  );
  await rm(dir, { recursive: true, force: true });
  return fastest;
}

async function conduct(seconds: number, senders: number, postgres: string | undefined): Promise<void> {
  console.log(`OTLP/protobuf batches of ${BATCH} spans, ${senders} senders, ${seconds}s per phase\n`);
  const sqlite = await measure(sqliteUnderTest(), seconds, senders);
  if (postgres === undefined) return;
  const under = await postgresUnderTest(postgres);
  try {
    const shared = await measure(under, seconds, senders);
    console.log(
      `PostgreSQL / SQLite, as fast as possible: ${(shared.spansPerSecond / sqlite.spansPerSecond).toFixed(2)}× the spans/s, ` +
        `${((shared.cores + shared.databaseCores) / sqlite.cores).toFixed(2)}× the cores (control plane + database)`,
    );
  } finally {
    await under.close();
  }
}

const args = process.argv.slice(2);
if (process.argv[1] !== import.meta.filename) {
  // imported (by a profile script): nothing to run
} else if (args[0] === '--generate') {
  await generate(args[1]!, Number(args[2]), Number(args[3]), Number(args[4]));
} else {
  const at = args.indexOf('--store');
  const store = at === -1 ? undefined : args.splice(at, 2)[1];
  if (at !== -1 && !/^postgres(ql)?:\/\//.test(store ?? ''))
    throw new Error('--store takes a postgres:// URL (SQLite is always measured, as the peer)');
  await conduct(Number(args[0] ?? 15), Number(args[1] ?? 4), store);
}
