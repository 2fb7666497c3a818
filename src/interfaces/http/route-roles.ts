// The least role each route needs, and the refusal when a caller's role is below it.
import { BatonError } from '../../domain/errors.ts';
import type { Principal } from '../../domain/identity/principal.ts';
import { defaultRoleFor, roleAllows, type Role } from '../../domain/identity/roles.ts';
import type { Route } from './route-table.ts';

export function requiredRole(r: Route): Role {
  return r.role ?? defaultRoleFor(r.method.toUpperCase());
}

/** Services and gateways were held to their scope already; people are held to their role. */
export function roleRefusal(caller: Principal, needed: Role, r: Route): BatonError | undefined {
  if (caller.kind !== 'user' || roleAllows(caller.role, needed)) return undefined;
  return new BatonError(
    'forbidden',
    `${caller.name} (${caller.role}) may not ${r.operationId}: it needs the ${needed} role`,
    { hint: 'an admin can create a token with that role: baton tokens create NAME --role ' + needed },
  );
}
