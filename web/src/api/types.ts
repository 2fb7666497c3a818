// The shapes of the /v1 answers the console reads. Where the control plane has a domain
// type, it is imported (type-only, erased from the bundle) so the two cannot drift; the
// rest mirror the handlers in src/interfaces/http/{routes,runtime-routes}.ts.
import type { DependencyEdge, BlastRadiusEntry, ServiceMetrics } from '../../../src/domain/graph/index.ts';
import type { InstancePhase, ServicePhase } from '../../../src/domain/lifecycle/index.ts';
import type { Tier } from '../../../src/domain/manifest/schema.ts';
import type { ManifestDiff } from '../../../src/domain/revisions/diff.ts';
import type { RevisionSource, RevisionSummary, ServiceMove } from '../../../src/domain/revisions/revision.ts';
import type { RevisionOutcome } from '../../../src/domain/revisions/revision-outcome.ts';
import type { RolloutPlan } from '../../../src/domain/revisions/rollout-plan.ts';
import type { StoredEvent } from '../../../src/ports/store.ts';
import type { TraceView } from '../../../src/domain/telemetry/call-tree.ts';
import type { RedReport } from '../../../src/domain/telemetry/red.ts';
import type { ServiceMapSnapshot } from '../../../src/domain/telemetry/service-map.ts';
import type { TraceSummary } from '../../../src/ports/span-store.ts';

export type {
  FaultInjection,
  GatewayRoute,
  GatewayService,
  GatewaySnapshot,
  TrafficSplit,
} from '../../../src/domain/gateway/snapshot.ts';
export type { FieldChange, ServiceDiff } from '../../../src/domain/revisions/diff.ts';
export type { RangeBreak, RolloutStep } from '../../../src/domain/revisions/rollout-plan.ts';
export type { WaterfallRow } from '../../../src/domain/telemetry/call-tree.ts';
export type { RedRoute, RedService } from '../../../src/domain/telemetry/red.ts';
export type { MapEdge as ObservedMapEdge } from '../../../src/domain/telemetry/service-map.ts';
export type { SeriesPoint, WindowFigures } from '../../../src/domain/telemetry/windowed-stats.ts';
export type {
  BlastRadiusEntry,
  DependencyEdge,
  InstancePhase,
  ManifestDiff,
  RevisionSource,
  RevisionOutcome,
  RevisionSummary,
  ServiceMove,
  ServicePhase,
  StoredEvent,
  Tier,
  TraceSummary,
  TraceView,
};

/** GET /v1/status: one entry per service the controller tracks. */
export interface ServiceState {
  readonly service: string;
  readonly revision: number | null;
  readonly phase: ServicePhase;
  readonly desired: number;
  readonly ready: number;
  readonly version: string | undefined;
  readonly settled: boolean;
  readonly waitingFor: readonly string[];
  /** Why it has not settled, in one line. */
  readonly reason?: string | undefined;
  /** ISO 8601: while its rollout is under way, when it fails unless settled. */
  readonly deadline?: string | undefined;
  readonly tier?: Tier | undefined;
}

/** How an instance last ended: its exit in words and the last lines it wrote. */
export interface ExitFact {
  readonly code: number | null;
  readonly signal: string | null;
  readonly at: string;
  readonly reason: string;
  readonly output: readonly string[];
}

/** GET /v1/status and GET /v1/instances: the registry's record of an instance. */
export interface Instance {
  readonly id: string;
  readonly service: string;
  readonly version: string;
  readonly revision: number;
  readonly phase: InstancePhase;
  readonly address?: string | undefined;
  readonly port?: number | undefined;
  readonly node?: string | undefined;
  readonly pid?: number | undefined;
  readonly startedAt?: string | undefined;
  readonly since: string;
  readonly restarts: number;
  readonly health: string;
  readonly lastExit?: ExitFact | undefined;
  /** The config release it runs (0: none released yet); `gray` while that release is gray. */
  readonly config?: { readonly release: number; readonly gray: boolean } | undefined;
}

