// The one source of truth for `baton.yaml`. The validator, the TypeScript types, the
// JSON Schema for editors (schema/baton.schema.json) and the OpenAPI document all derive
// from these definitions; nothing else may describe the manifest's shape.
import { ServiceConfigSchema } from '../config/config-schema.ts';
import { z } from 'zod';
import semver from 'semver';
import { parseDuration } from '../health/duration.ts';

export const TIERS = ['critical', 'high', 'medium', 'low'] as const;
export type Tier = (typeof TIERS)[number];
/** Lower rank = more critical. */
export const TIER_RANK: Record<Tier, number> = { critical: 0, high: 1, medium: 2, low: 3 };

export const LIMITS = {
  manifestBytes: 1024 * 1024,
  services: 10_000,
  dependenciesPerService: 200,
  routesPerService: 100,
  nameLength: 63,
  /**
   * One environment value, in bytes. Linux refuses any single argument or variable over
   * 128 KiB (E2BIG) when it starts a process: a larger value would pass here and then fail
   * every start, forever. 32 KiB leaves room; bigger data belongs in a file or a volume.
   */
  envValueBytes: 32 * 1024,
  /** All of a service's variables together, well under the kernel's total for a start. */
  envTotalBytes: 256 * 1024,
} as const;

/** DNS-label names: they become hostnames, env values, Kubernetes object names. */
export const NAME_PATTERN = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DURATION_PATTERN = /^\d+(ms|s|m|h)$/;
const PERCENT_OR_COUNT = z.union([
  z.number().int().min(0),
  z.string().regex(/^\d{1,3}%$/, { error: 'must be a count such as 1 or a percentage such as "25%"' }),
]);

/** A duration in ms for checks between fields; NaN when the field itself is invalid (reported there). */
const durationMs = (text: string) => {
  try {
    return parseDuration(text);
  } catch {
    return NaN;
  }
};

const duration = (what: string) =>
  z.string().regex(DURATION_PATTERN, { error: `${what} must be a duration such as 500ms, 5s, 2m or 1h` });

const semverString = z
  .string()
  .refine((v) => semver.valid(v) !== null, { error: 'must be a semantic version such as 1.4.2' });

const semverRange = z.string().refine((v) => semver.validRange(v) !== null, {
  error: 'must be a semver range such as ^2.1.0 or >=1.2 <2',
});

const name = z.string().max(LIMITS.nameLength).regex(NAME_PATTERN, {
  error: 'must be lowercase letters, digits and dashes, start with a letter and not end with a dash',
});

const RunSchema = z
  .strictObject({
    command: z.string().min(1).describe('Executable to start, e.g. `node`.'),
    args: z.array(z.string()).default([]).describe('Arguments passed to the command.'),
    cwd: z.string().optional().describe('Working directory, relative to the manifest file.'),
  })
  .describe('How to start the service as a local process (the `process` runtime).');

const ResourcesSchema = z.strictObject({
  cpu: z
    .union([
      z.number().positive(),
      z.string().regex(/^\d+m$/, { error: 'cpu must be cores such as 0.5 or millicores such as "500m"' }),
    ])
    .optional()
    .describe('CPU cores (0.5) or millicores ("500m").'),
  memory: z
    .string()
    .regex(/^\d+(Ki|Mi|Gi)$/, { error: 'memory must be a size such as 256Mi or 1Gi' })
    .optional(),
  pids: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .optional()
    .describe(
      'Most processes and threads at once (container runtimes). A Node process alone uses about a dozen threads.',
    ),
});

const BuildSchema = z
  .strictObject({
    context: z.string().min(1).describe('Folder sent to the engine, relative to the manifest file.'),
    dockerfile: z
      .string()
      .min(1)
      .default('Dockerfile')
      .describe(
        'Relative to the context. A `<dockerfile>.dockerignore` beside it, or `.dockerignore` in the context, leaves files out.',
      ),
    args: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be letters, digits and underscores' }),
        z.string(),
      )
      .default({})
      .describe('Build arguments (`ARG`).'),
    target: z.string().min(1).optional().describe('The stage to build, in a multi-stage Dockerfile.'),
  })
  .describe(
    'How to build the image with the container engine, never pulling: tagged `<image>` when given, else `<manifest>/<service>:<version>`.',
  );

