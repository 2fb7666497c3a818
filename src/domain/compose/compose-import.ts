// A docker-compose file as a Baton manifest: services, images or builds, commands, env and
// env_file, ports, depends_on with its conditions, healthchecks, deploy replicas and
// resources, named volumes. What has no Baton equivalent is never dropped silently: each
// thing gets a note naming it, where it was and what to do instead. Pure: the CLI reads the
// files (the compose file, `.env`, each env_file) and writes the result.
import semver from 'semver';
import { NAME_PATTERN } from '../manifest/schema.ts';
import { parseDotEnv } from './dotenv.ts';
import { interpolate } from './interpolate.ts';
import { shellWords } from './shell-words.ts';
import { composeCpus, composeDuration, composeMemory } from './units.ts';

export interface ComposeSource {
  /** The compose file, parsed. */
  readonly document: unknown;
  /** The architecture's name when the file has no `name`: its folder's, say. */
  readonly fallbackName: string;
  /** From the `.env` file beside the compose file: what `${VAR}` stands for. */
  readonly variables: Readonly<Record<string, string>>;
  /** The contents of every file `envFilesOf` listed, by path as written; undefined when missing. */
  readonly envFiles: Readonly<Record<string, string | undefined>>;
}

export interface Note {
  /** Where in the compose file, e.g. `services.db.secrets`. */
  readonly path: string;
  readonly message: string;
}

export type ComposeImport =
  | { readonly ok: true; readonly manifest: Record<string, unknown>; readonly notes: readonly Note[] }
  | { readonly ok: false; readonly error: string };

type Dict = Record<string, unknown>;

const isDict = (value: unknown): value is Dict =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every env_file a compose file names, as written (after interpolation), for the caller to read. */
export function envFilesOf(document: unknown, variables: Readonly<Record<string, string>> = {}): string[] {
  const doc = interpolateDeep(document, variables, '', []);
  if (!isDict(doc) || !isDict(doc.services)) return [];
  const files = Object.values(doc.services).flatMap((service) =>
    isDict(service) ? envFileEntries(service.env_file).map((entry) => entry.path) : [],
  );
  return [...new Set(files)];
}

/** `Web_App.v2` → `web-app-v2`: the names Baton accepts for services and volumes. */
export function batonName(name: string): string {
  let converted = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(converted)) converted = `s-${converted}`;
  return converted.slice(0, 63).replace(/-+$/, '');
}

export function importCompose(source: ComposeSource): ComposeImport {
  const notes: Note[] = [];
  const note = (path: string, message: string) => notes.push({ path, message });
  const doc = interpolateDeep(source.document, source.variables, '', notes);
  if (!isDict(doc) || !isDict(doc.services) || Object.keys(doc.services).length === 0)
    return { ok: false, error: 'not a compose file: it has no `services`' };

  for (const key of Object.keys(doc)) {
    if (key === 'services' || key === 'name' || key === 'version' || key.startsWith('x-')) continue;
    if (key === 'volumes') continue; // looked at below, with the services that mount them
    note(key, TOP_LEVEL[key] ?? 'not mapped');
  }
  checkVolumesSection(doc.volumes, note);

  const composeNames = Object.keys(doc.services);
  const names = new Map<string, string>();
  for (const name of composeNames) {
    let converted = batonName(name);
    for (let n = 2; [...names.values()].includes(converted); n++) converted = `${batonName(name)}-${n}`;
    names.set(name, converted);
    if (converted !== name)
      note(`services.${name}`, `renamed ${converted}: Baton names are lowercase letters, digits and dashes`);
  }

  const versions = new Map<string, string>();
  for (const name of composeNames) {
    const service = doc.services[name];
    versions.set(name, versionOf(isDict(service) ? service : {}, `services.${name}`, note));
  }

  const services: Record<string, Dict> = {};
  const completed = new Set<string>();
  for (const name of composeNames) {
    const service = doc.services[name];
    const path = `services.${name}`;
    if (!isDict(service)) {
      note(path, 'not a mapping: skipped');
      continue;
    }
    const mapped = mapService(service, path, {
      version: versions.get(name)!,
      names,
      versions,
      envFiles: source.envFiles,
      note,
      completed,
    });
    if (mapped !== undefined) services[names.get(name)!] = mapped;
  }
  for (const name of completed) {
    note(
      `services.${name}`,
      'others wait for it to complete (service_completed_successfully): Baton keeps every service running and would restart it; run this one-off step yourself before `baton apply`',
    );
  }
  if (Object.keys(services).length === 0) return { ok: false, error: 'no service could be imported' };
  note('services', 'every service gets tier `medium`: set each one’s tier (critical, high, medium, low)');

  const name = batonName(typeof doc.name === 'string' && doc.name !== '' ? doc.name : source.fallbackName);
  return { ok: true, manifest: { name, services }, notes };
}

