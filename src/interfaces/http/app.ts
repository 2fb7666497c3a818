// The control plane's HTTP application: auth, body limits, validation, problem+json errors,
// the /v1 routes and the OpenAPI document generated from them.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { BatonError } from '../../domain/errors.ts';
import { LIMITS } from '../../domain/manifest/schema.ts';
import { serviceMayCall, tokenChecker } from './auth.ts';
import { serveDashboard } from './dashboard.ts';
import { openApiDocument } from './openapi.ts';
import { problemResponse } from './problem.ts';
import { honoPath, parseOrThrow, readBody, type Route } from './route-table.ts';
import { v1Routes, type RouteDependencies } from './routes.ts';
import { runtimeRoutes, type RuntimeRouteDependencies } from './runtime-routes.ts';
import { gatewayRoutes, type GatewayRouteDependencies } from './gateway-routes.ts';
import { telemetryRoutes, type TelemetryRouteDependencies } from './telemetry-routes.ts';
import { secretRoutes, type SecretRouteDependencies } from './secret-routes.ts';
import { configRoutes, type ConfigRouteDependencies } from './config-routes.ts';

/** A manifest may be 1 MiB; JSON escaping can nearly double it. */
const MAX_BODY_BYTES = 2 * LIMITS.manifestBytes + 64 * 1024;

export interface HttpAppOptions extends RouteDependencies {
  readonly logger: Logger;
  readonly version: string;
  /** When set, every /v1 request except the health check needs `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** The running side (registry, controller, runtime); absent in a revisions-only API. */
  readonly running?: Omit<RuntimeRouteDependencies, 'engine'> | undefined;
  /** Traffic splits, faults and the snapshot gateways follow; absent in a revisions-only API. */
  readonly gateway?: GatewayRouteDependencies | undefined;
  /** Telemetry, for its routes (OTLP ingest, traces, map, RED); absent when telemetry is off. */
  readonly telemetry?: TelemetryRouteDependencies['telemetry'] | undefined;
  /** Secrets (write-only); absent in a revisions-only API. */
  readonly secrets?: SecretRouteDependencies['secrets'] | undefined;
  /** The config center; absent in a revisions-only API. */
  readonly config?: ConfigRouteDependencies | undefined;
  /** Prometheus registries served together at GET /metrics (behind the token, like /v1). */
  readonly metrics?: readonly Registry[] | undefined;
}

export function createHttpApp(options: HttpAppOptions): Hono {
  const { logger, token } = options;
  const routes = [
    ...v1Routes(options),
    ...(options.running ? runtimeRoutes({ engine: options.engine, ...options.running }) : []),
    ...(options.gateway ? gatewayRoutes(options.gateway) : []),
    ...(options.telemetry ? telemetryRoutes({ telemetry: options.telemetry }) : []),
    ...(options.secrets ? secretRoutes({ secrets: options.secrets }) : []),
    ...(options.config ? configRoutes(options.config) : []),
  ];
  const openapi = openApiDocument(routes, options.version);
  const app = new Hono();

  app.onError((error, c) => {
    if (error instanceof BatonError) return problemResponse(error, c.req.path);
    logger.error({ err: error, method: c.req.method, path: c.req.path }, 'request failed');
    return problemResponse(
      new BatonError('internal', 'internal error; the control plane logged the details'),
      c.req.path,
    );
  });
  app.notFound((c) =>
    problemResponse(
      new BatonError('not-found', `no route for ${c.req.method} ${c.req.path}`, {
        hint: 'the API is described at GET /v1/openapi.json',
      }),
      c.req.path,
    ),
  );

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    logger.debug(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
  });

  app.get('/v1/healthz', (c) => c.json({ status: 'ok' }));

  if (token !== undefined) {
    const presentedToken = tokenChecker(token);
    const requireToken: MiddlewareHandler = async (c, next) => {
      const presented = presentedToken(c.req.header('authorization'));
      if (presented === 'none') {
        throw new BatonError('unauthorized', 'missing or wrong bearer token', {
          hint: 'set BATON_TOKEN (the server wrote it to .baton/token on first start)',
        });
      }
      if (presented === 'service' && !serviceMayCall(c.req.method, c.req.path)) {
        throw new BatonError('forbidden', `a service token may not ${c.req.method} ${c.req.path}`, {
          hint: 'services may use discovery and send spans; use the admin token (.baton/token) for everything else',
        });
      }
      await next();
    };
    app.use('/v1/*', requireToken);
    app.use('/metrics', requireToken);
  }

  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => {
        throw new BatonError('payload-too-large', `request bodies are limited to ${MAX_BODY_BYTES} bytes`, {
          hint:
            c.req.path === '/v1/traces'
              ? 'send OTLP in smaller batches (the SDK batches 512 spans at most)'
              : `a manifest may be at most ${LIMITS.manifestBytes} bytes`,
        });
      },
    }),
  );

  app.get('/v1/openapi.json', (c) => c.json(openapi));
  if (options.metrics?.length) {
    const merged = Registry.merge([...options.metrics]);
    app.get('/metrics', async (c) =>
      c.body(await merged.metrics(), 200, { 'content-type': merged.contentType }),
    );
  }
  for (const r of routes) app.on(r.method.toUpperCase(), honoPath(r.path), (c) => handle(r, c));
  serveDashboard(app);
  return app;
}

async function handle(r: Route, c: Context): Promise<Response> {
  const body = r.body ? parseOrThrow(r.body, await readBody(c, r.acceptsYaml ?? false), 'body') : undefined;
  const query = r.query ? parseOrThrow(r.query, c.req.query(), 'query') : undefined;
  const params = r.params ? parseOrThrow(r.params, c.req.param(), 'path') : undefined;
  return r.handler({ body, query, params, c });
}
