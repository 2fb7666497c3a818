// Who may do what. Three roles, each a superset of the one before; a route names the least
// role it needs. Instances and the gateway are not people and get no role: each has a scope
// (a short list of calls) instead, so that nothing a service or the gateway holds can change
// the architecture.

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** viewer < operator < admin. */
export function roleAllows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/**
 * The least role a call needs when its route does not say: reading is for viewers, anything
 * that changes state is for admins (operator work is named route by route).
 */
export function defaultRoleFor(method: string): Role {
  return method === 'GET' || method === 'HEAD' ? 'viewer' : 'admin';
}
