import assert from 'node:assert/strict';
import { access, chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, it } from 'node:test';
import { eventually } from '../../../../test/support/eventually.ts';
import { runtimeContract } from '../../../ports/runtime.contract.ts';
import type { Behaviour } from '../../../ports/runtime.contract.ts';
import { BatonError } from '../../../domain/errors.ts';
import type {
  InstanceSpec,
  LogLine,
  Refusal,
  RunningInstance,
  RuntimeEvent,
} from '../../../ports/runtime.ts';
import { operatorPath } from './operator-path.ts';
import { isGone, readProcStat } from './proc-fs.ts';
import { createProcessRuntime, findOwnedProcesses } from './process-runtime.ts';
import { ownerMark } from './owner-mark.ts';
import type { ProcessRuntime, ProcessRuntimeOptions } from './process-runtime.ts';

// A small service: answers on PORT (and PORT_ADMIN), and does on request what the tests need.
// Env switches: IGNORE_TERM (survives SIGTERM), GRANDCHILD (spawns a process of its own).
const SERVICE = String.raw`
const http = require('node:http');
if (process.env.IGNORE_TERM) process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
if (process.env.GRANDCHILD)
  require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
console.log('hello from ' + process.env.BATON_INSTANCE);
console.error('warning from ' + process.env.BATON_INSTANCE);
const routes = {
  '/healthz': () => 'ok',
  '/env': () => JSON.stringify(process.env),
  '/node': () => JSON.stringify({ execPath: process.execPath, version: process.version }),
  '/say': (q) => void console.log(q.get('line')),
  '/warn': (q) => void console.error(q.get('line')),
  '/write': (q) => void process.stdout.write('x'.repeat(Number(q.get('bytes')) - 1) + '\n'),
};
const serve = (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const route = routes[url.pathname];
  if (!route) res.statusCode = 404;
  res.end(route ? (route(url.searchParams) ?? '') : '');
};
http.createServer(serve).listen(Number(process.env.PORT), '127.0.0.1');
if (process.env.PORT_ADMIN) http.createServer(serve).listen(Number(process.env.PORT_ADMIN), '127.0.0.1');
`;

const DEADLINE_MS = 10_000;

function specFor(
  behaviour: Behaviour,
  id: string,
  cwd: string,
  env: Record<string, string> = {},
): InstanceSpec {
  const base = {
    id,
    service: 'orders',
    version: '1.2.3',
    revision: 7,
    baseDir: cwd,
    mode: 'cattle' as const,
    env: { GREETING: 'hello', ...env },
    ports: [{ name: 'http' }, { name: 'admin' }],
  };
  const run = (command: string, args: string[]) => ({
    ...base,
    workload: { run: { command, args }, volumes: [] },
  });
  // The Node running these tests, by its path: `node` on the PATH is the operator's, whichever that is.
  if (behaviour === 'serve') return run(process.execPath, ['-e', SERVICE]);
  if (behaviour === 'crash') return run(process.execPath, ['-e', 'process.exit(3)']);
  return run('baton-no-such-command', []);
}

/** Polls until the predicate holds (real time has no other way), failing after a deadline. */
async function waitFor(predicate: () => boolean | Promise<boolean>, description: string): Promise<void> {
  await eventually(predicate, { what: description, timeoutMs: DEADLINE_MS, intervalMs: 10 });
}

