// The checks every lifecycle table must pass, run by instance-lifecycle.test.ts and
// service-lifecycle.test.ts. Each test file writes the expected edges out by hand, as a
// second listing independent of the table: changing the table then means changing the
// test's list too, on purpose.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { CauseRule, TransitionVerdict } from './transition-check.ts';

export interface MachineCase<P extends string, C extends string> {
  readonly name: string;
  readonly phases: Readonly<Record<string, P>>;
  readonly causes: Readonly<Record<string, C>>;
  readonly initial: P;
  readonly transitions: Readonly<Record<P, readonly P[]>>;
  readonly causeRules: Readonly<Record<C, CauseRule<P>>>;
  readonly transition: (from: P, to: P, cause: C) => TransitionVerdict;
  readonly isPhase: (value: string) => boolean;
  /** The expected phases, in declaration order. */
  readonly expectedPhases: readonly P[];
  /** The expected causes, in declaration order. */
  readonly expectedCauses: readonly C[];
  /** Every legal edge, written `from → to`. */
  readonly expectedEdges: readonly string[];
  /**
   * For each cause, the edges it may take, written `from → to`, or `* → to` for any edge
   * into `to` that the table allows.
   */
  readonly expectedCauseEdges: Readonly<Record<C, readonly string[]>>;
}

export function testStateMachine<P extends string, C extends string>(c: MachineCase<P, C>): void {
  const phases = c.expectedPhases;
  const causes = c.expectedCauses;
  const edges = new Set(c.expectedEdges);
  const expectedVerdict = (from: P, to: P, cause: C) => {
    const covered = c.expectedCauseEdges[cause];
    return (
      edges.has(`${from} → ${to}`) && (covered.includes(`${from} → ${to}`) || covered.includes(`* → ${to}`))
    );
  };

  describe(`${c.name} state machine`, () => {
    it('has exactly the expected phases and causes', () => {
      assert.deepEqual(Object.values(c.phases), phases);
      assert.deepEqual(Object.keys(c.transitions).sort(), [...phases].sort());
      assert.deepEqual(Object.values(c.causes), causes);
      assert.deepEqual(Object.keys(c.causeRules).sort(), [...causes].sort());
      assert.deepEqual(Object.keys(c.expectedCauseEdges).sort(), [...causes].sort());
      for (const p of phases) assert.equal(c.isPhase(p), true, p);
      for (const notAPhase of ['', 'Running', 'toString', '__proto__', 'constructor']) {
        assert.equal(c.isPhase(notAPhase), false, notAPhase);
      }
    });

    it('lists exactly the expected edges, each once', () => {
      const tableEdges = phases.flatMap((from) => c.transitions[from].map((to) => `${from} → ${to}`));
      assert.deepEqual([...tableEdges].sort(), [...c.expectedEdges].sort());
      assert.equal(new Set(tableEdges).size, tableEdges.length, 'an edge is listed twice');
    });

    it('gives the listing no cause edge outside the listed edges', () => {
      for (const cause of causes) {
        for (const edge of c.expectedCauseEdges[cause]) {
          if (!edge.startsWith('* → ')) assert.ok(edges.has(edge), `${cause}: ${edge} is not an edge`);
        }
      }
    });

    it('judges every (from, to, cause) exactly as the expected listing does', () => {
      let legal = 0;
      for (const from of phases) {
        for (const to of phases) {
          for (const cause of causes) {
            const verdict = c.transition(from, to, cause);
            const expected = expectedVerdict(from, to, cause);
            assert.equal(verdict.ok, expected, `${from} → ${to} (${cause})`);
            if (!verdict.ok) {
              assert.match(verdict.reason, new RegExp(`${from} → ${to}`), 'the reason names the pair');
              assert.match(verdict.reason, new RegExp(cause), 'the reason names the cause');
            } else legal++;
          }
        }
      }
      assert.ok(legal > 0);
    });

    it('accepts every listed edge with at least one cause, and no edge without a cause', () => {
      for (const from of phases) {
        for (const to of phases) {
          const someCause = causes.some((cause) => c.transition(from, to, cause).ok);
          assert.equal(someCause, edges.has(`${from} → ${to}`), `${from} → ${to}`);
        }
      }
    });

    it('never moves a phase to itself', () => {
      for (const p of phases) {
        for (const cause of causes) assert.equal(c.transition(p, p, cause).ok, false, `${p} (${cause})`);
      }
    });

    it(`reaches every phase from the initial phase (${c.initial})`, () => {
      const seen = new Set<P>([c.initial]);
      const frontier: P[] = [c.initial];
      for (let p = frontier.pop(); p !== undefined; p = frontier.pop()) {
        for (const next of c.transitions[p]) {
          if (!seen.has(next)) {
            seen.add(next);
            frontier.push(next);
          }
        }
      }
      assert.deepEqual([...seen].sort(), [...phases].sort());
    });

    it('lets every cause lead somewhere reachable', () => {
      for (const cause of causes) {
        const used = phases.some((from) => phases.some((to) => c.transition(from, to, cause).ok));
        assert.ok(used, `cause ${cause} never makes a legal transition`);
      }
    });

    it('reports unknown phases and causes instead of throwing', () => {
      const any = c.transition as (from: string, to: string, cause: string) => TransitionVerdict;
      const [first] = phases;
      const [cause] = causes;
      assert.ok(first !== undefined && cause !== undefined);
      for (const [from, to, why, named] of [
        ['nope', first, cause, 'nope'],
        [first, 'toString', cause, 'toString'],
        [first, first, '__proto__', '__proto__'],
      ] as const) {
        const verdict = any(from, to, why);
        assert.equal(verdict.ok, false);
        assert.ok(!verdict.ok && verdict.reason.includes(named), `${from} → ${to} (${why})`);
      }
    });

    it('property: random walks over the table only take edges of the expected listing', () => {
      // Walk by the module's own data; check each step against the independent listing.
      const covers = (rule: CauseRule<P>, from: P, to: P) =>
        rule.to.includes(to) && (rule.from === undefined || rule.from.includes(from));
      const options = (from: P) =>
        c.transitions[from].flatMap((to) =>
          causes.filter((cause) => covers(c.causeRules[cause], from, to)).map((cause) => ({ to, cause })),
        );
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 60 }), (choices) => {
          let at = c.initial;
          for (const choice of choices) {
            const next = options(at);
            if (next.length === 0) return;
            const step = next[choice % next.length]!;
            assert.ok(c.transition(at, step.to, step.cause).ok, `${at} → ${step.to} (${step.cause})`);
            assert.ok(expectedVerdict(at, step.to, step.cause), `${at} → ${step.to} (${step.cause})`);
            at = step.to;
          }
        }),
      );
    });

    it('property: arbitrary requests never throw and agree with the listing', () => {
      const word = fc.oneof(fc.constantFrom(...phases, ...causes), fc.string({ maxLength: 12 }));
      fc.assert(
        fc.property(word, word, word, (from, to, cause) => {
          const any = c.transition as (from: string, to: string, cause: string) => TransitionVerdict;
          const verdict = any(from, to, cause);
          const known =
            (phases as readonly string[]).includes(from) &&
            (phases as readonly string[]).includes(to) &&
            (causes as readonly string[]).includes(cause);
          assert.equal(verdict.ok, known && expectedVerdict(from as P, to as P, cause as C));
        }),
      );
    });
  });
}
