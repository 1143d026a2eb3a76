// Ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1) over the schemas of
// the generated OpenAPI document, with the OpenAPI formats registered (they
// are annotations for a client: what a string or number holds).
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const prefix = "#/components/schemas/";

// `closed`: every object schema with properties also gets
// additionalProperties: false, so that a response field the document does
// not name (a snake_case name, a field missing from the schema) fails.
function rewrite(node, closed) {
  if (Array.isArray(node)) return node.map((v) => rewrite(v, closed));
  if (node === null || typeof node !== "object") return node;
  const out = Object.fromEntries(
    Object.entries(node).map(([k, v]) =>
      k === "$ref" && typeof v === "string" && v.startsWith(prefix)
        ? [k, `schema:${v.slice(prefix.length)}`]
        : [k, k === "properties" ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, rewrite(s, closed)])) : rewrite(v, closed)],
    ),
  );
  if (closed && out.type === "object" && out.properties && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

// Returns name => validate function for components/schemas/<name>; its
// .compile(schema) compiles any schema of the document (refs included).
export function schemaValidator(doc, { closed = false } = {}) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  for (const f of ["int32", "uint32", "float", "double"]) ajv.addFormat(f, { type: "number", validate: () => true });
  for (const f of ["int64", "uint64", "byte"]) ajv.addFormat(f, { type: "string", validate: () => true });
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    ajv.addSchema({ ...rewrite(schema, closed), $id: `schema:${name}` });
  }
  const byName = (name) => ajv.compile({ $ref: `schema:${name}` });
  byName.compile = (schema) => ajv.compile(rewrite(schema, closed));
  return byName;
}
