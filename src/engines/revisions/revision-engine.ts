// The revisions engine: turns manifests into revisions of the whole architecture (the
// VersionSet), and plans and records rollbacks. All decisions are made by the pure domain
// (validation, rollout plan, rollback plan); this engine reads and writes the Store.
import { serviceOf } from '../../domain/manifest/service-lookup.ts';
import { stringify } from 'yaml';
import { BatonError } from '../../domain/errors.ts';
import { hasService } from '../../domain/manifest/service-lookup.ts';
import { PRECHECK_MIN_BYTES, type ManifestPrecheck } from '../../ports/manifest-precheck.ts';
import {
  buildGraph,
  blastRadius,
  graphMetrics,
  topologicalOrder,
} from '../../domain/graph/dependency-graph.ts';
import { manifestHash } from '../../domain/manifest/canonical.ts';
import type { Manifest } from '../../domain/manifest/model.ts';
import type { Problem } from '../../domain/problems.ts';
import { diffManifests, type ManifestDiff } from '../../domain/revisions/diff.ts';
import type {
  Revision,
  RevisionSource,
  RevisionSummary,
  ServiceMove,
} from '../../domain/revisions/revision.ts';
import {
  OUTCOME_EVENT_KINDS,
  revisionOutcomes,
  type RevisionOutcome,
} from '../../domain/revisions/revision-outcome.ts';
import { planServiceRollback } from '../../domain/revisions/rollback-plan.ts';
import { planRollout, type RolloutPlan } from '../../domain/revisions/rollout-plan.ts';
import { validateArchitecture, withLaterProblems, type ValidArchitecture } from '../../domain/validate.ts';
import type { Clock } from '../../ports/clock.ts';
import { StoreConflictError, type NewEvent, type RevisionQuery, type Store } from '../../ports/store.ts';
import type { Admit } from './admission.ts';

/** How far back a service rollback searches for earlier specs. */
const ROLLBACK_HISTORY_DEPTH = 100;

export interface ManifestInput {
  readonly text: string;
  /** Where the text came from, for error locations (`shop/baton.yaml:12:5`). */
  readonly file?: string | undefined;
  /** Absolute folder of the manifest: relative `run.cwd` paths resolve against it. */
  readonly baseDir?: string | undefined;
}

export interface ChangeOptions {
  readonly author: string;
  readonly message?: string | undefined;
  /** Record the revision even though a rollout step would break a dependency range. */
  readonly force?: boolean | undefined;
}

export interface Plan {
  /** The revision the plan starts from; null before the first apply. */
  readonly from: number | null;
  readonly hash: string;
  /** True when the manifest equals the current revision: applying it is a no-op. */
  readonly unchanged: boolean;
  readonly rollout: RolloutPlan;
  readonly warnings: readonly Problem[];
}

export type RollbackRequest =
  | { readonly to: number; readonly service?: undefined }
  | { readonly service: string; readonly toVersion?: string | undefined; readonly to?: undefined };

export interface RollbackPlan extends Plan {
  readonly source: RevisionSource;
  readonly manifest: Manifest;
  /** For a service rollback: every service that moves and why. */
  readonly moves: readonly ServiceMove[];
}

export interface ChangeOutcome {
  readonly applied: boolean;
  readonly revision: Revision;
  readonly plan: Plan;
}

export interface RevisionEngineOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** The runtime's say on a manifest before it is planned or recorded; none when absent. */
  readonly admit?: Admit | undefined;
  /** Validates large texts off the event loop first; everything is validated in place when absent. */
  readonly precheck?: ManifestPrecheck | undefined;
}

/** The revision this engine recorded last, with the services its plan moves, in order. */
export interface RecordedRevision {
  readonly revision: Revision;
  readonly steps: readonly string[];
}

export class RevisionEngine {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #admit: Admit | undefined;
  readonly #precheck: ManifestPrecheck | undefined;
  #lastRecorded: RecordedRevision | undefined;
  #newest: Revision | undefined;

  constructor(options: RevisionEngineOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#admit = options.admit;
    this.#precheck = options.precheck;
  }

