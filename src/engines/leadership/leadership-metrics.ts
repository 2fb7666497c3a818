// What /metrics says about the control plane's replicas: the epoch,
// the age of the leader's lease and how many replicas answer. Read from the leadership at
// scrape time, so that a follower reports the same leader as the leader itself.
import { Gauge, Registry } from 'prom-client';
import type { Leadership } from '../../ports/leadership.ts';

/** `baton_leader` (whether this replica leads) is the controller's. */
export function leadershipMetrics(leadership: Leadership): Registry {
  const registry = new Registry();
  const gauge = (
    name: string,
    help: string,
    value: (view: Awaited<ReturnType<Leadership['observe']>>) => number,
  ) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const view = await leadership.observe().catch(() => undefined);
        if (view !== undefined) this.set(value(view));
      },
    });
  gauge('baton_leader_epoch', "The leader's epoch (0 while no replica leads).", (v) => v.leader?.epoch ?? 0);
  gauge(
    'baton_leader_lease_age_seconds',
    "Since the leader last renewed its lease, by the database's clock.",
    (v) => (v.leader?.leaseAgeMs ?? 0) / 1000,
  );
  gauge('baton_replicas', 'Control-plane replicas alive (1 without a shared store).', (v) =>
    Math.max(1, v.replicas.length),
  );
  return registry;
}
