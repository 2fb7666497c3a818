// status: what the architecture is made of now.
import type { Command } from 'commander';
import type { ServiceDetail, ServiceSummary } from '../../../engines/revisions/revision-engine.ts';
import { contextOf } from '../context.ts';
import { table, tier } from '../output.ts';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('Services of the current revision (or one service in detail)')
    .argument('[service]', 'show one service: spec, consumers, blast radius')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (service: string | undefined, _options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      if (service) {
        const s = await client.get<ServiceDetail>(`/v1/services/${encodeURIComponent(service)}`);
        if (out.json) return out.printJson(s);
        out.line(`${out.style('bold', s.name)} ${s.version}  ${tier(out, s.tier)}  ${s.owner ?? ''}`);
        if (s.description) out.line(s.description);
        out.line(
          `instances: ${s.instances.min === s.instances.max ? s.instances.min : `${s.instances.min}–${s.instances.max}`}  mode: ${s.mode}`,
        );
        out.line(
          `depends on: ${
            Object.entries(s.dependsOn)
              .map(([t, d]) => `${t} ${d.range}${d.optional ? ' (optional)' : ''}`)
              .join(', ') || '—'
          }`,
        );
        out.line(`used by: ${s.consumers.map((c) => `${c.service} (${c.range})`).join(', ') || '—'}`);
        out.line(
          `blast radius: ${s.blastRadius.map((b) => `${b.service} [${b.tier}]`).join(', ') || 'none'}`,
        );
        return;
      }
      const { revision, services } = await client.get<{
        revision: number | null;
        services: ServiceSummary[];
      }>('/v1/services');
      if (out.json) return out.printJson({ revision, services });
      if (revision === null) return out.line('Nothing applied yet. Start with `baton apply -f baton.yaml`.');
      out.line(`revision ${revision}: ${services.length} services`);
      table(
        out,
        ['SERVICE', 'VERSION', 'TIER', 'INSTANCES', 'MODE', 'OWNER', 'DEPENDS ON'],
        services.map((s) => [
          s.name,
          s.version,
          tier(out, s.tier),
          s.instances.min === s.instances.max
            ? String(s.instances.min)
            : `${s.instances.min}-${s.instances.max}`,
          s.mode,
          s.owner ?? '',
          Object.keys(s.dependsOn).join(', '),
        ]),
      );
    });
}
