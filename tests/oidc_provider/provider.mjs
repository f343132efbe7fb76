// A real OpenID provider (the certified `oidc-provider` package) for the end-to-end
// identity tests, configured like Authentik is for the console: a confidential
// client with the code flow and PKCE, RS256 tokens, a `groups` claim, RP-initiated
// logout, and client-credentials JWTs for services. Started by tests/e2e on
// 127.0.0.1; prints "listening <issuer>" once it accepts connections.
//
// Everything comes from the environment, so nothing secret lives in this file:
//   JWKS_FILE   private JWKS written by the test (keys made at test time)
//   CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, POST_LOGOUT_REDIRECT_URI
//   RESOURCE    the audience of service tokens; OTHER_RESOURCE another one
//   ADMIN_GROUP the group that makes an account a platform operator

import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import Provider from "oidc-provider";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const clientId = env("CLIENT_ID");
const resources = [env("RESOURCE"), env("OTHER_RESOURCE")];
const jwks = JSON.parse(readFileSync(env("JWKS_FILE"), "utf8"));

// Accounts are made up from the login name typed into the dev login form.
async function findAccount(ctx, id) {
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        email: `${id}@dezky.example`,
        email_verified: false, // as Authentik sends it by default
        name: `${id[0].toUpperCase()}${id.slice(1)} Sample`,
        groups: [env("ADMIN_GROUP")],
      };
    },
  };
}

const configuration = {
  clients: [
    {
      client_id: clientId,
      client_secret: env("CLIENT_SECRET"),
      redirect_uris: [env("REDIRECT_URI")],
      post_logout_redirect_uris: [env("POST_LOGOUT_REDIRECT_URI")],
      grant_types: ["authorization_code", "client_credentials"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
      scope: "openid email profile flags:read flags:evaluate",
    },
  ],
  jwks,
  findAccount,
  scopes: ["openid", "email", "profile", "flags:read", "flags:evaluate"],
  claims: { email: ["email", "email_verified"], profile: ["name", "groups"] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Service tokens default to the console API; login access tokens stay
      // opaque and meant for userinfo.
      defaultResource: (ctx) =>
        ctx.oidc.params?.grant_type === "client_credentials" ? resources[0] : undefined,
      useGrantedResource: () => false,
      getResourceServerInfo: (ctx, resource) => {
        if (!resources.includes(resource)) throw new Error("unknown resource");
        return {
          scope: "flags:read flags:evaluate",
          audience: resource,
          accessTokenFormat: "jwt",
          accessTokenTTL: Number(process.env.SERVICE_TOKEN_TTL || 300),
          jwt: { sign: { alg: "RS256" } },
        };
      },
    },
  },
  // The console is a first-party client: no consent screen.
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
};

const server = createServer();
server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  server.on("request", provider.callback());
  // Why a request was refused, for whoever reads the test's provider log.
  for (const event of ["end_session.error", "authorization.error", "grant.error", "server_error"]) {
    provider.on(event, (ctx, err) => console.error(event, err, err?.cause));
  }
  process.stdout.write(`listening ${issuer}\n`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
