import type { Migration } from '../migrations.ts';

// Append only: a released migration is never edited. Tables are created in the first
// schema of the search_path (the store's own schema when it has one).
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'revisions and events',
    sql: `
      CREATE TABLE revisions (
        number        integer PRIMARY KEY,
        parent        integer REFERENCES revisions (number),
        hash          text NOT NULL,
        author        text NOT NULL,
        message       text NOT NULL,
        source_json   jsonb NOT NULL,
        created_at    timestamptz NOT NULL,
        service_count integer NOT NULL,
        manifest_text text NOT NULL,
        -- json, not jsonb: the manifest is stored and returned whole, never queried into,
        -- and json keeps its key order (the order services are listed in).
        manifest_json json NOT NULL
      );

      CREATE TABLE events (
        seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        time      timestamptz NOT NULL,
        kind      text NOT NULL,
        service   text,
        revision  integer,
        actor     text NOT NULL,
        message   text NOT NULL,
        data_json jsonb
      );
      CREATE INDEX events_by_service ON events (service, seq);
      CREATE INDEX events_by_kind ON events (kind, seq);
    `,
  },
  {
    version: 2,
    name: 'api tokens',
    sql: `
      -- Digests only: a copy of the database lets no one in.
      CREATE TABLE tokens (
        name       text PRIMARY KEY,
        role       text NOT NULL,
        digest     text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        revoked_at timestamptz
      );
    `,
  },
  {
    version: 3,
    name: 'secrets',
    sql: `
      -- Sealed (AES-256-GCM) by the control plane: no plaintext ever reaches this table.
      CREATE TABLE secrets (
        name        text PRIMARY KEY,
        sealed      text NOT NULL,
        fingerprint text NOT NULL,
        updated_at  timestamptz NOT NULL,
        updated_by  text NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'config releases',
    sql: `
      CREATE TABLE config_releases (
        number       integer PRIMARY KEY,
        parent       integer REFERENCES config_releases (number),
        status       text NOT NULL,
        gray_json    jsonb,
        author       text NOT NULL,
        message      text NOT NULL,
        source_json  jsonb NOT NULL,
        created_at   timestamptz NOT NULL,
        content_json json NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'server keys',
    sql: `
      -- What every replica must agree on: the service-token key (sealed by the control plane,
      -- like secrets) and the bootstrap admin token's digest. Written once, by the first.
      CREATE TABLE server_keys (
        name       text PRIMARY KEY,
        value      text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];