const PortSchema = z.strictObject({
  name: name,
  port: z.number().int().min(1).max(65535).optional().describe('Fixed port; allocated when absent.'),
  protocol: z.enum(['http', 'tcp']).default('http'),
});

const HealthSchema = z
  .strictObject({
    http: z
      .strictObject({ path: z.string().startsWith('/').default('/healthz'), port: z.string().optional() })
      .optional(),
    tcp: z.strictObject({ port: z.string().optional() }).optional(),
    command: z.strictObject({ command: z.string().min(1), args: z.array(z.string()).default([]) }).optional(),
    interval: duration('interval').default('5s'),
    timeout: duration('timeout').default('2s'),
    failureThreshold: z.number().int().min(1).max(100).default(3),
    successThreshold: z.number().int().min(1).max(100).default(1),
    startupGrace: duration('startupGrace').default('30s'),
  })
  .refine((h) => [h.http, h.tcp, h.command].filter(Boolean).length <= 1, {
    error: 'choose one probe: http, tcp or command',
  });

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: 'must be letters, digits and underscores, not starting with a digit',
});

const DependencySchema = z.union([
  semverRange,
  z.strictObject({
    range: semverRange,
    optional: z.boolean().default(false).describe('The service works (degraded) without it.'),
    env: envName
      .optional()
      .describe(
        "The variable that holds the dependency's base URL (its stable address on the data plane); default `<NAME>_URL`, e.g. HOTEL_URL.",
      ),
  }),
]);

const percent = (what: string) =>
  z
    .number()
    .min(0, { error: `${what} is a percentage from 0 to 100` })
    .max(100, {
      error: `${what} is a percentage from 0 to 100`,
    });

const RateLimitSchema = z
  .strictObject({
    requestsPerSecond: z.number().positive().describe('Tokens added to the bucket per second.'),
    burst: z.number().int().min(1).optional().describe('Bucket size; defaults to one second of requests.'),
    key: z
      .union([z.enum(['route', 'ip']), z.strictObject({ header: z.string().min(1) })])
      .default('route')
      .describe('One bucket for the whole route, one per client IP, or one per value of a header.'),
  })
  .describe('Token bucket, enforced by each gateway process on its own.');

const retryStatuses = z
  .array(
    z
      .number()
      .int()
      .refine((s) => s === 408 || s === 425 || s === 429 || (s >= 500 && s <= 599), {
        error: 'retry on 408, 425, 429 or a 5xx status: answers another attempt may change',
      }),
  )
  .max(20);

const RouteSchema = z.strictObject({
  path: z.string().startsWith('/').describe('Path prefix matched by the gateway.'),
  host: z.string().optional(),
  methods: z.array(z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])).optional(),
  headers: z
    .record(z.string().min(1), z.string())
    .optional()
    .describe('Request headers that must be present with exactly these values.'),
  stripPrefix: z.boolean().default(false),
  timeout: duration('timeout').optional().describe('Deadline shared by all attempts of a request.'),
  retryOn: retryStatuses
    .optional()
    .describe(
      "Statuses this route's idempotent requests are retried on, besides connect failures, resets, 502, 503 and 504 (which always are); replaces the service's `traffic.retries.on`, e.g. [500].",
    ),
  rateLimit: RateLimitSchema.optional(),
});