  /**
   * Every problem of a manifest: syntax, schema, the dependency graph and, once those pass,
   * what the runtime cannot run. Throws `manifest-invalid` listing them all.
   */
  async validate(input: ManifestInput): Promise<ValidArchitecture & { warnings: readonly Problem[] }> {
    if (this.#precheck !== undefined && input.text.length >= PRECHECK_MIN_BYTES) {
      // Invalid junk is answered from the worker; a valid text is validated again below,
      // where its manifest and locations are needed. A failed worker only costs the detour.
      const problems = await this.#precheck(input.text, input.file).catch(() => undefined);
      if (problems !== undefined) throw invalidManifest(problems, input.file);
    }
    const validation = validateArchitecture(input.text, { file: input.file });
    if (!validation.ok) throw invalidManifest(validation.problems, input.file);
    const admitted = this.#admit ? await this.#admit(validation.value.manifest, input.baseDir) : [];
    const result = withLaterProblems(validation, admitted, { file: input.file });
    if (!result.ok) throw invalidManifest(result.problems, input.file);
    return { ...result.value, warnings: result.warnings };
  }

  async plan(input: ManifestInput): Promise<Plan> {
    const { manifest, warnings } = await this.validate(input);
    return this.#planAgainstLatest(manifest, warnings, await this.#store.latestRevision());
  }

  async apply(input: ManifestInput, options: ChangeOptions): Promise<ChangeOutcome> {
    const { manifest, warnings } = await this.validate(input);
    const latest = await this.#store.latestRevision();
    const plan = this.#planAgainstLatest(manifest, warnings, latest);
    const source: RevisionSource = input.baseDir
      ? { kind: 'apply', baseDir: input.baseDir }
      : { kind: 'apply' };
    return this.#record(latest, plan, manifest, input.text, source, options);
  }

  async planRollback(request: RollbackRequest): Promise<RollbackPlan> {
    const latest = await this.#requireLatest();
    if (request.to !== undefined) {
      const target = await this.getRevision(request.to);
      const base = this.#planAgainstLatest(target.manifest, [], latest);
      return {
        ...base,
        source: { kind: 'rollback', toRevision: target.number, ...baseDirOf(target) },
        manifest: target.manifest,
        moves: [],
      };
    }
    const history = await this.#store.revisionHistory(ROLLBACK_HISTORY_DEPTH);
    const result = planServiceRollback(
      history.map((r) => ({ revision: r.number, manifest: r.manifest })),
      request.service,
      { toVersion: request.toVersion },
    );
    if (!result.ok) {
      const code = result.code === 'unknown-service' ? 'service-not-found' : 'rollback-refused';
      throw new BatonError(code, result.reason, { hint: result.hint });
    }
    const base = this.#planAgainstLatest(result.manifest, [], latest);
    return {
      ...base,
      source: {
        kind: 'rollback-service',
        service: request.service,
        moves: result.moves,
        ...baseDirOf(latest),
      },
      manifest: result.manifest,
      moves: result.moves,
    };
  }

  async rollback(request: RollbackRequest, options: ChangeOptions): Promise<ChangeOutcome> {
    const latest = await this.#requireLatest();
    const plan = await this.planRollback(request);
    const text =
      plan.source.kind === 'rollback'
        ? (await this.getRevision(plan.source.toRevision)).manifestText
        : generatedManifestText(plan);
    return this.#record(latest, plan, plan.manifest, text, plan.source, options);
  }

