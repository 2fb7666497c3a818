import type { Manifest } from '../manifest/model.ts';

/** Why a revision exists. A rollback is a new revision that remembers what it came from. */
export type RevisionSource = (
  | { readonly kind: 'apply' }
  | { readonly kind: 'rollback'; readonly toRevision: number; readonly reason?: string | undefined }
  | {
      readonly kind: 'rollback-service';
      readonly service: string;
      /** Every service that moved, with the version it left, the one it returned to, and why. */
      readonly moves: readonly ServiceMove[];
      readonly reason?: string | undefined;
    }
) & {
  /**
   * The folder the manifest came from: relative `run.cwd` paths resolve against it. A
   * rollback keeps the folder of the revision it restores.
   */
  readonly baseDir?: string | undefined;
};

export interface ServiceMove {
  readonly service: string;
  readonly from: string;
  readonly to: string;
  /** The revision whose spec of this service is restored. */
  readonly fromRevision: number;
  readonly reason: string;
}

/** An immutable, numbered, applied manifest: one version of the whole architecture. */
export interface Revision {
  readonly number: number;
  readonly parent: number | null;
  readonly hash: string;
  /** The text as the author wrote it (or as Baton generated it for a rollback). */
  readonly manifestText: string;
  readonly manifest: Manifest;
  readonly author: string;
  readonly message: string;
  readonly source: RevisionSource;
  /** ISO 8601. */
  readonly createdAt: string;
}

export type NewRevision = Omit<Revision, 'number' | 'parent'>;

export type RevisionSummary = Omit<Revision, 'manifestText' | 'manifest'> & {
  readonly services: number;
};
