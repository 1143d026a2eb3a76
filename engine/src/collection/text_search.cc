// Searches with a text or sparse leg, and hybrid searches: every leg reads
// the same version under the same filter; two or more legs are fused
// (docs/text-search.md, "Hybrid search"). Dense-only searches stay in
// collection/read.cc.
#include <algorithm>
#include <cmath>
#include <mutex>
#include <optional>
#include <set>

#include "collection/collections.h"
#include "collection/row_scan.h"
#include "index/distance.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "text/fusion.h"

namespace verity {
namespace {

Status CheckWeight(float w, const char* field) {
  if (!std::isfinite(w) || w < 0 || w > 1000) {
    return Status::InvalidArgument(std::to_string(w) + " is outside 0..1000").WithField(field);
  }
  return Status::Ok();
}

// One leg's hits, best first.
struct Leg {
  enum Kind { kDense, kText, kSparse } kind;
  std::vector<text::QueryTerm> query;  // text / sparse
  std::vector<Collections::RowHit> hits;
};

}  // namespace

Status Collections::ValidateLegs(const Collection& c, const SearchRequest& request) const {
  if (!request.text.empty()) {
    if (!c.text || !c.text->has_text()) {
      return Status::FailedPrecondition("the collection \"" + c.config.name +
                                        "\" has no text index (create it with one to search by text)")
          .WithField("text");
    }
    if (request.text.size() > Limits::kMaxTextBytes) {
      return Status::InvalidArgument(std::to_string(request.text.size()) + " bytes; the limit is " +
                                     std::to_string(Limits::kMaxTextBytes))
          .WithField("text");
    }
  }
  if (!request.sparse_field.empty()) {
    if (!c.text) {
      return Status::InvalidArgument("the collection \"" + c.config.name + "\" has no sparse fields")
          .WithField("sparse_field");
    }
    VERITY_RETURN_IF_ERROR(c.text->SparseQuery(request.sparse_field, request.sparse, "sparse").status());
  } else if (!request.sparse.indices.empty()) {
    return Status::InvalidArgument("a sparse query needs sparse_field (the field it searches)").WithField("sparse_field");
  }
  const FusionConfig& f = request.fusion;
  if (f.rrf_k < 1 || f.rrf_k > 100000) {
    return Status::InvalidArgument(std::to_string(f.rrf_k) + " is outside 1..100000").WithField("fusion.rrf_k");
  }
  if (f.leg_limit < 1 || f.leg_limit > Limits::kMaxK) {
    return Status::InvalidArgument(std::to_string(f.leg_limit) + " is outside 1.." + std::to_string(Limits::kMaxK))
        .WithField("fusion.leg_limit");
  }
  VERITY_RETURN_IF_ERROR(CheckWeight(f.dense_weight, "fusion.dense_weight"));
  VERITY_RETURN_IF_ERROR(CheckWeight(f.text_weight, "fusion.text_weight"));
  VERITY_RETURN_IF_ERROR(CheckWeight(f.sparse_weight, "fusion.sparse_weight"));
  const bool dense = !request.vector.empty(), text = !request.text.empty(), sparse = !request.sparse_field.empty();
  if (dense + text + sparse > 1 &&
      (dense ? f.dense_weight : 0) + (text ? f.text_weight : 0) + (sparse ? f.sparse_weight : 0) <= 0) {
    return Status::InvalidArgument("every leg of this search has weight 0").WithField("fusion");
  }
  return Status::Ok();
}

Status Collections::TextLegFromRows(const Collection& c, const SearchRequest& request,
                                    const std::vector<text::QueryTerm>& query, bool sparse, uint32_t k,
                                    Version version, const rocksdb::ReadOptions& read,
                                    std::vector<RowHit>* hits) const {
  // Every row visible at `version` goes into a one-off index (the
  // statistics count them all); the filter picks the candidates.
  text::PostingIndex index(sparse ? text::PostingIndex::Kind::kDot : text::PostingIndex::Kind::kBm25,
                           sparse ? text::Bm25Params{} : c.text->text_postings()->params());
  const text::DocRanges always{0, text::kOpen, text::kOpen, text::kOpen};
  std::map<uint32_t, std::pair<std::string, Version>> rows;  // label -> id, row version
  std::set<uint32_t> accepted;
  const Filter* filter = request.filter ? &*request.filter : nullptr;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, rows_));
  VERITY_RETURN_IF_ERROR(ForEachRowAt(
      it.get(), c.id, version,
      [&](const std::string& id, const std::string&, Version row_version, const storage::RowMeta& row) -> Status {
        const auto label = static_cast<uint32_t>(row.label());
        if (sparse) {
          auto field = row.sparse().find(request.sparse_field);
          if (field == row.sparse().end() || field->second.indices().empty()) return Status::Ok();
          SparseVector v;
          v.indices.assign(field->second.indices().begin(), field->second.indices().end());
          v.values.assign(field->second.values().begin(), field->second.values().end());
          index.Load(label, always, text::SparseDocument(v));
        } else {
          index.Load(label, always, c.text->AnalyzeDocument(row.text(), MetadataFromProto(row.metadata())));
        }
        rows[label] = {id, row_version};
        if (!filter || filter->Matches(FilterFields(MetadataFromProto(row.metadata()), id, row.document_id()))) {
          accepted.insert(label);
        }
        return Status::Ok();
      }));
  const auto found = index.Search(query, version, k, [&](text::DocId doc) { return accepted.count(doc) > 0; });
  for (const text::ScoredDoc& d : found) {
    const auto& [id, row_version] = rows.at(d.doc);
    hits->push_back({id, row_version, static_cast<float>(d.score)});
  }
  return Status::Ok();
}

