// Map: the dependency graph, laid out by ELK, coloured by health, with critical paths and
// the blast radius of a selected service; over it, what traces observe (GET /v1/map, read
// every 5 s): traffic on each edge, calls the manifest does not declare, declared calls
// never seen, and cycles traffic really takes. The table below is the same map as a list.
import { useEffect, useMemo, useState } from 'react';
import { describeError } from '../api/client.ts';
import type { LiveMapResponse } from '../api/types.ts';
import { Badge, ErrorNote, Loading, PageTitle, TierTag } from '../components/common.tsx';
import { serviceLabel } from '../health.ts';
import { useClient, useLive } from '../live/hooks.ts';
import { usePoll } from '../live/use-poll.ts';
import { DependencyMap } from '../map/dependency-map.tsx';
import { layoutMap, type Direction, type MapLayout } from '../map/elk-layout.ts';
import {
  blastRadius,
  buildMapModel,
  deepestChain,
  edgeLabelTemplate,
  observationsOf,
  trafficCaption,
  type MapEdge,
} from '../map/graph-model.ts';
import { Link, navigate, servicePath, setQuery, useLocation } from '../router.tsx';
import { rateText } from '../telemetry/figures.ts';

/** Traffic figures are read again this often; the architecture itself follows the event log. */
const TRAFFIC_EVERY_MS = 5_000;

const NARROW = '(max-width: 720px)';

function useDirection(): Direction {
  const [narrow, setNarrow] = useState(() => window.matchMedia(NARROW).matches);
  useEffect(() => {
    const query = window.matchMedia(NARROW);
    const change = () => setNarrow(query.matches);
    query.addEventListener('change', change);
    return () => query.removeEventListener('change', change);
  }, []);
  return narrow ? 'DOWN' : 'RIGHT';
}

