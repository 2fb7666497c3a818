// traces: search traces, show one as a call tree (Galileo's table), and the drift between
// the service map that traffic draws and the one the manifest declares.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { WaterfallRow } from '../../../domain/telemetry/call-tree.ts';
import type { MapEdge } from '../../../domain/telemetry/service-map.ts';
import { parseSearchDuration, parseSearchTime } from '../../../domain/telemetry/trace-query.ts';
import type { LiveMapSnapshot } from '../../../engines/telemetry/live-map.ts';
import type { TraceSummary } from '../../../ports/span-store.ts';
import { contextOf } from '../context.ts';
import { relativeTime, table, type Output } from '../output.ts';

export interface TraceViewJson {
  readonly traceId: string;
  readonly start: string;
  readonly durationMs: number;
  readonly spanCount: number;
  readonly errorCount: number;
  readonly services: readonly string[];
  readonly rows: readonly WaterfallRow[];
}

interface ListOptions {
  service?: string;
  route?: string;
  status?: 'error' | 'ok';
  errors?: boolean;
  minDuration?: string;
  maxDuration?: string;
  since?: string;
  until?: string;
  limit: number;
}

function duration(value: string): string {
  if (parseSearchDuration(value) === undefined) {
    throw new InvalidArgumentError('expected a duration: 250 (ms), 250ms, 1.5s, 2m');
  }
  return value;
}

/** `15m` (that long ago), an ISO 8601 time, or epoch ms → ISO 8601. */
export function pointInTime(value: string, now = Date.now()): string {
  const ago = /^\d+(?:\.\d+)?(?:ms|s|m|h)$/.test(value) ? parseSearchDuration(value) : undefined;
  const us = ago !== undefined ? now * 1000 - ago : parseSearchTime(value);
  if (us === undefined) throw new InvalidArgumentError('expected 15m (ago), an ISO 8601 time or epoch ms');
  return new Date(Math.floor(us / 1000)).toISOString();
}

function limit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('expected 1 to 1000');
  return n;
}

export function registerTracesCommands(program: Command): void {
  const traces = program
    .command('traces')
    .description('Search traces, newest first (then `baton traces show ID` for the call tree)')
    .option('--service <name>', 'traces that touched this service')
    .option('--route <route>', "the root span's route, e.g. 'POST /api/checkout'")
    .addOption(new Option('--status <status>', 'only failed or only clean traces').choices(['error', 'ok']))
    .option('--errors', 'same as --status error')
    .option('--min-duration <duration>', 'at least this long: 250 (ms), 250ms, 1.5s', duration)
    .option('--max-duration <duration>', 'at most this long', duration)
    .option('--since <when>', 'started at or after: 15m (ago), or an ISO time', (v) => pointInTime(v))
    .option('--until <when>', 'started at or before: 5m (ago), or an ISO time', (v) => pointInTime(v))
    .option('-n, --limit <count>', 'how many (1–1000)', limit, 20)
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      `
Examples:
  baton traces --service orders --min-duration 200ms
  baton traces --errors --since 15m
  baton traces show 4bf92f3577b34da6a3ce929d0e0e4736`,
    )
    .action(async (options: ListOptions, command: Command) => {
      const { out, client } = contextOf(command);
      const query = new URLSearchParams();
      const status = options.errors ? 'error' : options.status;
      const params: [string, string | number | undefined][] = [
        ['service', options.service],
        ['route', options.route],
        ['status', status],
        ['minDuration', options.minDuration],
        ['maxDuration', options.maxDuration],
        ['since', options.since],
        ['until', options.until],
        ['limit', options.limit],
      ];
      for (const [name, value] of params) if (value !== undefined) query.set(name, String(value));
      const { traces: found } = await client.get<{ traces: TraceSummary[] }>(`/v1/traces?${query}`);
      if (out.json) return out.printJson(found);
      printTraceList(out, found);
    });

  traces
    .command('show')
    .description('One trace as a call tree: start, gap, exec and self time of every span')
    .argument('<trace-id>', '32 hex digits')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (traceId: string, _options: unknown, command: Command) => {
      const { out, client } = contextOf(command);
      const view = await client.get<TraceViewJson>(`/v1/traces/${encodeURIComponent(traceId)}`);
      if (out.json) return out.printJson(view);
      printTraceTree(out, view);
    });
}

export function printTraceList(out: Output, traces: readonly TraceSummary[], now = Date.now()): void {
  if (traces.length === 0) {
    return out.line('No traces match. Services export theirs to the control plane when BATON_SERVER is set.');
  }
  table(
    out,
    ['TRACE', 'STARTED', 'DURATION', 'SPANS', 'ERRORS', 'ROOT', 'SERVICES'],
    traces.map((t) => [
      t.traceId,
      relativeTime(t.start, now),
      formatMs(t.durationMs),
      String(t.spanCount),
      t.errorCount > 0 ? out.style('red', String(t.errorCount)) : '0',
      `${t.root.service} ${t.root.route}${t.root.complete ? '' : ' …'}`,
      t.services.join(', '),
    ]),
  );
}

