// Reads the RPCs of package verity.v1 straight from the .proto sources
// (proto/verity/v1/*.proto), independently of the C++ generator, so that
// the tests can compare the generated OpenAPI document against them.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

// Drops // and /* */ comments and string literals' contents, so that an
// "rpc" or "service" inside a comment is not taken for one.
function stripComments(text) {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/"(?:[^"\\\n]|\\.)*"/g, '""')
    .replace(/\/\/[^\n]*/g, " ");
}

// [{ service, method, clientStreaming, serverStreaming, permission, file }]
// for every `rpc` of every `service` in the directory's .proto files.
export function parseRpcs(protoDir) {
  const rpcs = [];
  const files = readdirSync(protoDir).filter((f) => f.endsWith(".proto")).sort();
  for (const file of files) {
    const text = stripComments(readFileSync(join(protoDir, file), "utf8"));
    if (!/\bpackage\s+verity\.v1\s*;/.test(text)) continue;
    // Tokens in order: a service opens a scope every following rpc belongs to
    // (services do not nest).
    const re =
      /\bservice\s+(\w+)\s*\{|\brpc\s+(\w+)\s*\(\s*(stream\s+)?[\w.]+\s*\)\s*returns\s*\(\s*(stream\s+)?[\w.]+\s*\)\s*(\{[^}]*\}|;)/g;
    let service = null;
    for (const m of text.matchAll(re)) {
      if (m[1]) {
        service = m[1];
        continue;
      }
      if (service === null) throw new Error(`${file}: rpc ${m[2]} outside a service`);
      const permission = /\(\s*required_permission\s*\)\s*=\s*(\w+)/.exec(m[5] ?? "");
      rpcs.push({
        service,
        method: m[2],
        clientStreaming: Boolean(m[3]),
        serverStreaming: Boolean(m[4]),
        permission: permission ? permission[1] : null,
        file,
      });
    }
    // Every "rpc" word must have been matched by the pattern above; a
    // syntax it does not know must fail loudly, not drop an RPC.
    const words = (text.match(/\brpc\s+\w+/g) ?? []).length;
    const found = rpcs.filter((r) => r.file === file).length;
    if (words !== found) throw new Error(`${file}: ${words} rpc declarations, ${found} parsed`);
  }
  return rpcs;
}