async function settle<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no outcome within ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET once the instance listens: right after `start` it may still be booting. */
async function getWhenUp(port: number, path: string): Promise<{ status: number; body: string }> {
  let response: { status: number; body: string } | undefined;
  await waitFor(async () => {
    response = await get(port, path).catch(() => undefined);
    return response !== undefined;
  }, `an answer on port ${port}`);
  return response!;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function record(runtime: ProcessRuntime): RuntimeEvent[] {
  const events: RuntimeEvent[] = [];
  runtime.subscribe((event) => events.push(event));
  return events;
}

const exitOf = (events: RuntimeEvent[], id: string) =>
  events.find((e): e is Extract<RuntimeEvent, { type: 'exited' }> => e.type === 'exited' && e.id === id);

const byId = (instances: RunningInstance[]) => instances.toSorted((a, b) => a.id.localeCompare(b.id));

/**
 * Stops what each still-open runtime lists, then checks that no process carrying this state
 * folder's mark is left: anything else would be an orphan the runtime failed to stop.
 */
async function cleanup(stateDir: string, runtimes: Iterable<ProcessRuntime>): Promise<void> {
  for (const runtime of runtimes) {
    const instances = await runtime.list();
    await Promise.all(instances.map((i) => runtime.stop(i.id, { graceMs: 1_000 })));
    await runtime.close();
  }
  const leaked = await findOwnedProcesses(stateDir);
  for (const { pid } of leaked) process.kill(pid, 'SIGKILL');
  await rm(stateDir, { recursive: true, force: true });
  assert.deepEqual(leaked, [], 'no process with this BATON_OWNER outlives the test');
}

runtimeContract('process', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'baton-runtime-'));
  const runtime = await createProcessRuntime({ stateDir });
  let count = 0;
  return {
    runtime,
    spec: (behaviour) => specFor(behaviour, `orders-${++count}`, stateDir),
    environmentOf: async (instance) => JSON.parse((await getWhenUp(instance.port, '/env')).body),
    killFromOutside: (instance) => process.kill(instance.pid!, 'SIGKILL'),
    waitFor,
    settle,
    cleanup: () => cleanup(stateDir, [runtime]),
  };
});

interface Scenario {
  readonly stateDir: string;
  open(options?: Partial<ProcessRuntimeOptions>): Promise<ProcessRuntime>;
  /** The control plane dies: its runtime stops watching, its instances keep running. */
  die(runtime: ProcessRuntime): Promise<void>;
  spec(env?: Record<string, string>): InstanceSpec;
  recordPath(id: string): string;
  logPath(id: string, file?: string): string;
}

async function scenario(work: (s: Scenario) => Promise<void>): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), 'baton-runtime-'));
  const open = new Set<ProcessRuntime>();
  let count = 0;
  const s: Scenario = {
    stateDir,
    async open(options = {}) {
      // The scenarios' programs live in the state folder, which is root's alone: they run as
      // this user. Who instances run as under root is its own test, below.
      const runtime = await createProcessRuntime({ stateDir, asRoot: false, ...options });
      open.add(runtime);
      return runtime;
    },
    async die(runtime) {
      open.delete(runtime);
      await runtime.close();
    },
    spec: (env = {}) => specFor('serve', `orders-${++count}`, stateDir, env),
    recordPath: (id) => join(stateDir, 'instances', id, 'instance.json'),
    logPath: (id, file = 'stdout.log') => join(stateDir, 'instances', id, file),
  };
  try {
    await work(s);
  } finally {
    await cleanup(stateDir, open);
  }
}

