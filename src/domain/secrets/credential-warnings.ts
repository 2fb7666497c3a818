// Plain credentials in a manifest's env: they would sit in every revision, diff and API
// answer. A warning, not an error (a test password may be fine), suggesting a secret instead.
import type { Manifest } from '../manifest/model.ts';
import type { Problem } from '../problems.ts';

/** Names that usually hold credentials: DB_PASSWORD, STRIPE_SECRET, GITHUB_TOKEN, API_KEY, AWS_ACCESS_KEY_ID… */
const CREDENTIAL_NAME = /PASSW(OR)?D|SECRET|TOKEN|(^|[_.-])KEY($|[_.-])|APIKEY|CREDENTIAL|PRIVATE/i;
/** A URL with a password in it: postgres://user:pass@host. */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;
/** Long values without spaces that look random: generated keys and tokens. */
const MIN_RANDOM_LENGTH = 20;
const MIN_BITS_PER_CHAR = 4;

export function credentialWarnings(manifest: Manifest): Problem[] {
  const problems: Problem[] = [];
  for (const [service, spec] of Object.entries(manifest.services)) {
    for (const [name, value] of Object.entries(spec.env)) {
      const why = looksLikeCredential(name, value);
      if (why === undefined) continue;
      problems.push({
        severity: 'warning',
        code: 'plain-credential',
        message: `${service}: env ${name} ${why}; in plain text it is kept in every revision, diff and API answer`,
        path: ['services', service, 'env', name],
        hint: `store it as a secret (\`baton secrets set ${name}\`, the value on stdin) and write \`${name}: \${secret:${name}}\``,
      });
    }
  }
  return problems;
}

/** Why the value looks like a credential, or undefined. References and empty values never do. */
export function looksLikeCredential(name: string, value: string): string | undefined {
  const literal = value.replace(/\$\{[^}]*\}/g, '');
  if (literal.trim() === '') return undefined;
  if (URL_WITH_PASSWORD.test(literal)) return 'is a URL with a password in it';
  if (CREDENTIAL_NAME.test(name)) return 'is named like a credential';
  if (looksRandom(literal)) return 'looks like a generated key (high entropy)';
  return undefined;
}

/** Long, no spaces, letters and digits mixed, not a URL or a path of words, and many distinct characters. */
function looksRandom(text: string): boolean {
  if (text.length < MIN_RANDOM_LENGTH || /\s/.test(text) || /^[a-z]+:\/\//i.test(text)) return false;
  if (!/[0-9]/.test(text) || !/[A-Za-z]/.test(text) || /^[./~]|^[\w.-]+(\/[\w.-]+)+$/.test(text))
    return false;
  return bitsPerChar(text) >= MIN_BITS_PER_CHAR;
}

/** Shannon entropy of the characters: about 4.7 for random base64url, under 4 for words and paths. */
function bitsPerChar(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}
