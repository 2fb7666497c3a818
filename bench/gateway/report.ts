// From runs to what the benchmark prints: medians per target, the ratios the issue sets goals
// for, as a Markdown table.

export interface CpuUse {
  /** CPU seconds over the run: the proxy's processes (all of its tree), undefined for `direct`. */
  readonly proxy: number | undefined;
  readonly upstream: number;
  readonly wrk: number;
  /** Everything else busy on the machine in that time (other users, this benchmark's driver). */
  readonly other: number;
  readonly wallSeconds: number;
}

export interface Run {
  readonly target: string;
  readonly round: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly cpu: CpuUse;
}

export interface Summary {
  readonly target: string;
  readonly runs: readonly Run[];
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Percent of one core, median over runs. */
  readonly proxyCpuPercent: number | undefined;
  readonly proxyMicrosPerRequest: number | undefined;
  readonly upstreamCpuPercent: number;
  readonly wrkCpuPercent: number;
  readonly otherCpuPercent: number;
  readonly errors: number;
}

/** The median; of an even count, the mean of the two middle samples (2 runs → their mean). */
export function middle(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error('median of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
}

const percentOfCore = (seconds: number, run: Run) => (100 * seconds) / run.cpu.wallSeconds;

export function summarize(target: string, runs: readonly Run[]): Summary {
  const withProxy = runs.filter((run) => run.cpu.proxy !== undefined);
  const of = (pick: (run: Run) => number) => middle(runs.map(pick));
  return {
    target,
    runs,
    requestsPerSecond: of((run) => run.requestsPerSecond),
    p50Ms: of((run) => run.p50Ms),
    p99Ms: of((run) => run.p99Ms),
    proxyCpuPercent:
      withProxy.length === 0 ? undefined : middle(withProxy.map((run) => percentOfCore(run.cpu.proxy!, run))),
    proxyMicrosPerRequest:
      withProxy.length === 0
        ? undefined
        : middle(withProxy.map((run) => (1e6 * run.cpu.proxy!) / run.requests)),
    upstreamCpuPercent: of((run) => percentOfCore(run.cpu.upstream, run)),
    wrkCpuPercent: of((run) => percentOfCore(run.cpu.wrk, run)),
    otherCpuPercent: of((run) => percentOfCore(run.cpu.other, run)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
  };
}

export interface Ratio {
  readonly label: string;
  readonly value: number;
  /** The same quotient round by round (runs of one round ran back to back). */
  readonly perRound: readonly number[];
  readonly goal?: string | undefined;
  readonly met?: boolean | undefined;
}

function byRound(a: Summary, b: Summary, f: (x: Run, y: Run) => number): number[] {
  return a.runs.flatMap((x) => {
    const y = b.runs.find((run) => run.round === x.round);
    return y === undefined ? [] : [f(x, y)];
  });
}

/** The comparisons the issue asks for, for whichever of their targets ran. */
export function ratios(summaries: readonly Summary[]): Ratio[] {
  const get = (name: string) => summaries.find((s) => s.target === name);
  const out: Ratio[] = [];
  const throughput = (a: string, b: string, goal?: number) => {
    const x = get(a);
    const y = get(b);
    if (!x || !y) return;
    const value = x.requestsPerSecond / y.requestsPerSecond;
    out.push({
      label: `${a} / ${b} (req/s)`,
      value,
      perRound: byRound(x, y, (p, q) => p.requestsPerSecond / q.requestsPerSecond),
      goal: goal === undefined ? undefined : `≥ ${goal}`,
      met: goal === undefined ? undefined : value >= goal,
    });
  };
  const p99 = (a: string, b: string, goalMs?: number) => {
    const x = get(a);
    const y = get(b);
    if (!x || !y) return;
    const value = x.p99Ms - y.p99Ms;
    out.push({
      label: `${a} p99 − ${b} p99 (ms)`,
      value,
      perRound: byRound(x, y, (p, q) => p.p99Ms - q.p99Ms),
      goal: goalMs === undefined ? undefined : `≤ ${goalMs} ms`,
      met: goalMs === undefined ? undefined : value <= goalMs,
    });
  };
  const p50 = (a: string, b: string, goalMs?: number) => {
    const x = get(a);
    const y = get(b);
    if (!x || !y) return;
    const value = x.p50Ms - y.p50Ms;
    out.push({
      label: `${a} p50 − ${b} p50 (ms)`,
      value,
      perRound: byRound(x, y, (p, q) => p.p50Ms - q.p50Ms),
      goal: goalMs === undefined ? undefined : `≤ ${goalMs} ms`,
      met: goalMs === undefined ? undefined : value <= goalMs,
    });
  };
  // One east-west hop: what it adds to a direct call, and against nginx as the local proxy.
  // The goal (≤ 0.5 ms added p50) is for one hop unloaded: judge it at --connections 1.
  p50('baton-east-west', 'direct');
  p99('baton-east-west', 'direct');
  p50('baton-east-west', 'nginx');
  p99('baton-east-west', 'nginx');
  p50('nginx', 'direct');
  throughput('baton-east-west', 'nginx');
  throughput('baton-east-west', 'baton');
  throughput('baton', 'undici-minimal', 0.9);
  throughput('baton', 'fastify-http-proxy', 1.3);
  p99('baton', 'undici-minimal', 1);
  throughput('baton-cluster', 'nginx');
  throughput('baton-cluster', 'undici-cluster');
  p99('baton-cluster', 'undici-cluster');
  throughput('undici-cluster', 'nginx');
  return out;
}

const thousands = (n: number) => `${(n / 1000).toFixed(1)}k`;
const msText = (n: number) => (n < 1 ? n.toFixed(3) : n < 10 ? n.toFixed(2) : n.toFixed(1));
const pct = (n: number | undefined) => (n === undefined ? '–' : `${n.toFixed(0)}%`);

export function markdown(summaries: readonly Summary[], ratioList: readonly Ratio[]): string {
  const lines = [
    '| target | req/s (median) | runs | p50 ms | p99 ms | proxy CPU | proxy µs/req | upstream CPU | wrk CPU | rest of machine | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of summaries) {
    lines.push(
      `| ${s.target} | **${thousands(s.requestsPerSecond)}** | ${s.runs.map((r) => thousands(r.requestsPerSecond)).join(' / ')} | ` +
        `${msText(s.p50Ms)} | ${msText(s.p99Ms)} (${s.runs.map((r) => msText(r.p99Ms)).join(' / ')}) | ` +
        `${pct(s.proxyCpuPercent)} | ${s.proxyMicrosPerRequest === undefined ? '–' : s.proxyMicrosPerRequest.toFixed(0)} | ` +
        `${pct(s.upstreamCpuPercent)} | ${pct(s.wrkCpuPercent)} | ${pct(s.otherCpuPercent)} | ${s.errors} |`,
    );
  }
  if (ratioList.length > 0) {
    lines.push('', '| ratio | median | per round | goal |', '|---|---|---|---|');
    for (const r of ratioList) {
      // Latency differences of one hop are tenths of a millisecond: three decimals.
      const ms = r.label.endsWith('(ms)');
      const value = ms ? `${r.value >= 0 ? '+' : ''}${r.value.toFixed(3)}` : r.value.toFixed(2);
      const rounds = r.perRound.map((v) => v.toFixed(ms ? 3 : 2)).join(' / ');
      const goal = r.goal === undefined ? '–' : `${r.goal}: ${r.met ? 'met' : '**not met**'}`;
      lines.push(`| ${r.label} | ${value} | ${rounds} | ${goal} |`);
    }
  }
  return lines.join('\n');
}