/** The call tree as Pinpoint's Galileo prints it: one row per span, indented by depth. */
export function printTraceTree(out: Output, view: TraceViewJson): void {
  out.line(
    `${out.style('bold', `trace ${view.traceId}`)}  ${view.start}  ${formatMs(view.durationMs)}, ` +
      `${view.spanCount} span${view.spanCount === 1 ? '' : 's'}, ${view.services.length} service${view.services.length === 1 ? '' : 's'}` +
      (view.errorCount > 0 ? out.style('red', `, ${view.errorCount} failed`) : ''),
  );
  const total = view.durationMs || 1;
  const prefixes = treePrefixes(view.rows);
  table(
    out,
    ['METHOD', 'START', 'GAP', 'EXEC', 'EXEC%', 'SELF', 'SERVICE', 'INSTANCE', 'STATUS'],
    view.rows.map((row, i) => {
      const method = `${prefixes[i]}${row.name}${row.orphan ? ' (parent not received)' : ''}`;
      const status = statusOf(row);
      return [
        row.error ? out.style('red', method) : method,
        row.startMs.toFixed(3),
        row.gapMs.toFixed(3),
        row.durationMs.toFixed(3),
        `${Math.round((row.durationMs / total) * 100)}%`,
        row.selfMs.toFixed(3),
        row.service,
        row.instance ?? '—',
        row.error ? out.style('red', status) : status,
      ];
    }),
  );
  out.line(
    'times in ms; gap: since the previous sibling ended (or the parent started); self: exec minus children',
  );
}

function statusOf(row: WaterfallRow): string {
  const code = row.attributes['http.response.status_code'] ?? row.attributes['http.status_code'];
  const parts = [code === undefined ? '' : String(code), row.error ? 'error' : ''];
  if (row.statusMessage) parts.push(row.statusMessage);
  return parts.filter(Boolean).join(' ') || 'ok';
}

/** `├─ `, `└─ ` and `│  ` guides, from each row's depth and its parent's list of children. */
function treePrefixes(rows: readonly WaterfallRow[]): string[] {
  const byId = new Map(rows.map((r) => [r.spanId, r]));
  const isLast = (row: WaterfallRow) => {
    const parent = row.depth === 0 ? undefined : byId.get(row.parentSpanId ?? '');
    return parent === undefined || parent.children[parent.children.length - 1] === row.spanId;
  };
  return rows.map((row) => {
    if (row.depth === 0) return '';
    let guides = '';
    let ancestor = byId.get(row.parentSpanId ?? '');
    while (ancestor && ancestor.depth > 0) {
      guides = (isLast(ancestor) ? '   ' : '│  ') + guides;
      ancestor = byId.get(ancestor.parentSpanId ?? '');
    }
    return `${guides}${isLast(row) ? '└─ ' : '├─ '}`;
  });
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${ms.toFixed(1)}ms`;
}

/**
 * `baton graph --drift`: the edges traffic draws, with their figures, then what differs
 * from the manifest's dependsOn, and any cycle traffic takes.
 */
export function printDrift(out: Output, map: LiveMapSnapshot): void {
  out.line(
    `${out.style('bold', 'service map')} from traces, revision ${map.revision ?? '—'}: figures over ${map.windowSeconds}s, ` +
      `observed = seen in the last ${Math.round(map.observedForSeconds / 60)}m (watching since ${map.observingSince})`,
  );
  const observed = map.edges.filter((e) => e.observed);
  if (observed.length === 0) out.line('No traffic observed yet.');
  else {
    table(
      out,
      ['FROM', 'TO', 'DECLARED', 'REQ/S', 'ERRORS', 'P50', 'P99'],
      observed.map((e) => [
        e.from,
        e.to,
        e.declared ? 'yes' : e.external ? 'external' : out.style('red', 'no'),
        e.ratePerSecond.toFixed(2),
        e.errorRate > 0 ? out.style('red', percent(e.errorRate)) : percent(e.errorRate),
        e.p50Ms === null ? '—' : formatMs(e.p50Ms),
        e.p99Ms === null ? '—' : formatMs(e.p99Ms),
      ]),
    );
  }
  out.line();
  const { undeclared, unobserved } = map.drift;
  if (undeclared.length === 0 && unobserved.length === 0)
    out.line(out.style('green', 'No drift: traffic matches dependsOn.'));
  for (const e of undeclared) {
    out.line(
      `${out.style('red', 'undeclared')}  ${e.from} → ${e.to}  (${e.totalRequests} call${e.totalRequests === 1 ? '' : 's'}, last ${e.lastSeen ? relativeTime(e.lastSeen) : '—'})`,
    );
    out.line(`  hint: add \`${e.to}\` to services.${e.from}.dependsOn, or stop the call`);
  }
  for (const e of unobserved)
    out.line(
      `${out.style('yellow', 'unobserved')}  ${e.from} → ${e.to}${optional(e)}: declared, no traffic seen`,
    );
  for (const cycle of map.cycles)
    out.line(`${out.style('red', 'cycle')}  ${cycle.join(' → ')} (observed in traffic)`);
}

function optional(edge: MapEdge): string {
  return edge.optional ? ' (optional)' : '';
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(rate < 0.1 ? 1 : 0)}%`;
}
