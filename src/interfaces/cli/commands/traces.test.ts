import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTraceView } from '../../../domain/telemetry/call-tree.ts';
import { ServiceMap } from '../../../domain/telemetry/service-map.ts';
import { spanOf, TRACE } from '../../../domain/telemetry/test-spans.ts';
import { createOutput } from '../output.ts';
import { pointInTime, printDrift, printTraceList, printTraceTree } from './traces.ts';

function capture() {
  let text = '';
  const stream = {
    isTTY: false,
    write: (chunk: string) => ((text += chunk), true),
  } as unknown as NodeJS.WriteStream;
  return { out: createOutput({ json: false, stream }), text: () => text };
}

describe('baton traces output', () => {
  it('prints a trace as Galileo’s call tree: method indented by depth, then times, service, status', () => {
    const view = buildTraceView(TRACE, [
      spanOf({
        id: 'root',
        ms: 10,
        kind: 'server',
        service: 'web',
        instance: 'web-1',
        name: 'POST /api/checkout',
        attributes: { 'http.response.status_code': 201 },
      }),
      spanOf({ id: 'a', parent: 'root', at: 1, ms: 3, service: 'web', name: 'POST orders' }),
      spanOf({
        id: 'a1',
        parent: 'a',
        at: 1.5,
        ms: 2,
        kind: 'server',
        service: 'orders',
        name: 'POST /orders',
      }),
      spanOf({
        id: 'b',
        parent: 'root',
        at: 5,
        ms: 4,
        service: 'web',
        name: 'POST payments',
        status: 'error',
        statusMessage: 'ECONNREFUSED',
      }),
    ])!;
    const { out, text } = capture();
    printTraceTree(out, view);
    assert.equal(
      text(),
      `trace ${TRACE}  2023-11-14T22:13:20.000Z  10.0ms, 4 spans, 2 services, 1 failed
METHOD              START  GAP    EXEC    EXEC%  SELF   SERVICE  INSTANCE  STATUS
POST /api/checkout  0.000  0.000  10.000  100%   3.000  web      web-1     201
├─ POST orders      1.000  1.000  3.000   30%    1.000  web      —         ok
│  └─ POST /orders  1.500  0.500  2.000   20%    2.000  orders   —         ok
└─ POST payments    5.000  1.000  4.000   40%    4.000  web      —         error ECONNREFUSED
times in ms; gap: since the previous sibling ended (or the parent started); self: exec minus children
`,
    );
  });

  it('lists traces with their root and services, newest first', () => {
    const { out, text } = capture();
    printTraceList(
      out,
      [
        {
          traceId: TRACE,
          start: '2026-01-01T00:00:00.000Z',
          durationMs: 1234.5,
          spanCount: 11,
          errorCount: 1,
          error: true,
          root: { service: 'web', route: 'POST /api/checkout', complete: false },
          services: ['orders', 'web'],
        },
      ],
      Date.parse('2026-01-01T00:00:30Z'),
    );
    assert.match(text(), /^TRACE +STARTED +DURATION +SPANS +ERRORS +ROOT +SERVICES\n/);
    assert.match(
      text(),
      new RegExp(`${TRACE} +30s ago +1\\.23s +11 +1 +web POST /api/checkout … +orders, web\\n$`),
    );
  });

  it('prints the drift between traffic and dependsOn, with a hint for each undeclared call', () => {
    const map = new ServiceMap({ windowMs: 60_000, observedForMs: 600_000, maxEdges: 10 }, 0);
    map.record({ caller: 'payments', callee: 'ledger', durationMs: 4, error: false, paired: true }, 1_000);
    map.record({ caller: 'ledger', callee: 'payments', durationMs: 4, error: true, paired: true }, 1_000);
    const snapshot = map.snapshot(2_000, {
      services: ['orders', 'payments', 'ledger'],
      edges: [
        { from: 'orders', to: 'payments', optional: false },
        { from: 'ledger', to: 'payments', optional: false },
      ],
    });
    const { out, text } = capture();
    printDrift(out, { ...snapshot, revision: 4 });
    const printed = text();
    assert.match(printed, /revision 4/);
    assert.match(printed, /payments +ledger +no +0\.\d\d +0\.0% +\d\.\dms/);
    assert.match(printed, /ledger +payments +yes .*100%/);
    assert.match(printed, /undeclared {2}payments → ledger {2}\(1 call,/);
    assert.match(printed, /hint: add `ledger` to services\.payments\.dependsOn/);
    assert.match(printed, /unobserved {2}orders → payments: declared, no traffic seen/);
    assert.match(printed, /cycle {2}ledger → payments → ledger/);
  });

  it('reads --since as a time ago or an absolute time', () => {
    const now = Date.parse('2026-01-01T01:00:00Z');
    assert.equal(pointInTime('15m', now), '2026-01-01T00:45:00.000Z');
    assert.equal(pointInTime('2025-12-31T23:00:00Z', now), '2025-12-31T23:00:00.000Z');
    assert.throws(() => pointInTime('later', now), /expected 15m/);
  });
});