interface Context {
  readonly version: string;
  readonly names: ReadonlyMap<string, string>;
  readonly versions: ReadonlyMap<string, string>;
  readonly envFiles: Readonly<Record<string, string | undefined>>;
  readonly note: (path: string, message: string) => void;
  /** Services others wait on to complete: one-off jobs. */
  readonly completed: Set<string>;
}

function mapService(service: Dict, path: string, context: Context): Dict | undefined {
  const { note } = context;
  const out: Dict = { version: context.version, tier: 'medium' };
  const image = typeof service.image === 'string' ? service.image : undefined;
  const build = mapBuild(service.build, `${path}.build`, note);
  if (image === undefined && build === undefined) {
    note(path, 'has neither `image` nor `build`: skipped');
    return undefined;
  }
  if (image !== undefined) out.image = image;
  if (build !== undefined) out.build = build;

  const entrypoint = words(service.entrypoint, `${path}.entrypoint`, note);
  if (entrypoint !== undefined) out.entrypoint = entrypoint;
  const cmd = words(service.command, `${path}.command`, note);
  if (cmd !== undefined) out.cmd = cmd;
  if (service.user !== undefined) {
    const user = String(service.user);
    if (/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/.test(user)) out.user = user;
    else note(`${path}.user`, `${JSON.stringify(user)} is not uid[:gid] or a name`);
  }

  const replicas = instancesOf(service, path, note);
  if (replicas !== undefined) out.instances = replicas;

  const env = environmentOf(service, path, context);
  if (Object.keys(env).length > 0) out.env = env;

  const ports = portsOf(service, path, note);
  const volumes = volumesOf(service.volumes, `${path}.volumes`, note);
  if (volumes.length > 0) out.volumes = volumes;
  // What writes to a volume keeps state: restarted in place, never replaced by a twin.
  if (volumes.some((volume) => volume.readOnly !== true)) out.mode = 'pet';
  const resources = resourcesOf(service, path, note);
  if (Object.keys(resources).length > 0) out.resources = resources;
  const health = healthOf(service.healthcheck, `${path}.healthcheck`, ports, note);
  if (ports.length > 0) out.ports = ports;
  if (health !== undefined) out.health = health;

  const dependsOn = dependenciesOf(service.depends_on, `${path}.depends_on`, context);
  if (Object.keys(dependsOn).length > 0) out.dependsOn = dependsOn;

  if (service.restart === 'no' || service.restart === false)
    note(
      `${path}.restart`,
      '`no`: Baton keeps every service running, restarting (pets) or replacing (cattle) what stops',
    );
  for (const key of Object.keys(service)) {
    if (HANDLED.has(key) || key.startsWith('x-')) continue;
    note(`${path}.${key}`, SERVICE_KEYS[key] ?? 'not mapped');
  }
  return out;
}

const HANDLED = new Set([
  'image',
  'build',
  'entrypoint',
  'command',
  'user',
  'environment',
  'env_file',
  'ports',
  'expose',
  'volumes',
  'healthcheck',
  'depends_on',
  'deploy',
  'scale',
  'mem_limit',
  'cpus',
  'pids_limit',
  'restart',
]);

