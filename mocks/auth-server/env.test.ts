import { describe, expect, it } from 'vitest';
import { authServerOptionsFromEnv } from './index.ts';

describe('authServerOptionsFromEnv', () => {
  it('reads every setting the auth server takes from its environment', () => {
    expect(authServerOptionsFromEnv({ ISSUER: 'http://auth:8080', JWKS_PORT: '9000', AUTH_REGISTRATION: '1', AUTH_CLIENT_ID_METADATA_DOCUMENTS: '0', ROTATE_KEY_AFTER_JWKS: '2' })).toEqual({
      issuer: 'http://auth:8080',
      jwksPort: 9000,
      registration: true,
      clientIdMetadataDocuments: false,
      rotateKeyAfterJwks: 2,
    });
  });

  it('defaults to no registration, Client ID Metadata Documents on, no rotation', () => {
    expect(authServerOptionsFromEnv({})).toEqual({ registration: false, clientIdMetadataDocuments: true });
  });

  it('throws ERR_AUTH_SERVER_OPTIONS for a bad rotation count', () => {
    expect(() => authServerOptionsFromEnv({ ROTATE_KEY_AFTER_JWKS: 'soon' })).toThrow(expect.objectContaining({ code: 'ERR_AUTH_SERVER_OPTIONS' }));
  });
});
