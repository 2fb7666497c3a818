// The imported manifest as a file to review: what it came from and every note on top, as
// comments, then the manifest. Pure.
import { stringify } from 'yaml';
import type { Note } from './compose-import.ts';

export function renderImport(
  manifest: Record<string, unknown>,
  notes: readonly Note[],
  source: string,
): string {
  const header = [
    `# Imported from ${source} by \`baton import compose\`. Review it before \`baton apply\`:`,
    '# set each service’s tier and owner, declare the versions you run, add gateway routes.',
  ];
  if (notes.length > 0) {
    header.push('#', `# Not mapped, or mapped differently (${notes.length}):`);
    for (const { path, message } of notes) header.push(`#   ${path}: ${message}`.replace(/\n/g, ' '));
  }
  return `${header.join('\n')}\n${stringify(manifest, { lineWidth: 0 })}`;
}
