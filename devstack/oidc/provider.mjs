/*
 * The dev stack's OpenID Connect provider: `oidc-provider` whose users are the directory's people.
 *
 * Started by devstack/oidc_provider.py as `node provider.mjs CONFIG.json`. The config names the
 * issuer, the port, the LDAP server with a read-only service account, the clients and a keys file.
 *
 * Why our own sign-in page instead of oidc-provider's devInteractions: those accept any password,
 * answer 500 for an unknown login and load web fonts from the internet. Here the login is looked up
 * in LDAP with the service account, then the password is checked by BINDING as that entry, so the
 * people's real directory passwords work (and the new one right after a reset).
 *
 * The directory speaks one of two schemas (CONFIG.ldap.kind, see DIRECTORIES below): OpenLDAP's
 * (uid, inetOrgPerson, entryUUID as `sub`, direct memberOf) or Active Directory's (sAMAccountName,
 * user objects, objectGUID as `sub`, groups with nesting resolved as an AD-backed provider does),
 * the latter over LDAPS with the DC's own CA and certificate name.
 *
 * The signing key is a fixed RSA key kept in the keys file (a JWKS with the private key). It is
 * generated on first use; its kid is the key's RFC 7638 thumbprint, so a new key never reuses a kid
 * and two providers sharing the file sign with the same key. Tests sign their own tokens with it.
 *
 * When the server listens, it writes CONFIG.readyFile with its pid: the launcher's readiness probe
 * must know the answering server is this one and not another process that owns the port.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

import Provider from 'oidc-provider';
import {
  AndFilter, Client as LdapClient, EqualityFilter, ExtensibleFilter, InvalidCredentialsError, escapeFilter,
} from 'ldapts';

const SCOPES = ['openid', 'email', 'profile', 'groups'];
const CLAIMS = {
  openid: ['sub'],
  email: ['email'],
  profile: ['name', 'preferred_username'],
  groups: ['groups'],
};

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

/* ---------- signing key ---------- */

/** The keys file's JWKS; created atomically if missing so concurrent starts agree on one key. */
function loadOrCreateKeys(file) {
  if (!fs.existsSync(file)) {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = privateKey.export({ format: 'jwk' });
    const thumbprintInput = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
    const kid = crypto.createHash('sha256').update(thumbprintInput).digest('base64url');
    const jwks = { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] };
    const temporary = `${file}.${process.pid}.tmp`;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(temporary, JSON.stringify(jwks, null, 2), { mode: 0o600 });
    try {
      fs.linkSync(temporary, file); // fails if another process created it first: theirs wins
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    } finally {
      fs.unlinkSync(temporary);
    }
  }
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/* ---------- directory ---------- */

const first = (value) => (Array.isArray(value) ? value[0] : value);
const many = (value) => (value === undefined ? [] : [].concat(value));

/** `cn=staff,ou=groups,...` -> `staff`; memberOf values whose first RDN is not a cn are skipped. */
function groupName(dn) {
  const match = /^cn=((?:\\.|[^,\\])*)/i.exec(String(dn));
  return match ? match[1].replace(/\\(.)/g, '$1') : undefined;
}

/** An AD objectGUID (16 bytes, first three fields little-endian) as the usual UUID text, the same
 * text the portal's directory_id is (Python's uuid.UUID(bytes_le=...)). */
function guidText(bytes) {
  const hex = (from, to, reverse) => {
    const part = [...bytes.subarray(from, to)];
    return Buffer.from(reverse ? part.reverse() : part).toString('hex');
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10), hex(10, 16)].join('-');
}

/** guidText's inverse; undefined for anything that is not a UUID. */
function guidBytes(text) {
  const match = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(String(text));
  if (!match) return undefined;
  const field = (hex, reverse) => (reverse ? Buffer.from(hex, 'hex').reverse() : Buffer.from(hex, 'hex'));
  return Buffer.concat([field(match[1], true), field(match[2], true), field(match[3], true),
    field(match[4]), field(match[5])]);
}

const IN_CHAIN = '1.2.840.113556.1.4.1941'; // LDAP_MATCHING_RULE_IN_CHAIN: nested membership

/*
 * What differs between the two directories. Filters on binary or DN values are built as ldapts
 * Filter objects: its string parser turns `\xx` escapes into characters and writes them as UTF-8,
 * which would mangle every byte >= 0x80 of an objectGUID.
 */