const TrafficSchema = z
  .strictObject({
    loadBalancing: z
      .union([
        z.enum(['round-robin', 'least-request']),
        z.strictObject({
          hash: z.union([
            z.strictObject({ header: z.string().min(1) }),
            z.strictObject({ cookie: z.string().min(1) }),
          ]),
        }),
      ])
      .optional()
      .describe('round-robin (default), least-request (power of two choices) or consistent hashing.'),
    retries: z
      .strictObject({
        attempts: z
          .number()
          .int()
          .min(0)
          .max(10)
          .optional()
          .describe('Retries after the first try (default 2).'),
        budget: percent('budget')
          .optional()
          .describe(
            'Retries may be at most this share of requests over the last 10 s, plus 3 a second (default 20).',
          ),
        backoff: duration('backoff')
          .optional()
          .describe('Base of the jittered exponential backoff (default 25ms).'),
        on: retryStatuses
          .optional()
          .describe(
            'Statuses retried besides connect failures, resets, 502, 503 and 504 (which always are), e.g. [500]; a route may set its own `retryOn`. Default none.',
          ),
      })
      .optional()
      .describe(
        'Only idempotent requests are retried; by default only on connect failures, resets, 502, 503 and 504.',
      ),
    outlierDetection: z
      .strictObject({
        consecutiveFailures: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe('5xx or connect failures in a row, per route and instance (default 5).'),
        ejectionTime: duration('ejectionTime')
          .optional()
          .describe('First ejection; grows with each repeat (default 10s).'),
        maxEjectedPercent: percent('maxEjectedPercent')
          .optional()
          .describe('Never eject more than this (default 50).'),
        panicThreshold: percent('panicThreshold')
          .optional()
          .describe('Below this share of usable instances, use all (default 50).'),
      })
      .optional(),
    circuitBreaker: z
      .strictObject({
        errorRate: percent('errorRate')
          .optional()
          .describe(
            "Opens a route's circuit when its errors (5xx, timeouts, connect failures; never a 4xx) exceed this share (default 50).",
          ),
        minRequests: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe('Requests in the window before it may open (default 20).'),
        window: duration('window').optional().describe('Default 10s.'),
        openFor: duration('openFor').optional().describe('Before a half-open probe (default 5s).'),
      })
      .optional(),
    concurrency: z
      .strictObject({
        limit: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe('Requests in flight to the service (default 1000).'),
        queue: z.number().int().min(0).optional().describe('Requests waiting for a slot (default 1000).'),
      })
      .optional()
      .describe('Bulkhead: one slow service cannot take every connection of the gateway.'),
  })
  .describe('How the gateway sends traffic to this service; every field has a sane default.');

const SloSchema = z
  .strictObject({
    name: name.describe('Names the alert: `orders/latency`.'),
    errorRate: percent('errorRate')
      .optional()
      .describe('Fires when more than this percentage of requests fail (5xx or error spans).'),
    p99: duration('p99').optional().describe('Fires when the 99th percentile latency is over this.'),
    for: duration('for').default('5m').describe('How long the objective must be missed before it fires.'),
    gate: z
      .boolean()
      .default(true)
      .describe(
        "While the service's rollout is within its deadline, a firing alert fails it (and rolls back).",
      ),
  })
  .refine((slo) => (slo.errorRate === undefined) !== (slo.p99 === undefined), {
    error: 'an objective is either `errorRate` or `p99`, one per entry',
  })
  .describe('A service-level objective, evaluated continuously from the traces the service sends.');

const AlertsSchema = z
  .strictObject({
    webhook: z
      .url({ protocol: /^https?$/, error: 'webhook must be an http(s) URL' })
      .optional()
      .describe('Receives a JSON POST for every alert that fires or resolves.'),
  })
  .describe('Where alerts go besides the event log.');

const GatewaySchema = z
  .strictObject({
    shedding: z
      .strictObject({
        maxInFlight: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe('Requests in flight in one gateway (default 10000).'),
        maxLatency: duration('maxLatency')
          .optional()
          .describe('Queueing delay that counts as overload (default 500ms).'),
      })
      .optional()
      .describe('Under overload, requests to lower tiers are shed first, critical last.'),
    eastWest: z
      .strictObject({
        mode: z
          .enum(['enforce', 'observe'])
          .default('enforce')
          .describe(
            '`enforce`: a call through the data plane to a service the caller does not declare in dependsOn is refused (403). `observe`: it is forwarded and reported as drift.',
          ),
      })
      .optional()
      .describe('Service-to-service traffic: the data plane between services.'),
  })
  .describe('Settings of the gateway (the data plane) as a whole.');

