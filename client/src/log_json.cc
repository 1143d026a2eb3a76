#include "verity/log_json.h"

#include <cstdio>
#include <ctime>

namespace verity {

using Json = nlohmann::json;

std::string Rfc3339(int64_t time_us) {
  int64_t seconds = time_us / 1000000;
  int64_t micros = time_us % 1000000;
  if (micros < 0) {  // before 1970: keep the fraction positive
    micros += 1000000;
    seconds -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
  char text[48];
  std::snprintf(text, sizeof(text), "%s.%06lldZ", date, static_cast<long long>(micros));
  return text;
}

namespace {

void PutIfSet(Json& j, const char* key, const std::string& value) {
  if (!value.empty()) j[key] = value;
}

// A text, sparse or hybrid retrieval's query legs and fusion.
void PutTextLegs(const LogRecord& r, Json& j) {
  PutIfSet(j, "verity.query.text", r.text);
  if (!r.text.empty()) {
    j["verity.text.analyzer_version"] = r.analyzer_version;
    j["verity.text.analyzer_code_version"] = r.analyzer_code_version;
  }
  PutIfSet(j, "verity.query.sparse_field", r.sparse_field);
  if (!r.sparse_field.empty()) j["verity.query.sparse"] = {{"indices", r.sparse.indices}, {"values", r.sparse.values}};
  if (r.fusion) {
    j["verity.fusion"] = {{"method", FusionMethodName(r.fusion->method)},
                          {"rrf_k", r.fusion->rrf_k},
                          {"dense_weight", r.fusion->dense_weight},
                          {"text_weight", r.fusion->text_weight},
                          {"sparse_weight", r.fusion->sparse_weight},
                          {"leg_limit", r.fusion->leg_limit}};
  }
}

}  // namespace

Json AnnotationToJson(const Annotation& a) {
  Json flags = Json::array();
  for (MonitorFlag flag : a.flags) flags.push_back(MonitorFlagName(flag));
  auto matches_json = [](const std::vector<ToxicityMatchInfo>& matches) {
    Json out = Json::array();
    for (const auto& m : matches) {
      out.push_back({{"term", m.term}, {"languages", m.languages}, {"begin", m.begin}, {"end", m.end}});
    }
    return out;
  };
  return {{"version", a.version},
          {"retrieval_id", a.retrieval_id},
          {"record_seq", a.record_seq},
          {"record_time_us", a.record_time_us},
          {"annotated_us", a.annotated_us},
          {"on_demand", a.on_demand},
          {"cache_hit", a.cache_hit},
          {"collection", a.collection},
          {"kb_version", a.kb_version},
          {"prompt", a.prompt},
          {"flags", std::move(flags)},
          {"groundedness_scored", a.groundedness_scored},
          {"groundedness_error", a.groundedness_error},
          {"g", a.g},
          {"groundedness_version", a.groundedness_version},
          {"sentences", a.sentences},
          {"unsupported", a.unsupported},
          {"unsupported_sentences", a.unsupported_sentences},
          {"leg", a.leg},
          {"reference_ready", a.reference_ready},
          {"weak_retrieval", a.weak_retrieval},
          {"top1", a.top1},
          {"weak_threshold", a.weak_threshold},
          {"percentile_rank", a.percentile_rank},
          {"empty_context", a.empty_context},
          {"truncated_context", a.truncated_context},
          {"chunks", a.chunks},
          {"chunks_in_context", a.chunks_in_context},
          {"retrieval_risk_version", a.retrieval_risk_version},
          {"toxic", a.toxic},
          {"toxicity_matches", matches_json(a.toxicity_matches)},
          {"query_toxicity_matches", matches_json(a.query_toxicity_matches)},
          {"toxicity_scorer_version", a.toxicity_scorer_version},
          {"word_list_version", a.word_list_version},
          {"context_tokens", a.context_tokens},
          {"prompt_tokens", a.prompt_tokens},
          {"prompt_tokens_source", a.prompt_tokens_source},
          {"answer_tokens", a.answer_tokens},
          {"answer_tokens_source", a.answer_tokens_source},
          {"tokens_saved", a.tokens_saved}};
}

Json LogRecordToJson(const LogRecord& r) {
  Json j = Json::object();
  // Every record.
  // A cache hit served an answer without calling a model: "chat", with the
  // answer as output and verity.cache.* saying where it came from.
  j["gen_ai.operation.name"] = r.kind == LogKind::kRetrieval ? "retrieval" : "chat";
  j["verity.kind"] = LogKindName(r.kind);
  j["verity.seq"] = r.seq;
  j["verity.time"] = Rfc3339(r.time_us);
  j["verity.time_us"] = r.time_us;
  j["verity.retrieval_id"] = r.retrieval_id;
  PutIfSet(j, "gen_ai.data_source.id", r.collection);
  j["verity.version"] = r.version;

  if (r.kind == LogKind::kRetrieval) {
    j["gen_ai.request.top_k"] = r.k;
    j["gen_ai.retrieval.top_k"] = r.k;
    PutIfSet(j, "gen_ai.retrieval.query.text", r.query_text);
    Json documents = Json::array();
    for (const auto& c : r.chunks) {
      Json d = {{"id", c.id},
                {"score", c.distance},
                {"verity.row_version", c.row_version},
                {"verity.text_sha256", c.text_sha256},
                {"verity.tokens", c.tokens},
                {"verity.in_context", c.in_context}};
      if (!c.document_id.empty()) d["verity.document_id"] = c.document_id;
      // Text, sparse and hybrid retrievals: their score ("score" stays the
      // distance, as for every retrieval) and, hybrid, each leg's rank
      // (from 0, -1 = not found) and score.
      if (!r.text.empty() || !r.sparse_field.empty()) d["verity.score"] = c.score;
      if (r.fusion) {
        d["verity.legs"] = {{"dense", {{"rank", c.dense.rank}, {"score", c.dense.score}}},
                            {"text", {{"rank", c.text_leg.rank}, {"score", c.text_leg.score}}},
                            {"sparse", {{"rank", c.sparse.rank}, {"score", c.sparse.score}}}};
      }
      documents.push_back(std::move(d));
    }
    j["gen_ai.retrieval.documents"] = std::move(documents);
    PutIfSet(j, "verity.snapshot", r.snapshot);
    PutTextLegs(r, j);
    if (!r.query_vector.empty()) j["verity.query.vector"] = r.query_vector;
    j["verity.query.vector_sha256"] = r.query_vector_sha256;
    j["verity.ef"] = r.ef;
    PutIfSet(j, "verity.filter", r.filter);
    j["verity.token_budget"] = r.token_budget;
    PutIfSet(j, "verity.prompt", r.prompt);
    PutIfSet(j, "verity.client_trace_id", r.client_trace_id);
    PutIfSet(j, "verity.client_id", r.client_id);
    j["verity.exact"] = r.exact;
    j["verity.context_sha256"] = r.context_sha256;
    j["verity.context_tokens"] = r.context_tokens;
  } else if (r.kind == LogKind::kCacheHit) {
    PutIfSet(j, "gen_ai.request.model", r.model);
    PutIfSet(j, "gen_ai.retrieval.query.text", r.query_text);
    j["gen_ai.output.messages"] =
        Json::array({{{"role", "assistant"}, {"parts", Json::array({{{"type", "text"}, {"content", r.answer}}})}}});
    j["verity.cache.source_retrieval_id"] = r.source_retrieval_id;
    j["verity.cache.match"] = CacheMatchName(r.cache_match);
    j["verity.cache.similarity"] = r.similarity;
    if (!r.query_vector.empty()) j["verity.query.vector"] = r.query_vector;
    j["verity.query.vector_sha256"] = r.query_vector_sha256;
    PutIfSet(j, "verity.prompt", r.prompt);
    PutIfSet(j, "verity.client_trace_id", r.client_trace_id);
    PutIfSet(j, "verity.client_id", r.client_id);
    j["verity.context_sha256"] = r.context_sha256;
  } else {
    PutIfSet(j, "gen_ai.request.model", r.model);
    j["gen_ai.usage.input_tokens"] = r.prompt_tokens;
    j["gen_ai.usage.output_tokens"] = r.completion_tokens;
    j["gen_ai.output.messages"] =
        Json::array({{{"role", "assistant"}, {"parts", Json::array({{{"type", "text"}, {"content", r.answer}}})}}});
  }

  if (r.annotation) j["verity.annotation"] = AnnotationToJson(*r.annotation);
  j["verity.prev_hash"] = r.prev_hash;
  j["verity.hash"] = r.hash;
  return j;
}

}  // namespace verity
