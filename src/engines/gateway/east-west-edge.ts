// One east-west listener as the gateway holds it: who calls through it, whom it reaches
// (fixed, or named per request on the caller's egress listener) and within which range, and
// the failure accounting of its calls. That accounting is the north-south route's
// (RouteRuntime: breaker, retried statuses, ejections), keyed by caller, callee and path
// template, so one failing endpoint of a provider, or one caller sending it bad input, opens
// only its own circuit; the provider's retry budget and bulkhead are shared with every other
// caller and the gateway's routes, since they protect the provider itself.
import type { EastWestListener } from '../../domain/gateway/east-west.ts';
import { pathTemplate } from '../../domain/gateway/path-template.ts';
import type { GatewayRoute } from '../../domain/gateway/snapshot.ts';
import type { CompiledRoute } from './core.ts';
import type { GatewayMetrics, RouteMetrics } from './metrics.ts';
import { RouteRuntime } from './route-runtime.ts';
import type { ServiceRuntime } from './service-runtime.ts';

/** Path templates with their own accounting per caller and callee; the rest share one. */
const MAX_TEMPLATES = 64;
const OTHER = '(other)';

export class EastWestEdge {
  readonly port: number;
  readonly caller: string;
  /** Undefined on an egress listener: each request names its callee. */
  callee: string | undefined;
  range: string | undefined;
  /** On an egress listener: the caller's declared dependencies and their ranges. */
  declared: ReadonlyMap<string, string> = new Map();
  readonly #routes = new Map<string, CompiledRoute>();
  readonly #metrics = new Map<string, RouteMetrics>();
  readonly #timeoutMs: number;

  constructor(listener: EastWestListener, timeoutMs: number) {
    this.port = listener.port;
    this.caller = listener.caller;
    this.callee = listener.callee;
    this.range = listener.range;
    this.#timeoutMs = timeoutMs;
  }

  /** A new snapshot: policies may have changed, endpoints left, services gone. */
  configure(
    listener: EastWestListener,
    declared: ReadonlyMap<string, string>,
    services: ReadonlyMap<string, ServiceRuntime>,
  ): void {
    this.callee = listener.callee;
    this.range = listener.range;
    this.declared = declared;
    for (const [key, route] of this.#routes) {
      // A service's runtime outlives snapshots while the service stays; a new one is a new service.
      const service = services.get(route.serviceName);
      if (service !== undefined && service === route.service)
        route.runtime!.configure(service, route.route, route.metrics);
      else {
        route.runtime!.close();
        this.#routes.delete(key);
      }
    }
  }

  /** The route of one call to `service` (named `callee`) at `path`, within `range`. */
  route(
    service: ServiceRuntime,
    callee: string,
    path: string,
    range: string | undefined,
    metrics: GatewayMetrics,
  ): CompiledRoute {
    let template = pathTemplate(path);
    let key = `${callee} ${range ?? ''} ${template}`;
    let route = this.#routes.get(key);
    if (route !== undefined) return route;
    if (this.#routes.size >= MAX_TEMPLATES) {
      template = OTHER;
      key = `${callee} ${range ?? ''} ${template}`;
      route = this.#routes.get(key);
      if (route !== undefined) return route;
    }
    const gatewayRoute: GatewayRoute = { service: callee, path: template, stripPrefix: false };
    const label = `${this.caller}→${callee}`;
    let children = this.#metrics.get(label);
    if (children === undefined) {
      children = metrics.route(label, callee);
      this.#metrics.set(label, children);
    }
    route = {
      route: gatewayRoute,
      service,
      runtime: new RouteRuntime(service, gatewayRoute, children),
      serviceName: callee,
      prefix: '/',
      stripPrefix: false,
      timeoutMs: this.#timeoutMs,
      limiter: undefined,
      metrics: children,
      range,
      caller: this.caller,
    };
    this.#routes.set(key, route);
    return route;
  }

  close(): void {
    for (const route of this.#routes.values()) route.runtime!.close();
    this.#routes.clear();
  }
}