export const DEFAULT_CANARY_STEPS = [10, 50, 100];
export const DEFAULT_CANARY_PAUSE = '1m';

const RolloutSchema = z
  .strictObject({
    strategy: z.enum(['rolling', 'canary']).default('rolling'),
    maxSurge: PERCENT_OR_COUNT.default(1),
    maxUnavailable: PERCENT_OR_COUNT.default(0),
    autoRollback: z.boolean().default(true),
    deadline: duration('deadline').default('5m'),
    crashLoopLimit: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe(
        'New instances that die before becoming ready this many times in a row fail the rollout at once, without waiting for the deadline.',
      ),
    canarySteps: z
      .array(z.number().int().min(1).max(100))
      .min(1)
      .optional()
      .describe(
        "With strategy canary: the new version's share of traffic, step by step, e.g. [5, 25, 100] (default [10, 50, 100]).",
      ),
    canaryPause: duration('canaryPause')
      .optional()
      .describe(
        'With strategy canary: how long each step below 100% is watched before the next (default 1m).',
      ),
  })
  .superRefine((rollout, context) => {
    const steps = rollout.canarySteps;
    if (steps !== undefined && steps.some((step, i) => i > 0 && step <= steps[i - 1]!)) {
      context.addIssue({
        code: 'custom',
        path: ['canarySteps'],
        message: 'canary steps must grow, e.g. [5, 25, 100]',
      });
    }
    if (rollout.strategy !== 'canary') {
      if (steps !== undefined || rollout.canaryPause !== undefined) {
        context.addIssue({
          code: 'custom',
          path: [steps !== undefined ? 'canarySteps' : 'canaryPause'],
          message: 'canarySteps and canaryPause only apply with strategy: canary',
        });
      }
      return;
    }
    const paused = (steps ?? DEFAULT_CANARY_STEPS).filter((step) => step < 100).length;
    const pause = rollout.canaryPause ?? DEFAULT_CANARY_PAUSE;
    const pauseMs = durationMs(pause);
    if (paused * pauseMs >= durationMs(rollout.deadline)) {
      context.addIssue({
        code: 'custom',
        path: ['deadline'],
        message: `the canary watches ${paused} step(s) of ${pause}, which outlasts the rollout deadline of ${rollout.deadline}: the rollout would always fail`,
      });
    }
  });

const InstancesSchema = z.union([
  z.number().int().min(0).max(1000),
  z
    .strictObject({ min: z.number().int().min(0).max(1000), max: z.number().int().min(1).max(1000) })
    .refine((i) => i.min <= i.max, { error: 'min must not exceed max' }),
]);

const VolumeSchema = z.strictObject({
  name: name,
  path: z.string().startsWith('/'),
  size: z
    .string()
    .regex(/^\d+(Mi|Gi)$/, { error: 'size must be a size such as 512Mi or 10Gi' })
    .optional(),
  readOnly: z.boolean().default(false),
});

