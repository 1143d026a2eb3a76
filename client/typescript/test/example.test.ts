// Runs the RAG chain example (examples/rag_chain.ts, compiled) against a
// real verityd, as `npm run example` does, and checks what it printed.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { after, before, it } from "node:test";
import { promisify } from "node:util";

import { PACKAGE_DIR, Verityd } from "./verityd.js";

const run = promisify(execFile);
const EXAMPLE = path.join(PACKAGE_DIR, "dist", "examples", "rag_chain.js");
let server: Verityd;

before(async () => {
  server = await Verityd.start();
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

it("the RAG chain answers, records and audits each question, and reads the version before a revision", async () => {
  const env = { ...process.env, VERITY_URL: server.baseUrl };
  const { stdout } = await run(process.execPath, [EXAMPLE], { env, timeout: 60000 });
  assert.match(stdout, /^ingested 6 chunks into rag_chain_demo \(version 1\); prompt rag_chain_demo@1$/m);
  assert.match(stdout, /^A: Inflate road tyres to 80 psi and check the pressure weekly with a gauge\.$/m);
  assert.match(stdout, /^A: In spring the beekeeper inspects each hive every seven to ten days\.$/m);
  assert.match(stdout, /^A: Sourdough dough rises for four hours in a warm kitchen\.$/m);
  assert.equal(stdout.match(/groundedness G=1\.00 \(1\/1 sentences supported; prompt rag_chain_demo@1\)/g)?.length, 3);
  assert.match(stdout, /retrieval rtv-[0-9a-f]{32} at version 1, answer log record #2$/m);
  assert.match(stdout, /^an unsupported answer for the same question: G=0\.00 \(0\/2 supported\)$/m);
  assert.match(stdout, /^after a revision: head says "Inflate road tyres to 95 psi/m);
  assert.match(stdout, /^at version 1 it said "Inflate road tyres to 80 psi/m);
  assert.match(stdout, /^counterfactual replay at the head: differs \(changed: bike#0\)$/m);
  assert.match(stdout, /^retrieval log: \d+ records, hash chain verifies$/m);

  // A second run re-creates the collection and registers the next prompt version.
  const again = await run(process.execPath, [EXAMPLE], { env, timeout: 60000 });
  assert.match(again.stdout, /prompt rag_chain_demo@2$/m);
});

it("without VERITY_URL it prints its usage and exits 2", async () => {
  const env = { ...process.env };
  delete env.VERITY_URL;
  await assert.rejects(run(process.execPath, [EXAMPLE], { env }), (e: { code?: number; stderr?: string }) => {
    assert.equal(e.code, 2);
    assert.match(e.stderr ?? "", /usage: VERITY_URL=/);
    return true;
  });
});
