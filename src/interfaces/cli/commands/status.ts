// status: the running architecture, once or live.
import type { Command } from 'commander';
import type { ServiceState } from '../../../engines/controller/controller.ts';
import type { InstanceRecord } from '../../../engines/registry/registry.ts';
import type { ServiceDetail } from '../../../engines/revisions/revision-engine.ts';
import type { FaultInjection } from '../../../domain/gateway/snapshot.ts';
import type { ClusterStatus } from '../../http/runtime-routes.ts';
import type { ApiClient } from '../client.ts';
import { contextOf } from '../context.ts';
import { describeFault } from '../../../domain/gateway/describe-fault.ts';
import { tellingLine, type ExitFact } from '../../../domain/lifecycle/instance-exit.ts';
import { relativeTime, table, tier, type Output } from '../output.ts';

export interface StatusJson {
  readonly revision: number | null;
  readonly services: (ServiceState & { tier?: string })[];
  readonly instances: InstanceRecord[];
  /** Active fault injections: shown while they last, so nobody forgets a game day. */
  readonly faults?: FaultInjection[];
  /** The control plane's replicas and leader (absent from servers that predate it). */
  readonly cluster?: ClusterStatus | undefined;
}

/** The status, with the gateway's active faults when the server has a gateway side. */
export async function fetchStatus(client: ApiClient): Promise<StatusJson> {
  const [status, faults, cluster] = await Promise.all([
    client.get<StatusJson>('/v1/status'),
    client.get<{ faults: FaultInjection[] }>('/v1/faults').then(
      (r) => r.faults,
      () => [],
    ),
    client.get<ClusterStatus>('/v1/cluster').catch(() => undefined),
  ]);
  return { ...status, faults, cluster };
}

const PHASE_STYLE = {
  running: 'green',
  updating: 'yellow',
  deploying: 'yellow',
  scaling: 'yellow',
  'rolling-back': 'magenta',
  degraded: 'red',
  failed: 'red',
  destroying: 'gray',
  offline: 'gray',
} as const;

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('The running architecture: per service desired, ready, version and phase; per instance rows')
    .argument('[service]', 'one service in detail: spec, consumers, blast radius, instances')
    .option('-w, --watch', 'keep the table live until Ctrl-C')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText('after', '\nExamples:\n  baton status\n  baton status -w\n  baton status orders')
    .action(async (service: string | undefined, options: { watch?: boolean }, command: Command) => {
      const { out, client } = contextOf(command);
      if (service) return showService(out, client, service);
      if (!options.watch || out.json) {
        const status = await fetchStatus(client);
        return out.json ? out.printJson(status) : printStatus(out, status);
      }
      for (;;) {
        const status = await fetchStatus(client);
        if (out.color) process.stdout.write('\x1b[H\x1b[2J');
        printStatus(out, status);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    });
}

export function printStatus(out: Output, status: StatusJson, options: { instances?: boolean } = {}): void {
  if (status.revision === null)
    return out.line('Nothing applied yet. Start with `baton apply -f baton.yaml`.');
  const settled = status.services.filter((s) => s.settled).length;
  out.line(`revision ${status.revision}: ${settled}/${status.services.length} services settled`);
  if (status.cluster && status.cluster.replicas.length > 0) printCluster(out, status.cluster);
  table(
    out,
    ['SERVICE', 'TIER', 'VERSION', 'DESIRED', 'READY', 'PHASE', 'WHY'],
    status.services.map((s) => [
      s.service,
      s.tier ? tier(out, s.tier) : '',
      s.version ?? '—',
      String(s.desired),
      String(s.ready),
      out.style(PHASE_STYLE[s.phase] ?? 'white', s.phase),
      why(s),
    ]),
  );
  if (status.faults && status.faults.length > 0) {
    out.line();
    out.line(out.style('red', `fault injections active (${status.faults.length}):`));
    for (const f of status.faults) out.line(`  ${describeFault(f)}`);
  }
  if (options.instances === false || status.instances.length === 0) return;
  out.line();
  instanceTable(
    out,
    [...status.instances].sort((a, b) => a.service.localeCompare(b.service) || a.id.localeCompare(b.id)),
    { node: true },
  );
}

