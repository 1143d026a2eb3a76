// @verity/client: a TypeScript client of verityd's HTTP/JSON API.
// The LangChain.js vector store is a separate entry point,
// "@verity/client/langchain", so that the client needs no LangChain.

export { Client } from "./client.js";
export type { ClientOptions } from "./client.js";
export { VerityError, STATUS_NAMES } from "./errors.js";
export type { StatusName } from "./errors.js";
export type * from "./types.js";
export type * from "./monitor.js";
export type * as wire from "./wire.js";
