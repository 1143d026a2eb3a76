// libFuzzer target: request validation and conversion for every RPC. The
// first byte picks a request message (12: a prompt version, whose template is
// checked, rendered and diffed), the rest is its wire encoding; it is
// parsed as verityd parses it and converted as the services convert it
// (proto/wire/convert.h), records also through the engine's validation.
// Anything must give a value or an error Status, never a crash.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "convert.h"
#include "base/validate.h"
#include "verity/v1/collections.pb.h"
#include "verity/filter_parser.h"
#include "verity/prompts.h"
#include "verity/v1/context.pb.h"
#include "verity/v1/prompts.pb.h"
#include "verity/v1/records.pb.h"
#include "verity/v1/search.pb.h"
#include "verity/v1/snapshots.pb.h"

namespace {

using namespace verity;

template <typename Message>
bool Parse(Message* m, const uint8_t* data, size_t size) {
  return m->ParseFromArray(data, static_cast<int>(size));
}

void ExpectError(const Status& s) {
  if (s.ok()) return;
  if (s.message().empty()) std::abort();  // every refusal says why
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t which = data[0] % 13;
  ++data;
  --size;
  switch (which) {
    case 0: {
      v1::CreateCollectionRequest r;
      if (!Parse(&r, data, size)) return 0;
      auto c = wire::FromProto(r.config());
      ExpectError(c.status());
      if (c.ok()) ExpectError(ValidateCollectionConfig(*c));  // what CreateCollection checks next
      break;
    }
    case 1: {
      v1::UpsertRequest r;
      if (!Parse(&r, data, size)) return 0;
      for (int i = 0; i < r.records_size(); ++i) {
        auto rec = wire::FromProto(r.records(i), "records[" + std::to_string(i) + "]");
        ExpectError(rec.status());
        if (rec.ok()) ExpectError(ValidateRecord(*rec, 4, "records[" + std::to_string(i) + "]"));
      }
      break;
    }
    case 2: {
      v1::SearchRequest r;
      if (!Parse(&r, data, size)) return 0;
      ExpectError(wire::FromProto(r.query(), "query").status());
      break;
    }
    case 3: {
      v1::BatchSearchRequest r;
      if (!Parse(&r, data, size)) return 0;
      for (int i = 0; i < r.queries_size(); ++i) {
        ExpectError(wire::FromProto(r.queries(i), "queries[" + std::to_string(i) + "]").status());
      }
      break;
    }
    case 4: {
      v1::RetrieveRequest r;
      if (!Parse(&r, data, size)) return 0;
      ExpectError(wire::FromProto(r).status());
      break;
    }
    case 5: {
      v1::ListLogRequest r;
      if (!Parse(&r, data, size)) return 0;
      ExpectError(wire::FromProto(r).status());
      break;
    }
    case 6: {
      v1::ReplayRequest r;
      if (!Parse(&r, data, size)) return 0;
      ExpectError(wire::FromProto(r).status());
      break;
    }
    case 7: {
      v1::AuditRequest r;
      if (!Parse(&r, data, size)) return 0;
      (void)wire::FromProto(r);
      v1::AuditCollectionRequest b;
      if (Parse(&b, data, size)) (void)wire::FromProto(b);
      break;
    }
    case 8: {
      v1::GetRequest r;
      if (!Parse(&r, data, size)) return 0;
      ExpectError(wire::FromProto(r.at(), r.has_at(), "at").status());
      ExpectError(ValidateRecordId(r.id(), "id"));
      break;
    }
    case 9: {
      v1::ScrollRequest r;
      if (!Parse(&r, data, size)) return 0;
      ExpectError(wire::FromProto(r.at(), r.has_at(), "at").status());
      ExpectError(ParseFilterField(r.filter(), "filter").status());
      break;
    }
    case 10: {
      v1::DiffRequest r;
      if (!Parse(&r, data, size)) return 0;
      ExpectError(wire::FromProto(r.from(), r.has_from(), "from").status());
      ExpectError(wire::FromProto(r.to(), r.has_to(), "to").status());
      break;
    }
    case 11: {
      v1::SetRetentionRequest r;
      if (!Parse(&r, data, size)) return 0;
      auto p = wire::RetentionFromProto(r, RetentionPolicy{}, "retention");
      ExpectError(p.status());
      if (p.ok()) ExpectError(ValidateRetention(*p));
      break;
    }
    case 12: {
      // The prompt registry's template checks, rendering and diff on a new
      // version's text (docs/prompts.md).
      v1::CreatePromptVersionRequest r;
      if (!Parse(&r, data, size)) return 0;
      const PromptDraft d = wire::FromProto(r);
      const Status valid = ValidateTemplate(d.template_text);
      ExpectError(valid);
      std::map<std::string, std::string> values;
      if (valid.ok()) {
        for (const auto& v : TemplateVariables(d.template_text)) values[v] = d.author;
      }
      // With a value for every variable, a valid template renders.
      if (RenderTemplate(d.template_text, values).ok() != valid.ok()) std::abort();
      ExpectError(ParsePromptRef(d.name).status());
      (void)LineDiff(d.template_text, d.message);
      break;
    }
  }
  return 0;
}
