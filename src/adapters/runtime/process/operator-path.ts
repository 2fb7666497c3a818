// The PATH instances get: the operator's, not the one npm hands Baton. `npm start`, `npm
// run` and `npx` put the project's node_modules/.bin (and every ancestor's, and npm's own
// node-gyp-bin) in front of the PATH, so a manifest's `node` would silently run the Node
// that npm installed for Baton instead of the one the operator chose. What npm prepended is
// the leading run of such folders; the operator's PATH is what follows.
import { delimiter } from 'node:path';

const NPM_PREPENDED = /(?:^|[\\/])node_modules[\\/]\.bin[\\/]?$|[\\/]node-gyp-bin[\\/]?$/;

/**
 * `path` without npm's leading folders. Only when running under npm (`npm_execpath` set):
 * a PATH an operator wrote with node_modules/.bin first is theirs to keep.
 */
export function operatorPath(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const path = env['PATH'];
  if (path === undefined || env['npm_execpath'] === undefined) return path;
  const entries = path.split(delimiter);
  const first = entries.findIndex((entry) => !NPM_PREPENDED.test(entry));
  return first === -1 ? '' : entries.slice(first).join(delimiter);
}
