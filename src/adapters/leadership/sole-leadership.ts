// Leadership for a control plane that is alone by construction (an in-memory store in
// tests, the simulated runtime's benchmarks): always the leader, one term, never lost.
import type { Leadership, Term } from '../../ports/leadership.ts';

export function soleLeadership(): Leadership {
  const lost = new AbortController();
  const term: Term = {
    epoch: 1,
    lost: lost.signal,
    announce: async () => {},
    release: async () => {},
    fence: async () => {},
  };
  let address: string | null = null;
  return {
    name: 'sole',
    advertise: async (at) => void (address = at),
    observe: async () => ({
      leadership: 'sole',
      leader: { pid: process.pid, host: null, address, epoch: 1, since: null, leaseAgeMs: 0, expiresInMs: 0 },
      replicas: [],
    }),
    campaign: (signal) => (signal?.aborted ? Promise.reject(signal.reason as Error) : Promise.resolve(term)),
    close: async () => {},
  };
}
