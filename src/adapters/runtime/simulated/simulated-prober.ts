// Health probes against the simulated runtime: an instance passes while it runs and no
// fault has been injected. For scale benchmarks and deterministic fault tests only.
import type { ProbeResult, ProbeTarget, Prober } from '../../../ports/prober.ts';
import type { SimulatedRuntime } from './simulated-runtime.ts';

export class SimulatedProber implements Prober {
  readonly #runtime: SimulatedRuntime;

  constructor(runtime: SimulatedRuntime) {
    this.#runtime = runtime;
  }

  probe(target: ProbeTarget): Promise<ProbeResult> {
    if (target.kind === 'command') return Promise.resolve({ ok: true, detail: 'exit 0', durationMs: 0 });
    const ok = this.#runtime.serving(target.address, target.port);
    return Promise.resolve({
      ok,
      detail: ok ? (target.kind === 'http' ? 'HTTP 200' : 'connected') : 'ECONNREFUSED',
      durationMs: 0,
    });
  }
}
