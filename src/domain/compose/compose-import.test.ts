// compose import on compose files shaped like real public ones (test/fixtures/compose, see its
// README), and on every spelling the Compose specification allows for what it maps. Each
// result must be a manifest Baton accepts, and everything left out must be named.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseManifest } from '../manifest/parse.ts';
import { batonName, envFilesOf, importCompose, type ComposeSource } from './compose-import.ts';
import { parseDotEnv } from './dotenv.ts';
import { renderImport } from './render-import.ts';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/compose');

function fixture(name: string): ComposeSource {
  const dir = join(FIXTURES, name);
  const read = (file: string) => {
    try {
      return readFileSync(join(dir, file), 'utf8');
    } catch {
      return undefined;
    }
  };
  const document: unknown = parse(read('compose.yaml')!, { merge: true });
  const variables = parseDotEnv(read('.env') ?? '').values;
  const envFiles = Object.fromEntries(envFilesOf(document, variables).map((file) => [file, read(file)]));
  return { document, fallbackName: name, variables, envFiles };
}

/** Imports, renders and parses back: what `baton import compose` writes must be valid. */
function imported(source: ComposeSource) {
  const result = importCompose(source);
  if (!result.ok) assert.fail(result.error);
  const text = renderImport(result.manifest, result.notes, 'compose.yaml');
  const parsed = parseManifest(text);
  if (!parsed.ok) assert.fail(`invalid manifest:\n${text}\n${JSON.stringify(parsed.problems, null, 2)}`);
  const services = parsed.value.manifest.services;
  const notes = new Map(result.notes.map((n) => [n.path, n.message]));
  return { services, notes, name: parsed.value.manifest.name, text };
}

const inline = (document: unknown, extra: Partial<ComposeSource> = {}): ComposeSource => ({
  document,
  fallbackName: 'app',
  variables: {},
  envFiles: {},
  ...extra,
});