const TOP_LEVEL: Record<string, string> = {
  networks:
    'not mapped: the services of an architecture share one network, where each service’s name resolves to its instances',
  secrets: 'not mapped: pass secrets to services in `env` (Baton never writes them to its logs or answers)',
  configs: 'not mapped: put configuration files in the image, or its values in `env`',
  include: 'not mapped: import each included file and merge the services',
};

const SERVICE_KEYS: Record<string, string> = {
  container_name: 'not mapped: Baton names each container after its instance (baton-<owner>-<instance>)',
  networks:
    'not mapped: every service is on its architecture’s network, and its name resolves to its instances',
  network_mode: 'not mapped: every service is on its architecture’s network',
  links: 'not needed: every service’s name resolves to its instances',
  secrets: 'not mapped: pass the value in `env`, or build it into the image',
  configs: 'not mapped: build the file into the image, or pass its values in `env`',
  labels: 'not mapped',
  logging: 'not mapped: Baton keeps each instance’s log with the engine (json-file, rotated); `baton logs`',
  init: 'not needed: Baton always runs instances under an init',
  stop_grace_period: 'not mapped: Baton gives instances its own grace period on stop',
  stop_signal: 'not mapped: set STOPSIGNAL in the image',
  privileged: 'not mapped: Baton never runs privileged containers',
  cap_add: 'not mapped: Baton keeps the engine’s default capabilities',
  cap_drop: 'not mapped',
  security_opt: 'not mapped: Baton sets no-new-privileges',
  devices: 'not mapped',
  working_dir: 'not mapped: set WORKDIR in the image',
  hostname: 'not mapped: reach the service by its name',
  extra_hosts: 'not mapped',
  dns: 'not mapped',
  tmpfs: 'not mapped',
  ulimits: 'not mapped: set resources.pids for the process limit',
  sysctls: 'not mapped',
  shm_size: 'not mapped',
  tty: 'not mapped',
  stdin_open: 'not mapped',
  platform: 'not mapped: images run on the engine’s platform',
  pull_policy: 'not mapped: Baton never pulls; build the image or load it into the engine',
  profiles: 'not mapped: every imported service is in the manifest; delete the ones you do not want',
  extends: 'not mapped: write the service out in full',
  develop: 'not mapped',
  memswap_limit: 'not mapped: instances get no swap beyond their memory limit',
  cpu_shares: 'not mapped: use deploy.resources.limits.cpus',
  cpu_quota: 'not mapped: use deploy.resources.limits.cpus',
  cpuset: 'not mapped',
  ipc: 'not mapped',
  pid: 'not mapped',
  annotations: 'not mapped',
};

function versionOf(service: Dict, path: string, note: (path: string, message: string) => void): string {
  const image = typeof service.image === 'string' ? service.image : undefined;
  if (image === undefined) return '1.0.0';
  const tag = tagOf(image);
  const version = tag === undefined ? null : semver.coerce(tag)?.version;
  if (version) return version;
  note(
    `${path}.image`,
    `version 1.0.0: its tag (${tag ?? 'none, so latest'}) names no version; use a versioned tag and the same version in the manifest`,
  );
  return '1.0.0';
}

/** `registry:5000/team/app:1.2@sha256:…` → `1.2`. */
function tagOf(image: string): string | undefined {
  const withoutDigest = image.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon < 0 ? undefined : withoutDigest.slice(colon + 1);
}

function mapBuild(
  build: unknown,
  path: string,
  note: (path: string, message: string) => void,
): Dict | undefined {
  if (build === undefined) return undefined;
  if (typeof build === 'string') return { context: build };
  if (!isDict(build)) {
    note(path, 'neither a path nor a mapping: not mapped');
    return undefined;
  }
  const out: Dict = { context: typeof build.context === 'string' ? build.context : '.' };
  if (typeof build.dockerfile === 'string') out.dockerfile = build.dockerfile;
  const args = keyValues(build.args, `${path}.args`, note);
  if (Object.keys(args).length > 0) out.args = args;
  if (typeof build.target === 'string') out.target = build.target;
  for (const key of Object.keys(build)) {
    if (['context', 'dockerfile', 'args', 'target'].includes(key) || key.startsWith('x-')) continue;
    note(
      `${path}.${key}`,
      key === 'dockerfile_inline' ? 'not mapped: write it to a Dockerfile' : 'not mapped',
    );
  }
  return out;
}

