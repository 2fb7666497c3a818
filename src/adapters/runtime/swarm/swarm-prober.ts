// Health probes for instances on a Swarm: HTTP and TCP from this machine to the node's address
// and published port. A `command` probe would have to run inside a task on another node,
// which the manager's API cannot do: it fails saying so, rather than run on this machine.
import type { Prober, ProbeResult, ProbeTarget } from '../../../ports/prober.ts';

export class SwarmProber implements Prober {
  readonly #network: Prober;

  constructor(network: Prober) {
    this.#network = network;
  }

  async probe(target: ProbeTarget, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
    if (target.kind !== 'command') return this.#network.probe(target, timeoutMs, signal);
    return {
      ok: false,
      detail: 'command probes cannot run on the swarm runtime (use an http or tcp probe)',
      durationMs: 0,
    };
  }
}
