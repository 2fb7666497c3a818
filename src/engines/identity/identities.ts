// Who is calling: the bootstrap admin (its token's digest in the Store), named tokens with a
// role (kept in the Store as digests), a service's instances (their service token) and
// gateways (the gateway token), the last two MACs under the server key from the Store, so that
// every replica accepts the same tokens. Named tokens are created, listed and revoked here; each
// change is an event whose actor is the admin who made it.
import { BatonError } from '../../domain/errors.ts';
import type { Principal } from '../../domain/identity/principal.ts';
import { tokenNameProblem } from '../../domain/identity/principal.ts';
import { isRole, type Role } from '../../domain/identity/roles.ts';
import type { Clock } from '../../ports/clock.ts';
import { StoreConflictError, type Store, type TokenRecord } from '../../ports/store.ts';
import {
  claimedService,
  gatewayToken,
  looksLikeGatewayToken,
  NAMED_PREFIX,
  sameSecret,
  serviceToken,
  tokenDigest,
} from './credentials.ts';

/** The bootstrap admin's name in the audit trail. */
export const BOOTSTRAP_ADMIN = 'admin';

export interface IdentitiesOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** Hex SHA-256 of the bootstrap admin token (server-keys.ts). */
  readonly adminDigest: string;
  /** The key service and gateway tokens are MACs under (server-keys.ts). */
  readonly serviceKey: string;
  /** 32 random bytes, base64url: the secret part of a new named token. */
  readonly newSecret: () => string;
}

export interface TokenView {
  readonly name: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt?: string | undefined;
}

export class Identities {
  readonly #o: IdentitiesOptions;

  constructor(options: IdentitiesOptions) {
    this.#o = options;
  }

  /** The principal a presented bearer token stands for, or undefined. */
  async authenticate(token: string | undefined): Promise<Principal | undefined> {
    if (token === undefined || token.length > 512) return undefined;
    const key = this.#o.serviceKey;
    const service = claimedService(token);
    if (service !== undefined)
      return sameSecret(token, serviceToken(key, service)) ? { kind: 'service', service } : undefined;
    if (looksLikeGatewayToken(token))
      return sameSecret(token, gatewayToken(key)) ? { kind: 'gateway' } : undefined;
    const digest = tokenDigest(token);
    if (sameSecret(digest, this.#o.adminDigest))
      return { kind: 'user', name: BOOTSTRAP_ADMIN, role: 'admin' };
    if (!token.startsWith(NAMED_PREFIX)) return undefined;
    const record = await this.#o.store.tokenByDigest(digest);
    if (record === undefined || !isRole(record.role)) return undefined;
    return { kind: 'user', name: record.name, role: record.role };
  }

  /** What an instance of `service` is given as BATON_TOKEN. */
  serviceToken(service: string): string {
    return serviceToken(this.#o.serviceKey, service);
  }

  /** What a gateway is given: snapshots, their watch and spans. */
  gatewayToken(): string {
    return gatewayToken(this.#o.serviceKey);
  }

  /** Creates a named token; the token itself is returned once and never kept. */
  async create(name: string, role: Role, by: string): Promise<{ token: string; record: TokenView }> {
    const problem =
      tokenNameProblem(name) ?? (name === BOOTSTRAP_ADMIN ? `\`${name}\` is the bootstrap admin` : undefined);
    if (problem)
      throw new BatonError('bad-request', problem, { hint: 'choose another name, e.g. ci-deploy or ana' });
    const token = `${NAMED_PREFIX}${this.#o.newSecret()}`;
    const record: TokenRecord = {
      name,
      role,
      digest: tokenDigest(token),
      createdAt: this.#o.clock.now().toISOString(),
      createdBy: by,
    };
    try {
      await this.#o.store.createToken(record);
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error;
      throw new BatonError('name-taken', `a token named ${name} exists (or existed: names are not reused)`, {
        hint: 'choose another name; `baton tokens list` shows the names in use',
      });
    }
    await this.#event('token.created', by, `token ${name} created (${role})`, { name, role });
    return { token, record: view(record) };
  }

  async list(): Promise<TokenView[]> {
    return (await this.#o.store.listTokens()).map(view);
  }

  async revoke(name: string, by: string): Promise<void> {
    if (!(await this.#o.store.revokeToken(name, this.#o.clock.now().toISOString())))
      throw new BatonError('not-found', `no token named ${name} to revoke`, {
        hint: '`baton tokens list` shows the tokens; a revoked one stays revoked',
      });
    await this.#event('token.revoked', by, `token ${name} revoked`, { name });
  }

  async #event(kind: string, actor: string, message: string, data: Record<string, unknown>): Promise<void> {
    await this.#o.store.appendEvents([
      { kind, actor, message, data, time: this.#o.clock.now().toISOString() },
    ]);
  }
}

function view(record: TokenRecord): TokenView {
  return {
    name: record.name,
    role: isRole(record.role) ? record.role : 'viewer',
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    ...(record.revokedAt ? { revokedAt: record.revokedAt } : {}),
  };
}