function words(
  value: unknown,
  path: string,
  note: (path: string, message: string) => void,
): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string') {
    note(path, 'neither a string nor a list: not mapped');
    return undefined;
  }
  const split = shellWords(value);
  if (Array.isArray(split)) return split;
  note(path, `${split.error}: not mapped`);
  return undefined;
}

/** A mapping, or a list of `KEY=VALUE` (a bare `KEY` takes the importing shell's value: noted). */
function keyValues(
  value: unknown,
  path: string,
  note: (path: string, message: string) => void,
): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (key: string, raw: unknown) => {
    if (raw === null || raw === undefined) {
      note(`${path}.${key}`, 'no value: compose takes it from the shell it runs in; set it in the manifest');
      return;
    }
    out[key] = typeof raw === 'string' ? raw : String(raw);
  };
  if (Array.isArray(value)) {
    for (const entry of value) {
      const text = String(entry);
      const eq = text.indexOf('=');
      if (eq < 0) put(text, undefined);
      else put(text.slice(0, eq), text.slice(eq + 1));
    }
  } else if (isDict(value)) {
    for (const [key, raw] of Object.entries(value)) put(key, raw);
  } else if (value !== undefined && value !== null) {
    note(path, 'neither a mapping nor a list: not mapped');
  }
  return out;
}

function envFileEntries(value: unknown): { path: string; required: boolean }[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.flatMap((entry) => {
    if (typeof entry === 'string') return [{ path: entry, required: true }];
    if (isDict(entry) && typeof entry.path === 'string')
      return [{ path: entry.path, required: entry.required !== false }];
    return [];
  });
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function environmentOf(service: Dict, path: string, context: Context): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { path: file, required } of envFileEntries(service.env_file)) {
    const text = context.envFiles[file];
    if (text === undefined) {
      if (required) context.note(`${path}.env_file`, `${file} was not found: its variables are missing`);
      continue;
    }
    const parsed = parseDotEnv(text);
    for (const problem of parsed.problems) context.note(`${path}.env_file`, `${file} ${problem}`);
    Object.assign(env, parsed.values);
  }
  // `environment` wins over env_file, as in compose.
  Object.assign(env, keyValues(service.environment, `${path}.environment`, context.note));
  for (const key of Object.keys(env)) {
    if (ENV_NAME.test(key)) continue;
    context.note(
      `${path}.environment.${key}`,
      'not a variable name Baton accepts (letters, digits, _ . -): dropped',
    );
    delete env[key];
  }
  return env;
}

function instancesOf(
  service: Dict,
  path: string,
  note: (path: string, message: string) => void,
): number | undefined {
  const deploy = isDict(service.deploy) ? service.deploy : {};
  for (const key of Object.keys(deploy)) {
    if (key === 'replicas' || key === 'resources' || key.startsWith('x-')) continue;
    note(`${path}.deploy.${key}`, DEPLOY_KEYS[key] ?? 'not mapped');
  }
  const replicas = deploy.replicas ?? service.scale;
  if (replicas === undefined) return undefined;
  const count = Number(replicas);
  if (Number.isInteger(count) && count >= 0 && count <= 1000) return count;
  note(`${path}.deploy.replicas`, `${JSON.stringify(replicas)} is not a count from 0 to 1000`);
  return undefined;
}

const DEPLOY_KEYS: Record<string, string> = {
  mode: 'not mapped: one machine runs the instances; `replicas` says how many',
  restart_policy: 'not needed: Baton restarts (pets) or replaces (cattle) what stops',
  update_config: 'not mapped: set `rollout` (maxSurge, maxUnavailable; strategy canary)',
  rollback_config: 'not mapped: Baton rolls back a rollout that fails its deadline (`rollout.autoRollback`)',
  placement: 'not mapped: `placement.labels` apply on a cluster runtime',
  labels: 'not mapped',
  endpoint_mode: 'not mapped: every service’s name resolves to all its instances',
};

