import type { Problem } from '../../domain/problems.ts';
import type { RangeBreak, RolloutStep } from '../../domain/revisions/rollout-plan.ts';
import type { ServiceMove } from '../../domain/revisions/revision.ts';
import { printProblems, table, type Output } from './output.ts';

export interface PlanJson {
  readonly from: number | null;
  readonly unchanged: boolean;
  readonly rollout: {
    readonly ok: boolean;
    readonly steps: readonly RolloutStep[];
    readonly breaks: readonly RangeBreak[];
  };
  readonly warnings: readonly Problem[];
  readonly moves?: readonly ServiceMove[];
}

const ACTION_STYLE = { add: 'green', update: 'yellow', scale: 'cyan', remove: 'red' } as const;

export function printPlan(out: Output, plan: PlanJson): void {
  printProblems(out, plan.warnings);
  if (plan.moves?.length) {
    out.line(out.style('bold', 'Services that move:'));
    for (const m of plan.moves) {
      out.line(
        `  ${out.style('bold', m.service)} ${m.from} → ${m.to} ${out.style('gray', `(spec of revision ${m.fromRevision})`)}`,
      );
      out.line(`    ${m.reason}`);
    }
    out.line();
  }
  if (plan.unchanged) {
    out.line(`No changes: the manifest is identical to revision ${plan.from}.`);
    return;
  }
  out.line(
    out.style('bold', `Rollout plan (from ${plan.from === null ? 'nothing' : `revision ${plan.from}`}):`),
  );
  table(
    out,
    ['STEP', 'SERVICE', 'ACTION', 'VERSION'],
    plan.rollout.steps.map((s) => [
      String(s.index),
      s.service,
      out.style(ACTION_STYLE[s.action], s.action),
      versionChange(s.fromVersion, s.toVersion),
    ]),
  );
  if (plan.rollout.breaks.length > 0) {
    out.line();
    out.line(out.style('red', 'These steps break a dependency range:'));
    for (const b of plan.rollout.breaks) out.line(`  ${b.message}`);
  }
}

function versionChange(from?: string, to?: string): string {
  if (from && to && from !== to) return `${from} → ${to}`;
  return to ?? from ?? '';
}
