// A real OpenID Connect provider (npm's oidc-provider) on loopback, for
// `cargo xtask serve --sign-in` and the sign-in tests: authorization code
// flow with PKCE required, discovery, JWKS, userinfo and RP-initiated
// logout, with a plain login page that asks only for the account name;
// and JWT access tokens (RFC 9068) for service accounts by the client
// credentials grant, for the audience named by the `resource` parameter.
//
// RP-initiated logout here requires `id_token_hint`, as some providers
// do (the relay sends it by POST); clients with a backchannel_logout_uri
// are told when a session ends, and `POST /admin/end-sessions` with
// `account=NAME` ends that account's sessions at every such client, as an
// administrator revoking them would. Each request is logged on stderr
// (`request METHOD URL`), so tests can read every URL the provider saw.
//
// Configured by the JSON in OIDC_PROVIDER_CONFIG:
//   { "port": 0, "clients": [{ client_id, client_secret, redirect_uris,
//     post_logout_redirect_uris, backchannel_logout_uri }], "users":
//     { "alice": { name, email, email_verified, groups } },
//     "access_token_ttl": 300 }
// A service account is a client with grant_types ["client_credentials"],
// no redirect_uris and response_types, and optionally `groups`, which its
// access tokens carry.
// and told where oidc-provider is installed by OIDC_PROVIDER_MODULES (a
// node_modules directory). Prints `oidc-provider listening on URL` once
// it serves.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { setDefaultResultOrder } from 'node:dns';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// Relays listen on 127.0.0.1 and are reached as `localhost`; the
// back-channel calls must not try ::1 first.
setDefaultResultOrder('ipv4first');

// stdout carries only the "listening" line; oidc-provider's notices go to stderr.
console.log = console.info = console.error;

const settings = JSON.parse(process.env.OIDC_PROVIDER_CONFIG ?? '{}');
const modules = process.env.OIDC_PROVIDER_MODULES;
if (!modules) throw new Error('OIDC_PROVIDER_MODULES must name the node_modules holding oidc-provider');
const { default: Provider } = await import(pathToFileURL(join(modules, 'oidc-provider', 'lib', 'index.js')).href);

const users = settings.users ?? {};
// A fresh signing key per run: nothing comes to trust a well-known one.
// P-256 rather than RSA: an RSA key's prime search now and then stalled
// the start for half a minute on a busy two-core machine.
const signingKey = {
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
  kid: `run-${randomBytes(6).toString('hex')}`,
  alg: 'ES256',
  use: 'sig',
};

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
const loginForm = (uid, problem) => page('Sign in to the demo provider', `
${problem ? `<p role="alert">${escape(problem)}</p>` : ''}
<p>Demo accounts: ${Object.keys(users).map(escape).join(', ')}. No password.</p>
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Account <input name="login" autocomplete="username" autofocus></label>
<button type="submit">Sign in</button>
</form>`);

async function readForm(request) {
  let body = '';
  for await (const chunk of request) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

// Each account's sessions at each client, as `${clientId} ${sid}`, for
// the administrator's end-sessions.
const sessionsOf = new Map();

async function endSessions(request, response) {
  const account = (await readForm(request)).get('account') ?? '';
  const ended = [...(sessionsOf.get(account) ?? [])];
  sessionsOf.delete(account);
  for (const entry of ended) {
    const [clientId, sid] = entry.split(' ');
    const client = await provider.Client.find(clientId);
    if (client?.backchannelLogoutUri) await client.backchannelLogout(account, sid);
  }
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ ended: ended.length }));
}

