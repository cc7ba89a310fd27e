// A real, OpenID-certified provider (the npm package oidc-provider) for renkei's single sign-on
// tests, on loopback only. Configured by environment variables:
//   OIDC_PORT            port on 127.0.0.1 (0: any; the chosen one is printed)
//   OIDC_CLIENT_SECRET   the renkei client's secret (client id `renkei`)
//   OIDC_REDIRECT_URI    renkei's callback, e.g. http://127.0.0.1:8080/api/v1/auth/sso/callback
//   OIDC_LOGOUT_URI      renkei's back-channel logout endpoint for this organization
//   OIDC_CLOCK_OFFSET    seconds added to the provider's clock (negative: tokens born expired)
// Prints `oidc-provider listening on http://127.0.0.1:PORT` once it serves. Accounts are the
// fixtures below; the login form (the package's own) takes any password. Submitting it signs the
// account in with its `amr`/`acr` and grants the scopes at once (no consent page).
import http from 'node:http';
import Provider from 'oidc-provider';

const offset = Number(process.env.OIDC_CLOCK_OFFSET || 0) * 1000;
if (offset) {
  const realNow = Date.now;
  Date.now = () => realNow() + offset;
}

// Who the provider knows: the hospital's directory as the tests need it.
const accounts = {
  'suzuki': {
    preferred_username: 'suzuki', email: 'suzuki@hospital.test', email_verified: true,
    name: '鈴木 一郎', kana: 'すずき いちろう', department: '循環器内科',
    amr: ['pwd', 'mfa'], acr: 'urn:hospital:mfa',
  },
  'newcomer': {
    preferred_username: 'newcomer', email: 'newcomer@hospital.test', email_verified: true,
    name: '新人 花子', kana: 'しんじん はなこ', department: '救急科', amr: ['pwd'],
  },
  'unverified': {
    preferred_username: 'unverified', email: 'unverified@hospital.test', email_verified: false,
    name: '未確認 太郎', amr: ['pwd'],
  },
};

// Anyone else whose login looks like one: a plain account, password only.
function account(id) {
  if (accounts[id]) return accounts[id];
  if (!/^[a-z0-9][a-z0-9.-]{1,40}$/.test(id)) return undefined;
  return { preferred_username: id, name: id, email_verified: false, amr: ['pwd'] };
}

const port = Number(process.env.OIDC_PORT || 0);
const server = http.createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'renkei',
    client_secret: process.env.OIDC_CLIENT_SECRET || 'renkei-test-secret',
    redirect_uris: [process.env.OIDC_REDIRECT_URI || 'http://127.0.0.1/api/v1/auth/sso/callback'],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    ...(process.env.OIDC_LOGOUT_URI ? {
      backchannel_logout_uri: process.env.OIDC_LOGOUT_URI,
      backchannel_logout_session_required: true,
    } : {}),
  }],
  pkce: { required: () => true },
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub', 'acr', 'amr', 'sid'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username', 'kana', 'department'],
  },
  features: {
    devInteractions: { enabled: true },
    backchannelLogout: { enabled: true },
  },
  acrValues: ['urn:hospital:mfa'],
  // Back-channel logout goes to renkei on loopback, which the package's SSRF guard refuses:
  // this test provider talks to loopback only, so the guard's dispatcher is left out.
  fetch: (url, options) => {
    const { dispatcher: _loopbackRefused, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
  cookies: { keys: ['renkei-test-only-cookie-key'] },
  findAccount: async (_ctx, id) => account(id) && {
    accountId: id,
    claims: async () => {
      const { amr: _amr, acr: _acr, ...claims } = account(id);
      return { sub: id, ...claims };
    },
  },
});
// No proxy in front: plain HTTP on loopback is what the tests want.
provider.on('server_error', (_ctx, err) => console.error('oidc-provider error', err));
provider.on('backchannel.error', (_ctx, err) => console.error('back-channel logout failed', err));

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

// The login form's submission: the account with its amr/acr, and every scope granted.
async function submitLogin(req, res) {
  const form = await readForm(req);
  const details = await provider.interactionDetails(req, res);
  const known = account(form.get('login'));
  if (!known) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('unknown login');
    return;
  }
  const accountId = form.get('login');
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope('openid email profile');
  grant.addOIDCClaims(['email', 'email_verified', 'name', 'preferred_username', 'kana', 'department']);
  const grantId = await grant.save();
  const login = { accountId, amr: known.amr };
  if (known.acr) login.acr = known.acr;
  await provider.interactionFinished(req, res, { login, consent: { grantId } });
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.method === 'POST' && /^\/interaction\/[^/]+$/.test(req.url)) {
    submitLogin(req, res).catch((err) => {
      console.error(err);
      res.writeHead(500).end(String(err));
    });
    return;
  }
  callback(req, res);
});
console.log(`oidc-provider listening on ${issuer}`);
