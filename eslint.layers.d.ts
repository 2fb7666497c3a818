import type { Linter } from 'eslint';

/** Baton's layer and cycle rules; `basePath`: the folder holding src/ (default: the repository). */
export function layerRules(basePath?: string): Linter.Config[];