describe('importCompose on compose files like the public examples', () => {
  it('java-mysql: builds and targets, healthy-dependency order, a database as a pet with its volume', () => {
    const { services, notes, name } = imported(fixture('java-mysql'));
    assert.equal(name, 'java-mysql');
    assert.deepEqual(Object.keys(services).sort(), ['api', 'db', 'ui']);
    const { api, db, ui } = services as Record<string, NonNullable<(typeof services)[string]>>;
    assert.deepEqual(api!.build, { context: 'api', dockerfile: 'Dockerfile', args: {} });
    assert.equal(api!.image, 'java-mysql/api:1.0.0', 'a build without image gets the architecture’s tag');
    assert.deepEqual(api!.env, { MYSQL_HOST: 'db' });
    assert.deepEqual(api!.dependsOn, { db: { range: '^10.6.4', optional: false } });
    assert.equal(db!.version, '10.6.4', 'the version comes from the image tag');
    assert.equal(db!.mode, 'pet');
    assert.deepEqual(db!.volumes, [{ name: 'db-data', path: '/var/lib/mysql', readOnly: false }]);
    assert.deepEqual(
      db!.ports.map((p) => [p.name, p.port]),
      [
        ['port-3306', 3306],
        ['port-33060', 33060],
      ],
    );
    assert.deepEqual(db!.health?.command, {
      command: 'mysqladmin',
      args: ['ping', '-h', '127.0.0.1', '--silent'],
    });
    assert.equal(db!.health?.interval, '3s');
    assert.equal(db!.health?.startupGrace, '30s');
    assert.equal(db!.health?.failureThreshold, 5);
    assert.deepEqual(ui!.build, { context: 'ui', dockerfile: 'Dockerfile', args: {}, target: 'development' });
    assert.equal(ui!.mode, 'cattle');
    assert.deepEqual([...notes.keys()].sort(), [
      'networks',
      'secrets',
      'services',
      'services.api.networks',
      'services.api.secrets',
      'services.db.networks',
      'services.db.secrets',
      'services.ui.networks',
      'services.ui.ports',
      'services.ui.volumes[0]',
      'services.ui.volumes[1]',
    ]);
    assert.match(notes.get('services.ui.volumes[0]')!, /bind mount of \.\/ui\/src/);
    assert.match(notes.get('services.ui.volumes[1]')!, /anonymous volume at \/code\/node_modules/);
    assert.match(notes.get('services.ui.ports')!, /3000→3000/);
  });

  it('elk: dotted variables, a curl healthcheck as an HTTP probe, a command string, udp and bind mounts named', () => {
    const { services, notes } = imported(fixture('elk'));
    const es = services['elasticsearch']!;
    assert.equal(es.version, '7.16.1');
    assert.deepEqual(es.env, { 'discovery.type': 'single-node', ES_JAVA_OPTS: '-Xms512m -Xmx512m' });
    assert.deepEqual(es.health?.http, { path: '/_cluster/health', port: 'port-9200' });
    assert.equal(es.health?.timeout, '10s');
    const logstash = services['logstash']!;
    assert.deepEqual(logstash.cmd, ['logstash', '-f', '/usr/share/logstash/pipeline/nginx.config']);
    assert.deepEqual(
      logstash.ports.map((p) => p.port),
      [5000, 5044, 9600],
    );
    assert.deepEqual(services['kibana']!.dependsOn, { elasticsearch: { range: '^7.16.1', optional: false } });
    for (const service of ['elasticsearch', 'logstash', 'kibana']) {
      assert.match(notes.get(`services.${service}.container_name`)!, /Baton names each container/);
      assert.match(notes.get(`services.${service}.ports`)!, /published on host ports/);
    }
    assert.match(notes.get('services.logstash.ports[1]')!, /5000\/udp/);
    assert.match(notes.get('services.logstash.volumes[0]')!, /bind mount/);
    assert.match(notes.get('services.logstash.volumes[1]')!, /bind mount/);
  });

  it('gitea-postgres: list environments, tags that are no versions, volume names Baton accepts', () => {
    const { services, notes } = imported(fixture('gitea-postgres'));
    const { gitea, db } = services as Record<string, NonNullable<(typeof services)[string]>>;
    assert.equal(gitea!.env['DB_HOST'], 'db:5432', 'services reach each other by name, as in compose');
    assert.deepEqual(gitea!.volumes, [{ name: 'git-data', path: '/data', readOnly: false }]);
    assert.deepEqual(db!.volumes, [{ name: 'db-data', path: '/var/lib/postgresql/data', readOnly: false }]);
    assert.equal(gitea!.version, '1.0.0');
    assert.match(notes.get('services.gitea.image')!, /tag \(latest\) names no version/);
    assert.match(notes.get('services.db.image')!, /tag \(alpine\) names no version/);
    assert.deepEqual(db!.ports, [{ name: 'port-5432', port: 5432, protocol: 'http' }]);
  });

  it('nextcloud: command flags as words, an image without a tag, services without ports', () => {
    const { services, notes } = imported(fixture('nextcloud'));
    assert.deepEqual(services['db']!.cmd, ['--transaction-isolation=READ-COMMITTED', '--binlog-format=ROW']);
    assert.deepEqual(services['redis']!.ports, [], 'Baton then uses the ports the image EXPOSEs');
    assert.match(notes.get('services.db.image')!, /none, so latest/);
    assert.match(notes.get('services.nc.ports')!, /80→80/);
  });

  it('everything: interpolation from .env, env_file, deploy, long syntaxes, jobs, anchors', () => {
    const { services, notes, name } = imported(fixture('everything'));
    assert.equal(name, 'store-front', 'the file’s own name, made a Baton name');
    const api = services['api-server']!;
    assert.equal(api.image, 'registry.example.com/store/api:2.4.1', '${API_TAG:-2.4.1}');
    assert.equal(api.version, '2.4.1');
    assert.deepEqual(api.entrypoint, ['/usr/bin/tini', '--']);
    assert.deepEqual(api.cmd, ['serve', '--port', '8080']);
    assert.equal(api.user, '1000:1000');
    assert.deepEqual(api.instances, { min: 3, max: 3 });
    assert.deepEqual(api.env, {
      DATABASE_URL: 'postgres://store@db:5432/store',
      LOG_LEVEL: 'debug',
      FEATURE_FLAGS: 'a,b',
      REPLICAS_HINT: '3',
    });
    assert.deepEqual(api.resources, { cpu: 0.5, memory: '512Mi', pids: 200 });
    assert.deepEqual(
      api.ports.map((p) => [p.name, p.port]),
      [
        ['web', 8080],
        ['port-9090', 9090],
      ],
    );
    assert.deepEqual(api.health?.http, { path: '/healthz', port: 'web' });
    assert.equal(api.health?.interval, '90s');
    assert.equal(api.health?.failureThreshold, 4);
    assert.deepEqual(api.dependsOn, {
      cache: { range: '^7.2.4', optional: true },
      migrate: { range: '^2.4.1', optional: false },
    });
    const cache = services['cache']!;
    assert.deepEqual(cache.resources, { cpu: 0.25, memory: '1Gi', pids: 64 });
    assert.deepEqual(cache.health?.command, { command: '/bin/sh', args: ['-c', 'redis-cli ping'] });
    assert.deepEqual(cache.volumes, [{ name: 'cache-data', path: '/data', readOnly: false }]);
    const worker = services['worker']!;
    assert.deepEqual(worker.build, {
      context: './worker',
      dockerfile: 'Dockerfile.prod',
      args: { NODE_ENV: 'production' },
    });
    assert.deepEqual(worker.instances, { min: 2, max: 2 }, '`scale`');
    assert.equal(worker.mode, 'cattle', 'a read-only volume keeps no state of its own');
    assert.equal(worker.health, undefined);
    assert.deepEqual(worker.dependsOn, { 'api-server': { range: '^2.4.1', optional: false } });
    assert.deepEqual(services['migrate']!.cmd, ['migrate', '--up']);

    const expected = {
      secrets: /pass secrets to services in `env`/,
      'volumes.reports.external': /new and empty/,
      'services.api_server': /renamed api-server/,
      'services.api_server.deploy.restart_policy': /not needed/,
      'services.api_server.deploy.update_config': /rollout/,
      'services.api_server.env_file': /common.env line 4: "oops"/,
      'services.api_server.environment.FROM_SHELL': /from the shell/,
      'services.api_server.ports[2]': /port ranges/,
      'services.api_server.ports': /80→8080/,
      'services.api_server.deploy.resources.reservations': /reservations/,
      'services.api_server.healthcheck.start_interval': /not mapped/,
      'services.api_server.logging': /baton logs/,
      'services.api_server.profiles': /not mapped/,
      'services.api_server.labels': /not mapped/,
      'services.cache.volumes[1]': /tmpfs/,
      'services.migrate.env_file': /missing.env was not found/,
      'services.migrate.restart': /keeps every service running/,
      'services.migrate': /one-off step/,
      'services.worker.build.args.DEBUG': /from the shell/,
      'services.worker.build.cache_from': /not mapped/,
      'services.worker.healthcheck': /disabled/,
      'services.worker.depends_on.nowhere': /not a service of this file/,
      services: /tier `medium`/,
    };
    assert.deepEqual([...notes.keys()].sort(), Object.keys(expected).sort());
    for (const [path, pattern] of Object.entries(expected)) assert.match(notes.get(path)!, pattern, path);
  });
});

