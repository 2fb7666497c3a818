import type { Migration } from '../store/migrations.ts';

// Append only: a released migration is never edited. They run with the span store's own
// schema first in the search_path (`baton_traces` unless told otherwise), apart from the
// Store's tables and with a schema_migrations table of its own.
export const POSTGRES_SPAN_STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'spans, traces and their search indexes',
    sql: `
      -- A resource (service, instance, version and the rest of its attributes) is the same
      -- for every span a process sends: stored once, referenced by id. The key is the SHA-256
      -- of all of it: a btree entry must stay under 2,704 bytes, attributes need not.
      CREATE TABLE resources (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        key        bytea NOT NULL UNIQUE,
        service    text NOT NULL,
        instance   text,
        version    text,
        attributes text NOT NULL
      );

      -- One row per trace, kept up to date as its spans arrive: what search lists, and the
      -- row every append to the trace locks, so that replicas adding to one trace at once
      -- add up. bytes: the estimated size of its spans, for the size limit.
      CREATE TABLE traces (
        trace_id     bytea PRIMARY KEY,
        start_us     bigint NOT NULL,
        end_us       bigint NOT NULL,
        span_count   integer NOT NULL,
        error_count  integer NOT NULL,
        -- The root candidate: 0 a span without parent, 1 a server span, 2 any span; ties go
        -- to the earliest start.
        root_rank    smallint NOT NULL,
        root_start   bigint NOT NULL,
        root_service text NOT NULL,
        root_route   text NOT NULL,
        bytes        bigint NOT NULL
      );
      CREATE INDEX traces_by_start ON traces (start_us);
      -- By the route's digest: a route is a span name, which may be 8 KiB long.
      CREATE INDEX traces_by_root_route ON traces (md5(root_route), start_us);

      -- Keyed by (trace, span id): reading a trace is one index range, and a span sent twice
      -- (an exporter's retry) is skipped. No foreign keys: they would cost every insert a
      -- lookup. Attributes and the extra column (events, links, status message) are JSON kept
      -- as text: never queried into, so neither parsed (json) nor converted (jsonb, which
      -- also refuses \\u0000) on the way in.
      CREATE TABLE spans (
        trace_id    bytea NOT NULL,
        span_id     bytea NOT NULL,
        parent_id   bytea,
        resource_id bigint NOT NULL,
        kind        smallint NOT NULL,
        status      smallint NOT NULL,
        start_us    bigint NOT NULL,
        duration_us bigint NOT NULL,
        name        text NOT NULL,
        attributes  text NOT NULL,
        extra       text,
        PRIMARY KEY (trace_id, span_id)
      );

      -- Which services a trace touched: search by service, and the list in each summary.
      -- Indexed by the name's digest, for the same reason as routes.
      CREATE TABLE trace_services (
        trace_id bytea NOT NULL,
        service  text NOT NULL,
        start_us bigint NOT NULL
      );
      CREATE UNIQUE INDEX trace_services_key ON trace_services (trace_id, md5(service));
      CREATE INDEX trace_services_by_service ON trace_services (md5(service), start_us);

      -- The estimated bytes of live spans, in a few slots: each append adds to one picked at
      -- random, so that concurrent appends (from every replica) seldom wait on one row lock.
      -- PostgreSQL keeps deleted rows' space for reuse instead of shrinking its files, so the
      -- size limit is enforced against this figure, not against the files.
      CREATE TABLE stored_bytes (
        slot  smallint PRIMARY KEY,
        bytes bigint NOT NULL
      );
      INSERT INTO stored_bytes (slot, bytes) SELECT generate_series(0, 7), 0;

      -- Searches pick their plan (walk an index newest first, or sort every match) by the
      -- row estimates: keep them fresh on tables that grow by thousands of rows a second,
      -- not only after every 10 % (the default) of a table that may hold millions.
      ALTER TABLE traces SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);
      ALTER TABLE trace_services SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);
    `,
  },
];
