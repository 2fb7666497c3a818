// The one rule both lifecycles share: a transition is legal when the table lists the edge
// and its cause's rule covers it. The verdict is a value, not an exception, because
// an illegal request is a controller bug to log and record, never a reason to crash.

export type TransitionVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Where a cause may take a phase: one of `to`, and only from one of `from` when given. */
export interface CauseRule<P extends string> {
  readonly to: readonly P[];
  readonly from?: readonly P[] | undefined;
}

export interface StateMachine<P extends string, C extends string> {
  /** `instance` or `service`, for messages. */
  readonly name: string;
  readonly transitions: Readonly<Record<P, readonly P[]>>;
  readonly causes: Readonly<Record<C, CauseRule<P>>>;
}

const LEGAL: TransitionVerdict = { ok: true };

export function checkTransition<P extends string, C extends string>(
  machine: StateMachine<P, C>,
  from: P,
  to: P,
  cause: C,
): TransitionVerdict {
  // Phases and causes may come from a store or another process as plain strings: an unknown
  // one is reported like any other illegal request instead of crashing on a missing entry.
  for (const phase of [from, to]) {
    if (!Object.hasOwn(machine.transitions, phase)) {
      return { ok: false, reason: `unknown ${machine.name} phase '${phase}'` };
    }
  }
  if (!Object.hasOwn(machine.causes, cause)) {
    return { ok: false, reason: `unknown ${machine.name} transition cause '${cause}'` };
  }
  const exits = machine.transitions[from];
  if (!exits.includes(to)) {
    const allowed = exits.length === 0 ? 'it is terminal' : `it can go to ${exits.join(', ')}`;
    return { ok: false, reason: `illegal ${machine.name} transition ${from} → ${to} (${cause}): ${allowed}` };
  }
  const rule = machine.causes[cause];
  if (!rule.to.includes(to)) {
    return {
      ok: false,
      reason: `cause '${cause}' cannot take ${machine.name} ${from} → ${to}: it leads to ${rule.to.join(', ')}`,
    };
  }
  if (rule.from !== undefined && !rule.from.includes(from)) {
    return {
      ok: false,
      reason: `cause '${cause}' cannot take ${machine.name} ${from} → ${to}: it applies only from ${rule.from.join(', ')}`,
    };
  }
  return LEGAL;
}
