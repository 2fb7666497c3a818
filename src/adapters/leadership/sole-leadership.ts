// Leadership for a control plane that is alone by construction (an in-memory store in
// tests, the simulated runtime's benchmarks) or, until high availability lands, on
// PostgreSQL: always the leader, one term, never lost.
import type { Leadership, Term } from '../../ports/leadership.ts';

export function soleLeadership(): Leadership {
  const lost = new AbortController();
  const term: Term = { epoch: 1, lost: lost.signal, announce: async () => {}, release: async () => {} };
  return {
    name: 'sole',
    campaign: (signal) => (signal?.aborted ? Promise.reject(signal.reason as Error) : Promise.resolve(term)),
    close: async () => {},
  };
}
