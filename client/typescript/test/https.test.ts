// HTTPS: verityd serves --http-listen with TLS when it has --tls-cert and
// --tls-key; the client reaches it through fetch, which trusts a private
// CA given in NODE_EXTRA_CA_CERTS (read at Node's start: hence a child
// process per case).

import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, it } from "node:test";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

import { PACKAGE_DIR, Verityd } from "./verityd.js";

const run = promisify(execFile);
const CLIENT = pathToFileURL(path.join(PACKAGE_DIR, "dist", "src", "index.js")).href;
let dir: string;
let server: Verityd;

before(async () => {
  // A CA and a server certificate for 127.0.0.1 (EC keys: fast to make).
  dir = mkdtempSync(path.join(tmpdir(), "verity-ts-tls-"));
  const ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  execFileSync("bash", ["-c", [
    "set -e",
    `openssl req -x509 ${ec} -keyout ca.key -out ca.pem -days 2 -subj '/CN=Verity test CA'`,
    `openssl req ${ec} -keyout server.key -out server.csr -subj '/CN=localhost'`,
    "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext",
    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext",
  ].join(" && ")], { cwd: dir, stdio: "ignore" });
  server = await Verityd.start(["--tls-cert", path.join(dir, "server.pem"), "--tls-key", path.join(dir, "server.key")]);
});

after(async () => {
  assert.equal(await server.stop(), 0);
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a few client calls in a child Node with `env`; returns what it printed (JSON). */
async function callsIn(env: NodeJS.ProcessEnv): Promise<{ ok?: unknown; code?: string; message?: string }> {
  const script = `
    import { Client } from ${JSON.stringify(CLIENT)};
    const db = new Client({ baseUrl: ${JSON.stringify(server.baseUrl)} });
    try {
      await db.createCollection("tls", 2);
      await db.upsert("tls", [{ id: "a", vector: [1, 0] }]);
      const r = await db.search("tls", { vector: [1, 0], k: 1 });
      console.log(JSON.stringify({ ok: r.hits.map((h) => h.id) }));
    } catch (e) {
      console.log(JSON.stringify({ code: e.code, message: e.message }));
    }`;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { env, timeout: 30000 });
  return JSON.parse(stdout);
}

it("serves the client over HTTPS when it trusts the server's CA, and is UNAVAILABLE naming the certificate when not", async () => {
  assert.match(server.baseUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
  const untrusted = await callsIn({ ...process.env, NODE_EXTRA_CA_CERTS: "" });
  assert.equal(untrusted.code, "UNAVAILABLE");
  assert.match(untrusted.message ?? "", /certificate/);
  const trusted = await callsIn({ ...process.env, NODE_EXTRA_CA_CERTS: path.join(dir, "ca.pem") });
  assert.deepEqual(trusted, { ok: ["a"] });
});
