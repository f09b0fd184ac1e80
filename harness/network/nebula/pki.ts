import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from './command.ts';

/** A certificate authority made with `nebula-cert ca`. */
export interface NebulaCa {
  readonly name: string;
  readonly crtFile: string;
  readonly keyFile: string;
  /** The CA certificate's fingerprint: what nebula's `ca_sha` rules match (the host cert's issuer). */
  readonly sha: string;
  readonly pem: string;
}

/** A host certificate made with `nebula-cert sign`. */
export interface NebulaHostCert {
  readonly name: string;
  readonly ip: string;
  readonly groups: readonly string[];
  readonly ca: NebulaCa;
  readonly crtFile: string;
  readonly keyFile: string;
}

export interface HostCertRequest {
  name: string;
  /** Overlay address, e.g. `10.42.0.1`; the cert carries it as `/prefix`. */
  ip: string;
  prefix: number;
  groups: readonly string[];
  caName: string;
}

/**
 * Makes and caches CAs and host certificates in one directory with the real `nebula-cert`, so a
 * case that repeats an identity reuses its files (and nebula can keep its tunnel).
 *
 * @example
 * const pki = new NebulaPki(dir);
 * const cert = await pki.hostCert({ name: 'a', ip: '10.42.0.1', prefix: 24, groups: ['dev'], caName: 'ca-dev' });
 */
export class NebulaPki {
  readonly #dir: string;
  readonly #cas = new Map<string, Promise<NebulaCa>>();
  readonly #certs = new Map<string, Promise<NebulaHostCert>>();
  #counter = 0;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The CA called `name`, made on first use. */
  ca(name: string): Promise<NebulaCa> {
    let ca = this.#cas.get(name);
    if (!ca) {
      ca = this.#makeCa(name);
      this.#cas.set(name, ca);
    }
    return ca;
  }

  /** A host cert with exactly this name, ip, groups and issuer, made on first use. */
  hostCert(request: HostCertRequest): Promise<NebulaHostCert> {
    const key = JSON.stringify([request.name, request.ip, request.prefix, request.groups, request.caName]);
    let cert = this.#certs.get(key);
    if (!cert) {
      cert = this.#makeHostCert(request);
      this.#certs.set(key, cert);
    }
    return cert;
  }

  async #makeCa(name: string): Promise<NebulaCa> {
    const base = path.join(this.#dir, `ca-${this.#counter++}`);
    const crtFile = `${base}.crt`;
    const keyFile = `${base}.key`;
    await runCommand('nebula-cert', ['ca', '-name', name, '-duration', '24h', '-out-crt', crtFile, '-out-key', keyFile]);
    const printed = JSON.parse(await runCommand('nebula-cert', ['print', '-json', '-path', crtFile])) as { fingerprint: string };
    return { name, crtFile, keyFile, sha: printed.fingerprint, pem: await readFile(crtFile, 'utf8') };
  }

  async #makeHostCert(request: HostCertRequest): Promise<NebulaHostCert> {
    const ca = await this.ca(request.caName);
    const base = path.join(this.#dir, `host-${this.#counter++}`);
    const crtFile = `${base}.crt`;
    const keyFile = `${base}.key`;
    const args = ['sign', '-ca-crt', ca.crtFile, '-ca-key', ca.keyFile, '-name', request.name, '-ip', `${request.ip}/${request.prefix}`];
    if (request.groups.length > 0) args.push('-groups', request.groups.join(','));
    args.push('-out-crt', crtFile, '-out-key', keyFile);
    await runCommand('nebula-cert', args);
    return { name: request.name, ip: request.ip, groups: [...request.groups], ca, crtFile, keyFile };
  }
}