describe('importCompose, spelling by spelling', () => {
  const one = (service: Record<string, unknown>, extra: Partial<ComposeSource> = {}) => {
    const result = imported(inline({ services: { s: { image: 'x:1.0.0', ...service } } }, extra));
    return { service: result.services['s']!, notes: result.notes };
  };

  it('ports: every short and long form', () => {
    const { service, notes } = one({
      ports: [
        '80',
        '8081:81',
        '127.0.0.1:8082:82',
        '[::1]:8083:83/tcp',
        { target: 84, published: '8084' },
        85,
      ],
      expose: ['86', '81', '87/udp'],
    });
    assert.deepEqual(
      service.ports.map((p) => p.port),
      [80, 81, 82, 83, 84, 85, 86],
    );
    assert.match(notes.get('services.s.ports')!, /8081→81, 8082→82, 8083→83, 8084→84/);
    assert.match(notes.get('services.s.expose[2]')!, /87\/udp/);
  });

  it('health tests: string, CMD, CMD-SHELL, NONE; wget and curl on this container become HTTP probes', () => {
    const probe = (healthcheck: unknown, ports?: unknown[]) =>
      one({ healthcheck, ...(ports ? { ports } : {}) });
    assert.deepEqual(probe({ test: 'pg_isready -U app' }).service.health?.command, {
      command: '/bin/sh',
      args: ['-c', 'pg_isready -U app'],
    });
    assert.deepEqual(probe({ test: ['CMD', 'pg_isready'] }).service.health?.command, {
      command: 'pg_isready',
      args: [],
    });
    const curl = probe({ test: ['CMD-SHELL', 'curl -f http://localhost/ping || exit 1'] });
    assert.deepEqual(curl.service.health?.http, { path: '/ping', port: 'http' });
    assert.deepEqual(
      curl.service.ports,
      [{ name: 'http', port: 80, protocol: 'http' }],
      'the probed port is declared',
    );
    const onSecond = probe({ test: 'wget -q -O- 127.0.0.1:9000/health' }, ['8080', '9000']);
    assert.deepEqual(onSecond.service.health?.http, { path: '/health', port: 'port-9000' });
    const elsewhere = probe({ test: 'curl -f http://other-service:8080/' });
    assert.equal(elsewhere.service.health?.command?.command, '/bin/sh', 'another host is not this container');
    const none = probe({ test: ['NONE'] });
    assert.equal(none.service.health, undefined);
    assert.match(none.notes.get('services.s.healthcheck')!, /disabled/);
  });

  it('environment and build args as lists or mappings, values of every YAML type', () => {
    const { service } = one({
      environment: ['A=1', 'B=x=y', 'C='],
      build: { context: '.', args: { N: 2, T: true } },
    });
    assert.deepEqual(service.env, { A: '1', B: 'x=y', C: '' });
    assert.deepEqual(service.build?.args, { N: '2', T: 'true' });
  });

  it('env_file: environment wins, optional files may be missing, required ones are noted', () => {
    const { service, notes } = one(
      { env_file: ['a.env', { path: 'b.env', required: false }, 'c.env'], environment: { A: 'mine' } },
      { envFiles: { 'a.env': 'A=theirs\nB=2\n', 'b.env': undefined, 'c.env': undefined } },
    );
    assert.deepEqual(service.env, { A: 'mine', B: '2' });
    assert.deepEqual(
      [...notes.keys()].filter((k) => k.includes('env_file')),
      ['services.s.env_file'],
    );
    assert.match(notes.get('services.s.env_file')!, /c\.env was not found/);
  });

  it('names Baton cannot take are dropped with a note', () => {
    const { service, notes } = one({ environment: { 'BAD NAME': 'x', '1ST': 'y', GOOD: 'z' } });
    assert.deepEqual(service.env, { GOOD: 'z' });
    assert.ok(notes.has('services.s.environment.BAD NAME'));
    assert.ok(notes.has('services.s.environment.1ST'));
  });

  it('interpolates from the .env variables only, and names what is missing', () => {
    const result = importCompose(
      inline(
        { services: { s: { image: 'x:${TAG}', environment: { HOME_DIR: '${HOME}', KEEP: '$$HOME' } } } },
        {
          variables: { TAG: '3.1.0' },
        },
      ),
    );
    assert.ok(result.ok);
    const service = (result.manifest.services as Record<string, Record<string, unknown>>)['s']!;
    assert.equal(service.image, 'x:3.1.0');
    assert.deepEqual(service.env, { HOME_DIR: '', KEEP: '$HOME' }, 'never the importing shell’s HOME');
    assert.deepEqual(
      result.notes.filter((n) => n.path.includes('HOME_DIR')).map((n) => n.message),
      ['HOME is not set (in .env): it became an empty string'],
    );
  });

  it('keeps names unique when two compose names become one', () => {
    const { services, notes } = imported(
      inline({
        services: { web_app: { image: 'a:1' }, 'web.app': { image: 'b:1' }, 'Web-App': { image: 'c:1' } },
      }),
    );
    assert.deepEqual(Object.keys(services).sort(), ['web-app', 'web-app-2', 'web-app-3']);
    assert.equal(notes.size, 4, [...notes.keys()].join(', '));
  });

  it('refuses what is no compose file, and services it cannot run', () => {
    assert.deepEqual(importCompose(inline({ version: '3' })), {
      ok: false,
      error: 'not a compose file: it has no `services`',
    });
    assert.deepEqual(importCompose(inline({ services: { s: { environment: {} } } })), {
      ok: false,
      error: 'no service could be imported',
    });
    assert.deepEqual(importCompose(inline('just text')), {
      ok: false,
      error: 'not a compose file: it has no `services`',
    });
  });

  it('makes Baton names', () => {
    assert.equal(batonName('Store_Front'), 'store-front');
    assert.equal(batonName('2fast'), 's-2fast');
    assert.equal(batonName('--x--'), 'x');
    assert.equal(batonName('a'.repeat(80)).length, 63);
  });

  it('writes the notes on top of the file it renders', () => {
    const { text } = imported(fixture('gitea-postgres'));
    assert.match(text, /^# Imported from compose\.yaml by `baton import compose`/);
    assert.match(text, /\n# {3}services\.gitea\.image: version 1\.0\.0/);
  });
});
