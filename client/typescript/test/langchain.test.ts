// VerityVectorStore (the real @langchain/core VectorStore) against a real
// verityd: documents in, logged retrievals out, filters, reads at an older
// version, and the retrieval id each Document carries leading to the log,
// an audit and a replay.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { Document } from "@langchain/core/documents";
import { VectorStore } from "@langchain/core/vectorstores";

import { HashingBagOfWordsEmbeddings } from "../examples/hashing_embeddings.js";
import { Client, VerityError } from "../src/index.js";
import { VerityVectorStore, filterString, type VerityDocumentInfo } from "../src/langchain.js";
import { Verityd } from "./verityd.js";

let server: Verityd;
let db: Client;
const embeddings = new HashingBagOfWordsEmbeddings({ dimension: 64 });

const DOCS = [
  new Document({ pageContent: "Inflate road tyres to 80 psi and check them weekly.", metadata: { source: "bike", year: 2023, lang: "en" } }),
  new Document({ pageContent: "Clean the chain with degreaser and add one drop of lubricant per roller.", metadata: { source: "bike", year: 2023, lang: "en" } }),
  new Document({ pageContent: "Inspect each bee hive every seven to ten days in spring.", metadata: { source: "bees", year: 2021, lang: "en" } }),
  new Document({ pageContent: "Sourdough needs a warm kitchen and four hours to rise.", metadata: { source: "bread", year: 2022, lang: "en", loc: { lines: { from: 1, to: 3 } } } }),
];

function info(doc: Document): VerityDocumentInfo {
  return doc.metadata.verity as VerityDocumentInfo;
}