  /** Revision summaries, newest first, each with what became of it. */
  async history(query: RevisionQuery = {}): Promise<(RevisionSummary & { outcome: RevisionOutcome })[]> {
    const revisions = await this.#store.listRevisions(query);
    if (revisions.length === 0) return [];
    const latest = (await this.#store.listRevisions({ limit: 1 }))[0]?.number ?? 0;
    // One or two per revision: cheap next to the manifests the history does not read.
    const events = await this.#store.readEvents({ kinds: [...OUTCOME_EVENT_KINDS] });
    const outcomes = revisionOutcomes(
      revisions.map((r) => r.number),
      latest,
      events,
    );
    return revisions.map((r) => ({ ...r, outcome: outcomes.get(r.number)! }));
  }

  async getRevision(number: number): Promise<Revision> {
    const revision = await this.#store.getRevision(number);
    if (!revision) {
      throw new BatonError('revision-not-found', `revision ${number} does not exist`, {
        hint: 'list revisions with `baton history`',
      });
    }
    return revision;
  }

  async latest(): Promise<Revision | undefined> {
    return this.#store.latestRevision();
  }

  /**
   * What this process recorded last, already parsed and planned: the controller takes it
   * instead of reading a many-megabyte manifest back and comparing every service again,
   * so that a one-service change costs one service however large the architecture.
   */
  lastRecorded(): RecordedRevision | undefined {
    return this.#lastRecorded;
  }

  /**
   * The newest revision, for readers that ask often (gateway snapshots, alert evaluation):
   * a summary row per call, the manifest read only when a newer revision exists.
   */
  async newest(): Promise<Revision | undefined> {
    const number = (await this.#store.listRevisions({ limit: 1 }))[0]?.number;
    if (number === undefined) return undefined;
    if (this.#newest?.number !== number) {
      const recorded = this.#lastRecorded?.revision;
      this.#newest = recorded?.number === number ? recorded : await this.getRevision(number);
    }
    return this.#newest;
  }

  async diff(from: number, to: number): Promise<ManifestDiff & { from: number; to: number }> {
    const [a, b] = await Promise.all([this.getRevision(from), this.getRevision(to)]);
    return { from, to, ...diffManifests(a.manifest, b.manifest) };
  }

  async services(): Promise<{ revision: number | null; services: ServiceSummary[] }> {
    const latest = await this.#store.latestRevision();
    if (!latest) return { revision: null, services: [] };
    return { revision: latest.number, services: summarise(latest.manifest) };
  }

  async service(name: string): Promise<ServiceDetail> {
    const latest = await this.#requireLatest();
    const spec = serviceOf(latest.manifest, name);
    if (!spec) {
      throw new BatonError('service-not-found', `service \`${name}\` is not in revision ${latest.number}`, {
        hint: 'list services with `baton status`',
      });
    }
    const graph = buildGraph(latest.manifest);
    const summary = summarise(latest.manifest).find((s) => s.name === name)!;
    return {
      ...summary,
      revision: latest.number,
      spec,
      consumers: graph
        .consumersOf(name)
        .map((e) => ({ service: e.from, range: e.range, optional: e.optional })),
      blastRadius: blastRadius(latest.manifest, graph, name),
    };
  }

  #planAgainstLatest(manifest: Manifest, warnings: readonly Problem[], latest: Revision | undefined): Plan {
    const hash = manifestHash(manifest);
    return {
      from: latest?.number ?? null,
      hash,
      unchanged: latest?.hash === hash,
      rollout: planRollout(latest?.manifest, manifest),
      warnings,
    };
  }

  async #record(
    latest: Revision | undefined,
    plan: Plan,
    manifest: Manifest,
    text: string,
    source: RevisionSource,
    options: ChangeOptions,
  ): Promise<ChangeOutcome> {
    if (plan.unchanged && latest) return { applied: false, revision: latest, plan };
    const before = Object.keys(latest?.manifest.services ?? {});
    if (before.length > 0 && !before.some((name) => hasService(manifest, name)) && !options.force) {
      throw new BatonError(
        'confirmation-required',
        `this manifest removes every service of revision ${latest!.number} (${before.length}): all of them would stop`,
        {
          hint: 'if that is meant, apply again with --force (force: true); a typo in `name` or a wrong file is the usual cause',
        },
      );
    }
    if (!plan.rollout.ok && !options.force) {
      const first = plan.rollout.breaks[0]!;
      throw new BatonError('plan-breaks-ranges', first.message, {
        hint: 'change the versions or ranges so that an order exists, or pass --force to accept the breakage',
        details: { breaks: plan.rollout.breaks, steps: plan.rollout.steps },
      });
    }
    const number = (latest?.number ?? 0) + 1;
    const time = this.#clock.now().toISOString();
    const message = options.message ?? defaultMessage(source);
    const events: NewEvent[] = [
      {
        kind: source.kind === 'apply' ? 'revision.applied' : 'revision.rolled-back',
        revision: number,
        actor: options.author,
        message: `revision ${number}: ${message}`,
        data: { hash: plan.hash, source, steps: plan.rollout.steps.length, forced: !plan.rollout.ok },
        time,
      },
    ];
    try {
      const revision = await this.#store.appendRevision(
        {
          hash: plan.hash,
          manifestText: text,
          manifest,
          author: options.author,
          message,
          source,
          createdAt: time,
        },
        { expectedParent: latest?.number ?? null, events },
      );
      this.#lastRecorded = { revision, steps: plan.rollout.steps.map((step) => step.service) };
      return { applied: true, revision, plan };
    } catch (error) {
      if (error instanceof StoreConflictError) {
        throw new BatonError('concurrent-change', 'another change was recorded while this one was planned', {
          hint: 'review `baton history` and apply again',
          cause: error,
        });
      }
      throw error;
    }
  }

  async #requireLatest(): Promise<Revision> {
    const latest = await this.#store.latestRevision();
    if (!latest)
      throw new BatonError('no-revision', 'nothing has been applied yet', {
        hint: 'run `baton apply -f baton.yaml`',
      });
    return latest;
  }
}

