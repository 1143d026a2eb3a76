// Conversions of the text-search parts of the wire API (#26): the text
// index and sparse fields of a collection's config, sparse vectors, fusion
// and per-leg scores (convert.h). Range checks are the engine's; these
// refuse only what cannot be converted (an unknown enum value, an unknown
// analyzer preset, whose fields the wire fills).
#include "convert.h"

namespace verity::wire {

Result<AnalyzerConfig> AnalyzerPreset(const std::string& preset, const std::string& field) {
  AnalyzerConfig c;  // the struct's defaults are "standard"'s
  if (preset.empty() || preset == "standard") {
    c.preset = "standard";
    return c;
  }
  if (preset == "english") {
    c.preset = "english";
    c.stopwords = "english";
    c.stemmer = "english";
    return c;
  }
  std::string shown = preset.substr(0, 64);
  for (char& ch : shown) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
  }
  return Status::InvalidArgument(field + ": unknown analyzer preset \"" + shown + "\" (known: standard, english)");
}

Result<TextIndexConfig> FromProto(const v1::TextIndexConfig& in, const std::string& field) {
  TextIndexConfig out;
  out.enabled = true;
  const v1::AnalyzerConfig& a = in.analyzer();
  auto preset = AnalyzerPreset(a.preset(), field + ".analyzer.preset");
  const bool every_field = a.has_case_fold() && a.has_ascii_fold() && a.has_stopwords() && a.has_stemmer() &&
                           a.has_max_term_bytes();
  if (preset.ok()) {
    out.analyzer = *preset;
  } else if (every_field) {
    out.analyzer.preset = a.preset();  // a response names a preset this side does not know: its fields say it all
  } else {
    return preset.status();
  }
  if (a.has_case_fold()) out.analyzer.case_fold = a.case_fold();
  if (a.has_ascii_fold()) out.analyzer.ascii_fold = a.ascii_fold();
  if (a.has_stopwords()) out.analyzer.stopwords = a.stopwords();
  if (a.has_stemmer()) out.analyzer.stemmer = a.stemmer();
  if (a.has_max_term_bytes()) out.analyzer.max_term_bytes = a.max_term_bytes();
  if (in.has_k1()) out.k1 = in.k1();
  if (in.has_b()) out.b = in.b();
  for (const v1::TextField& f : in.fields()) out.fields.push_back({f.name(), f.weight() == 0 ? 1u : f.weight()});
  // analyzer_version is the engine's (read-only on the wire).
  return out;
}

void ToProto(const TextIndexConfig& in, v1::TextIndexConfig* out) {
  v1::AnalyzerConfig* a = out->mutable_analyzer();
  a->set_preset(in.analyzer.preset);
  a->set_case_fold(in.analyzer.case_fold);
  a->set_ascii_fold(in.analyzer.ascii_fold);
  a->set_stopwords(in.analyzer.stopwords);
  a->set_stemmer(in.analyzer.stemmer);
  a->set_max_term_bytes(in.analyzer.max_term_bytes);
  out->set_k1(in.k1);
  out->set_b(in.b);
  out->set_analyzer_version(in.analyzer_version);
  for (const TextFieldConfig& f : in.fields) {
    v1::TextField* field = out->add_fields();
    field->set_name(f.name);
    field->set_weight(f.weight);
  }
}

SparseFieldConfig FromProto(const v1::SparseFieldConfig& in) {
  SparseFieldConfig out;
  out.name = in.name();
  if (in.dimension() != 0) out.dimension = in.dimension();
  return out;
}

void ToProto(const SparseFieldConfig& in, v1::SparseFieldConfig* out) {
  out->set_name(in.name);
  out->set_dimension(in.dimension);
}

SparseVector FromProto(const v1::SparseVector& in) {
  SparseVector out;
  out.indices.assign(in.indices().begin(), in.indices().end());
  out.values.assign(in.values().begin(), in.values().end());
  return out;
}

void ToProto(const SparseVector& in, v1::SparseVector* out) {
  out->mutable_indices()->Add(in.indices.begin(), in.indices.end());
  out->mutable_values()->Add(in.values.begin(), in.values.end());
}

Result<FusionConfig> FromProto(const v1::Fusion& in, const std::string& field) {
  FusionConfig out;
  switch (in.method()) {
    case v1::FUSION_METHOD_UNSPECIFIED:
    case v1::FUSION_METHOD_RRF: out.method = FusionMethod::kRrf; break;
    case v1::FUSION_METHOD_CONVEX: out.method = FusionMethod::kConvex; break;
    default:
      return Status::InvalidArgument(field + ".method: unknown value " + std::to_string(in.method()) +
                                     " (FUSION_METHOD_RRF = 1, FUSION_METHOD_CONVEX = 2)");
  }
  if (in.rrf_k() != 0) out.rrf_k = in.rrf_k();
  if (in.has_dense_weight()) out.dense_weight = in.dense_weight();
  if (in.has_text_weight()) out.text_weight = in.text_weight();
  if (in.has_sparse_weight()) out.sparse_weight = in.sparse_weight();
  if (in.leg_limit() != 0) out.leg_limit = in.leg_limit();
  return out;
}

void ToProto(const FusionConfig& in, v1::Fusion* out) {
  out->set_method(in.method == FusionMethod::kConvex ? v1::FUSION_METHOD_CONVEX : v1::FUSION_METHOD_RRF);
  out->set_rrf_k(in.rrf_k);
  out->set_dense_weight(in.dense_weight);
  out->set_text_weight(in.text_weight);
  out->set_sparse_weight(in.sparse_weight);
  out->set_leg_limit(in.leg_limit);
}

LegScore FromProto(const v1::LegScore& in, bool present) {
  LegScore out;
  if (!present) return out;  // rank -1: not found
  out.rank = in.rank();
  out.score = in.score();
  return out;
}

void ToProto(const LegScore& in, v1::LegScore* out) {
  out->set_rank(in.rank);
  out->set_score(in.score);
}

}  // namespace verity::wire
