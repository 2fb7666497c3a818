// The keys every replica must agree on, kept in the Store so that replicas with different
// state folders (other machines) accept the same tokens:
// - the **service-token key** that service (`bsvc.`) and gateway (`bgw.`) tokens are MACs
//   under, sealed by the secrets sealer like a secret (a copy of the database alone forges
//   nothing);
// - the **bootstrap admin token's digest**: the token itself stays in the state folder of the
//   replica that made it (and wherever the operator copies it); the store could not let anyone
//   in even unsealed.
// The first replica to start claims both (insert if absent, then read), so replicas racing at
// start-up end up with the same ones.
import { BatonError } from '../../domain/errors.ts';
import type { SecretSealer } from '../../ports/secret-sealer.ts';
import type { Store } from '../../ports/store.ts';
import { sameSecret, tokenDigest } from './credentials.ts';

const SERVICE_KEY = 'service-token-key';
const ADMIN_DIGEST = 'admin-token-digest';
/** What the sealed key is bound to (the sealer's associated data): it opens as nothing else. */
const SEALED_AS = 'baton:server-key:service-tokens';

export interface ServerKeysOptions {
  readonly store: Store;
  readonly sealer: SecretSealer;
  /** The bootstrap admin token in this replica's state folder, if it has one. */
  readonly localToken: string | undefined;
  /**
   * One control plane owns the store (SQLite): its state folder's token is the truth, so
   * replacing (or removing) the file and restarting rotates the admin token and every derived
   * token, as before the keys moved into the store. Several replicas (PostgreSQL): the store is
   * the truth, and a state folder that disagrees is refused.
   */
  readonly single: boolean;
  /** 32 random bytes, base64url. */
  readonly newSecret: () => string;
}

export interface ServerKeys {
  /** The key service and gateway tokens are MACs under. */
  readonly serviceKey: string;
  /** Hex SHA-256 of the bootstrap admin token. */
  readonly adminDigest: string;
  /** A token made now, for the caller to write to the state folder (undefined: keep what is there, or nothing). */
  readonly minted: string | undefined;
  /** Whether this replica's state folder holds the bootstrap admin token. */
  readonly holdsAdminToken: boolean;
  /** Set when the derived tokens changed on this start (a single control plane rotated them). */
  readonly rotated: boolean;
}

export async function establishServerKeys(options: ServerKeysOptions): Promise<ServerKeys> {
  const { store, sealer, localToken, single } = options;
  const candidate = localToken ?? options.newSecret();
  const digest = tokenDigest(candidate);
  const stored = await store.claimServerKey(ADMIN_DIGEST, digest);
  const agrees = sameSecret(stored, digest);
  let rotated = false;
  if (!agrees && single) {
    // The operator replaced or removed the token file: rotate, as replacing it always did.
    await store.replaceServerKey(ADMIN_DIGEST, digest);
    await store.replaceServerKey(SERVICE_KEY, sealer.seal(SEALED_AS, options.newSecret()));
    rotated = true;
  } else if (!agrees && localToken !== undefined) {
    throw new BatonError(
      'bad-request',
      "this state folder's token is not the bootstrap admin token of the control plane in this store",
      {
        hint:
          'copy the `token` file of a replica that holds it into this state folder, or remove this one ' +
          '(the replica then serves without a local copy; use a named token here)',
      },
    );
  }
  // A database from before the keys were stored: its service tokens were MACs under the admin
  // token, and adopted instances keep the ones they started with.
  const keyCandidate = localToken ?? options.newSecret();
  const sealed = await store.claimServerKey(SERVICE_KEY, sealer.seal(SEALED_AS, keyCandidate));
  let serviceKey: string;
  try {
    serviceKey = sealer.open(SEALED_AS, sealed);
  } catch (error) {
    if (!single)
      throw new BatonError(
        'secret-key-invalid',
        'the service-token key in the store does not open with this replica’s secrets key',
        {
          hint:
            'replicas of one control plane share the secrets key: give each the same BATON_SECRETS_KEY ' +
            'or --secrets-key-command',
          cause: error,
        },
      );
    // A single control plane whose secrets key was replaced: its derived tokens cannot be
    // recomputed, so new ones are made (instances get theirs when they next start).
    serviceKey = options.newSecret();
    await store.replaceServerKey(SERVICE_KEY, sealer.seal(SEALED_AS, serviceKey));
    rotated = true;
  }
  const adminDigest = single && !agrees ? digest : stored;
  const holdsAdminToken = agrees || single;
  return {
    serviceKey,
    adminDigest,
    minted: holdsAdminToken && localToken === undefined ? candidate : undefined,
    holdsAdminToken,
    rotated,
  };
}
