import type { Migration } from '../store/migrations.ts';

// Append only: a released migration is never edited.
export const SPAN_STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'spans, traces and their search indexes',
    sql: `
      -- A resource (service, instance, version and the rest of its attributes) is the same
      -- for every span a process sends: stored once, referenced by id.
      CREATE TABLE resources (
        id         INTEGER PRIMARY KEY,
        key        TEXT NOT NULL UNIQUE,
        service    TEXT NOT NULL,
        instance   TEXT,
        version    TEXT,
        attributes TEXT NOT NULL
      ) STRICT;

      -- One row per trace, kept up to date as its spans arrive: what search lists. Its id
      -- (arrival order) is what spans point to, so that spans of recent traces, which are
      -- what arrives, land at the end of the span tree instead of at random places in it:
      -- a request's inserts touch a few pages, not one page per span.
      CREATE TABLE traces (
        id           INTEGER PRIMARY KEY,
        trace_id     BLOB NOT NULL UNIQUE,
        start_us     INTEGER NOT NULL,
        end_us       INTEGER NOT NULL,
        span_count   INTEGER NOT NULL,
        error_count  INTEGER NOT NULL,
        -- The root candidate: 0 a span without parent, 1 a server span, 2 any span; ties go
        -- to the earliest start.
        root_rank    INTEGER NOT NULL,
        root_start   INTEGER NOT NULL,
        root_service TEXT NOT NULL,
        root_route   TEXT NOT NULL
      ) STRICT;
      CREATE INDEX traces_by_start ON traces (start_us);
      CREATE INDEX traces_by_root_route ON traces (root_route, start_us);

      -- Keyed by (trace, span id): reading a trace is one range, and a span sent twice
      -- (an exporter's retry) is skipped. Ids are raw bytes, the attributes compact JSON;
      -- events, links and the status message share one JSON column, NULL for the usual span.
      CREATE TABLE spans (
        trace       INTEGER NOT NULL,
        span_id     BLOB NOT NULL,
        parent_id   BLOB,
        resource_id INTEGER NOT NULL,
        kind        INTEGER NOT NULL,
        status      INTEGER NOT NULL,
        start_us    INTEGER NOT NULL,
        duration_us INTEGER NOT NULL,
        name        TEXT NOT NULL,
        attributes  TEXT NOT NULL,
        extra       TEXT,
        PRIMARY KEY (trace, span_id)
      ) STRICT, WITHOUT ROWID;

      -- Which services a trace touched: search by service, and the list in each summary.
      CREATE TABLE trace_services (
        trace    INTEGER NOT NULL,
        service  TEXT NOT NULL,
        start_us INTEGER NOT NULL,
        PRIMARY KEY (trace, service)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX trace_services_by_service ON trace_services (service, start_us);
    `,
  },
];
