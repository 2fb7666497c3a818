// `envFile:` on a service, as docker compose's `env_file`: one file or a list, read in order
// (a later file wins), each `KEY=VALUE` line becoming an env entry unless `env` sets the key
// itself. The CLI reads the files beside the manifest and folds them into `env` before
// sending it, so a revision holds what instances get, and rolls back without the files.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type YAMLMap } from 'yaml';
import { parseDotEnv } from '../compose/dotenv.ts';
import type { Problem } from '../problems.ts';
import type { Manifest } from './model.ts';

export interface EnvFileExpansion {
  readonly text: string;
  readonly problems: readonly Problem[];
}

/** The env files a manifest names, in order, each once: what the CLI must read. */
export function envFilesOf(text: string): string[] {
  if (!text.includes('envFile')) return [];
  const doc = parseDocument(text);
  const paths = new Set<string>();
  for (const { files } of servicesWithEnvFiles(doc.get('services'))) for (const f of files) paths.add(f.path);
  return [...paths];
}

/** `contents`: each path's text, or undefined when it could not be read. */
export function expandEnvFiles(
  text: string,
  contents: ReadonlyMap<string, string | undefined>,
  options: { file?: string | undefined } = {},
): EnvFileExpansion {
  if (!text.includes('envFile')) return { text, problems: [] };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) return { text, problems: [] };
  const problems: Problem[] = [];
  const services = servicesWithEnvFiles(doc.get('services'));
  for (const { service, map, files } of services) {
    const merged: Record<string, string> = {};
    for (const { path, offset } of files) {
      const at = lines.linePos(offset);
      const where = {
        path: ['services', service, 'envFile'],
        file: options.file,
        line: at.line,
        column: at.col,
      };
      const content = contents.get(path);
      if (content === undefined) {
        problems.push({
          ...where,
          severity: 'error',
          code: 'env-file-unreadable',
          message: `${service}: cannot read env file ${path}`,
          hint: 'paths are relative to the manifest; check that the file exists',
        });
        continue;
      }
      const parsed = parseDotEnv(content);
      for (const problem of parsed.problems) {
        problems.push({
          ...where,
          severity: 'error',
          code: 'env-file-invalid',
          message: `${service}: ${path} ${problem}`,
          hint: 'each line is KEY=VALUE, `# comment` or empty, as in docker compose',
        });
      }
      Object.assign(merged, parsed.values);
    }
    const env = map.get('env');
    const envMap = isMap(env) ? env : undefined;
    for (const [key, value] of Object.entries(merged)) {
      if (envMap?.has(key)) continue; // `env` wins over the files, as `environment` does in compose
      if (envMap) envMap.set(key, value);
      else map.set('env', doc.createNode({ [key]: value }));
    }
    map.delete('envFile');
  }
  return { text: services.length > 0 ? doc.toString({ lineWidth: 0 }) : text, problems };
}

interface ServiceEnvFiles {
  readonly service: string;
  readonly map: YAMLMap;
  readonly files: readonly { readonly path: string; readonly offset: number }[];
}

function servicesWithEnvFiles(services: unknown): ServiceEnvFiles[] {
  if (!isMap(services)) return [];
  const found: ServiceEnvFiles[] = [];
  for (const pair of services.items) {
    if (!isScalar(pair.key) || !isMap(pair.value)) continue;
    const node = pair.value.get('envFile', true);
    const items = isSeq(node) ? node.items : node === undefined ? [] : [node];
    const files = items.flatMap((item) =>
      isScalar(item) && typeof item.value === 'string'
        ? [{ path: item.value, offset: item.range?.[0] ?? 0 }]
        : [],
    );
    if (files.length > 0) found.push({ service: String(pair.key.value), map: pair.value, files });
  }
  return found;
}

/** A manifest that reaches the server with `envFile` still in it was not sent by the CLI: the server reads no files. */
export function unexpandedEnvFiles(manifest: Manifest): Problem[] {
  return Object.entries(manifest.services)
    .filter(([, spec]) => spec.envFile !== undefined)
    .map(([service]) => ({
      severity: 'error',
      code: 'env-file-unexpanded',
      message: `${service}: envFile is read by the CLI, but this manifest came without it being read`,
      path: ['services', service, 'envFile'],
      hint: 'send it with `baton apply -f FILE` (or `baton validate`), which fold env files into env',
    }));
}
