// A retrieval-augmented generation (RAG) chain in LangChain.js over Verity,
// with every retrieval logged and every answer audited.
//
//   VERITY_URL=http://127.0.0.1:7430 npm run example      (verityd --http-listen 127.0.0.1:7430)
//
// (VERITY_API_KEY: a key, when the server runs with --keys; it needs the
// admin role, as the example drops and re-creates its collection.)
//
// The chain: a LangChain retriever over VerityVectorStore (each search is a
// ContextService/Retrieve call: the server writes what it returned to its
// retrieval log before answering) -> a prompt -> EchoContextLLM -> the
// answer, which the app then records against the retrieval id the
// retriever's Documents carry, and audits: the server scores each sentence
// of the answer against the logged context (groundedness G, docs/groundedness.md).
//
// Stand-ins, so that the example runs offline and prints the same thing on
// every run but for the retrieval ids the server assigns: the embeddings
// are a hashed bag of words (HashingBagOfWordsEmbeddings), and the
// "language model" is EchoContextLLM, which answers with the first passage
// of its context. A real app uses an embedding model and an LLM here; the
// rest of the chain stays as it is.

import { Document } from "@langchain/core/documents";
import { LLM } from "@langchain/core/language_models/llms";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { PromptTemplate } from "@langchain/core/prompts";
import { RunnablePassthrough, RunnableSequence } from "@langchain/core/runnables";

import { Client, VerityError } from "../src/index.js";
import { VerityVectorStore, type VerityDocumentInfo } from "../src/langchain.js";
import { HashingBagOfWordsEmbeddings } from "./hashing_embeddings.js";

const COLLECTION = "rag_chain_demo";
const PROMPT_NAME = "rag_chain_demo";
const TEMPLATE = "Answer the question from the context only.\n\nContext:\n{context}\n\nQuestion: {question}\nAnswer:";

/**
 * EchoContextLLM stands in for a real language model: it "answers" with
 * the first passage of the context in its prompt (the text between
 * "Context:" and the first blank line), which is what a perfectly grounded
 * model might say. Replace it with a real LLM (e.g. a ChatOpenAI or an
 * Ollama model) in an application.
 */
export class EchoContextLLM extends LLM {
  _llmType(): string {
    return "echo-context";
  }

  async _call(prompt: string): Promise<string> {
    const context = prompt.split("Context:\n")[1] ?? "";
    return context.split("\n\n")[0]!.trim() || "I do not know.";
  }
}

const DOCUMENTS: { source: string; year: number; text: string }[] = [
  { source: "bike", year: 2023, text: "Inflate road tyres to 80 psi and check the pressure weekly with a gauge." },
  { source: "bike", year: 2023, text: "Clean the chain every few hundred kilometres and add one drop of lubricant to each roller." },
  { source: "bike", year: 2023, text: "Gears that hesitate usually need a small turn of the barrel adjuster." },
  { source: "bees", year: 2021, text: "In spring the beekeeper inspects each hive every seven to ten days." },
  { source: "bees", year: 2021, text: "Varroa mites are the most serious pest of honey bees." },
  { source: "bread", year: 2022, text: "Sourdough dough rises for four hours in a warm kitchen." },
];

const QUESTIONS: { question: string; filter?: string }[] = [
  { question: "What pressure should road tyres be inflated to?", filter: 'document_id = "bike"' },
  { question: "How often should the beekeeper inspect the hive in spring?" },
  { question: "How long does sourdough dough rise?", filter: "year >= 2022" },
];

function formatDocs(docs: Document[]): string {
  return docs.map((d) => d.pageContent).join("\n\n");
}