function resourcesOf(service: Dict, path: string, note: (path: string, message: string) => void): Dict {
  const resources =
    isDict(service.deploy) && isDict(service.deploy.resources) ? service.deploy.resources : {};
  const limits = isDict(resources.limits) ? resources.limits : {};
  const out: Dict = {};
  const cpus = limits.cpus ?? service.cpus;
  if (cpus !== undefined) {
    const cores = composeCpus(cpus);
    if (cores !== undefined) out.cpu = cores;
    else note(`${path}.deploy.resources.limits.cpus`, `${JSON.stringify(cpus)} is not a number of CPUs`);
  }
  const memory = limits.memory ?? service.mem_limit;
  if (memory !== undefined) {
    const size = composeMemory(memory);
    if (size !== undefined) out.memory = size;
    else note(`${path}.deploy.resources.limits.memory`, `${JSON.stringify(memory)} is not a size`);
  }
  const pids = limits.pids ?? service.pids_limit;
  if (pids !== undefined) {
    const count = Number(pids);
    if (Number.isInteger(count) && count >= 1) out.pids = count;
    else note(`${path}.deploy.resources.limits.pids`, `${JSON.stringify(pids)} is not a positive count`);
  }
  if (resources.reservations !== undefined)
    note(
      `${path}.deploy.resources.reservations`,
      'not mapped: Baton sets limits; reservations apply on a cluster runtime',
    );
  for (const key of Object.keys(limits)) {
    if (!['cpus', 'memory', 'pids'].includes(key))
      note(`${path}.deploy.resources.limits.${key}`, 'not mapped');
  }
  return out;
}

interface PortOut {
  name: string;
  port: number;
}

function portsOf(service: Dict, path: string, note: (path: string, message: string) => void): PortOut[] {
  const ports: PortOut[] = [];
  const add = (target: number, name?: string) => {
    if (ports.some((p) => p.port === target)) return;
    const wanted = name !== undefined && NAME_PATTERN.test(name) ? name : `port-${target}`;
    ports.push({ name: wanted, port: target });
  };
  const published: string[] = [];
  for (const [index, entry] of (Array.isArray(service.ports) ? service.ports : []).entries()) {
    const where = `${path}.ports[${index}]`;
    const port = parsePort(entry);
    if (typeof port === 'string') {
      note(where, port);
      continue;
    }
    if (port.protocol === 'udp') {
      note(where, `${port.target}/udp: Baton's instances serve TCP only`);
      continue;
    }
    add(port.target, port.name);
    if (port.published !== undefined) published.push(`${port.published}→${port.target}`);
  }
  for (const [index, entry] of (Array.isArray(service.expose) ? service.expose : []).entries()) {
    const match = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(String(entry));
    if (match && match[2] !== 'udp') add(Number(match[1]));
    else note(`${path}.expose[${index}]`, `${JSON.stringify(entry)}: not mapped`);
  }
  if (published.length > 0)
    note(
      `${path}.ports`,
      `published on host ports (${published.join(', ')}): Baton publishes none; reach it through the gateway (add \`routes\`) or at its instances' addresses`,
    );
  return ports;
}

type ParsedPort = { target: number; published?: number; protocol: string; name?: string };

