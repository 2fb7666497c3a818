// What a consumer is told about its dependencies, checked before anything runs: every
// `${services.NAME.…}` in its env names a service it declares (a service gets addresses only
// for what it declares: the seed's rule that teams talk only through declared interfaces),
// and no two dependencies, nor a dependency and Baton, claim the same variable.
import { dependencyVariable, EGRESS_VARIABLE, reservedVariable } from '../gateway/east-west.ts';
import type { Manifest } from '../manifest/model.ts';
import { referencedServices } from '../manifest/service-references.ts';
import type { Problem } from '../problems.ts';

export function checkAddresses(manifest: Manifest): Problem[] {
  const problems: Problem[] = [];
  for (const service of Object.keys(manifest.services).sort()) {
    const spec = manifest.services[service]!;
    for (const [name, value] of Object.entries(spec.env)) {
      for (const target of new Set(referencedServices(value))) {
        if (Object.hasOwn(spec.dependsOn, target)) continue;
        problems.push({
          severity: 'error',
          code: 'undeclared-reference',
          message: `env ${name} refers to \`${target}\`, which ${service} does not declare in dependsOn`,
          path: ['services', service, 'env', name],
          hint: `add \`${target}\` to ${service}'s dependsOn with the range it works with (e.g. \`${target}: ^1.0.0\`): a service gets addresses only for what it declares`,
        });
      }
    }
    const taken = new Map<string, string>();
    for (const target of Object.keys(spec.dependsOn).sort()) {
      const variable = dependencyVariable(target, spec.dependsOn[target]!);
      const path = ['services', service, 'dependsOn', target];
      if (reservedVariable(variable) || variable === EGRESS_VARIABLE) {
        problems.push({
          severity: 'error',
          code: 'dependency-variable-reserved',
          message: `the address of ${target} would be given as ${variable}, a variable Baton sets itself`,
          path,
          hint: `name another one: \`${target}: { range: …, env: ${target.toUpperCase().replaceAll('-', '_')}_API }\``,
        });
        continue;
      }
      const other = taken.get(variable);
      if (other !== undefined) {
        problems.push({
          severity: 'error',
          code: 'dependency-variable-clash',
          message: `${other} and ${target} would both be given as ${variable}`,
          path,
          hint: `give one of them its own variable with \`env:\`, e.g. \`${target}: { range: …, env: ${target.toUpperCase().replaceAll('-', '_')}_URL }\``,
        });
        continue;
      }
      taken.set(variable, target);
      if (Object.hasOwn(spec.env, variable)) {
        problems.push({
          severity: 'warning',
          code: 'dependency-variable-overridden',
          message: `env ${variable} replaces the address Baton gives ${service} for ${target}: its calls bypass the data plane (no balancing, retries, tracing)`,
          path: ['services', service, 'env', variable],
          hint: `remove it to use Baton's stable address, or write \`\${services.${target}.url}/v1\` to build on it`,
        });
      }
    }
  }
  return problems;
}
