// The SecretSealer port: how secret values are encrypted before the store sees them. The
// engine never handles a key; the store never handles a plaintext.
export interface SecretSealer {
  /** Which key seals: a short digest of it, kept with each sealed value to name a mismatch. */
  readonly keyId: string;
  /** `name` is bound to the result: a sealed value copied to another name does not open. */
  seal(name: string, plaintext: string): string;
  /** Throws BatonError `secret-key-invalid` when the value was sealed with another key or altered. */
  open(name: string, sealed: string): string;
  /** A keyed digest: equal values have equal fingerprints, and neither can be guessed back from it. */
  fingerprint(plaintext: string): string;
}