async function main(): Promise<number> {
  const baseUrl = process.env.VERITY_URL;
  if (!baseUrl) {
    console.error("usage: VERITY_URL=http://HOST:PORT npm run example   (verityd --http-listen HOST:PORT)");
    return 2;
  }
  const client = new Client({ baseUrl, apiKey: process.env.VERITY_API_KEY || undefined, timeoutMs: 30000 });
  const embeddings = new HashingBagOfWordsEmbeddings({ dimension: 64 });

  // A fresh collection, and the prompt registered so the log names its exact version.
  await client.dropCollection(COLLECTION).catch((e) => {
    if (!(e instanceof VerityError && e.code === "NOT_FOUND")) throw e;
  });
  const prompt = await client.createPrompt(PROMPT_NAME, TEMPLATE.replace("{context}", "{{context}}").replace("{question}", "{{question}}"), {
    labels: ["production"],
    message: "rag_chain example",
  });

  // Document ids become record ids (without one, a random UUID).
  const store = await VerityVectorStore.fromDocuments(
    DOCUMENTS.map(({ source, year, text }, i) => new Document({ id: `${source}#${i}`, pageContent: text, metadata: { source, year } })),
    embeddings,
    { client, collection: COLLECTION, prompt: `${PROMPT_NAME}@production`, clientId: "rag_chain example" },
  );
  const loaded = await client.getCollection(COLLECTION);
  console.log(`ingested ${loaded.liveRecords} chunks into ${COLLECTION} (version ${loaded.headVersion}); prompt ${PROMPT_NAME}@${prompt.version}`);

  const llm = new EchoContextLLM({});
  const promptTemplate = PromptTemplate.fromTemplate(TEMPLATE);

  for (const { question, filter } of QUESTIONS) {
    const retriever = store.asRetriever({ k: 2, ...(filter ? { filter } : {}) });
    // question -> {docs, question} -> {docs, question, answer}
    const chain = RunnableSequence.from([
      { docs: retriever, question: new RunnablePassthrough() },
      RunnablePassthrough.assign({
        answer: RunnableSequence.from([
          (input: { docs: Document[]; question: string }) => ({ context: formatDocs(input.docs), question: input.question }),
          promptTemplate,
          llm,
          new StringOutputParser(),
        ]),
      }),
    ]);
    const { docs, answer } = (await chain.invoke(question)) as { docs: Document[]; question: string; answer: string };
    const verity = docs[0]!.metadata.verity as VerityDocumentInfo;

    console.log(`\nQ: ${question}${filter ? `   [filter: ${filter}]` : ""}`);
    for (const d of docs) {
      const v = d.metadata.verity as VerityDocumentInfo;
      console.log(`  retrieved ${d.metadata.source} (distance ${v.distance.toFixed(3)}): ${d.pageContent}`);
    }
    console.log(`A: ${answer}`);

    // Record the answer against the logged retrieval, and audit it.
    const { record, audit } = await client.answer(verity.retrievalId, answer, { model: llm._llmType() });
    console.log(`  retrieval ${verity.retrievalId} at version ${verity.version}, answer log record #${record.seq}`);
    console.log(`  groundedness G=${audit.g.toFixed(2)} (${audit.supported}/${audit.scored} sentences supported; prompt ${audit.prompt})`);
    for (const s of audit.sentences) console.log(`    ${s.verdict}: "${s.text}" <- ${s.chunkId || "no chunk"} (support ${s.support.toFixed(2)})`);
  }

  // An answer the context does not support scores low: the audit says so.
  const docs = await store.asRetriever(2).invoke(QUESTIONS[0]!.question);
  const id = (docs[0]!.metadata.verity as VerityDocumentInfo).retrievalId;
  const madeUp = await client.audit(id, { answer: "Road tyres need 120 psi. Check them every year." });
  console.log(`\nan unsupported answer for the same question: G=${madeUp.g.toFixed(2)} (${madeUp.supported}/${madeUp.scored} supported)`);

  // Revise the handbook: the head now says 95 psi, a retriever pinned at the
  // version before says 80 psi, and a counterfactual replay of the first
  // question's retrieval shows what changed.
  const before = (await client.getCollection(COLLECTION)).headVersion;
  const tyres = docs.find((d) => d.pageContent.includes("80 psi"))!;
  await store.addDocuments(
    [{ pageContent: tyres.pageContent.replace("80 psi", "95 psi"), metadata: { source: "bike", year: 2024 } }],
    { ids: [tyres.id!] },
  );
  const pinned = new VerityVectorStore(embeddings, { client, collection: COLLECTION, at: before });
  const [oldDoc] = await pinned.asRetriever(1).invoke("road tyres pressure psi");
  const [newDoc] = await store.asRetriever(1).invoke("road tyres pressure psi");
  console.log(`\nafter a revision: head says "${newDoc!.pageContent}"`);
  console.log(`at version ${before} it said "${oldDoc!.pageContent}"`);
  const replay = await client.replay(id, { mode: "counterfactual" });
  console.log(`counterfactual replay at the head: ${replay.outcome} (changed: ${replay.changed.join(", ") || "none"})`);
  const verify = await client.verifyLog();
  console.log(`retrieval log: ${verify.records} records, hash chain ${verify.ok ? "verifies" : "BROKEN: " + verify.problem}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof VerityError ? `${e.code}: ${e.message}` : e);
    process.exit(1);
  },
);
