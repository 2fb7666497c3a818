// `${secret:NAME}` in an env value: a secret the instance gets when it starts. The revision
// keeps only the reference; the value is looked up and decrypted at each instance start, so
// no revision, diff or API answer ever holds it, and a rotation needs no new revision.
import type { Manifest } from '../manifest/model.ts';
import type { Problem } from '../problems.ts';

/** Like an environment variable name, with dots and dashes (`stripe.api-key`). */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const REFERENCE = /\$\{secret:([^}]*)\}/g;

/** The secrets an env refers to, each once, in order of appearance; malformed names too (validation names them). */
export function referencedSecrets(env: Readonly<Record<string, string>>): string[] {
  const names = new Set<string>();
  for (const value of Object.values(env)) for (const match of value.matchAll(REFERENCE)) names.add(match[1]!);
  return [...names];
}

/** The services of a manifest whose env refers to the secret, by name. */
export function servicesReferencing(manifest: Manifest, secret: string): string[] {
  return Object.keys(manifest.services)
    .filter((service) => referencedSecrets(manifest.services[service]!.env).includes(secret))
    .sort();
}

/** Every reference replaced by its value; `values` must hold every secret the env refers to. */
export function resolveSecretReferences(
  env: Readonly<Record<string, string>>,
  values: ReadonlyMap<string, string>,
): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    resolved[name] = value.includes('${secret:')
      ? value.replace(REFERENCE, (whole, secret: string) => values.get(secret) ?? whole)
      : value;
  }
  return resolved;
}

/** Every reference of a manifest, where it is written: one entry per env value and secret. */
export function secretReferencesOf(
  manifest: Manifest,
): { service: string; variable: string; secret: string }[] {
  return Object.entries(manifest.services).flatMap(([service, spec]) =>
    Object.entries(spec.env).flatMap(([variable, value]) =>
      referencedSecrets({ [variable]: value }).map((secret) => ({ service, variable, secret })),
    ),
  );
}

/** A reference whose name no secret can have is an error where it is written. */
export function secretReferenceProblems(manifest: Manifest): Problem[] {
  return secretReferencesOf(manifest)
    .filter(({ secret }) => !SECRET_NAME.test(secret))
    .map(({ service, variable, secret }) => ({
      severity: 'error',
      code: 'invalid-secret-reference',
      message: `${service}: \`\${secret:${secret}}\` does not name a secret`,
      path: ['services', service, 'env', variable],
      hint: 'secret names are letters, digits, `_`, `.` and `-`, starting with a letter or `_`: `${secret:DB_PASSWORD}`',
    }));
}
