// HashingBagOfWordsEmbeddings: a deterministic stand-in for an embedding
// model, used by the example and the tests. It is a real LangChain
// Embeddings (not a mock of anything): each word, lower-cased, without
// stopwords and crudely de-pluralised, adds +1 or -1 to one of `dimension`
// components chosen by a stable hash (FNV-1a), and the vector is
// L2-normalised. It finds texts that share words with the query, which is
// enough to show a RAG loop; a real application would use a
// sentence-embedding model (and its dimension) instead.

import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";

const STOPWORDS = new Set(
  `a an and are at be because before by can do does for from has have how i in into is it its
   me of on one or should so that the them then this to until use what when which with your`.split(/\s+/),
);

/** Lower-cased words without stopwords, with a crude plural stemming (as the Python example's). */
export function tokens(text: string): string[] {
  const out: string[] = [];
  for (let word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    if (STOPWORDS.has(word)) continue;
    if (word.length > 4 && word.endsWith("s") && !word.endsWith("ss")) word = word.slice(0, -1);
    out.push(word);
  }
  return out;
}

/** 32-bit FNV-1a of a string's UTF-8 bytes. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export interface HashingBagOfWordsEmbeddingsParams extends EmbeddingsParams {
  /** Default 64. */
  dimension?: number;
}

export class HashingBagOfWordsEmbeddings extends Embeddings {
  readonly dimension: number;

  constructor(params: HashingBagOfWordsEmbeddingsParams = {}) {
    super(params);
    this.dimension = params.dimension ?? 64;
  }

  embed(text: string): number[] {
    const v = new Array<number>(this.dimension).fill(0);
    for (const word of tokens(text)) {
      const h = fnv1a(word);
      v[h % this.dimension]! += (fnv1a("sign:" + word) & 1) === 1 ? 1 : -1;
    }
    const norm = Math.hypot(...v);
    if (norm === 0) {
      v[0] = 1; // no content words: any fixed unit vector will do
      return v;
    }
    return v.map((x) => x / norm);
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    return documents.map((d) => this.embed(d));
  }

  async embedQuery(document: string): Promise<number[]> {
    return this.embed(document);
  }
}