describe('process runtime', () => {
  describe('admission', () => {
    const request = (
      stateDir: string,
      workload: InstanceSpec['workload'],
      env: Record<string, string> = {},
    ) => ({
      service: 'orders',
      workload,
      mode: 'cattle' as const,
      baseDir: stateDir,
      env,
    });
    const codes = (refusals: readonly Refusal[]) =>
      refusals.map((r) => `${r.severity} ${r.code} ${r.field.join('.')}`);

    it('admits a command it can find in a folder that exists', () =>
      scenario(async (s) => {
        const runtime = await s.open();
        assert.deepEqual(
          await runtime.admit(
            request(s.stateDir, { run: { command: process.execPath, args: [] }, volumes: [] }),
          ),
          [],
        );
        assert.deepEqual(
          await runtime.admit(request(s.stateDir, { run: { command: 'sh', args: [] }, volumes: [] })),
          [],
        );
      }));

    it('refuses an image-only service, naming the image', () =>
      scenario(async (s) => {
        const runtime = await s.open();
        const refusals = await runtime.admit(request(s.stateDir, { image: 'shop/orders:2', volumes: [] }));
        assert.deepEqual(codes(refusals), ['error runtime-unsupported image']);
        assert.match(refusals[0]!.message, /shop\/orders:2/);
        assert.match(refusals[0]!.hint ?? '', /container runtime/);
      }));

    it('refuses a missing folder, a missing command and one that is not executable', () =>
      scenario(async (s) => {
        const runtime = await s.open();
        await writeFile(join(s.stateDir, 'script.sh'), 'echo hi\n', { mode: 0o644 });
        const run = (command: string, cwd?: string) => ({
          run: { command, args: [], ...(cwd ? { cwd } : {}) },
          volumes: [],
        });
        assert.deepEqual(codes(await runtime.admit(request(s.stateDir, run('sh', 'no/such/dir')))), [
          'error run-cwd-missing run.cwd',
        ]);
        assert.deepEqual(codes(await runtime.admit(request(s.stateDir, run('baton-no-such-command')))), [
          'error command-not-found run.command',
        ]);
        const notExecutable = await runtime.admit(request(s.stateDir, run('./script.sh')));
        assert.deepEqual(codes(notExecutable), ['error command-not-found run.command']);
        assert.match(notExecutable[0]!.message, /not executable/);
      }));

    it("looks the command up on the manifest's PATH when it sets one", () =>
      scenario(async (s) => {
        const runtime = await s.open();
        const bin = join(s.stateDir, 'tools');
        await mkdir(bin);
        await writeFile(join(bin, 'serve-it'), '#!/bin/sh\n', { mode: 0o755 });
        const workload = { run: { command: 'serve-it', args: [] }, volumes: [] };
        assert.deepEqual(codes(await runtime.admit(request(s.stateDir, workload))), [
          'error command-not-found run.command',
        ]);
        assert.deepEqual(await runtime.admit(request(s.stateDir, workload, { PATH: bin })), []);
      }));

    it('warns that volumes are not mounted', () =>
      scenario(async (s) => {
        const runtime = await s.open();
        const workload = {
          run: { command: 'sh', args: [] },
          volumes: [{ name: 'data', path: '/data', readOnly: false }],
        };
        assert.deepEqual(codes(await runtime.admit(request(s.stateDir, workload))), [
          'warning not-honoured volumes',
        ]);
      }));
  });

  describe('starting', () => {
    it("runs `node` from the operator's PATH, never the one npm put in front for Baton", () =>
      scenario(async (s) => {
        // Under `npm start`, the project's node_modules/.bin comes first: its `node` is Baton's own.
        const batons = join(s.stateDir, 'project', 'node_modules', '.bin');
        const operators = join(s.stateDir, 'operator-bin');
        await mkdir(batons, { recursive: true });
        await mkdir(operators, { recursive: true });
        await writeFile(join(batons, 'node'), '#!/bin/sh\nexit 42\n', { mode: 0o755 });
        await symlink(process.execPath, join(operators, 'node'));
        const PATH = [batons, operators, '/usr/bin', '/bin'].join(delimiter);
        const runtime = await s.open({ environment: { PATH, npm_execpath: '/usr/lib/npm/bin/npm-cli.js' } });
        const spec = s.spec();
        const instance = await runtime.start({
          ...spec,
          workload: { ...spec.workload, run: { command: 'node', args: ['-e', SERVICE] } },
        });
        const env = JSON.parse((await getWhenUp(instance.port, '/env')).body);
        assert.equal(env.PATH, [operators, '/usr/bin', '/bin'].join(delimiter));
      }));

    it('resolves a relative `run.cwd` and a relative command against the manifest folder', () =>
      scenario(async (s) => {
        const bin = join(s.stateDir, 'app', 'bin');
        await mkdir(bin, { recursive: true });
        await symlink(process.execPath, join(bin, 'node'));
        const runtime = await s.open();
        const spec = s.spec();
        const instance = await runtime.start({
          ...spec,
          workload: { ...spec.workload, run: { command: './bin/node', args: ['-e', SERVICE], cwd: 'app' } },
        });
        const env = JSON.parse((await getWhenUp(instance.port, '/env')).body);
        assert.equal(env.BATON_INSTANCE, spec.id);
      }));

    it('refuses an image-only workload with a terminal coded error', () =>
      scenario(async (s) => {
        const runtime = await s.open();
        const spec = s.spec();
        await assert.rejects(
          runtime.start({ ...spec, workload: { image: 'shop/orders:2.1.0', volumes: [] } }),
          (error) => {
            assert.ok(error instanceof BatonError);
            assert.equal(error.code, 'runtime-refused');
            assert.equal(error.retryable, false);
            assert.match(error.message, /image shop\/orders:2\.1\.0/);
            return true;
          },
        );
      }));

    it("passes on a minimal environment, never the control plane's secrets", () =>
      scenario(async (s) => {
        process.env.BATON_TOKEN = 'operator-secret';
        process.env.BATON_TEST_SECRET = 'do-not-leak';
        try {
          const runtime = await s.open();
          const instance = await runtime.start(s.spec());
          const env = JSON.parse((await getWhenUp(instance.port, '/env')).body);
          assert.equal(env.BATON_TOKEN, undefined);
          assert.equal(env.BATON_TEST_SECRET, undefined);
          assert.equal(env.BATON_SERVER, undefined);
          assert.equal(env.PATH, operatorPath(process.env));
          assert.ok(process.env.PATH?.endsWith(env.PATH), 'the tail of the PATH Baton was given');
          assert.equal(
            env.BATON_OWNER,
            ownerMark(s.stateDir),
            'the mark by which a restarted control plane finds it',
          );
          assert.ok(
            !Object.values(env as Record<string, string>).some((v) => v.includes(s.stateDir)),
            'no variable leads to the state folder',
          );
        } finally {
          delete process.env.BATON_TOKEN;
          delete process.env.BATON_TEST_SECRET;
        }
      }));

    it("passes on the server and the service's own token", () =>
      scenario(async (s) => {
        const runtime = await s.open({
          tokenFor: (service) => `token-of-${service}`,
          serverUrl: 'http://127.0.0.1:7070',
        });
        const instance = await runtime.start(s.spec());
        const env = JSON.parse((await getWhenUp(instance.port, '/env')).body);
        assert.equal(env.BATON_TOKEN, `token-of-${s.spec().service}`);
        assert.equal(env.BATON_SERVER, 'http://127.0.0.1:7070');
      }));

    it('as root, runs instances as `nobody` by default, as their `user`, or as root when asked', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'baton-run-as-'));
      try {
        await chmod(dir, 0o755);
        const stateDir = join(dir, 'state');
        const runtime = await createProcessRuntime({ stateDir, asRoot: true });
        try {
          const ids: string[] = [];
          const started = async (user: string | undefined) => {
            const spec = specFor('serve', `orders-${user ?? 'default'}`, dir);
            const instance = await runtime.start({ ...spec, workload: { ...spec.workload, user } });
            ids.push(instance.id);
            const status = await readFile(`/proc/${instance.pid}/status`, 'utf8');
            return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
          };
          if (process.getuid?.() !== 0) return; // only root can switch users
          assert.equal(await started(undefined), 65534, 'nobody');
          assert.equal(await started('daemon'), 1);
          assert.equal(await started('root'), 0);
          const spec = specFor('serve', 'x-1', dir);
          await assert.rejects(
            runtime.start({ ...spec, workload: { ...spec.workload, user: 'no-such-user' } }),
            /the user `no-such-user` does not exist/,
          );
          for (const id of ids) await runtime.stop(id, { graceMs: 2_000 });
        } finally {
          await runtime.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('rejects a missing command, saying which one and where', () =>
      scenario(async (s) => {
        const runtime = await s.open();
        const serve = s.spec();
        const spec = {
          ...serve,
          workload: { ...serve.workload, run: { command: 'baton-no-such-command', args: [] } },
        };
        await assert.rejects(runtime.start(spec), (error) => {
          assert.ok(error instanceof BatonError);
          assert.equal(error.code, 'instance-unstartable');
          assert.match(error.message, /command "baton-no-such-command" not found/);
          assert.ok(error.hint?.includes(s.stateDir), error.hint);
          return true;
        });
        assert.equal(await exists(join(s.stateDir, 'instances', spec.id)), false, 'nothing left on disk');
      }));

    it('rejects a missing working directory, saying so', () =>
      scenario(async (s) => {
        const runtime = await s.open();
        const baseDir = join(s.stateDir, 'nowhere');
        await assert.rejects(runtime.start({ ...s.spec(), baseDir }), (error) => {
          assert.ok(error instanceof BatonError);
          assert.equal(error.code, 'instance-unstartable');
          assert.match(error.message, /working directory .*nowhere does not exist/);
          return true;
        });
      }));

    it('writes an instance record with the start time of the process', () =>
      scenario(async (s) => {
        const runtime = await s.open();
        const instance = await runtime.start(s.spec());
        const written = JSON.parse(await readFile(s.recordPath(instance.id), 'utf8'));
        assert.deepEqual(written.instance, instance);
        const stat = await readFile(`/proc/${instance.pid}/stat`, 'latin1');
        assert.equal(written.startTicks, stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
      }));
  });

  describe('stopping', () => {
    it('SIGKILLs an instance that ignores SIGTERM once graceMs has passed', () =>
      scenario(async (s) => {
        const runtime = await s.open();
        const events = record(runtime);
        const instance = await runtime.start(s.spec({ IGNORE_TERM: '1' }));
        await getWhenUp(instance.port, '/healthz'); // its SIGTERM handler is in place
        await runtime.stop(instance.id, { graceMs: 300 });
        assert.equal(exitOf(events, instance.id)?.signal, 'SIGKILL');
        assert.match(await readFile(s.logPath(instance.id), 'utf8'), /ignoring SIGTERM/);
      }));

    it('stops the whole process group, children of the instance included', () =>
      scenario(async (s) => {
        const runtime = await s.open();
        const instance = await runtime.start(s.spec({ GRANDCHILD: '1' }));
        await waitFor(
          async () => (await findOwnedProcesses(s.stateDir)).length === 2,
          'the instance and its child',
        );
        await runtime.stop(instance.id, { graceMs: 2_000 });
        assert.deepEqual(await findOwnedProcesses(s.stateDir), []);
      }));

    it('kills what an instance that died by itself left behind', () =>
      scenario(async (s) => {
        const runtime = await s.open();
        const events = record(runtime);
        const instance = await runtime.start(s.spec({ GRANDCHILD: '1' }));
        await waitFor(
          async () => (await findOwnedProcesses(s.stateDir)).length === 2,
          'the instance and its child',
        );
        process.kill(instance.pid!, 'SIGKILL');
        await waitFor(() => exitOf(events, instance.id) !== undefined, 'the exit');
        await waitFor(async () => (await findOwnedProcesses(s.stateDir)).length === 0, 'no leftover');
      }));

    it('removes the record but keeps the logs', () =>
      scenario(async (s) => {
        const runtime = await s.open();
        const instance = await runtime.start(s.spec());
        await getWhenUp(instance.port, '/healthz');
        await runtime.stop(instance.id, { graceMs: 2_000 });
        assert.equal(await exists(s.recordPath(instance.id)), false);
        assert.match(await readFile(s.logPath(instance.id), 'utf8'), /hello from orders-1/);
      }));
  });

  describe('logs', () => {
    it('writes output to per-instance files, tails them and follows new lines', () =>
      scenario(async (s) => {
        const runtime = await s.open();
        const one = await runtime.start(s.spec());
        const two = await runtime.start(s.spec());
        await getWhenUp(one.port, '/healthz');
        await getWhenUp(two.port, '/healthz');
        for (const line of ['line-1', 'line-2', 'line-3']) await get(one.port, `/say?line=${line}`);
        assert.equal(
          await readFile(s.logPath(one.id), 'utf8'),
          'hello from orders-1\nline-1\nline-2\nline-3\n',
        );
        assert.equal(await readFile(s.logPath(one.id, 'stderr.log'), 'utf8'), 'warning from orders-1\n');

        // The tail is across instances, the most recently written last.
        const tailed = await collect(runtime.logs({ service: 'orders', tail: 2 }));
        assert.deepEqual(tailed, [
          { instance: one.id, stream: 'stdout', line: 'line-2' },
          { instance: one.id, stream: 'stdout', line: 'line-3' },
        ]);
        assert.equal(
          (await collect(runtime.logs({ service: 'orders' }))).length,
          7,
          'every line without a tail',
        );
        assert.deepEqual(await collect(runtime.logs({ service: 'payments', tail: 2 })), []);

        const abort = new AbortController();
        const followed: LogLine[] = [];
        const following = (async () => {
          const query = { service: 'orders', instance: one.id, tail: 1, follow: true, signal: abort.signal };
          for await (const line of runtime.logs(query)) followed.push(line);
        })();
        // The tail arriving means the follow has taken its starting point.
        await waitFor(() => followed.length === 1, 'the tail');
        await get(one.port, '/say?line=after-1');
        await get(one.port, '/warn?line=after-2');
        await waitFor(() => followed.length === 3, 'the followed lines');
        abort.abort();
        await following;

        // Following a whole service takes in the instances started meanwhile.
        const service = new AbortController();
        const serviceLines: LogLine[] = [];
        const followingService = (async () => {
          const query = { service: 'orders', tail: 1, follow: true, signal: service.signal };
          for await (const line of runtime.logs(query)) serviceLines.push(line);
        })();
        await waitFor(() => serviceLines.length === 1, 'the last line of the service');
        const three = await runtime.start(s.spec());
        await waitFor(() => serviceLines.length === 3, 'the lines of the new instance');
        service.abort();
        await followingService;
        assert.deepEqual(serviceLines.slice(1), [
          { instance: three.id, stream: 'stdout', line: 'hello from orders-3' },
          { instance: three.id, stream: 'stderr', line: 'warning from orders-3' },
        ]);

        assert.deepEqual(followed, [
          { instance: one.id, stream: 'stdout', line: 'line-3' },
          { instance: one.id, stream: 'stdout', line: 'after-1' },
          { instance: one.id, stream: 'stderr', line: 'after-2' },
        ]);
      }));

    it('leaves out instances that are gone, unless asked for by name or with `all`', () =>
      scenario(async (s) => {
        const runtime = await s.open();
        const gone = await runtime.start(s.spec());
        const live = await runtime.start(s.spec());
        await getWhenUp(gone.port, '/healthz');
        await getWhenUp(live.port, '/healthz');
        await runtime.stop(gone.id, { graceMs: 1_000 });
        const instances = async (query: Omit<Parameters<typeof runtime.logs>[0], 'service'>) =>
          [
            ...new Set((await collect(runtime.logs({ service: 'orders', ...query }))).map((l) => l.instance)),
          ].sort();
        assert.deepEqual(await instances({}), [live.id]);
        assert.deepEqual(await instances({ all: true }), [gone.id, live.id].sort());
        assert.deepEqual(await instances({ instance: gone.id }), [gone.id]);
      }));

    it('rotates a log past logMaxBytes, keeping logFiles copies', () =>
      scenario(async (s) => {
        const runtime = await s.open({ logMaxBytes: 1_000, logFiles: 2, logCheckMs: 20 });
        const instance = await runtime.start(s.spec());
        await getWhenUp(instance.port, '/healthz');
        const size = async (file: string) => (await stat(s.logPath(instance.id, file))).size;
        for (let round = 1; round <= 3; round++) {
          await get(instance.port, '/write?bytes=1500');
          await waitFor(async () => (await size('stdout.log')) < 1_000, `rotation ${round}`);
        }
        assert.equal(await size('stdout.log.1'), 1_500);
        assert.equal(await size('stdout.log.2'), 1_500);
        assert.equal(await exists(s.logPath(instance.id, 'stdout.log.3')), false);
        // The child writes on at the start of the truncated file, not at its old offset.
        await get(instance.port, '/say?line=after');
        assert.equal(await readFile(s.logPath(instance.id), 'utf8'), 'after\n');
        const tail = await collect(runtime.logs({ service: 'orders', instance: instance.id, tail: 3 }));
        assert.deepEqual(
          tail.filter((l) => l.stream === 'stdout').map((l) => l.line.length),
          [1_499, 1_499, 'after'.length],
          'the tail reaches into the rotated copies',
        );
      }));
  });

  describe('after a control-plane restart', () => {
    it('kills what is left of an instance that died while no control plane watched', () =>
      scenario(async (s) => {
        const first = await s.open();
        const instance = await first.start(s.spec({ GRANDCHILD: '1' }));
        await waitFor(
          async () => (await findOwnedProcesses(s.stateDir)).length === 2,
          'the instance and its child',
        );
        await s.die(first);
        process.kill(instance.pid!, 'SIGKILL');
        // Its environment empties while the kernel tears it down, before it is a zombie: wait on its
        // state, not on the owner scan, or the next control plane may still see it running.
        await waitFor(async () => {
          const stat = await readProcStat(instance.pid!);
          return stat === undefined || isGone(stat);
        }, 'the instance dead');
        await waitFor(async () => (await findOwnedProcesses(s.stateDir)).length === 1, 'only the child left');

        const second = await s.open();
        assert.deepEqual(await second.list(), []);
        assert.equal(await exists(s.recordPath(instance.id)), false, 'the stale record is removed');
        await waitFor(async () => (await findOwnedProcesses(s.stateDir)).length === 0, 'no orphan');
      }));

    it('adopts running instances, stops them and sees them die', () =>
      scenario(async (s) => {
        const first = await s.open();
        const one = await first.start(s.spec());
        const two = await first.start(s.spec());
        await s.die(first);

        const second = await s.open();
        const events = record(second);
        assert.deepEqual(byId(await second.list()), byId([one, two]));

        await second.stop(one.id, { graceMs: 2_000 });
        assert.ok(exitOf(events, one.id), 'the stop of an adopted instance is reported');
        assert.equal(await exists(s.recordPath(one.id)), false);
        assert.equal(await exists(s.logPath(one.id)), true);

        process.kill(two.pid!, 'SIGKILL');
        await waitFor(() => exitOf(events, two.id) !== undefined, 'the exit of the adopted instance');
        assert.deepEqual(exitOf(events, two.id)?.code, null);
        assert.deepEqual(await second.list(), []);
      }));

    it('does not adopt a record whose pid now belongs to another process', () =>
      scenario(async (s) => {
        const ghost = s.recordPath('ghost-1');
        await mkdir(join(ghost, '..'), { recursive: true });
        const instance = {
          id: 'ghost-1',
          service: 'orders',
          version: '1.0.0',
          revision: 1,
          address: '127.0.0.1',
          port: 1,
          ports: {},
          node: 'here',
          // Alive, but this test process: its start time is not the recorded one.
          pid: process.pid,
          startedAt: '2026-01-01T00:00:00.000Z',
        };
        await writeFile(ghost, JSON.stringify({ instance, pgid: process.pid, startTicks: '1' }));
        const corrupt = s.recordPath('corrupt-1');
        await mkdir(join(corrupt, '..'), { recursive: true });
        await writeFile(corrupt, '{ not json');

        const runtime = await s.open();
        assert.deepEqual(await runtime.list(), []);
        assert.equal(await exists(ghost), false, 'the stale record is removed');
        assert.equal(await exists(corrupt), false, 'the corrupt record is removed');
        await runtime.stop('ghost-1', { graceMs: 100 }); // and certainly does not signal us
      }));

    it('finds a process that carries its mark but has no record', () =>
      scenario(async (s) => {
        const first = await s.open();
        const started = await first.start(s.spec());
        await s.die(first);
        await rm(s.recordPath(started.id));

        const second = await s.open();
        const [found, ...others] = await second.list();
        assert.deepEqual(others, []);
        assert.ok(found);
        const { startedAt, ...identity } = found;
        const { startedAt: _, ...expected } = started;
        assert.deepEqual(identity, expected);
        assert.ok(!Number.isNaN(Date.parse(startedAt)), startedAt);
        assert.equal(await exists(s.recordPath(started.id)), true, 'the record is written again');

        await second.stop(started.id, { graceMs: 2_000 });
        assert.deepEqual(await findOwnedProcesses(s.stateDir), []);
      }));
  });
});
