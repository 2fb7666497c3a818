// A runtime whose starts go through a preparation step first: what every runtime's instances
// get the same way (their dependencies' addresses, their secrets) is filled into the spec
// here, before the runtime is asked, and the controller knows nothing of it.
import type { InstanceSpec, Runtime } from '../../ports/runtime.ts';
import { delegate } from './delegate.ts';

export function preparingStarts(
  runtime: Runtime,
  prepare: (spec: InstanceSpec) => Promise<InstanceSpec>,
): Runtime {
  return delegate(runtime, { start: async (spec) => runtime.start(await prepare(spec)) });
}
