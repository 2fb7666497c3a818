// Validation away from the event loop. Parsing a megabyte of YAML takes seconds on a busy
// machine; done on the control plane's thread, every other request, watch and health check
// would wait behind it. A precheck validates elsewhere and answers only whether the text is
// invalid (with its problems), so that junk never costs the main thread anything.
import type { Problem } from '../domain/problems.ts';

/** The problems of an invalid manifest, or undefined when it is valid (then validated again where it is used). */
export type ManifestPrecheck = (
  text: string,
  file: string | undefined,
) => Promise<readonly Problem[] | undefined>;

/** Texts below this are validated in place: a worker's round trip would cost more than it saves. */
export const PRECHECK_MIN_BYTES = 64 * 1024;