export interface StatusResponse {
  readonly revision: number | null;
  readonly services: readonly ServiceState[];
  readonly instances: readonly Instance[];
  /** The control plane's replicas and leader (several only over PostgreSQL). */
  readonly cluster?: ClusterView | undefined;
}

/** Part of GET /v1/status (and GET /v1/cluster): who leads, with which epoch, how fresh its lease. */
export interface ClusterView {
  readonly leader?: { readonly address: string | null; readonly epoch: number; readonly leaseAgeMs: number };
  readonly replicas: readonly { readonly address: string | null; readonly leader: boolean }[];
  readonly self: { readonly address: string; readonly leading: boolean };
}

/** GET /v1/services: the current revision's spec summary, in rollout order. */
export interface ServiceSummary extends ServiceMetrics {
  readonly name: string;
  readonly version: string;
  readonly tier: Tier;
  readonly owner?: string | undefined;
  readonly description?: string | undefined;
  readonly instances: { readonly min: number; readonly max: number };
  readonly mode: 'pet' | 'cattle';
  readonly dependsOn: Readonly<Record<string, { readonly range: string; readonly optional: boolean }>>;
  readonly order: number;
}

export interface ServicesResponse {
  readonly revision: number | null;
  readonly services: readonly ServiceSummary[];
}

/** GET /v1/services/{name}. */
export interface ServiceDetail extends ServiceSummary {
  readonly revision: number;
  readonly spec: Readonly<Record<string, unknown>> & {
    readonly rollout?: {
      readonly strategy: string;
      readonly maxSurge: number;
      readonly maxUnavailable: number;
    };
  };
  readonly consumers: readonly {
    readonly service: string;
    readonly range: string;
    readonly optional: boolean;
  }[];
  readonly blastRadius: readonly BlastRadiusEntry[];
}

/** GET /v1/graph (format json). */
export interface GraphResponse {
  readonly revision: number;
  readonly services: readonly { readonly name: string; readonly version: string; readonly tier: Tier }[];
  readonly edges: readonly DependencyEdge[];
  readonly order: readonly string[];
  readonly cycles: readonly (readonly string[])[];
  readonly metrics: Readonly<Record<string, ServiceMetrics>>;
}

/** A history entry: a revision and what became of it. */
export type HistoryEntry = RevisionSummary & { readonly outcome: RevisionOutcome };

export interface RevisionsResponse {
  readonly revisions: readonly HistoryEntry[];
}

export interface EventsResponse {
  readonly events: readonly StoredEvent[];
  readonly last: number;
}

export type DiffResponse = ManifestDiff & { readonly from: number; readonly to: number };

/** POST /v1/rollback/plan. */
export interface RollbackPlan {
  readonly from: number | null;
  readonly hash: string;
  readonly unchanged: boolean;
  readonly rollout: RolloutPlan;
  readonly warnings: readonly {
    readonly severity: string;
    readonly message: string;
    readonly hint?: string;
  }[];
  readonly source: RevisionSource;
  /** For a service rollback: every service that moves and why. */
  readonly moves?: readonly ServiceMove[];
}

/** POST /v1/rollback. */
export interface ChangeOutcome {
  readonly applied: boolean;
  readonly revision: { readonly number: number; readonly message: string; readonly source: RevisionSource };
}

export interface LogLine {
  readonly instance: string;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

/** RFC 9457 problem details, as every /v1 error is sent. */
export interface Problem {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly hint?: string | undefined;
  readonly breaks?: readonly { readonly message: string }[] | undefined;
}

/** GET /v1/traces (telemetry): summaries, newest first. */
export interface TracesResponse {
  readonly traces: readonly TraceSummary[];
}

/** GET /v1/traces/{traceId}: the call tree, as waterfall rows in depth-first order. */
export type TraceResponse = TraceView;

/** GET /v1/map: observed edges, drift against dependsOn, observed cycles. */
export type LiveMapResponse = ServiceMapSnapshot & { readonly revision: number | null };

/** GET /v1/metrics/red: RED per service and route, 10-second points over 15 minutes. */
export type RedResponse = RedReport;
