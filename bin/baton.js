#!/usr/bin/env node
// Baton runs TypeScript directly through Node's type stripping, which needs Node >= 24.
// Say so plainly instead of failing on the first `.ts` import.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(
    `baton: Node ${process.versions.node} is too old; Baton needs Node >= 24.\n` +
      'hint: run it through npm (`npx baton …` or `npm run baton -- …`), which uses the Node 24 that `npm ci` installs.',
  );
  process.exit(3);
}
await import('../src/interfaces/cli/main.ts');
