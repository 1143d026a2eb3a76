// EncodeAnnotation / DecodeAnnotation: verity::Annotation <-> storage.Annotation.
#include "log/annotation_codec.h"

#include "storage.pb.h"

namespace verity {

namespace {

// The scalar fields, in one list used both ways: F(name) copies a field of
// the same name.
#define VERITY_ANNOTATION_SCALARS(F)                                                                              \
  F(version) F(retrieval_id) F(record_seq) F(record_time_us) F(annotated_us) F(on_demand) F(cache_hit)            \
  F(collection) F(kb_version) F(prompt) F(groundedness_scored) F(groundedness_error) F(g)                          \
  F(groundedness_version) F(sentences) F(unsupported) F(leg) F(reference_ready) F(weak_retrieval) F(top1)          \
  F(weak_threshold) F(percentile_rank) F(empty_context) F(truncated_context) F(chunks) F(chunks_in_context)       \
  F(retrieval_risk_version) F(toxic) F(toxicity_scorer_version) F(word_list_version) F(context_tokens)            \
  F(prompt_tokens) F(prompt_tokens_source) F(answer_tokens) F(answer_tokens_source) F(tokens_saved)

void PutMatch(const ToxicityMatchInfo& m, storage::AnnotationMatch* out) {
  out->set_term(m.term);
  for (const std::string& l : m.languages) out->add_languages(l);
  out->set_begin(m.begin);
  out->set_end(m.end);
}

ToxicityMatchInfo GetMatch(const storage::AnnotationMatch& m) {
  return {m.term(), {m.languages().begin(), m.languages().end()}, m.begin(), m.end()};
}

}  // namespace

std::string EncodeAnnotation(const Annotation& a) {
  storage::Annotation p;
#define VERITY_PUT(name) p.set_##name(a.name);
  VERITY_ANNOTATION_SCALARS(VERITY_PUT)
#undef VERITY_PUT
  for (const std::string& s : a.unsupported_sentences) p.add_unsupported_sentences(s);
  for (const ToxicityMatchInfo& m : a.toxicity_matches) PutMatch(m, p.add_toxicity_matches());
  for (const ToxicityMatchInfo& m : a.query_toxicity_matches) PutMatch(m, p.add_query_toxicity_matches());
  for (MonitorFlag f : a.flags) p.add_flags(static_cast<uint32_t>(f));
  return p.SerializeAsString();
}

Result<Annotation> DecodeAnnotation(std::string_view bytes) {
  storage::Annotation p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::DataLoss("retrieval log: a stored annotation does not parse");
  }
  Annotation a;
#define VERITY_GET(name) a.name = p.name();
  VERITY_ANNOTATION_SCALARS(VERITY_GET)
#undef VERITY_GET
  a.unsupported_sentences.assign(p.unsupported_sentences().begin(), p.unsupported_sentences().end());
  for (const storage::AnnotationMatch& m : p.toxicity_matches()) a.toxicity_matches.push_back(GetMatch(m));
  for (const storage::AnnotationMatch& m : p.query_toxicity_matches()) a.query_toxicity_matches.push_back(GetMatch(m));
  for (uint32_t f : p.flags()) {
    // A flag a newer version wrote is skipped, not an error.
    if (f <= static_cast<uint32_t>(MonitorFlag::kToxicity)) a.flags.push_back(static_cast<MonitorFlag>(f));
  }
  return a;
}

}  // namespace verity