namespace {

// The label's hit at `version`, with the leg's score.
Collections::RowHit HitOf(const Collection& c, text::DocId label, Version version, double score) {
  return {c.nodes[label].id, c.nodes[label].RowVersionAt(version), static_cast<float>(score)};
}

// Fuses the legs' hits into the k best (text::Fuse) and sets each hit's
// fused score and per-leg ranks and scores.
std::vector<Collections::RowHit> FuseLegs(const std::vector<Leg>& legs, const FusionConfig& fusion, uint32_t k,
                                          std::vector<SearchHit>* scores) {
  std::vector<text::LegRanking> rankings;
  std::map<std::string, Version> row_version;
  for (const Leg& leg : legs) {
    text::LegRanking r;
    r.higher_is_better = leg.kind != Leg::kDense;
    r.weight = leg.kind == Leg::kDense ? fusion.dense_weight
               : leg.kind == Leg::kText ? fusion.text_weight
                                        : fusion.sparse_weight;
    for (const auto& hit : leg.hits) {
      r.hits.emplace_back(hit.id, hit.distance);
      row_version.emplace(hit.id, hit.row_version);
    }
    rankings.push_back(std::move(r));
  }
  const std::vector<text::FusedHit> fused = text::Fuse(rankings, fusion.method, fusion.rrf_k, k);
  std::vector<Collections::RowHit> out;
  for (const text::FusedHit& f : fused) {
    SearchHit s;
    s.score = static_cast<float>(f.score);
    for (size_t i = 0; i < legs.size(); ++i) {
      LegScore& slot = legs[i].kind == Leg::kDense ? s.dense : legs[i].kind == Leg::kText ? s.text : s.sparse;
      slot = f.legs[i];
      if (legs[i].kind == Leg::kDense && slot.found()) s.distance = slot.score;
    }
    out.push_back({f.id, row_version.at(f.id), s.distance});
    scores->push_back(std::move(s));
  }
  return out;
}

// The request's legs, in the order dense, text, sparse, with the text and
// sparse queries analysed.
Result<std::vector<Leg>> MakeLegs(const Collection& c, const SearchRequest& request) {
  std::vector<Leg> legs;
  if (!request.vector.empty()) legs.push_back({Leg::kDense, {}, {}});
  if (!request.text.empty()) {
    VERITY_ASSIGN_OR_RETURN(auto query, c.text->TextQuery(request.text, "text"));
    legs.push_back({Leg::kText, std::move(query), {}});
  }
  if (!request.sparse_field.empty()) {
    VERITY_ASSIGN_OR_RETURN(auto query, c.text->SparseQuery(request.sparse_field, request.sparse, "sparse"));
    legs.push_back({Leg::kSparse, std::move(query), {}});
  }
  return legs;
}

// Each hit's scores: a hybrid search's fused score and legs (`scores`, in
// the hits' order); a single leg's score (its distance slot until now).
void SetHitScores(bool hybrid, const std::vector<SearchHit>& scores, std::vector<SearchHit>* hits) {
  for (size_t i = 0; i < hits->size(); ++i) {
    SearchHit& hit = (*hits)[i];
    if (hybrid) {
      hit.score = scores[i].score;
      hit.distance = scores[i].distance;
      hit.dense = scores[i].dense;
      hit.text = scores[i].text;
      hit.sparse = scores[i].sparse;
    } else {
      hit.score = hit.distance;  // the leg's score
      hit.distance = 0;
    }
  }
}

}  // namespace

