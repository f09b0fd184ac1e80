import { calculateJwkThumbprint, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWK } from 'jose';
import { AuthServerError } from './errors.ts';

/** One RS256 key pair and its public JWK as published in the JWKS. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** `{kty, n, e, kid, use: 'sig', alg: 'RS256'}` */
  readonly publicJwk: JWK;
}

async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  // RFC 7638 thumbprint: a kid that is stable for the key and unique without a counter.
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicKey, publicJwk: { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, use: 'sig', alg: 'RS256' } };
}

/** Where a KeyRing's keys come from: `keyNumber` counts the keys one ring has asked for (0, 1, ...). */
export type KeySource = (keyNumber: number) => Promise<SigningKey>;

/** A new key every time: the default. */
export const freshKeys: KeySource = () => generateSigningKey();

/**
 * Keys generated once and shared by every ring that uses this source: a ring's n-th key is the
 * source's n-th key. A ring's own keys stay distinct (signing, stray, rotated), so every token kind
 * means what it says, while starting an auth server no longer costs an RSA-2048 key generation
 * (about 35 ms of CPU each). For a runtime that starts an auth server per scenario.
 *
 * @example
 * const keys = cachedKeys();
 * await using a = await startAuthServer({ keys });
 * await using b = await startAuthServer({ keys }); // a.kids() equals b.kids()
 */
export function cachedKeys(): KeySource {
  const keys: Promise<SigningKey>[] = [];
  return (keyNumber) => {
    let key = keys[keyNumber];
    if (!key) {
      const generated = generateSigningKey();
      key = keys[keyNumber] = generated;
      // A failed generation is not kept: the next ring asks again.
      generated.catch(() => {
        if (keys[keyNumber] === generated) delete keys[keyNumber];
      });
    }
    return key;
  };
}

/**
 * The server's keys, newest last; the newest is the signing key. A "stray" key, never published,
 * is made on first need for the `unknown-kid` and `foreign-key` token kinds, then reused. An
 * unpublished key (a rotation the JWKS does not show yet) signs before it is in the set.
 */
export class KeyRing {
  readonly #keys: SigningKey[] = [];
  #unpublished: SigningKey | undefined;
  readonly #source: KeySource;
  #taken = 0;
  #stray: Promise<SigningKey> | undefined;
  readonly #spki = new Map<string, Promise<string>>();

  constructor(source: KeySource = freshKeys) {
    this.#source = source;
  }

  static async create(source: KeySource = freshKeys): Promise<KeyRing> {
    const ring = new KeyRing(source);
    await ring.add();
    return ring;
  }

  /** Generates a key and makes it the signing key (publishing an unpublished one first). */
  async add(): Promise<SigningKey> {
    const key = await this.#source(this.#taken++);
    this.publish();
    this.#keys.push(key);
    return key;
  }

  /** Generates a key that signs from now on but is not in the JWKS until `publish()`: a rotation under way. */
  async addUnpublished(): Promise<SigningKey> {
    if (this.#unpublished) throw new AuthServerError('ERR_AUTH_SERVER_OPTIONS', `a rotation is already under way (kid "${this.#unpublished.kid}")`);
    const key = await this.#source(this.#taken++);
    this.#unpublished = key;
    return key;
  }

  /** Puts the unpublished key, if any, in the set; returns it. */
  publish(): SigningKey | undefined {
    const key = this.#unpublished;
    if (key) {
      this.#keys.push(key);
      this.#unpublished = undefined;
    }
    return key;
  }

  /** Removes a key from the set; the newest remaining key signs from now on. */
  retire(kid: string): void {
    const index = this.#keys.findIndex((key) => key.kid === kid);
    if (index < 0) throw new AuthServerError('ERR_AUTH_SERVER_UNKNOWN_KID', `no key with kid "${kid}"; keys: ${this.kids().join(', ')}`);
    if (this.#keys.length === 1) {
      throw new AuthServerError('ERR_AUTH_SERVER_LAST_KEY', `kid "${kid}" is the last key; add a key before retiring it (or use the empty-keyset JWKS fault)`);
    }
    this.#keys.splice(index, 1);
  }

  /** The signing key: the unpublished one, else the most recently added one still in the set. */
  current(): SigningKey {
    const key = this.#unpublished ?? this.#keys.at(-1);
    // create() adds one key and retire() never removes the last, so this only guards misuse.
    if (!key) throw new AuthServerError('ERR_AUTH_SERVER_MINT', 'no signing key');
    return key;
  }

  kids(): string[] {
    return this.#keys.map((key) => key.kid);
  }

  jwks(): JSONWebKeySet {
    return { keys: this.#keys.map((key) => ({ ...key.publicJwk })) };
  }

  /** A key pair that is never in the JWKS. */
  stray(): Promise<SigningKey> {
    this.#stray ??= this.#source(this.#taken++);
    return this.#stray;
  }

  /** PEM (SPKI) of a key's public half: the "secret" of the HS256 key-confusion attack. */
  publicPem(key: SigningKey): Promise<string> {
    let pem = this.#spki.get(key.kid);
    if (!pem) {
      pem = exportSPKI(key.publicKey);
      this.#spki.set(key.kid, pem);
    }
    return pem;
  }
}