/** `80`, `8080:80`, `127.0.0.1:8080:80/tcp`, `[::1]:8080:80`, or the long form. */
function parsePort(entry: unknown): ParsedPort | string {
  if (isDict(entry)) {
    const target = Number(entry.target);
    if (!Number.isInteger(target) || target < 1 || target > 65535)
      return `target ${JSON.stringify(entry.target)} is not a port`;
    const published = entry.published === undefined ? undefined : Number(entry.published);
    return {
      target,
      ...(published !== undefined && Number.isInteger(published) ? { published } : {}),
      protocol: typeof entry.protocol === 'string' ? entry.protocol : 'tcp',
      ...(typeof entry.name === 'string' ? { name: entry.name } : {}),
    };
  }
  const text = String(entry);
  const match =
    /^(?:(?:\[[^\]]+\]|\d+\.\d+\.\d+\.\d+):)?(?:(\d{1,5}(?:-\d{1,5})?):)?(\d{1,5}(?:-\d{1,5})?)(?:\/(tcp|udp|sctp))?$/.exec(
      text,
    );
  if (!match) return `${JSON.stringify(text)} is not a port`;
  const [, published, target = '', protocol = 'tcp'] = match;
  if (target.includes('-') || published?.includes('-'))
    return `${text}: port ranges are not mapped; declare each port`;
  return {
    target: Number(target),
    ...(published === undefined ? {} : { published: Number(published) }),
    protocol,
  };
}

function volumesOf(value: unknown, path: string, note: (path: string, message: string) => void): Dict[] {
  const volumes: Dict[] = [];
  for (const [index, entry] of (Array.isArray(value) ? value : []).entries()) {
    const where = `${path}[${index}]`;
    let source: string | undefined;
    let target: string | undefined;
    let readOnly: boolean;
    let type = 'volume';
    if (isDict(entry)) {
      type = typeof entry.type === 'string' ? entry.type : 'volume';
      source = typeof entry.source === 'string' ? entry.source : undefined;
      target = typeof entry.target === 'string' ? entry.target : undefined;
      readOnly = entry.read_only === true;
    } else {
      const parts = String(entry).split(':');
      if (parts.length === 1) target = parts[0];
      else [source, target] = parts;
      readOnly = (parts[2] ?? '').split(',').includes('ro');
      if (source !== undefined && /^[./~]/.test(source)) type = 'bind';
    }
    if (type === 'bind') {
      note(
        where,
        `bind mount of ${source ?? '?'}: not mapped; build the files into the image, or keep data in a named volume`,
      );
      continue;
    }
    if (type !== 'volume') {
      note(where, `${type}: not mapped`);
      continue;
    }
    if (target === undefined || !target.startsWith('/')) {
      note(where, 'no absolute target path: not mapped');
      continue;
    }
    if (source === undefined || source === '') {
      note(where, `anonymous volume at ${target}: not mapped; name it to keep its data`);
      continue;
    }
    volumes.push({ name: batonName(source), path: target, ...(readOnly ? { readOnly: true } : {}) });
  }
  return volumes;
}

function checkVolumesSection(value: unknown, note: (path: string, message: string) => void): void {
  if (!isDict(value)) return;
  for (const [name, volume] of Object.entries(value)) {
    if (!isDict(volume)) continue;
    for (const key of Object.keys(volume)) {
      note(
        `volumes.${name}.${key}`,
        key === 'external'
          ? 'not mapped: Baton makes its own volumes, new and empty (data in compose’s volumes is not moved)'
          : 'not mapped: Baton makes local volumes',
      );
    }
  }
}

