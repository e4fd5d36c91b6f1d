import { User } from 'oidc-client-ts';
import { afterEach, describe, expect, it } from 'vitest';
import { createUserManager } from './userManager';

const config = {
  oidcIssuer: 'https://tenant.example/',
  oidcClientId: 'portal',
  oidcAudience: 'https://api.example',
  apiUrl: '/api',
};

afterEach(() => {
  sessionStorage.clear();
  localStorage.clear();
});

describe('createUserManager', () => {
  it('asks for an API token by code + PKCE, with the audience and this origin', () => {
    const { settings } = createUserManager(config, 'https://portal.example');
    expect(settings.response_type).toBe('code');
    expect(settings.authority).toBe('https://tenant.example/');
    expect(settings.client_id).toBe('portal');
    expect(settings.redirect_uri).toBe('https://portal.example/callback');
    expect(settings.extraQueryParams).toEqual({ audience: 'https://api.example' });
  });

  it('keeps tokens and the sign-in state in sessionStorage, never in localStorage', async () => {
    const manager = createUserManager(config, 'https://portal.example');
    const user = new User({ access_token: 'secret-token', token_type: 'Bearer', profile: { sub: 'u1', iss: 'x', aud: 'portal', exp: 0, iat: 0 } });
    await manager.storeUser(user);
    await manager.settings.stateStore.set('pkce-state', 'verifier');
    expect(Object.values(sessionStorage).join()).toContain('secret-token');
    expect(Object.values(sessionStorage).join()).toContain('verifier');
    expect(localStorage.length).toBe(0);
  });
});