const DIRECTORIES = {
  openldap: {
    attributes: ['entryUUID', 'uid', 'cn', 'displayName', 'mail', 'memberOf'],
    binaryAttributes: [],
    loginFilter: (login) => escapeFilter`(&(objectClass=inetOrgPerson)(uid=${login}))`,
    subFilter: (sub) => escapeFilter`(entryUUID=${sub})`,
    sub: (entry) => String(first(entry.entryUUID)),
    login: (entry) => String(first(entry.uid)),
    groups: async (client, entry) => many(entry.memberOf).map(groupName).filter(Boolean),
  },
  active_directory: {
    attributes: ['objectGUID', 'sAMAccountName', 'cn', 'displayName', 'mail'],
    binaryAttributes: ['objectGUID'],
    loginFilter: (login) => escapeFilter`(&(objectCategory=person)(objectClass=user)(sAMAccountName=${login}))`,
    subFilter: (sub) => {
      const bytes = guidBytes(sub);
      return bytes && new EqualityFilter({ attribute: 'objectGUID', value: bytes });
    },
    sub: (entry) => guidText(first(entry.objectGUID)),
    login: (entry) => String(first(entry.sAMAccountName)),
    /** Every group the person is in, directly or through other groups, as an AD-backed provider's
     * groups claim has them (memberOf alone lists direct groups only). */
    groups: async (client, entry) => {
      const { searchEntries } = await client.search(config.ldap.baseDn, {
        scope: 'sub',
        attributes: ['sAMAccountName'],
        filter: new AndFilter({ filters: [
          new EqualityFilter({ attribute: 'objectClass', value: 'group' }),
          new ExtensibleFilter({ matchType: 'member', rule: IN_CHAIN, value: entry.dn }),
        ] }),
      });
      return searchEntries.map((group) => String(first(group.sAMAccountName))).sort();
    },
  },
};

const directory = DIRECTORIES[config.ldap.kind];
if (!directory) throw new Error(`unknown directory kind ${config.ldap.kind}`);

/** LDAPS to a DC trusts exactly its CA and checks the certificate for its own name. */
const tlsOptions = config.ldap.caFile
  ? { ca: [fs.readFileSync(config.ldap.caFile)], servername: config.ldap.tlsName ?? undefined }
  : undefined;

const newClient = () => new LdapClient({ url: config.ldap.url, timeout: 5000, connectTimeout: 5000, tlsOptions });

async function withServiceAccount(work) {
  const client = newClient();
  try {
    await client.bind(config.ldap.bindDn, config.ldap.bindPassword);
    return await work(client);
  } finally {
    await client.unbind();
  }
}

/** The one entry `filter` matches, with its claims; undefined for none (or for two). */
async function findAccountEntry(filter) {
  if (!filter) return undefined;
  return withServiceAccount(async (client) => {
    const { searchEntries } = await client.search(config.ldap.baseDn, {
      scope: 'sub', filter, attributes: directory.attributes,
      explicitBufferAttributes: directory.binaryAttributes, sizeLimit: 2,
    });
    if (searchEntries.length !== 1) return undefined;
    const [entry] = searchEntries;
    return { dn: entry.dn, claims: accountClaims(entry, await directory.groups(client, entry)) };
  });
}

/** True when `password` binds as `dn`. An empty password would be an anonymous bind: refused. */
async function passwordBinds(dn, password) {
  if (!password) return false;
  const client = newClient();
  try {
    await client.bind(dn, password);
    return true;
  } catch (error) {
    if (error instanceof InvalidCredentialsError) return false;
    throw error;
  } finally {
    await client.unbind();
  }
}

/** The account whose login is `login` and whose directory password is `password`, else undefined. */
async function authenticate(login, password) {
  const account = await findAccountEntry(directory.loginFilter(login));
  if (account && await passwordBinds(account.dn, password)) return account;
  return undefined;
}

function accountClaims(entry, groups) {
  return {
    sub: directory.sub(entry),
    preferred_username: directory.login(entry),
    name: String(first(entry.displayName) ?? first(entry.cn)),
    email: first(entry.mail) === undefined ? undefined : String(first(entry.mail)),
    groups,
  };
}

async function findAccount(ctx, sub) {
  const account = await findAccountEntry(directory.subFilter(sub));
  if (!account) return undefined;
  return { accountId: account.claims.sub, claims: async () => account.claims };
}

