import { UserManager, WebStorageStateStore } from 'oidc-client-ts';
import type { PortalConfig } from '../config';

/**
 * The OIDC client: authorization code + PKCE (oidc-client-ts always uses PKCE for `code`).
 *
 * Both the signed-in user (tokens) and the sign-in state (PKCE verifier) live in
 * sessionStorage, never localStorage: they die with the tab, and oidc-client-ts' default state
 * store would otherwise be localStorage. `audience` is what Auth0 needs to issue an API token;
 * other providers map it to a resource with their own defaults.
 */
export function createUserManager(config: PortalConfig, origin = window.location.origin): UserManager {
  const session = new WebStorageStateStore({ store: window.sessionStorage });
  return new UserManager({
    authority: config.oidcIssuer,
    client_id: config.oidcClientId,
    redirect_uri: `${origin}/callback`,
    post_logout_redirect_uri: `${origin}/`,
    response_type: 'code',
    scope: 'openid profile email',
    extraQueryParams: { audience: config.oidcAudience },
    userStore: session,
    stateStore: session,
    automaticSilentRenew: true,
    loadUserInfo: false,
  });
}
