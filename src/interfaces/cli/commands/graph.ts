// graph: the map of the architecture, from a local file or the current revision.
import { hasService } from '../../../domain/manifest/service-lookup.ts';
import { Option, type Command } from 'commander';
import { blastRadius, buildGraph } from '../../../domain/graph/dependency-graph.ts';
import { renderDot, renderMermaid, renderText } from '../../../domain/graph/render.ts';
import { validateArchitecture } from '../../../domain/validate.ts';
import type { LiveMapSnapshot } from '../../../engines/telemetry/live-map.ts';
import { contextOf } from '../context.ts';
import { printDrift } from './traces.ts';
import { CliExit, EXIT } from '../exit-codes.ts';
import { readManifestFile } from '../manifest-file.ts';
import { printProblems, table, tier } from '../output.ts';

export function registerGraphCommand(program: Command): void {
  program
    .command('graph')
    .description('Print the dependency graph (text, Mermaid, DOT or JSON)')
    .option('-f, --file <path>', 'read a manifest file instead of asking the server for the current revision')
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['text', 'mermaid', 'dot', 'json'])
        .default('text'),
    )
    .option('--blast-radius <service>', 'list everything that transitively depends on SERVICE')
    .option('--drift', 'compare dependsOn with the calls traces observe: undeclared, never observed, cycles')
    .option('-o, --output <format>', 'text or json (same as --format json)', 'text')
    .addHelpText(
      'after',
      '\nExamples:\n  baton graph\n  baton graph -f baton.yaml --format dot | dot -Tsvg > map.svg\n  baton graph --blast-radius payments\n  baton graph --drift',
    )
    .action(
      async (
        options: { file?: string; format: string; blastRadius?: string; drift?: boolean },
        command: Command,
      ) => {
        const { out, client } = contextOf(command);
        if (options.drift) {
          const map = await client.get<LiveMapSnapshot>('/v1/map');
          return out.json ? out.printJson(map) : printDrift(out, map);
        }
        const format = out.json ? 'json' : options.format;
        if (!options.file && !options.blastRadius) {
          const query = `/v1/graph?format=${format}`;
          if (format === 'json') return out.printJson(await client.get(query));
          return void process.stdout.write(await client.text(query));
        }
        const manifest = options.file
          ? await (async () => {
              const text = await readManifestFile(options.file!, out);
              const result = validateArchitecture(text, { file: options.file });
              if (!result.ok) {
                printProblems(out, result.problems);
                throw new CliExit(EXIT.invalid);
              }
              return result.value.manifest;
            })()
          : (
              await client.get<{ manifest: Parameters<typeof buildGraph>[0] }>(
                `/v1/revisions/${await latestNumber()}`,
              )
            ).manifest;
        const graph = buildGraph(manifest);

        if (options.blastRadius) {
          if (!hasService(manifest, options.blastRadius)) {
            out.error(`baton graph: no service \`${options.blastRadius}\` in this architecture`);
            throw new CliExit(EXIT.invalid);
          }
          const radius = blastRadius(manifest, graph, options.blastRadius);
          if (out.json || format === 'json') return out.printJson(radius);
          const down = radius.filter((r) => r.impact === 'down').length;
          const degraded = radius.length - down;
          out.line(
            `If ${out.style('bold', options.blastRadius)} fails, ${down} service${down === 1 ? '' : 's'} may fail with it` +
              (degraded > 0 ? `, ${degraded} degraded (an optional dependency):` : ':'),
          );
          table(
            out,
            ['SERVICE', 'TIER', 'IMPACT', 'DISTANCE', 'VIA'],
            radius.map((r) => [r.service, tier(out, r.tier), r.impact, String(r.distance), r.via]),
          );
          return;
        }
        const render = { text: renderText, mermaid: renderMermaid, dot: renderDot }[format];
        if (render) return void process.stdout.write(render(manifest, graph));
        out.printJson({ services: graph.services, edges: graph.edges });

        async function latestNumber(): Promise<number> {
          const { revision } = await client.get<{ revision: number | null }>('/v1/services');
          if (revision === null) {
            out.error('baton graph: nothing has been applied yet; pass -f baton.yaml to read a file');
            throw new CliExit(EXIT.invalid);
          }
          return revision;
        }
      },
    );
}
