// Secrets reach an instance as it starts, and only an instance of a service whose env refers
// to them: the runtime receives the spec with `${secret:NAME}` replaced, the controller, the
// store and every record keep the reference. At plan time, a reference to a secret not set
// yet is a warning (its instances would not start), located at the env entry.
import {
  referencedSecrets,
  resolveSecretReferences,
  secretReferencesOf,
} from '../../domain/secrets/secret-references.ts';
import type { Manifest } from '../../domain/manifest/model.ts';
import type { Problem } from '../../domain/problems.ts';
import type { Runtime } from '../../ports/runtime.ts';
import type { Admit } from '../revisions/admission.ts';
import { preparingStarts } from '../runtime/prepared-starts.ts';
import type { SecretVault } from './secret-vault.ts';

export function withSecrets(runtime: Runtime, vault: SecretVault): Runtime {
  return preparingStarts(runtime, async (spec) => {
    const names = referencedSecrets(spec.env);
    if (names.length === 0) return spec;
    return { ...spec, env: resolveSecretReferences(spec.env, await vault.valuesFor(spec.service, names)) };
  });
}

export function withSecretCheck(admit: Admit, vault: SecretVault): Admit {
  return async (manifest, baseDir) => [
    ...(await admit(manifest, baseDir)),
    ...(await unsetSecrets(manifest, vault)),
  ];
}

async function unsetSecrets(manifest: Manifest, vault: SecretVault): Promise<Problem[]> {
  const known = await vault.names();
  return secretReferencesOf(manifest)
    .filter(({ secret }) => !known.has(secret))
    .map(({ service, variable, secret }) => ({
      severity: 'warning',
      code: 'secret-not-set',
      message: `${service}: secret ${secret} is not set; its instances will not start until it is`,
      path: ['services', service, 'env', variable],
      hint: `\`baton secrets set ${secret}\` (the value on stdin)`,
    }));
}
