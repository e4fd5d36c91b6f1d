/** Build-time settings (Vite `VITE_*` env): any OIDC provider and any API origin. */
export interface PortalConfig {
  oidcIssuer: string;
  oidcClientId: string;
  oidcAudience: string;
  apiUrl: string;
}

function required(name: string, value: string | undefined): string {
  if (!value) throw new Error(`${name} is not set: copy .env.example to .env.local`);
  return value;
}

export function readConfig(env: Record<string, string | undefined> = import.meta.env): PortalConfig {
  return {
    oidcIssuer: required('VITE_OIDC_ISSUER', env.VITE_OIDC_ISSUER),
    oidcClientId: required('VITE_OIDC_CLIENT_ID', env.VITE_OIDC_CLIENT_ID),
    oidcAudience: required('VITE_OIDC_AUDIENCE', env.VITE_OIDC_AUDIENCE),
    apiUrl: (env.VITE_API_URL || '/api').replace(/\/$/, ''),
  };
}