/* ---------- pages ---------- */

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;background:#0b5394;color:#fff;border:0;border-radius:4px}
button.secondary{background:#555}.error{color:#a4000f;border:2px solid #a4000f;padding:.5rem;margin-top:1rem}
:focus-visible{outline:3px solid #f1c21b;outline-offset:2px}`;

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - Example Test sign-in</title><style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>`;
}

function loginPage(uid, clientName, login, error) {
  const errorBlock = error ? `<p class="error" id="login-error" role="alert">${escapeHtml(error)}</p>` : '';
  const describedBy = error ? ' aria-describedby="login-error" aria-invalid="true"' : '';
  return page('Sign in', `<p>Sign in to continue to ${escapeHtml(clientName)}. Use your directory account.</p>
${errorBlock}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="on">
<label for="login">Username</label>
<input id="login" name="login" type="text" autocomplete="username" required autofocus value="${escapeHtml(login)}"${describedBy}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${describedBy}>
<button type="submit">Sign in</button>
</form>`);
}

function send(res, status, html) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'",
  });
  res.end(html);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16384) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/* ---------- provider ---------- */

/** First-party clients never see a consent screen: grant every requested scope up front. */
async function loadExistingGrant(ctx) {
  const { Grant } = ctx.oidc.provider;
  const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
  const grant = (grantId && await Grant.find(grantId))
    || new Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
  grant.addOIDCScope(SCOPES.join(' '));
  grant.addOIDCClaims(Object.values(CLAIMS).flat());
  await grant.save();
  return grant;
}

const frameworkPage = (title, body) => async (ctx, ...args) => {
  ctx.type = 'html';
  ctx.body = page(title, body(ctx, ...args));
};

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: loadOrCreateKeys(config.keysFile),
  findAccount,
  loadExistingGrant,
  scopes: SCOPES,
  claims: CLAIMS,
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  pkce: { required: () => true },
  enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
  clientDefaults: { id_token_signed_response_alg: 'RS256', grant_types: ['authorization_code'], response_types: ['code'] },
  cookies: {
    keys: [crypto.randomBytes(32).toString('base64url')],
    // Cookies ignore ports: names of their own keep clear of the portal's and of a second provider's.
    names: {
      session: `op${config.port}_session`,
      interaction: `op${config.port}_interaction`,
      resume: `op${config.port}_interaction_resume`,
    },
  },
  ttl: {
    AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600,
  },
  interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: frameworkPage('Sign out', (ctx, form) => `${form}
<p>Do you want to sign out of the Example Test provider?</p>
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`),
      postLogoutSuccessSource: frameworkPage('Signed out', () => '<p>You are signed out.</p>'),
    },
  },
  renderError: frameworkPage('Sign-in error', (ctx, out) => `<p>${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`),
});

/* ---------- interaction routes in front of the provider ---------- */

const INTERACTION = /^\/interaction\/([\w-]+)(\/login)?$/;

async function interaction(req, res, wantsLogin) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    send(res, 400, page('Sign-in expired', '<p>This sign-in request is unknown or has expired. Start again from the application.</p>'));
    return;
  }
  const client = await provider.Client.find(details.params.client_id);
  const clientName = client?.clientName || details.params.client_id;
  if (details.prompt.name !== 'login') {
    send(res, 400, page('Cannot continue', `<p>Unsupported step: ${escapeHtml(details.prompt.name)}.</p>`));
    return;
  }
  if (req.method === 'GET' && !wantsLogin) {
    send(res, 200, loginPage(details.uid, clientName, details.params.login_hint ?? '', ''));
    return;
  }
  if (req.method !== 'POST' || !wantsLogin) {
    send(res, 405, page('Not allowed', '<p>Use the sign-in form.</p>'));
    return;
  }
  const form = await readForm(req);
  const login = form.get('login') ?? '';
  let account;
  try {
    account = await authenticate(login, form.get('password') ?? '');
  } catch (error) {
    console.error(`directory error while signing in: ${error.message}`);
    send(res, 503, page('Directory unavailable', '<p>The directory cannot be reached. Try again in a moment.</p>'));
    return;
  }
  if (!account) {
    send(res, 401, loginPage(details.uid, clientName, login, 'The username or password is incorrect.'));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: account.claims.sub } },
    { mergeWithLastSubmission: false });
}

const providerCallback = provider.callback();

const server = http.createServer((req, res) => {
  const match = INTERACTION.exec(new URL(req.url, config.issuer).pathname);
  if (!match) {
    providerCallback(req, res);
    return;
  }
  interaction(req, res, Boolean(match[2])).catch((error) => {
    console.error(`interaction failed: ${error.message}`);
    if (!res.headersSent) send(res, 400, page('Cannot continue', '<p>Start again from the application.</p>'));
  });
});

server.listen(config.port, '127.0.0.1', () => {
  fs.writeFileSync(config.readyFile, String(process.pid));
  console.log(`oidc provider ${config.issuer} ready (pid ${process.pid})`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