export interface ServiceSummary {
  readonly name: string;
  readonly version: string;
  readonly tier: string;
  readonly owner: string | undefined;
  readonly description: string | undefined;
  readonly instances: { readonly min: number; readonly max: number };
  readonly mode: string;
  readonly dependsOn: Readonly<Record<string, { range: string; optional: boolean }>>;
  readonly fanIn: number;
  readonly fanOut: number;
  readonly depth: number;
  /** Position in the rollout order (providers first). */
  readonly order: number;
}

export interface ServiceDetail extends ServiceSummary {
  readonly revision: number;
  readonly spec: Manifest['services'][string];
  readonly consumers: readonly { service: string; range: string; optional: boolean }[];
  readonly blastRadius: ReturnType<typeof blastRadius>;
}

function summarise(manifest: Manifest): ServiceSummary[] {
  const graph = buildGraph(manifest);
  const metrics = graphMetrics(graph);
  const topo = topologicalOrder(graph);
  const order = topo.ok ? topo.order : graph.services;
  return order.map((name, index) => {
    const spec = manifest.services[name]!;
    const m = metrics[name] ?? { fanIn: 0, fanOut: 0, depth: 0 };
    return {
      name,
      version: spec.version,
      tier: spec.tier,
      owner: spec.owner,
      description: spec.description,
      instances: spec.instances,
      mode: spec.mode,
      dependsOn: spec.dependsOn,
      fanIn: m.fanIn,
      fanOut: m.fanOut,
      depth: m.depth,
      order: index + 1,
    };
  });
}

/** The error for a manifest that failed validation: 413 for size, otherwise every problem. */
export function invalidManifest(problems: readonly Problem[], file: string | undefined): BatonError {
  const errors = problems.filter((p) => p.severity === 'error');
  const tooLarge = errors.find((p) => p.code === 'manifest-too-large');
  if (tooLarge) return new BatonError('manifest-too-large', tooLarge.message, { hint: tooLarge.hint });
  return new BatonError(
    'manifest-invalid',
    `${errors.length} problem${errors.length === 1 ? '' : 's'} in ${file ?? 'the manifest'}`,
    { problems },
  );
}

function baseDirOf(revision: Revision): { baseDir?: string } {
  return revision.source.baseDir ? { baseDir: revision.source.baseDir } : {};
}

function defaultMessage(source: RevisionSource): string {
  switch (source.kind) {
    case 'apply':
      return 'apply';
    case 'rollback':
      return `roll back to revision ${source.toRevision}`;
    case 'rollback-service':
      return `roll back ${source.moves.map((m) => `${m.service} ${m.from} → ${m.to}`).join(', ')}`;
  }
}

/** A service rollback has no author-written text; generate one that says where it came from. */
function generatedManifestText(plan: RollbackPlan): string {
  const header = [
    `# Generated by Baton: rollback of ${plan.source.kind === 'rollback-service' ? plan.source.service : ''} from revision ${plan.from}.`,
    ...plan.moves.map(
      (m) => `#   ${m.service} ${m.from} -> ${m.to} (spec of revision ${m.fromRevision}): ${m.reason}`,
    ),
  ];
  return `${header.join('\n')}\n${stringify(plan.manifest, { lineWidth: 0 })}`;
}
