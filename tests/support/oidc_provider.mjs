// A real OpenID provider for the console's tests: node-oidc-provider
// (OpenID-certified), with its development interactions (a login form that
// accepts any account id). Not a hand-made imitation of one.
//
//   PASSERELLE_NODE_MODULES=target/npm/node_modules \
//     node tests/support/oidc_provider.mjs CLIENT_ID CLIENT_SECRET
//
// Listens on 127.0.0.1 on a port the system picks and prints
// `issuer http://127.0.0.1:PORT`; then reads one line on stdin, the client's
// redirect URI (the gateway's console picks its port after it knows the
// issuer), and prints `ready`. Exits when stdin closes. The account id typed in
// the login form is the account's e-mail; an id starting with
// `unverified.` has `email_verified: false`. Like ProConnect, the e-mail is
// given by the userinfo endpoint, not in the ID token.
import { createRequire } from "node:module";
import { createServer } from "node:http";
import { createInterface } from "node:readline";

const require = createRequire(import.meta.url);
const modules = process.env.PASSERELLE_NODE_MODULES;
const { default: Provider } = await import(
  require.resolve("oidc-provider", { paths: [modules] })
);

const [clientId, clientSecret] = process.argv.slice(2);
const server = createServer();
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const issuer = `http://127.0.0.1:${server.address().port}`;
console.log(`issuer ${issuer}`);

const lines = createInterface({ input: process.stdin });
const redirectUri = await new Promise((ok) => lines.once("line", ok));
lines.on("close", () => process.exit(0));

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  pkce: { required: () => true },
  claims: { openid: ["sub"], email: ["email", "email_verified"] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: id.replace(/^unverified\./, ""),
          email_verified: !id.startsWith("unverified."),
        };
      },
    };
  },
});
// Quiet: the test reads stdout for the issuer line only.
provider.on("server_error", (ctx, err) => console.error("server_error", err));
server.on("request", provider.callback());
console.log("ready");
