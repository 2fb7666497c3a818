// What every route module answers with: JSON bodies, and the problem+json entries of its
// OpenAPI responses.
import { ProblemSchema } from './schemas.ts';

export const json = (body: unknown, status = 200): Response => Response.json(body, { status });

/** OpenAPI response entries for the given error statuses, all problem+json. */
export const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: 'Problem', schema: ProblemSchema, contentType: 'application/problem+json' },
    ]),
  );