/** The replicas, which leads, its epoch and how fresh its lease is. */
function printCluster(out: Output, cluster: ClusterStatus): void {
  const leader = cluster.leader;
  out.line(
    leader
      ? `leader: ${leader.address ?? `pid ${leader.pid}`} (epoch ${leader.epoch}, lease renewed ${(leader.leaseAgeMs / 1000).toFixed(1)} s ago), ${cluster.replicas.length} replica${cluster.replicas.length === 1 ? '' : 's'}`
      : out.style('red', `no leader: ${cluster.replicas.length} replicas wait for the lease`),
  );
  table(
    out,
    ['REPLICA', 'PID', 'HOST', 'ROLE', 'SEEN'],
    cluster.replicas.map((r) => [
      `${r.address ?? '—'}${r.address === cluster.self.address ? ' *' : ''}`,
      String(r.pid),
      r.host,
      r.leader ? out.style('green', 'leader') : 'follower',
      `${(r.seenAgoMs / 1000).toFixed(1)} s ago`,
    ]),
  );
  out.line();
}

/** Why a service is not settled, and the time left before its rollout's deadline. */
function why(s: StatusJson['services'][number], now = Date.now()): string {
  if (s.settled) return '';
  const left = s.deadline ? Date.parse(s.deadline) - now : undefined;
  const deadline =
    left === undefined
      ? ''
      : left > 0
        ? ` (deadline in ${Math.ceil(left / 1000)} s)`
        : ' (past its deadline)';
  return `${s.reason ?? s.waitingFor.join(', ')}${deadline}`;
}

/** Instances, with how each last ended: CrashLoopBackOff's story, in one column. */
function instanceTable(out: Output, instances: readonly InstanceRecord[], options: { node: boolean }): void {
  table(
    out,
    [
      'INSTANCE',
      'VERSION',
      'PHASE',
      'ADDRESS',
      ...(options.node ? ['NODE'] : []),
      'RESTARTS',
      'SINCE',
      'HEALTH',
      'LAST EXIT',
    ],
    instances.map((i) => [
      i.id,
      i.version,
      i.phase,
      i.address && i.port ? `${i.address}:${i.port}` : '—',
      ...(options.node ? [i.node ?? '—'] : []),
      String(i.restarts),
      relativeTime(i.since),
      i.health,
      lastExit(i.lastExit),
    ]),
  );
}

function lastExit(exit: ExitFact | undefined): string {
  if (exit === undefined) return '';
  const line = tellingLine(exit.output);
  return `${exit.reason}, ${relativeTime(exit.at)}${line ? `: ${line}` : ''}`;
}

async function showService(out: Output, client: ApiClient, service: string): Promise<void> {
  const s = await client.get<ServiceDetail>(`/v1/services/${encodeURIComponent(service)}`);
  const { instances } = await client.get<{ instances: InstanceRecord[] }>(
    `/v1/instances?service=${encodeURIComponent(service)}`,
  );
  if (out.json) return out.printJson({ ...s, instances });
  out.line(`${out.style('bold', s.name)} ${s.version}  ${tier(out, s.tier)}  ${s.owner ?? ''}`);
  if (s.description) out.line(s.description);
  const bounds =
    s.instances.min === s.instances.max ? s.instances.min : `${s.instances.min}–${s.instances.max}`;
  out.line(`instances: ${bounds}  mode: ${s.mode}`);
  const deps = Object.entries(s.dependsOn).map(
    ([t, d]) => `${t} ${d.range}${d.optional ? ' (optional)' : ''}`,
  );
  out.line(`depends on: ${deps.join(', ') || '—'}`);
  out.line(`used by: ${s.consumers.map((c) => `${c.service} (${c.range})`).join(', ') || '—'}`);
  const hit = (impact: string) =>
    s.blastRadius
      .filter((b) => b.impact === impact)
      .map((b) => `${b.service} [${b.tier}]`)
      .join(', ');
  out.line(
    `blast radius: ${hit('down') || 'none'}${hit('degraded') ? `; degraded: ${hit('degraded')}` : ''}`,
  );
  if (instances.length === 0) return;
  out.line();
  instanceTable(out, instances, { node: false });
}