/** A probe the way Baton runs it: an HTTP GET when the check is curl/wget on this container, else the command. */
function healthOf(
  value: unknown,
  path: string,
  ports: PortOut[],
  note: (path: string, message: string) => void,
): Dict | undefined {
  if (!isDict(value)) return undefined;
  const out: Dict = {};
  const test = testOf(value.test);
  if (value.disable === true || test?.kind === 'none') {
    note(path, 'disabled: Baton still checks that the first port accepts connections');
    return undefined;
  }
  if (test === undefined) {
    if (value.test !== undefined) note(`${path}.test`, 'not understood: not mapped');
  } else {
    const http = httpCheck(test.text);
    if (http !== undefined) {
      let port = ports.find((p) => p.port === http.port);
      if (port === undefined) {
        port = { name: ports.length === 0 ? 'http' : `port-${http.port}`, port: http.port };
        ports.push(port);
      }
      out.http = { path: http.path, port: port.name };
    } else {
      out.command =
        test.kind === 'shell'
          ? { command: '/bin/sh', args: ['-c', test.text] }
          : { command: test.argv[0]!, args: test.argv.slice(1) };
    }
  }
  const durations: [string, string][] = [
    ['interval', 'interval'],
    ['timeout', 'timeout'],
    ['start_period', 'startupGrace'],
  ];
  for (const [from, to] of durations) {
    if (value[from] === undefined) continue;
    const duration = composeDuration(value[from]);
    if (duration !== undefined) out[to] = duration;
    else note(`${path}.${from}`, `${JSON.stringify(value[from])} is not a duration`);
  }
  if (value.retries !== undefined) {
    const retries = Number(value.retries);
    if (Number.isInteger(retries) && retries >= 1 && retries <= 100) out.failureThreshold = retries;
    else note(`${path}.retries`, `${JSON.stringify(value.retries)} is not a count from 1 to 100`);
  }
  if (value.start_interval !== undefined)
    note(`${path}.start_interval`, 'not mapped: probes keep their interval');
  return out.http === undefined && out.command === undefined ? undefined : out;
}

type Test =
  { kind: 'none' } | { kind: 'exec'; argv: string[]; text: string } | { kind: 'shell'; text: string };

function testOf(value: unknown): Test | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : { kind: 'shell', text: value };
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const [form, ...rest] = value.map(String);
  if (form === 'NONE') return { kind: 'none' };
  if (form === 'CMD' && rest.length > 0) return { kind: 'exec', argv: rest, text: rest.join(' ') };
  if (form === 'CMD-SHELL' && rest.length > 0) return { kind: 'shell', text: rest.join(' ') };
  return undefined;
}

/** `curl -f http://localhost:8080/health`, `wget -qO- 127.0.0.1/ping || exit 1` → port and path. */
function httpCheck(text: string): { port: number; path: string } | undefined {
  if (!/\b(curl|wget)\b/.test(text)) return undefined;
  const url =
    /(?:^|[\s'"])(?:http:\/\/)?(?:localhost|127\.0\.0\.1|0\.0\.0\.0)(?::(\d{1,5}))?(\/[^\s'"|;&]*)?(?=$|[\s'"|;&])/.exec(
      text,
    );
  if (!url) return undefined;
  return { port: url[1] === undefined ? 80 : Number(url[1]), path: url[2] ?? '/' };
}

function dependenciesOf(value: unknown, path: string, context: Context): Dict {
  const out: Dict = {};
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((name) => [String(name), undefined])
    : isDict(value)
      ? Object.entries(value)
      : [];
  for (const [name, options] of entries) {
    const target = context.names.get(name);
    if (target === undefined) {
      context.note(`${path}.${name}`, 'not a service of this file: dropped');
      continue;
    }
    const range = `^${context.versions.get(name)}`;
    const settings = isDict(options) ? options : {};
    if (settings.condition === 'service_completed_successfully') context.completed.add(name);
    if (settings.restart === true)
      context.note(
        `${path}.${name}.restart`,
        'not mapped: a dependency’s restart does not restart its consumers',
      );
    // Baton starts a consumer once its providers are healthy, so service_started and
    // service_healthy both come out as the provider-first order every dependency has.
    out[target] = settings.required === false ? { range, optional: true } : range;
  }
  return out;
}

/** Every string of the document, interpolated; keys are left as they are. */
function interpolateDeep(
  value: unknown,
  variables: Readonly<Record<string, string>>,
  path: string,
  notes: Note[],
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('$')) return value;
    const result = interpolate(value, variables);
    for (const problem of result.problems) notes.push({ path: path || '(file)', message: problem });
    return result.text;
  }
  if (Array.isArray(value))
    return value.map((item, i) => interpolateDeep(item, variables, `${path}[${i}]`, notes));
  if (isDict(value)) {
    const out: Dict = {};
    for (const [key, item] of Object.entries(value))
      out[key] = key.startsWith('x-')
        ? item
        : interpolateDeep(item, variables, path ? `${path}.${key}` : key, notes);
    return out;
  }
  return value;
}