export function MapPage() {
  const { graph, status } = useLive();
  const client = useClient();
  const { query } = useLocation();
  const focus = query.get('focus') ?? undefined;
  const [preview, setPreview] = useState<string | undefined>();
  const direction = useDirection();
  const [telemetryOff, setTelemetryOff] = useState(false);
  const traffic = usePoll<LiveMapResponse>(
    'map',
    (signal) => client.get<LiveMapResponse>('/v1/map', signal),
    telemetryOff ? 0 : TRAFFIC_EVERY_MS,
  );
  // 404: no telemetry on this control plane; the map is the declared one, and stays so.
  if ((traffic.errorStatus === 404) !== telemetryOff) setTelemetryOff(traffic.errorStatus === 404);
  const seen = useMemo(() => (traffic.data ? observationsOf(traffic.data) : undefined), [traffic.data]);
  const model = useMemo(
    () => (graph ? buildMapModel(graph, status?.services, seen?.observed, seen?.unobserved) : undefined),
    [graph, status, seen],
  );
  // Lay out again only when the shape changes, not on every health or traffic change.
  const shape = model
    ? JSON.stringify([
        direction,
        model.nodes.map((n) => [n.id, n.tier]),
        model.edges.map((e) => [e.id, ...edgeLabelTemplate(e)]),
      ])
    : '';
  const [layout, setLayout] = useState<{ shape: string; layout: MapLayout } | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    if (!model || shape === '') return;
    let current = true;
    layoutMap(model, direction)
      .then((l) => current && setLayout({ shape, layout: l }))
      .catch((e: unknown) => current && setError(`the map could not be laid out: ${describeError(e)}`));
    return () => {
      current = false;
    };
    // `model` changes with health; `shape` is what the layout depends on.
  }, [shape]);

  const title = <PageTitle title="Map">Map</PageTitle>;
  if (graph === undefined || !model) {
    return graph === null ? (
      <>
        {title}
        <p>Nothing has been applied yet: there is no architecture to draw.</p>
      </>
    ) : (
      <>
        {title}
        <Loading what="the dependency graph" />
      </>
    );
  }

  const known = focus !== undefined && model.nodes.some((n) => n.id === focus) ? focus : undefined;
  const origin = preview ?? known;
  const affected = origin ? blastRadius(model, origin) : new Map();
  const chain = deepestChain(model);
  const consumers = (id: string) => model.edges.filter((e) => e.to === id).map((e) => e.from);

  return (
    <>
      {title}
      <div className="map-controls inline-form">
        <label htmlFor="focus">Blast radius of</label>
        <select id="focus" value={known ?? ''} onChange={(e) => setQuery({ focus: e.target.value })}>
          <option value="">no service</option>
          {model.nodes.map((n) => (
            <option key={n.id} value={n.id}>
              {n.id}
            </option>
          ))}
        </select>
        <p className="muted small" role="status">
          {origin
            ? `A failure of ${origin} reaches ${affected.size} service${affected.size === 1 ? '' : 's'}${affected.size ? `: ${[...affected.keys()].join(', ')}` : ''}.`
            : 'Focus or hover a service to see what its failure reaches.'}
        </p>
      </div>
      {chain.length > 1 ? (
        <p className="muted">
          Deepest chain: {chain.join(' → ')} ({chain.length - 1} hop{chain.length === 2 ? '' : 's'}).
        </p>
      ) : null}
      <CycleBanner cycles={traffic.data?.cycles ?? []} />
      {error ? <ErrorNote>{error}</ErrorNote> : null}
      <figure className="map-figure">
        {layout && layout.shape === shape ? (
          <DependencyMap
            model={model}
            layout={layout.layout}
            origin={origin}
            affected={affected}
            onOpen={(id) => navigate(servicePath(id))}
            onPreview={setPreview}
          />
        ) : error ? null : (
          <Loading what="the layout" />
        )}
        <figcaption>
          <MapLegend telemetry={traffic.data !== undefined} />
          <TrafficNote traffic={traffic.data} unavailable={traffic.errorStatus === 404} />
        </figcaption>
      </figure>
      {traffic.data ? <Drift edges={model.edges} external={seen?.external ?? []} /> : null}

      <section aria-labelledby="list-title">
        <h2 id="list-title">Services and dependencies</h2>
        <table className="stack-table" aria-labelledby="list-title">
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Tier</th>
              <th scope="col">Status</th>
              <th scope="col">Calls</th>
              <th scope="col">Called by</th>
              <th scope="col">Blast radius</th>
            </tr>
          </thead>
          <tbody>
            {model.nodes.map((n) => {
              const reach = [...blastRadius(model, n.id).values()].filter((a) => a.impact === 'down').length;
              const calls = model.edges.filter((e) => e.from === n.id);
              return (
                <tr
                  key={n.id}
                  className={
                    n.id === origin ? 'row-selected' : affected.has(n.id) ? 'row-affected' : undefined
                  }
                >
                  <th scope="row" data-label="Service">
                    <Link href={servicePath(n.id)}>{n.id}</Link>
                  </th>
                  <td data-label="Tier">
                    <TierTag tier={n.tier} />
                  </td>
                  <td data-label="Status">
                    <Badge health={n.health} label={serviceLabel(n.state)} />
                  </td>
                  <td data-label="Calls" className="wide">
                    {calls.length === 0 ? (
                      '—'
                    ) : (
                      <ul className="plain compact">
                        {calls.map((e) => (
                          <li key={e.id} data-edge={e.id}>
                            {e.to} {e.range ? <code>{e.range}</code> : null}
                            {e.optional ? ' (optional)' : ''}
                            {e.critical ? <span className="critical-mark"> · critical path</span> : null}
                            <EdgeTraffic edge={e} />
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td data-label="Called by">{consumers(n.id).join(', ') || '—'}</td>
                  <td data-label="Blast radius">
                    <button
                      type="button"
                      className="link-button"
                      aria-pressed={known === n.id}
                      onClick={() => setQuery({ focus: known === n.id ? undefined : n.id })}
                    >
                      {reach} service{reach === 1 ? '' : 's'}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
    </>
  );
}

function EdgeTraffic({ edge: e }: { edge: MapEdge }) {
  const caption = trafficCaption(e);
  return (
    <>
      {!e.declared ? <span className="drift-tag">undeclared</span> : null}
      {e.observed === false ? <span className="muted"> · never observed</span> : null}
      {caption ? <span className="traffic"> · {caption}</span> : null}
    </>
  );
}

function CycleBanner({ cycles }: { cycles: readonly (readonly string[])[] }) {
  if (cycles.length === 0) return null;
  return (
    <div className="note note-warning cycle-banner" role="status">
      <strong>
        <span aria-hidden="true">⟲ </span>
        Traffic goes round in {cycles.length === 1 ? 'a cycle' : `${cycles.length} cycles`}:
      </strong>{' '}
      {cycles.map((c, i) => (
        <span key={i}>
          {i > 0 ? '; ' : ''}
          <span className="cycle-path">{c.join(' → ')}</span>
        </span>
      ))}
      . A failure anywhere on it can feed back into itself, and no rollout order fits it.
    </div>
  );
}

function TrafficNote({
  traffic,
  unavailable,
}: {
  traffic: LiveMapResponse | undefined;
  unavailable: boolean;
}) {
  if (unavailable)
    return <p className="muted small">Telemetry is not available: the map shows what is declared.</p>;
  if (!traffic) return null;
  return (
    <p className="muted small">
      Traffic from traces: rate, errors and p99 over the last {traffic.windowSeconds} s, as the caller saw it.
      &ldquo;Never observed&rdquo;: declared, but no call in the last{' '}
      {Math.round(traffic.observedForSeconds / 60)} minutes.
    </p>
  );
}

function Drift({
  edges,
  external,
}: {
  edges: readonly MapEdge[];
  external: readonly { from: string; to: string; ratePerSecond: number }[];
}) {
  const undeclared = edges.filter((e) => !e.declared);
  const silent = edges.filter((e) => e.observed === false);
  return (
    <section aria-labelledby="drift-title" className="panel drift">
      <h2 id="drift-title">Drift between the manifest and traffic</h2>
      {undeclared.length === 0 && silent.length === 0 && external.length === 0 ? (
        <p className="muted">None: every call traffic shows is declared, and every declared call is seen.</p>
      ) : null}
      {undeclared.length > 0 ? (
        <>
          <h3>Calls dependsOn does not declare</h3>
          <ul className="plain" aria-label="Undeclared calls">
            {undeclared.map((e) => (
              <li key={e.id} data-drift="undeclared" data-edge={e.id}>
                <span className="drift-tag">undeclared</span> {e.from} → {e.to}
                {e.rps !== undefined ? <span className="muted"> · {rateText(e.rps)} rps</span> : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {silent.length > 0 ? (
        <>
          <h3>Declared, never observed</h3>
          <ul className="plain" aria-label="Declared calls never observed">
            {silent.map((e) => (
              <li key={e.id} data-drift="unobserved" data-edge={e.id}>
                {e.from} → {e.to} <code>{e.range}</code>
                {e.optional ? <span className="muted"> (optional)</span> : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {external.length > 0 ? (
        <>
          <h3>Calls outside the manifest</h3>
          <ul className="plain" aria-label="Calls to services outside the manifest">
            {external.map((e) => (
              <li key={`${e.from}->${e.to}`}>
                {e.from} → <code>{e.to}</code>{' '}
                <span className="muted">· {rateText(e.ratePerSecond)} rps</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

function MapLegend({ telemetry }: { telemetry: boolean }) {
  return (
    <ul className="legend" aria-label="Legend">
      <li>
        <span className="swatch swatch-healthy" aria-hidden="true" /> healthy
      </li>
      <li>
        <span className="swatch swatch-progressing" aria-hidden="true" /> changing
      </li>
      <li>
        <span className="swatch swatch-degraded" aria-hidden="true" /> degraded
      </li>
      <li>
        <span className="swatch swatch-failed" aria-hidden="true" /> failed
      </li>
      <li>
        <span className="swatch swatch-tier-critical" aria-hidden="true" /> thick outline, taller: critical
        tier
      </li>
      <li>
        <span className="line line-critical" aria-hidden="true" /> critical path (hard dependency of a
        critical service)
      </li>
      <li>
        <span className="line line-optional" aria-hidden="true" /> optional dependency
      </li>
      <li>
        <span className="line line-lit" aria-hidden="true" /> blast radius
      </li>
      {telemetry ? (
        <>
          <li>
            <span className="line line-seen" aria-hidden="true" /> thicker: more requests per second
          </li>
          <li>
            <span className="line line-drift" aria-hidden="true" /> undeclared call (drift)
          </li>
          <li>
            <span className="line line-unobserved" aria-hidden="true" /> declared, never observed
          </li>
          <li>
            <span className="line line-erroring" aria-hidden="true" /> 5% errors or more
          </li>
        </>
      ) : null}
    </ul>
  );
}