let provider;
const server = createServer(async (request, response) => {
  console.error(`request ${request.method} ${request.url}`);
  try {
    const path = new URL(request.url, 'http://x').pathname;
    if (request.method === 'POST' && path === '/admin/end-sessions') return await endSessions(request, response);
    if (path === '/session/end') {
      // Some providers ignore a sign-out without the ID token as its hint;
      // this one refuses it, so a relay that leaves it out is caught.
      const params = request.method === 'POST' ? await readForm(request) : new URL(request.url, 'http://x').searchParams;
      if (!params.get('id_token_hint')) {
        response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
        return response.end('id_token_hint is required to sign out');
      }
      // Read here, so handed to oidc-provider as already parsed.
      if (request.method === 'POST') request.body = Object.fromEntries(params);
      return provider.callback()(request, response);
    }
    const interaction = path.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (!interaction) return provider.callback()(request, response);
    const details = await provider.interactionDetails(request, response);
    if (request.method === 'POST' && interaction[2]) {
      const login = (await readForm(request)).get('login') ?? '';
      if (!Object.hasOwn(users, login)) {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return response.end(loginForm(details.uid, `There is no account named "${login}".`));
      }
      return await provider.interactionFinished(request, response, { login: { accountId: login } }, {
        mergeWithLastSubmission: false,
      });
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(loginForm(details.uid));
  } catch (error) {
    response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(`interaction failed: ${error.message}`);
  }
});

server.listen(settings.port ?? 0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  provider = new Provider(issuer, {
    clients: (settings.clients ?? []).map((client) => ({ id_token_signed_response_alg: 'ES256', ...client })),
    extraClientMetadata: { properties: ['groups'] },
    async extraTokenClaims(ctx, token) {
      if (token.kind !== 'ClientCredentials') return undefined;
      const groups = ctx?.oidc?.client?.groups;
      return Array.isArray(groups) ? { groups } : undefined;
    },
    jwks: { keys: [signingKey] },
    // Back-channel logouts go to relays on loopback, which oidc-provider's
    // guard against requests to special-use addresses would refuse.
    fetch(url, { dispatcher, ...options }) {
      return fetch(url, options);
    },
    // The sign-out arrives as a cross-site POST (RP-Initiated Logout by
    // form), which carries only SameSite=None cookies; providers on the
    // web set their session cookie so, and this one does as if on https.
    cookies: { keys: [randomBytes(32).toString('hex')], long: { sameSite: 'none', secure: true } },
    enableHttpPostMethods: true,
    pkce: { required: () => true },
    // Groups come with the openid scope, as Entra ID and Keycloak send them.
    claims: { openid: ['sub', 'groups'], email: ['email', 'email_verified'], profile: ['name'] },
    // Claims in the ID token too, not only at the userinfo endpoint.
    conformIdTokenClaims: false,
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Whatever absolute URL the client names becomes the audience: the
        // relay, not the provider, decides which audience it accepts.
        async getResourceServerInfo(_, resource) {
          return {
            scope: 'documents',
            audience: resource,
            accessTokenTTL: settings.access_token_ttl ?? 300,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    interactions: { url: (_, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_, id) {
      const user = users[id];
      if (!user) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...user }) };
    },
    // First-party clients: no consent screen, every requested scope granted.
    async loadExistingGrant(ctx) {
      const existing = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(ctx.oidc.params.scope ?? 'openid');
      grant.addOIDCClaims(['sub', 'groups', 'email', 'email_verified', 'name']);
      await grant.save();
      return grant;
    },
  });
  // Served over plain http on loopback, which browsers count as secure:
  // it may set Secure cookies, while its URLs stay http.
  Object.defineProperty(provider.request, 'secure', { get: () => true });
  provider.on('server_error', (_, error) => console.error('oidc-provider error:', error));
  provider.on('backchannel.error', (_, error) => console.error('back-channel logout failed:', error.message));
  provider.on('authorization.success', (ctx) => {
    const { session, client } = ctx.oidc;
    if (!session?.accountId || !client) return;
    const entries = sessionsOf.get(session.accountId) ?? new Set();
    entries.add(`${client.clientId} ${session.sidFor(client.clientId)}`);
    sessionsOf.set(session.accountId, entries);
  });
  process.stdout.write(`oidc-provider listening on ${issuer}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