Result<SearchResult> Collections::SearchLegs(const Collection& c, const SearchRequest& request) const {
  VERITY_ASSIGN_OR_RETURN(std::vector<Leg> legs, MakeLegs(c, request));
  const bool hybrid = legs.size() > 1;
  const uint32_t leg_k = hybrid ? std::max(request.k, request.fusion.leg_limit) : request.k;
  std::vector<float> query;
  if (!request.vector.empty()) {
    query = request.vector;
    PrepareVector(c.config.metric, query.data(), c.config.dimension);
  }
  const Filter* filter = request.filter ? &*request.filter : nullptr;
  SearchResult result;
  std::optional<ScopedSnapshot> snapshot;
  bool rows_only = false;
  {
    std::shared_lock lock(c.graph_mu);
    if (!query.empty() && c.graph_broken) {
      return Status::Unavailable("the graph of \"" + c.config.name +
                                 "\" failed to update; restart the server to rebuild it");
    }
    VERITY_ASSIGN_OR_RETURN(result.version, ResolveReadPoint(c, request.at));
    rows_only = !c.GraphServes(result.version);
    if (request.with_payload || request.with_vectors || rows_only) snapshot.emplace(db_);
    if (!rows_only) {
      auto compiled = filter ? c.columns.Compile(*filter) : nullptr;
      const text::DocAccept accept =
          compiled ? text::DocAccept([&](text::DocId label) { return compiled->Matches(label); }) : nullptr;
      for (Leg& leg : legs) {
        if (leg.kind == Leg::kDense) {
          result.exact = DenseLegLocked(c, request, query.data(), leg_k, result.version, compiled.get(), &leg.hits);
          continue;
        }
        const text::PostingIndex* index =
            leg.kind == Leg::kText ? c.text->text_postings() : c.text->sparse_postings(request.sparse_field);
        for (const text::ScoredDoc& d : index->Search(leg.query, result.version, leg_k, accept)) {
          leg.hits.push_back(HitOf(c, d.doc, result.version, d.score));
        }
      }
    }
  }
  if (rows_only) {
    // A log-pinned version whose rows left the node table: every leg reads
    // the rows, exactly (collection/read.cc, SearchRows).
    result.exact = true;
    for (Leg& leg : legs) {
      if (leg.kind == Leg::kDense) {
        SearchRequest dense = request;
        dense.k = leg_k;
        VERITY_RETURN_IF_ERROR(SearchRows(c, dense, result.version, query.data(), snapshot->options(), &leg.hits));
      } else {
        VERITY_RETURN_IF_ERROR(TextLegFromRows(c, request, leg.query, leg.kind == Leg::kSparse, leg_k,
                                               result.version, snapshot->options(), &leg.hits));
      }
    }
  }
  std::vector<RowHit> hit_rows;
  std::vector<SearchHit> scores;
  if (hybrid) {
    hit_rows = FuseLegs(legs, request.fusion, request.k, &scores);
  } else {
    hit_rows = std::move(legs[0].hits);
  }
  VERITY_RETURN_IF_ERROR(FillSearchHits(c, request, hit_rows, snapshot, &result));
  SetHitScores(hybrid, scores, &result.hits);
  return result;
}

}  // namespace verity