export const ServiceSchema = z
  .strictObject({
    version: semverString.describe('The version of the service this revision runs.'),
    tier: z.enum(TIERS).describe('How critical the service is to the business.'),
    owner: z.string().optional(),
    description: z.string().optional(),
    run: RunSchema.optional(),
    image: z
      .string()
      .optional()
      .describe(
        'Container image, for container runtimes (`docker`); the process runtime refuses a service with only an image.',
      ),
    build: BuildSchema.optional(),
    entrypoint: z
      .array(z.string())
      .optional()
      .describe("Container runtimes: replaces the image's ENTRYPOINT."),
    cmd: z
      .array(z.string())
      .optional()
      .describe("Container runtimes: replaces the image's CMD (compose's `command`)."),
    user: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/, {
        error: 'user must be a name or id, with an optional :group',
      })
      .optional()
      .describe(
        "Who the instance runs as (`uid[:gid]` or a name). Containers: the image's USER when absent. Local processes under a control plane running as root: `nobody` when absent (`root` only when named); otherwise the control plane's own user.",
      ),
    env: z
      .record(
        // Dots and dashes too: programs read them (Elasticsearch's `discovery.type`), even if shells cannot.
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, {
          error:
            'must be letters, digits, underscores, dots and dashes, starting with a letter or underscore',
        }),
        z.string().refine((value) => Buffer.byteLength(value) <= LIMITS.envValueBytes, {
          error: `a value may be at most ${LIMITS.envValueBytes / 1024} KiB (a process cannot start with one over 128 KiB); put larger data in a file`,
        }),
      )
      .refine(
        (env) =>
          Object.entries(env).reduce(
            (sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v) + 2,
            0,
          ) <= LIMITS.envTotalBytes,
        { error: `all variables together may be at most ${LIMITS.envTotalBytes / 1024} KiB` },
      )
      .default({})
      .describe(
        'Variables the instances get. `${services.NAME.url}` (also `.host`, `.port`) is the address of a service this one declares in dependsOn.',
      ),
    config: ServiceConfigSchema.optional(),
    envFile: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .describe(
        '`.env`-style files (KEY=VALUE lines, as docker compose reads them), relative to the manifest; later files win and `env` wins over them. The CLI folds them into `env` before sending: a revision holds the values, not the files.',
      ),
    telemetry: z
      .enum(['auto', 'off'])
      .optional()
      .describe(
        "`auto`: Node services are traced from inside with OpenTelemetry's auto-instrumentation (loaded through NODE_OPTIONS), spans sent to Baton. Calls through the data plane are traced either way.",
      ),
    resources: ResourcesSchema.optional(),
    placement: z.strictObject({ labels: z.record(z.string(), z.string()).default({}) }).optional(),
    volumes: z.array(VolumeSchema).default([]),
    instances: InstancesSchema.default(1),
    mode: z.enum(['pet', 'cattle']).default('cattle'),
    ports: z.array(PortSchema).default([]),
    health: HealthSchema.optional().describe(
      'One probe for both readiness (traffic) and liveness (an instance that stays failing it is replaced or restarted). Or give `readiness` and `liveness` apart.',
    ),
    readiness: HealthSchema.optional().describe(
      'Gates traffic, as in Kubernetes: failing takes the instance out of discovery until it passes again; it is never restarted for it.',
    ),
    liveness: HealthSchema.optional().describe(
      'Restarts, as in Kubernetes: failing `failureThreshold` times in a row (after `startupGrace`) restarts a pet in place or replaces cattle.',
    ),
    dependsOn: z
      .record(name, DependencySchema)
      .default({})
      .describe('Services this one calls, each with the semver range it accepts.'),
    routes: z.array(RouteSchema).max(LIMITS.routesPerService).default([]),
    traffic: TrafficSchema.optional(),
    slos: z.array(SloSchema).max(20).default([]),
    rollout: RolloutSchema.default({
      strategy: 'rolling',
      maxSurge: 1,
      maxUnavailable: 0,
      autoRollback: true,
      deadline: '5m',
      crashLoopLimit: 3,
    }),
  })
  .refine((s) => s.run !== undefined || s.image !== undefined || s.build !== undefined, {
    error: 'a service needs `run` (a local process), or `image` or `build` (a container), or both',
  })
  .refine((s) => s.health === undefined || (s.readiness === undefined && s.liveness === undefined), {
    error:
      '`health` is readiness and liveness in one: give either `health`, or `readiness` and/or `liveness`',
    path: ['health'],
  });

export const ManifestSchema = z
  .strictObject({
    name: name.describe('Name of the architecture.'),
    description: z.string().optional(),
    gateway: GatewaySchema.optional(),
    alerts: AlertsSchema.optional(),
    services: z.record(name, ServiceSchema).describe('Every service of the architecture, by name.'),
  })
  .describe('Baton architecture manifest (baton.yaml).');

/** What zod hands back: defaults applied, shorthands not yet expanded. */
export type ParsedManifest = z.output<typeof ManifestSchema>;
export type ParsedService = z.output<typeof ServiceSchema>;
