// A port with a fixed number can be held by one process at a time on a machine. Two
// services declaring the same one, or a service that may run two instances of it, would
// leave an instance that can never listen — or worse, one whose health probe is answered
// by another's process. Both are refused at plan time, by runtimes whose instances share the
// machine's one address (local processes); a container has an address of its own.
import type { Problem } from '../problems.ts';
import type { Manifest } from './model.ts';

export function checkFixedPorts(manifest: Manifest): Problem[] {
  const problems: Problem[] = [];
  const holders = new Map<number, { service: string; index: number }>();
  for (const service of Object.keys(manifest.services).sort()) {
    const spec = manifest.services[service]!;
    spec.ports.forEach((port, index) => {
      if (port.port === undefined) return;
      const holder = holders.get(port.port);
      if (holder === undefined) holders.set(port.port, { service, index });
      else
        problems.push({
          severity: 'error',
          code: 'fixed-port-shared',
          message: `${service} and ${holder.service} both declare fixed port ${port.port}: only one process can listen on it`,
          path: ['services', service, 'ports', index, 'port'],
          hint: 'give one of them another port, or leave `port` out to have one allocated',
        });
    });
    const fixed = spec.ports.find((port) => port.port !== undefined);
    if (fixed !== undefined && spec.instances.max > 1)
      problems.push({
        severity: 'error',
        code: 'fixed-port-replicas',
        message: `${service} may run ${spec.instances.max} instances, but they cannot all listen on its fixed port ${fixed.port}`,
        path: ['services', service, 'instances'],
        hint: 'run one instance (its rollouts then stop the old one before starting the new), or leave `port` out to have one allocated per instance',
      });
  }
  return problems;
}
