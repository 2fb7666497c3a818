import type { Migration } from '../migrations.ts';

// Append only: a released migration is never edited.
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'revisions and events',
    sql: `
      CREATE TABLE revisions (
        number        INTEGER PRIMARY KEY,
        parent        INTEGER REFERENCES revisions (number),
        hash          TEXT NOT NULL,
        author        TEXT NOT NULL,
        message       TEXT NOT NULL,
        source_json   TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        service_count INTEGER NOT NULL,
        -- The large columns last: SQLite reads a row's columns in order, through its overflow
        -- pages, so listing summaries never touches a megabyte manifest.
        manifest_text TEXT NOT NULL,
        manifest_json TEXT NOT NULL
      ) STRICT;

      CREATE TABLE events (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        time      TEXT NOT NULL,
        kind      TEXT NOT NULL,
        service   TEXT,
        revision  INTEGER,
        actor     TEXT NOT NULL,
        message   TEXT NOT NULL,
        data_json TEXT
      ) STRICT;
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
        name       TEXT PRIMARY KEY,
        role       TEXT NOT NULL,
        digest     TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        revoked_at TEXT
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'secrets',
    sql: `
      -- Sealed (AES-256-GCM) by the control plane: no plaintext ever reaches this table.
      CREATE TABLE secrets (
        name        TEXT PRIMARY KEY,
        sealed      TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        updated_by  TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 4,
    name: 'config releases',
    sql: `
      CREATE TABLE config_releases (
        number       INTEGER PRIMARY KEY,
        parent       INTEGER REFERENCES config_releases (number),
        status       TEXT NOT NULL,
        gray_json    TEXT,
        author       TEXT NOT NULL,
        message      TEXT NOT NULL,
        source_json  TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        content_json TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 5,
    name: 'server keys',
    sql: `
      -- What every replica must agree on: the service-token key (sealed by the control plane,
      -- like secrets) and the bootstrap admin token's digest. Written once, by the first.
      CREATE TABLE server_keys (
        name       TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      ) STRICT;
    `,
  },
];
