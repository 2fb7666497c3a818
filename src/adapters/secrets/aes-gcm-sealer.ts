// AES-256-GCM, one random 96-bit nonce per value (a value is sealed once per `secrets set`,
// far below the 2^32 seals a key may do with random nonces). The sealed form is text, so that
// both stores keep it in a plain column: `v1.<keyId>.<nonce>.<ciphertext>.<tag>`, base64url.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { BatonError } from '../../domain/errors.ts';
import type { SecretSealer } from '../../ports/secret-sealer.ts';

const VERSION = 'v1';
const NONCE_BYTES = 12;

export function aesGcmSealer(key: Buffer): SecretSealer {
  if (key.length !== 32) throw new RangeError('an AES-256 key is 32 bytes');
  const keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  // A key of its own for fingerprints, so that they reveal nothing about the encryption key.
  const fingerprintKey = createHmac('sha256', key).update('baton secret fingerprint v1').digest();
  const aad = (name: string) => Buffer.from(`baton secret ${VERSION} ${name}`);
  return {
    keyId,
    seal(name, plaintext) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(aad(name));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, keyId, nonce, body, cipher.getAuthTag()]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },
    open(name, sealed) {
      const [version, sealedBy, nonce, body, tag] = sealed.split('.');
      if (version !== VERSION || nonce === undefined || body === undefined || tag === undefined)
        throw new BatonError('secret-key-invalid', `secret ${name} is not in a form this Baton can open`);
      if (sealedBy !== keyId) {
        throw new BatonError(
          'secret-key-invalid',
          `secret ${name} was sealed with key ${sealedBy}, but this control plane has key ${keyId}`,
          { hint: 'start the control plane with the key the secrets were set with, or set the secret again' },
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'))
          .setAAD(aad(name))
          .setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
          'utf8',
        );
      } catch (error) {
        throw new BatonError(
          'secret-key-invalid',
          `secret ${name} does not open: it was altered in the store`,
          {
            hint: 'set it again with `baton secrets set`',
            cause: error,
          },
        );
      }
    },
    fingerprint(plaintext) {
      return (
        'hmac:' + createHmac('sha256', fingerprintKey).update(plaintext, 'utf8').digest('hex').slice(0, 16)
      );
    },
  };
}
