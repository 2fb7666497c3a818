// The map drawn in SVG from a layout. Nodes are links (Tab reaches each, Enter opens the
// service); focusing or hovering one previews its blast radius.
import type { KeyboardEvent } from 'react';
import { capitalise } from '../health.ts';
import { LABEL_LINE_HEIGHT, type MapLayout, type Point } from './elk-layout.ts';
import {
  edgeLabelLines,
  trafficCaption,
  type Affected,
  type MapEdge,
  type MapModel,
  type MapNode,
} from './graph-model.ts';

export interface DependencyMapProps {
  readonly model: MapModel;
  readonly layout: MapLayout;
  /** The service whose blast radius is shown, and what it reaches. */
  readonly origin: string | undefined;
  readonly affected: ReadonlyMap<string, Affected>;
  readonly onOpen: (service: string) => void;
  readonly onPreview: (service: string | undefined) => void;
}

/** The smallest the map is drawn at, of its laid-out size. */
const MIN_SCALE = 0.9;

export function DependencyMap({ model, layout, origin, affected, onOpen, onPreview }: DependencyMapProps) {
  const lit = (id: string) => id === origin || affected.has(id);
  const edgeLit = (e: MapEdge) => origin !== undefined && lit(e.to) && affected.has(e.from);
  const dim = origin !== undefined;
  return (
    <svg
      className="map-svg"
      viewBox={`0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}`}
      width={Math.ceil(layout.width)}
      height={Math.ceil(layout.height)}
      // Shrunk to fit, but never below MIN_SCALE: 12 px labels stay above 10 px; the figure scrolls instead.
      style={{ minWidth: Math.ceil(layout.width * MIN_SCALE) }}
      role="group"
      aria-label={`Dependency map: ${model.nodes.length} services, ${model.edges.length} dependencies. Arrows point from a service to what it calls.`}
    >
      <defs>
        {['plain', 'critical', 'lit', 'drift'].map((kind) => (
          <marker
            key={kind}
            id={`arrow-${kind}`}
            className={`arrow arrow-${kind}`}
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M0,0 L10,5 L0,10 z" />
          </marker>
        ))}
      </defs>
      <g className="map-edges">
        {model.edges.map((e) => {
          const route = layout.edges.get(e.id);
          if (!route) return null;
          const kind = edgeLit(e) ? 'lit' : !e.declared ? 'drift' : e.critical ? 'critical' : 'plain';
          const caption = trafficCaption(e);
          const lines = route.label ? edgeLabelLines(e) : [];
          const classes = [
            'edge',
            `edge-${kind}`,
            e.optional ? 'edge-optional' : '',
            !e.declared ? 'edge-undeclared' : '',
            e.observed === false ? 'edge-unobserved' : '',
            e.observed ? 'edge-seen' : '',
            dim && !edgeLit(e) ? 'dimmed' : '',
            e.errorRate !== undefined && e.errorRate >= 0.05 ? 'edge-erroring' : '',
          ];
          const width = e.rps !== undefined ? Math.min(6, 1.5 + Math.log10(1 + e.rps)) : undefined;
          return (
            <g key={e.id} className={classes.filter(Boolean).join(' ')} data-edge={e.id}>
              <path
                d={pathOf(route.points)}
                markerEnd={`url(#arrow-${kind})`}
                style={width !== undefined ? { strokeWidth: width } : undefined}
              >
                <title>{edgeTitle(e, caption)}</title>
              </path>
              {route.label && lines.length > 0 ? (
                <text
                  className="edge-label"
                  x={route.label.x + route.label.width / 2}
                  y={route.label.y + (route.label.height - lines.length * LABEL_LINE_HEIGHT) / 2}
                  textAnchor="middle"
                  dominantBaseline="hanging"
                >
                  {lines.map((line, i) => (
                    <tspan
                      key={i}
                      x={route.label!.x + route.label!.width / 2}
                      dy={i === 0 ? 1 : LABEL_LINE_HEIGHT}
                      className={
                        line === 'undeclared'
                          ? 'edge-label-drift'
                          : line === 'never observed'
                            ? 'edge-label-silent'
                            : undefined
                      }
                    >
                      {line}
                    </tspan>
                  ))}
                </text>
              ) : null}
            </g>
          );
        })}
      </g>
      <g className="map-nodes">
        {model.nodes.map((n) => {
          const box = layout.nodes.get(n.id);
          if (!box) return null;
          const hit = affected.get(n.id);
          const classes = [
            'node',
            `node-${n.health}`,
            `tier-${n.tier}`,
            n.id === origin ? 'node-origin' : '',
            hit ? (hit.impact === 'down' ? 'node-affected' : 'node-degraded') : '',
            dim && !lit(n.id) ? 'dimmed' : '',
          ];
          const key = (event: KeyboardEvent) => {
            if (event.key === 'Enter' || event.key === ' ') {
              event.preventDefault();
              onOpen(n.id);
            }
          };
          return (
            <g
              key={n.id}
              className={classes.filter(Boolean).join(' ')}
              transform={`translate(${box.x},${box.y})`}
              role="link"
              tabIndex={0}
              aria-label={nodeLabel(n, hit)}
              data-service={n.id}
              onClick={() => onOpen(n.id)}
              onKeyDown={key}
              onFocus={() => onPreview(n.id)}
              onBlur={() => onPreview(undefined)}
              onMouseEnter={() => onPreview(n.id)}
              onMouseLeave={() => onPreview(undefined)}
            >
              <rect
                className="node-focus"
                x={-5}
                y={-5}
                width={box.width + 10}
                height={box.height + 10}
                rx={12}
              />
              <rect className="node-box" width={box.width} height={box.height} rx={8} />
              <text className="node-name" x={box.width / 2} y={box.height / 2 - 7} textAnchor="middle">
                {n.id}
              </text>
              <text className="node-meta" x={box.width / 2} y={box.height / 2 + 12} textAnchor="middle">
                {n.version}
                {n.state ? ` · ${n.state.ready}/${n.state.desired}` : ''}
              </text>
            </g>
          );
        })}
      </g>
    </svg>
  );
}

function edgeTitle(e: MapEdge, caption: string | undefined): string {
  const what = [
    e.range ?? '',
    e.optional ? '(optional)' : '',
    e.declared ? '' : 'undeclared in dependsOn',
    e.observed === false ? 'never observed' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const p50 = e.p50 !== undefined ? ` · p50 ${Math.round(e.p50 * 10) / 10} ms` : '';
  return `${e.from} → ${e.to}${what ? ` ${what}` : ''}${caption ? `: ${caption}${p50}` : ''}`;
}

function nodeLabel(n: MapNode, hit: Affected | undefined): string {
  const ready = n.state ? `, ${n.state.ready} of ${n.state.desired} ready` : '';
  const reach = hit
    ? `, ${hit.impact === 'down' ? 'fails with it' : 'degraded'} at distance ${hit.distance} via ${hit.via}`
    : '';
  return `${n.id}: ${n.tier} tier, ${capitalise(n.health)}${ready}, version ${n.version}${reach}`;
}

function pathOf(points: readonly Point[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}
