// Plan-time admission: the runtime says, service by service, what it cannot run (or will not
// honour) in a manifest, before anything is recorded. Its refusals become manifest problems
// at the field they are about, located like any other.
import { checkFixedPorts } from '../../domain/manifest/fixed-ports.ts';
import type { Manifest } from '../../domain/manifest/model.ts';
import type { Problem } from '../../domain/problems.ts';
import { admissionOf } from '../../ports/instance-spec.ts';
import type { Runtime } from '../../ports/runtime.ts';

/** Admission checks touch the disk (or an engine): a bounded number at once for large manifests. */
const PARALLEL = 32;

/** `baseDir`: the manifest's folder, when it came with one. */
export type Admit = (manifest: Manifest, baseDir: string | undefined) => Promise<readonly Problem[]>;

/** `defaultBaseDir`: where relative paths resolve for a manifest sent without its folder (stdin). */
export function runtimeAdmission(
  runtime: Pick<Runtime, 'admit' | 'addressing'>,
  defaultBaseDir: string,
): Admit {
  return async (manifest, sentBaseDir) => {
    const baseDir = sentBaseDir ?? defaultBaseDir;
    const names = Object.keys(manifest.services);
    const problems: Problem[][] = [];
    for (let i = 0; i < names.length; i += PARALLEL) {
      problems.push(
        ...(await Promise.all(
          names.slice(i, i + PARALLEL).map(async (service) => {
            const refusals = await runtime.admit(admissionOf(service, manifest.services[service]!, baseDir));
            return refusals.map((refusal): Problem => ({
              severity: refusal.severity,
              code: refusal.code,
              message: `${service}: ${refusal.message}`,
              path: ['services', service, ...refusal.field],
              hint: refusal.hint,
            }));
          }),
        )),
      );
    }
    // Instances that share one address cannot share a fixed port (see fixed-ports.ts).
    if (runtime.addressing === 'shared') problems.push(checkFixedPorts(manifest));
    return problems.flat();
  };
}
