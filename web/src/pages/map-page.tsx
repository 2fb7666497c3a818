// Map: the dependency graph, laid out by ELK, coloured by health, with critical paths and
// the blast radius of a selected service. The table below is the same map as a list.
import { useEffect, useMemo, useState } from 'react';
import { describeError } from '../api/client.ts';
import { Badge, ErrorNote, Loading, PageTitle, TierTag } from '../components/common.tsx';
import { serviceLabel } from '../health.ts';
import { useLive } from '../live/hooks.ts';
import { DependencyMap } from '../map/dependency-map.tsx';
import { layoutMap, type Direction, type MapLayout } from '../map/elk-layout.ts';
import { blastRadius, buildMapModel, deepestChain } from '../map/graph-model.ts';
import { Link, navigate, servicePath, setQuery, useLocation } from '../router.tsx';

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
  const { query } = useLocation();
  const focus = query.get('focus') ?? undefined;
  const [preview, setPreview] = useState<string | undefined>();
  const direction = useDirection();
  const model = useMemo(() => (graph ? buildMapModel(graph, status?.services) : undefined), [graph, status]);
  // Lay out again only when the shape changes, not on every health change.
  const shape = model
    ? JSON.stringify([direction, model.nodes.map((n) => [n.id, n.tier]), model.edges.map((e) => e.id)])
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
          <MapLegend />
        </figcaption>
      </figure>

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
              const reach = blastRadius(model, n.id).size;
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
                          <li key={e.id}>
                            {e.to} <code>{e.range}</code>
                            {e.optional ? ' (optional)' : ''}
                            {e.critical ? <span className="critical-mark"> · critical path</span> : null}
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

function MapLegend() {
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
    </ul>
  );
}
