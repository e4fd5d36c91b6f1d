#!/usr/bin/env node
// A local OpenID Connect provider for development and the browser end-to-end test.
//
// It stands in for Auth0: the portal signs in with authorization code + PKCE (a public client),
// and the access tokens are RS256 JWTs for the API's audience (resource indicators), carrying
// the user's email. The signing keys are published at `{issuer}.well-known/jwks.json`, the path
// `tradebot api` derives from AUTH0_ISSUER. The login form is a plain HTML form that a person or
// the e2e script fills in. Everything lives in memory: a restart forgets sessions and keys.
//
// Settings (environment, or `--name=value` arguments with the same names in lower case):
//   OIDC_PORT           port on 127.0.0.1 (default 4010)
//   OIDC_CLIENT_ID      the portal's client id (default tradebot-portal)
//   OIDC_REDIRECT_URIS  comma-separated redirect URIs (default http://127.0.0.1:5173/callback)
//   OIDC_AUDIENCE       the API audience (default https://api.tradebot.local)
//   OIDC_USERS          comma-separated email:password pairs (default demo@tradebot.local:demo)
// It prints one JSON line `{"issuer": ...}` once it listens.
import { createServer } from 'node:http';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

function settings() {
  const args = Object.fromEntries(
    process.argv
      .slice(2)
      .filter((arg) => arg.startsWith('--') && arg.includes('='))
      .map((arg) => {
        const [name, ...value] = arg.slice(2).split('=');
        return [`OIDC_${name.toUpperCase().replaceAll('-', '_')}`, value.join('=')];
      }),
  );
  const value = (name, fallback) => args[name] ?? process.env[name] ?? fallback;
  return {
    port: Number(value('OIDC_PORT', '4010')),
    clientId: value('OIDC_CLIENT_ID', 'tradebot-portal'),
    redirectUris: value('OIDC_REDIRECT_URIS', 'http://127.0.0.1:5173/callback').split(','),
    audience: value('OIDC_AUDIENCE', 'https://api.tradebot.local'),
    users: parseUsers(value('OIDC_USERS', 'demo@tradebot.local:demo')),
  };
}

/** `a@x:pw,b@y:pw2` -> Map(email -> {password, subject}); the subject is stable per email. */
function parseUsers(text) {
  const users = new Map();
  for (const pair of text.split(',').filter(Boolean)) {
    const at = pair.lastIndexOf(':');
    if (at <= 0) throw new Error(`OIDC_USERS: "${pair}" is not email:password`);
    const email = pair.slice(0, at).trim().toLowerCase();
    users.set(email, { password: pair.slice(at + 1), subject: `local|${email}` });
  }
  return users;
}

const config = settings();
const issuer = `http://127.0.0.1:${config.port}/`;
const accountsBySubject = new Map([...config.users].map(([email, u]) => [u.subject, email]));
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
  format: 'jwk',
});
// A key id of this start's key: after a restart the API sees an unknown kid and fetches the new
// JWKS, instead of checking new tokens against the old key it cached under the same id.
const keyId = createHash('sha256').update(signingKey.n).digest('base64url').slice(0, 16);

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: config.clientId,
      token_endpoint_auth_method: 'none',
      application_type: 'web',
      redirect_uris: config.redirectUris,
      post_logout_redirect_uris: config.redirectUris.map((uri) => new URL('/', uri).href),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [{ ...signingKey, kid: keyId, use: 'sig', alg: 'RS256' }] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  routes: { jwks: '/.well-known/jwks.json' },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // `form` is the provider's own (its CSRF token), submitted at once with `logout=yes`
      // (end the session): the portal's "Sign out" was the confirmation.
      logoutSource: (ctx, form) => {
        const ending = form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>');
        ctx.body = page('Signing out', `${ending}<p>Signing you out…</p><script>document.forms[0].submit()</script>`);
      },
    },
    resourceIndicators: {
      enabled: true,
      // Auth0 clients send `audience`, not `resource`: every token is for the API.
      defaultResource: () => config.audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== config.audience) throw new Provider.errors.InvalidTarget();
        return { scope: 'openid profile email', accessTokenFormat: 'jwt', accessTokenTTL: 3600 };
      },
    },
  },
  // The portal is a public client on another origin: let it call the token endpoint.
  clientBasedCORS: (_ctx, origin, client) =>
    client.redirectUris.some((uri) => new URL(uri).origin === origin),
  // The API reads the email from the access token, as it does from Auth0's.
  extraTokenClaims: (_ctx, token) => {
    const email = accountsBySubject.get(token.accountId);
    return email ? { email } : undefined;
  },
  issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  findAccount: (_ctx, subject) => {
    const email = accountsBySubject.get(subject);
    if (!email) return undefined;
    return {
      accountId: subject,
      claims: () => ({ sub: subject, email, email_verified: true, name: email.split('@')[0] }),
    };
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  ttl: { Session: 8 * 3600, Interaction: 3600, Grant: 8 * 3600 },
});
provider.proxy = false;

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>${title} · Local OIDC</title>
<style>
body{font-family:system-ui,sans-serif;background:#0b0f17;color:#e6e9ef;display:grid;place-items:center;min-height:100vh;margin:0}
main{background:#141a25;padding:2rem;border-radius:12px;width:min(22rem,90vw);border:1px solid #273043}
label{display:block;margin:.8rem 0 .3rem}input{width:100%;box-sizing:border-box;padding:.6rem;border-radius:8px;border:1px solid #3a455c;background:#0b0f17;color:inherit}
button{margin-top:1.2rem;width:100%;padding:.7rem;border:0;border-radius:8px;background:#f0b90b;color:#111;font-weight:600}
:focus-visible{outline:3px solid #7aa2ff;outline-offset:2px}.error{color:#ff8a8a}
</style></head><body><main>${body}</main></body></html>`;
}

function loginPage(uid, error) {
  return page('Sign in', `<h1>Sign in</h1><p>Local OpenID provider for TradeBot development.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`);
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Every grant the portal asks for is given: there is one first-party client. */
async function grantEverything(details) {
  const { params, session, grantId, prompt } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (details.prompt.name === 'consent') {
    const grantId = await grantEverything(details);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  if (action !== 'login' || req.method !== 'POST') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(uid));
    return;
  }
  const form = await formBody(req);
  const email = (form.get('email') ?? '').trim().toLowerCase();
  const user = config.users.get(email);
  if (!user || user.password !== form.get('password')) {
    res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' });
    res.end(loginPage(uid, 'Unknown email or wrong password.'));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: user.subject } }, { mergeWithLastSubmission: false });
}

const handleProtocol = provider.callback();
const server = createServer(async (req, res) => {
  const match = /^\/interaction\/([\w-]+)(?:\/(login))?$/.exec(new URL(req.url, issuer).pathname);
  if (!match) return handleProtocol(req, res);
  try {
    await interaction(req, res, match[1], match[2]);
  } catch (error) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(`sign-in failed: ${error.message}`);
  }
});
server.listen(config.port, '127.0.0.1', () => {
  console.log(JSON.stringify({ issuer, clientId: config.clientId, audience: config.audience }));
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