before(async () => {
  server = await Verityd.start();
  db = new Client({ baseUrl: server.baseUrl });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

describe("VerityVectorStore", () => {
  let store: VerityVectorStore;
  let ids: string[];

  before(async () => {
    store = await VerityVectorStore.fromDocuments(DOCS.slice(0, 2), embeddings, { client: db, collection: "lc" });
    ids = await store.addDocuments(DOCS.slice(2), { ids: ["bees-1", "bread-1"] });
  });

  it("is a LangChain VectorStore of type verity, over a collection created with the embeddings' dimension", async () => {
    assert.ok(store instanceof VectorStore);
    assert.equal(store._vectorstoreType(), "verity");
    const info = await db.getCollection("lc");
    assert.equal(info.dimension, 64);
    assert.equal(info.metric, "cosine");
    assert.equal(info.liveRecords, 4);
    assert.deepEqual(ids, ["bees-1", "bread-1"]);
    const bread = await db.get("lc", "bread-1");
    assert.equal(bread.documentId, "bread", "metadata.source is the document id");
    assert.equal(bread.metadata.loc, '{"lines":{"from":1,"to":3}}', "a nested object is stored as its JSON text");
  });

  it("similaritySearch and similaritySearchWithScore return Documents with the retrieval's id", async () => {
    const docs = await store.similaritySearch("What pressure should road tyres have?", 2);
    assert.equal(docs.length, 2);
    assert.equal(docs[0]!.pageContent, DOCS[0]!.pageContent);
    assert.equal(docs[0]!.metadata.source, "bike");
    assert.equal(docs[0]!.metadata.year, 2023);
    const v = info(docs[0]!);
    assert.match(v.retrievalId, /^rtv-[0-9a-f]{32}$/);
    assert.equal(info(docs[1]!).retrievalId, v.retrievalId, "one retrieval for the whole search");
    assert.equal(v.id, docs[0]!.id);
    assert.equal(v.version, 2);

    const scored = await store.similaritySearchWithScore("bee hive inspection in spring", 3);
    assert.equal(scored[0]![0].metadata.source, "bees");
    assert.ok(scored[0]![1] <= scored[1]![1], "scores are distances, smallest first");
    assert.equal(scored[0]![1], info(scored[0]![0]).distance);

    // The question is logged with the retrieval.
    const logged = await db.getRetrieval(v.retrievalId);
    assert.equal(logged.retrieval.queryText, "What pressure should road tyres have?");
    assert.equal(logged.retrieval.collection, "lc");
    assert.deepEqual(logged.retrieval.chunks.map((ch) => ch.id), docs.map((d) => d.id));
  });

  it("asRetriever().invoke logs a retrieval too, and takes a filter", async () => {
    const retriever = store.asRetriever({ k: 2, filter: 'source = "bread"' });
    const docs = await retriever.invoke("How long does the dough rise?");
    assert.deepEqual(docs.map((d) => d.metadata.source), ["bread"], "the filter passes only the bread document");
    const logged = await db.getRetrieval(info(docs[0]! as Document).retrievalId);
    assert.equal(logged.retrieval.filter, 'source = "bread"');
    assert.equal(logged.retrieval.k, 2);

    const byString = await store.similaritySearch("anything", 4, "year >= 2023");
    assert.deepEqual(new Set(byString.map((d) => d.metadata.source)), new Set(["bike"]));
    const byDocumentId = await store.similaritySearch("anything", 4, { filter: 'document_id = "bees"' });
    assert.deepEqual(byDocumentId.map((d) => d.id), ["bees-1"]);
  });

  it("a store-wide filter is ANDed with each query's", async () => {
    const english2023 = new VerityVectorStore(embeddings, { client: db, collection: "lc", filter: 'lang = "en"' });
    const docs = await english2023.similaritySearch("chain", 4, "year = 2021");
    assert.deepEqual(docs.map((d) => d.id), ["bees-1"]);
    const logged = await db.getRetrieval(info(docs[0]!).retrievalId);
    assert.equal(logged.retrieval.filter, '(lang = "en") and (year = 2021)');
  });

  it("reads an older version (at) and returns the old content after an overwrite", async () => {
    const before = (await db.getCollection("lc")).headVersion;
    await store.addDocuments(
      [new Document({ pageContent: "Inflate road tyres to 95 psi and check them weekly.", metadata: { source: "bike", year: 2024, lang: "en" } })],
      { ids: [(await store.similaritySearch("road tyres psi", 1))[0]!.id!] },
    );
    const head = await store.similaritySearch("road tyres psi", 1);
    assert.match(head[0]!.pageContent, /95 psi/);
    assert.equal(head[0]!.metadata.year, 2024);

    const old = await store.similaritySearch("road tyres psi", 1, { at: before });
    assert.match(old[0]!.pageContent, /80 psi/, "the version before the overwrite");
    assert.equal(old[0]!.metadata.year, 2023, "and its metadata as of that version");
    assert.equal(info(old[0]!).version, before);

    const pinned = new VerityVectorStore(embeddings, { client: db, collection: "lc", at: before });
    const viaRetriever = await pinned.asRetriever(1).invoke("road tyres psi");
    assert.match(viaRetriever[0]!.pageContent, /80 psi/);

    await db.createSnapshot("lc", "handbook-v1", { at: before });
    const bySnapshot = await store.similaritySearch("road tyres psi", 1, { at: "handbook-v1" });
    assert.match(bySnapshot[0]!.pageContent, /80 psi/);
    assert.equal((await db.getRetrieval(info(bySnapshot[0]!).retrievalId)).retrieval.snapshot, "handbook-v1");
  });

  it("the retrieval appears in the log and can be answered, audited and replayed", async () => {
    const docs = await store.asRetriever(1).invoke("How often should the bee hive be inspected in spring?");
    const id = info(docs[0]! as Document).retrievalId;
    const listed = [];
    for await (const r of db.listLog({ collection: "lc", kind: "retrieval" })) listed.push(r.retrievalId);
    assert.ok(listed.includes(id));

    const { record, audit } = await db.answer(id, "Inspect each bee hive every seven to ten days in spring.", { model: "echo" });
    assert.equal(record.retrievalId, id);
    assert.equal(audit.g, 1);
    assert.equal(audit.chunks[0]!.id, "bees-1");

    const replay = await db.replay(id);
    assert.equal(replay.outcome, "identical");
    assert.equal((await db.replay(id, { mode: "retrieval" })).recall, 1);
  });

  it("hybrid: the query text as a BM25 leg too", async () => {
    await db.createCollection("lc-hybrid", 64, { metric: "cosine", textIndex: "english" });
    const hybrid = new VerityVectorStore(embeddings, { client: db, collection: "lc-hybrid", hybrid: { fusion: "rrf" } });
    await hybrid.addDocuments(DOCS);
    const docs = await hybrid.similaritySearch("sourdough rising", 1);
    assert.equal(docs[0]!.metadata.source, "bread");
    const logged = await db.getRetrieval(info(docs[0]!).retrievalId);
    assert.equal(logged.retrieval.text, "sourdough rising");
    assert.ok(logged.retrieval.fusion !== null);
  });

  it("fromTexts, delete, and its errors", async () => {
    const s = await VerityVectorStore.fromTexts(["alpha text", "beta text"], [{ n: 1 }, { n: 2 }], embeddings, {
      client: db,
      collection: "lc-texts",
      createCollection: { metric: "l2" },
    });
    assert.equal((await db.getCollection("lc-texts")).metric, "l2");
    const [first] = await s.similaritySearch("alpha", 1);
    assert.equal(first!.metadata.n, 1);
    await s.delete({ ids: [first!.id!] });
    assert.equal((await db.getCollection("lc-texts")).liveRecords, 1);

    const missing = new VerityVectorStore(embeddings, { client: db, collection: "lc-none" });
    await assert.rejects(missing.addDocuments([new Document({ pageContent: "x" })]), (e: VerityError) => e.code === "NOT_FOUND");
    await assert.rejects(store.similaritySearch("x", 1, 'lang = en'), (e: VerityError) => e.code === "INVALID_ARGUMENT" && /^filter: column 8/.test(e.message));
    await assert.rejects(store.similaritySearch("x", 1, { filer: "x" } as never), (e: VerityError) => e.code === "INVALID_ARGUMENT" && /unknown key\(s\) filer/.test(e.message));
    assert.throws(() => new VerityVectorStore(embeddings, { client: {} as never, collection: "x" }), /client: expected a Client/);
  });

  it("quotes ids for its metadata read as the filter syntax wants", () => {
    assert.equal(filterString('a"b\\c\nd\u0001'), '"a\\"b\\\\c\\nd\\u0001"');
  });
});
