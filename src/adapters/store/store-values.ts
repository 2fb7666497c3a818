// What both stores agree on about values going in and coming out, so that the contract
// suite sees the same objects from SQLite and PostgreSQL.
import type { ConfigRelease, NewEvent, StoredEvent } from '../../ports/store.ts';
import type { NewRevision, Revision } from '../../domain/revisions/revision.ts';

/**
 * Times are stored as UTC ISO 8601 with milliseconds (`Date#toISOString`): PostgreSQL
 * returns a timestamptz in that form anyway, and in SQLite it keeps text order = time order.
 */
export function isoTime(value: string, what: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new RangeError(`${what} ${JSON.stringify(value)} is not an ISO 8601 time`);
  return date.toISOString();
}

/** A page size: a non-negative integer, or undefined for "no limit". */
export function pageLimit(limit: number | undefined): number | undefined {
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
  return limit;
}

/** An empty `kinds` list means no filter, like an absent one. */
export function kindsFilter(kinds: readonly string[] | undefined): readonly string[] | undefined {
  return kinds !== undefined && kinds.length > 0 ? kinds : undefined;
}

/** Absent optional fields are left out rather than set to undefined (a column holds null). */
export function storedEvent(
  seq: number,
  event: {
    readonly time: string;
    readonly kind: string;
    readonly service: string | null | undefined;
    readonly revision: number | null | undefined;
    readonly actor: string;
    readonly message: string;
    readonly data: Readonly<Record<string, unknown>> | null | undefined;
  },
): StoredEvent {
  return {
    seq,
    time: event.time,
    kind: event.kind,
    ...(event.service != null ? { service: event.service } : {}),
    ...(event.revision != null ? { revision: event.revision } : {}),
    actor: event.actor,
    message: event.message,
    ...(event.data != null ? { data: event.data } : {}),
  };
}

/** An event ready for its row: time normalised, data serialised once. */
export interface EventRow {
  readonly time: string;
  readonly kind: string;
  readonly service: string | null;
  readonly revision: number | null;
  readonly actor: string;
  readonly message: string;
  readonly dataJson: string | null;
}

export function eventRow(event: NewEvent): EventRow {
  return {
    time: isoTime(event.time, 'event time'),
    kind: event.kind,
    service: event.service ?? null,
    revision: event.revision ?? null,
    actor: event.actor,
    message: event.message,
    dataJson: event.data === undefined ? null : JSON.stringify(event.data),
  };
}

export function storedEventFromRow(seq: number, row: EventRow): StoredEvent {
  return storedEvent(seq, {
    ...row,
    data: row.dataJson === null ? null : (JSON.parse(row.dataJson) as Record<string, unknown>),
  });
}

/**
 * Tells every listener about a commit, each in its own microtask: after the write has
 * returned, and so that one throwing listener neither fails the write nor silences the rest.
 * A listener removed before delivery is not called.
 */
export function announce(listeners: ReadonlySet<(lastSeq: number) => void>, lastSeq: number): void {
  for (const listener of listeners) {
    queueMicrotask(() => {
      if (listeners.has(listener)) listener(lastSeq);
    });
  }
}

/** The revision as appended: what the caller gave, numbered, with its parent and stored time. */
export function storedRevision(
  revision: NewRevision,
  number: number,
  parent: number | null,
  createdAt: string,
): Revision {
  const { hash, manifestText, manifest, author, message, source } = revision;
  return { number, parent, hash, manifestText, manifest, author, message, source, createdAt };
}

/** A config release from either store's row, optional fields left out when absent. */
export function configRelease(row: {
  readonly number: number;
  readonly parent: number | null;
  readonly status: ConfigRelease['status'];
  readonly gray: ConfigRelease['gray'];
  readonly author: string;
  readonly message: string;
  readonly source: ConfigRelease['source'];
  readonly created_at: string;
  readonly content: ConfigRelease['content'];
}): ConfigRelease {
  return {
    number: row.number,
    parent: row.parent,
    status: row.status,
    ...(row.gray !== undefined ? { gray: row.gray } : {}),
    author: row.author,
    message: row.message,
    source: row.source,
    createdAt: row.created_at,
    content: row.content,
  };
}
