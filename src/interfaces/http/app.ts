// The control plane's HTTP application: the browser guard, authentication and roles, body
// limits, validation, problem+json errors, the audit trail, the /v1 routes and the OpenAPI
// document generated from them.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { BatonError } from '../../domain/errors.ts';
import { LIMITS } from '../../domain/manifest/schema.ts';
import type { Principal } from '../../domain/identity/principal.ts';
import { scopeAllows } from '../../domain/identity/principal.ts';
import type { Store } from '../../ports/store.ts';
import { bearerToken } from '../../engines/identity/credentials.ts';
import { auditRoute, recordAudit } from './audit.ts';
import { callerOf, setCaller } from './caller.ts';
import { identityRoutes, whoamiRoute, type IdentityRouteDependencies } from './identity-routes.ts';
import { refusal } from './request-guard.ts';
import { requiredRole, roleRefusal } from './route-roles.ts';
import { serveDashboard } from './dashboard.ts';
import { openApiDocument } from './openapi.ts';
import { problemResponse, STATUS } from './problem.ts';
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
  /**
   * Who a bearer token stands for. `none` (`--insecure-no-auth`) makes every caller an
   * anonymous admin: for throwaway use only.
   */
  readonly auth: Authenticator | 'none';
  /** Host names the API answers for besides IP addresses and localhost (`--allowed-host`). */
  readonly allowedHosts?: readonly string[] | undefined;
  /** Named tokens (`baton tokens`); absent when there is no identity engine (no auth). */
  readonly identities?: IdentityRouteDependencies['identities'] | undefined;
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

export interface Authenticator {
  authenticate(token: string | undefined): Promise<Principal | undefined>;
}

/** The caller when authentication is off: an admin, named so that the audit trail says so. */
const NO_AUTH: Principal = { kind: 'user', name: 'anonymous', role: 'admin' };

export function createHttpApp(options: HttpAppOptions): Hono {
  const { logger, auth, store } = options;
  const routes = [
    auditRoute(store),
    whoamiRoute(),
    ...(options.identities ? identityRoutes({ identities: options.identities }) : []),
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
    const refused = refusal(c.req.raw, { allowedHosts: options.allowedHosts ?? [] });
    if (refused) throw refused;
    await next();
  });

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

  const authenticate: MiddlewareHandler = async (c, next) => {
    const principal =
      auth === 'none' ? NO_AUTH : await auth.authenticate(bearerToken(c.req.header('authorization')));
    if (principal === undefined) {
      throw new BatonError('unauthorized', 'missing, wrong or revoked bearer token', {
        hint: 'the CLI reads the token from <state-dir>/token by itself; other clients send `Authorization: Bearer $(cat .baton/token)`',
      });
    }
    if (!scopeAllows(principal, c.req.method, c.req.path)) {
      const what = principal.kind === 'service' ? 'a service token' : 'the gateway token';
      throw new BatonError('forbidden', `${what} may not ${c.req.method} ${c.req.path}`, {
        hint: 'instances may use discovery and send their own spans; gateways also read snapshots',
      });
    }
    setCaller(c, principal);
    await next();
  };
  app.use('/v1/*', authenticate);
  app.use('/metrics', authenticate);

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
  for (const r of routes)
    app.on(r.method.toUpperCase(), honoPath(r.path), (c) => handle(r, c, store, logger));
  serveDashboard(app);
  return app;
}

/**
 * Checks the caller's role, validates, runs the handler; every call that changes something
 * (or tried to) leaves an audit event naming the caller, its address and the outcome.
 */
async function handle(r: Route, c: Context, store: Store, logger: Logger): Promise<Response> {
  const needed = requiredRole(r);
  const audited = needed !== 'viewer' && r.audit !== false;
  let status = 500;
  try {
    const refused = roleRefusal(callerOf(c), needed, r);
    if (refused) throw refused;
    const body = r.body ? parseOrThrow(r.body, await readBody(c, r.acceptsYaml ?? false), 'body') : undefined;
    const query = r.query ? parseOrThrow(r.query, c.req.query(), 'query') : undefined;
    const params = r.params ? parseOrThrow(r.params, c.req.param(), 'path') : undefined;
    const response = await r.handler({ body, query, params, c });
    status = response.status;
    return response;
  } catch (error) {
    status = error instanceof BatonError ? STATUS[error.code] : 500;
    throw error;
  } finally {
    if (audited) await recordAudit(store, logger, c, r, status);
  }
}
