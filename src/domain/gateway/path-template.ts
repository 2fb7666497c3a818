// A request path as a low-cardinality template, for the names of the gateway's spans and
// the routes of its RED figures: `/api/orders/8f3a2b` → `/api/orders/{id}`. A route is a
// prefix (a catch-all `/` matches everything), so the route alone would name every
// request of a catch-all `GET /`; the raw path would give every order its own name. Words
// stay (`orders`, `v2`, `openapi.json`), anything else a segment may hold (numbers, UUIDs,
// hashes, tokens, encoded text) becomes `{id}`, and the depth is capped.

/** Segments kept before the rest is folded into `/…`. */
export const MAX_TEMPLATE_SEGMENTS = 6;
/** Longer segments are values, not names. */
const MAX_WORD_LENGTH = 32;

const WORD = /^[A-Za-z][A-Za-z_-]*$/;
const API_VERSION = /^v\d{1,3}$/i;
const FILE_NAME = /^[A-Za-z][A-Za-z_-]*\.[A-Za-z]{1,5}$/;

export function pathTemplate(path: string): string {
  const segments = path.split('/');
  let out = '';
  let kept = 0;
  // segments[0] is the empty string before the leading slash.
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (kept === MAX_TEMPLATE_SEGMENTS) return `${out}/…`;
    if (segment === '' && i === segments.length - 1) return `${out}/`;
    out += `/${isName(segment) ? segment : '{id}'}`;
    kept++;
  }
  return out === '' ? '/' : out;
}

function isName(segment: string): boolean {
  if (segment.length === 0 || segment.length > MAX_WORD_LENGTH) return false;
  return WORD.test(segment) || API_VERSION.test(segment) || FILE_NAME.test(segment);
}
