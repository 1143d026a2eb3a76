// The prompt registry (prompt_registry.h): versions, labels and label history
// in the meta column family (keys.h), and the resolution of a retrieval's
// prompt to the exact version it used.
#include "prompts/prompt_registry.h"

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>

#include "storage/codec.h"
#include "storage/keys.h"
#include "base/validate.h"
#include "verity/types.h"

namespace verity {
namespace {

constexpr size_t kMaxActorBytes = 1024;
constexpr size_t kMaxMessageBytes = 4096;
constexpr size_t kMaxLabelsPerVersion = 64;  // labels set by one CreatePromptVersion

std::string U32Value(uint32_t v) {
  std::string out;
  keys::PutU32(&out, v);
  return out;
}

Status ValidateConfigJson(const std::string& config) {
  if (config.empty()) return Status::Ok();
  if (config.size() > Limits::kMaxPromptBytes) {
    return Status::InvalidArgument("config_json: " + std::to_string(config.size()) + " bytes; the limit is " +
                                   std::to_string(Limits::kMaxPromptBytes));
  }
  // Bounded in nesting before it is parsed, as a cache's params_json: a
  // value printed back recurses once per level.
  if (const size_t depth = JsonNestingDepth(config); depth > Limits::kMaxParamsJsonDepth) {
    return Status::InvalidArgument("config_json: nested " + std::to_string(depth) + " levels deep; the limit is " +
                                   std::to_string(Limits::kMaxParamsJsonDepth));
  }
  const nlohmann::json parsed = nlohmann::json::parse(config, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Status::InvalidArgument("config_json: not valid JSON");
  if (!parsed.is_object()) return Status::InvalidArgument("config_json: must be a JSON object");
  return Status::Ok();
}

Status ValidateTemplateText(const std::string& template_text) {
  if (template_text.size() > Limits::kMaxPromptBytes) {
    return Status::InvalidArgument("template: " + std::to_string(template_text.size()) + " bytes; the limit is " +
                                   std::to_string(Limits::kMaxPromptBytes));
  }
  if (template_text.empty()) return Status::InvalidArgument("template: empty");
  if (!IsValidUtf8(template_text)) return Status::InvalidArgument("template: not valid UTF-8");
  return ValidateTemplate(template_text);
}

Status ValidateDraftLabels(const std::vector<std::string>& labels) {
  if (labels.size() > kMaxLabelsPerVersion) {
    return Status::InvalidArgument("labels: " + std::to_string(labels.size()) + " labels; the limit is " +
                                   std::to_string(kMaxLabelsPerVersion));
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    VERITY_RETURN_IF_ERROR(ValidatePromptLabel(labels[i], "labels[" + std::to_string(i) + "]"));
    for (size_t j = 0; j < i; ++j) {
      if (labels[j] == labels[i]) {
        return Status::InvalidArgument("labels[" + std::to_string(i) + "]: \"" + labels[i] +
                                       "\" is given twice (also labels[" + std::to_string(j) + "])");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidatePromptLabel(const std::string& label, const std::string& field) {
  VERITY_RETURN_IF_ERROR(ValidateName(label, field));
  if (std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::InvalidArgument(field + ": \"" + label + "\" is all digits, which name@" + label +
                                   " reads as a version; a label needs a letter");
  }
  return Status::Ok();
}

Status ValidatePromptDraft(const PromptDraft& draft) {
  VERITY_RETURN_IF_ERROR(ValidateName(draft.name, "name"));
  VERITY_RETURN_IF_ERROR(ValidateTemplateText(draft.template_text));
  VERITY_RETURN_IF_ERROR(ValidateConfigJson(draft.config_json));
  if (draft.author.size() > kMaxActorBytes || !IsValidUtf8(draft.author)) {
    return Status::InvalidArgument("author: at most " + std::to_string(kMaxActorBytes) + " bytes of UTF-8");
  }
  if (draft.message.size() > kMaxMessageBytes || !IsValidUtf8(draft.message)) {
    return Status::InvalidArgument("message: at most " + std::to_string(kMaxMessageBytes) + " bytes of UTF-8");
  }
  return ValidateDraftLabels(draft.labels);
}

PromptRegistry::PromptRegistry(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta, WriteFn write, ClockFn now_us)
    : db_(db), meta_(meta), write_(std::move(write)), now_us_(std::move(now_us)) {}

// --- Reading ------------------------------------------------------------------

Result<PromptVersion> PromptRegistry::ReadVersion(const std::string& name, uint32_t version,
                                                  const std::map<std::string, uint32_t>* labels) const {
  std::string value;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), meta_, keys::PromptVersionKey(name, version), &value);
  if (rs.IsNotFound()) {
    VERITY_ASSIGN_OR_RETURN(uint32_t latest, LatestVersion(name));
    if (latest == 0) return Status::NotFound("prompt \"" + name + "\" does not exist");
    return Status::NotFound("prompt \"" + name + "\" has no version " + std::to_string(version) + " (latest is " +
                            std::to_string(latest) + ")");
  }
  VERITY_RETURN_IF_ERROR(FromRocks(rs, "read prompt " + name));
  storage::PromptVersionMeta m;
  if (!m.ParseFromString(value))
    return Status::DataLoss("prompt " + name + " version " + std::to_string(version) + " does not parse");
  PromptVersion p;
  p.name = name;
  p.version = version;
  p.template_text = m.template_text();
  p.config_json = m.config_json();
  p.author = m.author();
  p.message = m.message();
  p.created_at_us = m.created_at_us();
  p.variables = TemplateVariables(p.template_text);
  std::map<std::string, uint32_t> read;
  if (labels == nullptr) {
    VERITY_ASSIGN_OR_RETURN(read, Labels(name));
    labels = &read;
  }
  for (const auto& [label, target] : *labels) {
    if (target == version) p.labels.push_back(label);
  }
  return p;
}

Result<uint32_t> PromptRegistry::LatestVersion(const std::string& name) const {
  const std::string prefix = keys::PromptVersionPrefix(name);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  it->SeekForPrev(keys::PromptVersionKey(name, UINT32_MAX));
  uint32_t latest = 0;
  if (it->Valid() && it->key().starts_with(prefix) && it->key().size() == prefix.size() + 4) {
    latest = keys::GetU32(it->key().data() + prefix.size());
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "read prompt " + name));
  return latest;
}

Result<std::map<std::string, uint32_t>> PromptRegistry::Labels(const std::string& name) const {
  const std::string prefix = keys::PromptLabelPrefix(name);
  std::map<std::string, uint32_t> labels;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->value().size() != 4) return Status::DataLoss("prompt " + name + ": malformed label");
    labels[it->key().ToString().substr(prefix.size())] = keys::GetU32(it->value().data());
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "read prompt labels of " + name));
  return labels;
}

Result<PromptVersion> PromptRegistry::Get(const PromptRef& ref) const {
  VERITY_ASSIGN_OR_RETURN(uint32_t version, ResolveVersion(ref));
  return ReadVersion(ref.name, version);
}

Result<std::vector<PromptInfo>> PromptRegistry::List() const {
  std::vector<PromptInfo> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (it->Seek("Q"); it->Valid() && it->key().starts_with("Q"); it->Next()) {
    const std::string key = it->key().ToString();
    const size_t end = key.find('\0', 1);
    if (end == std::string::npos || key.size() != end + 5) return Status::DataLoss("meta: malformed prompt key");
    const std::string name = key.substr(1, end - 1);
    if (out.empty() || out.back().name != name) out.push_back(PromptInfo{name, 0, {}});
    out.back().latest_version = keys::GetU32(key.data() + end + 1);
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "list prompts"));
  for (PromptInfo& info : out) {
    VERITY_ASSIGN_OR_RETURN(info.labels, Labels(info.name));
  }
  return out;
}

Result<PromptVersionPage> PromptRegistry::ListVersions(const std::string& name, uint32_t start_at,
                                                       uint32_t limit) const {
  VERITY_RETURN_IF_ERROR(ValidateName(name, "name"));
  if (limit > Limits::kMaxPromptVersionsPage) {
    return Status::InvalidArgument("limit: " + std::to_string(limit) + " is over " +
                                   std::to_string(Limits::kMaxPromptVersionsPage) + " (0 = every version)");
  }
  VERITY_ASSIGN_OR_RETURN(uint32_t latest, LatestVersion(name));
  if (latest == 0) return Status::NotFound("prompt \"" + name + "\" does not exist");
  VERITY_ASSIGN_OR_RETURN(auto labels, Labels(name));  // once, not per version
  PromptVersionPage out;
  // Versions are numbered 1..latest with no gaps (none is ever removed).
  const uint64_t first = std::max<uint64_t>(start_at, 1);
  const uint64_t end = limit == 0 ? uint64_t{latest} + 1 : std::min<uint64_t>(uint64_t{latest} + 1, first + limit);
  for (uint64_t v = first; v < end; ++v) {
    VERITY_ASSIGN_OR_RETURN(PromptVersion p, ReadVersion(name, static_cast<uint32_t>(v), &labels));
    out.versions.push_back(std::move(p));
  }
  if (end <= latest) out.next_start_at = static_cast<uint32_t>(end);
  return out;
}

Result<std::vector<PromptLabelEvent>> PromptRegistry::LabelHistory(const std::string& name,
                                                                   const std::string& label) const {
  VERITY_RETURN_IF_ERROR(ValidateName(name, "name"));
  if (!label.empty()) VERITY_RETURN_IF_ERROR(ValidateName(label, "label"));
  VERITY_ASSIGN_OR_RETURN(uint32_t latest, LatestVersion(name));
  if (latest == 0) return Status::NotFound("prompt \"" + name + "\" does not exist");
  std::vector<PromptLabelEvent> out;
  const std::string prefix = keys::PromptMovePrefix(name);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    storage::PromptLabelMove m;
    if (!m.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("prompt " + name + ": a label move does not parse");
    }
    if (!label.empty() && m.label() != label) continue;
    out.push_back({name, m.label(), m.version(), m.previous_version(), m.actor(), m.moved_at_us()});
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "read label history of " + name));
  return out;
}

Result<PromptDiff> PromptRegistry::Diff(const std::string& name, uint32_t from, uint32_t to) const {
  VERITY_RETURN_IF_ERROR(ValidateName(name, "name"));
  VERITY_ASSIGN_OR_RETURN(PromptVersion a, ReadVersion(name, from));
  VERITY_ASSIGN_OR_RETURN(PromptVersion b, ReadVersion(name, to));
  PromptDiff d;
  d.name = name;
  d.from = from;
  d.to = to;
  d.template_diff = LineDiff(a.template_text, b.template_text);
  d.config_changed = a.config_json != b.config_json;
  d.from_config = a.config_json;
  d.to_config = b.config_json;
  return d;
}

Result<std::string> PromptRegistry::Render(const PromptRef& ref,
                                           const std::map<std::string, std::string>& variables) const {
  VERITY_ASSIGN_OR_RETURN(PromptVersion p, Get(ref));
  return RenderTemplate(p.template_text, variables);
}

// --- Resolving ----------------------------------------------------------------

Result<uint32_t> PromptRegistry::ResolveVersion(const PromptRef& ref) const {
  VERITY_RETURN_IF_ERROR(ValidateName(ref.name, "name"));
  const std::string label = ref.label.empty() ? kProductionLabel : ref.label;
  if (!ref.version) VERITY_RETURN_IF_ERROR(ValidateName(label, "label"));
  const std::string key =
      ref.version ? keys::PromptVersionKey(ref.name, *ref.version) : keys::PromptLabelKey(ref.name, label);
  std::string value;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), meta_, key, &value);
  if (rs.IsNotFound()) return RefNotFound(ref, label);
  VERITY_RETURN_IF_ERROR(FromRocks(rs, "read prompt " + ref.name));
  if (ref.version) return *ref.version;
  if (value.size() != 4) return Status::DataLoss("prompt " + ref.name + ": malformed label " + label);
  return keys::GetU32(value.data());
}

Status PromptRegistry::RefNotFound(const PromptRef& ref, const std::string& label) const {
  VERITY_ASSIGN_OR_RETURN(uint32_t latest, LatestVersion(ref.name));
  if (latest == 0) return Status::NotFound("prompt \"" + ref.name + "\" does not exist");
  if (ref.version) {
    return Status::NotFound("prompt \"" + ref.name + "\" has no version " + std::to_string(*ref.version) +
                            " (latest is " + std::to_string(latest) + ")");
  }
  return Status::NotFound("prompt \"" + ref.name + "\" has no label \"" + label + "\"");
}

Result<std::string> PromptRegistry::ResolvePrompt(const std::string& prompt) const {
  if (prompt.empty()) return prompt;
  Result<PromptRef> ref = ParsePromptRef(prompt);
  // Free text that is no reference, or a name the registry does not hold,
  // is recorded as given (retrievals named prompts before the registry).
  if (!ref.ok()) return prompt;
  // On every Retrieve and cache lookup that names a prompt: the number only
  // (one point read), not the version's template and labels.
  Result<uint32_t> version = ResolveVersion(*ref);
  if (!version.ok()) {
    if (version.status().code() != StatusCode::kNotFound) return version.status();
    VERITY_ASSIGN_OR_RETURN(uint32_t latest, LatestVersion(ref->name));
    if (latest == 0) return prompt;
    return version.status();
  }
  return ref->name + "@" + std::to_string(*version);
}

// --- Writing ------------------------------------------------------------------

Result<PromptRegistry::LabelState> PromptRegistry::LoadLabelState(const std::string& name) const {
  LabelState state;
  VERITY_ASSIGN_OR_RETURN(state.labels, Labels(name));
  // The next move number: one past the last one stored.
  const std::string prefix = keys::PromptMovePrefix(name);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  it->SeekForPrev(keys::PromptMoveKey(name, UINT64_MAX));
  if (it->Valid() && it->key().starts_with(prefix) && it->key().size() == prefix.size() + 8) {
    state.next_seq = keys::GetU64(it->key().data() + prefix.size()) + 1;
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "read label history of " + name));
  return state;
}

PromptLabelEvent PromptRegistry::AddLabelMove(rocksdb::WriteBatch* batch, const std::string& name,
                                              const std::string& label, uint32_t version, const std::string& actor,
                                              int64_t now_us, LabelState& state) const {
  const auto current = state.labels.find(label);
  storage::PromptLabelMove m;
  m.set_label(label);
  m.set_version(version);
  m.set_previous_version(current == state.labels.end() ? 0 : current->second);
  m.set_actor(actor);
  m.set_moved_at_us(now_us);
  batch->Put(meta_, keys::PromptLabelKey(name, label), U32Value(version));
  batch->Put(meta_, keys::PromptMoveKey(name, state.next_seq++), m.SerializeAsString());
  state.labels[label] = version;
  return {name, label, version, m.previous_version(), actor, now_us};
}

Result<PromptVersion> PromptRegistry::Create(const PromptDraft& draft) {
  VERITY_RETURN_IF_ERROR(ValidatePromptDraft(draft));
  std::lock_guard lock(mu_);
  VERITY_ASSIGN_OR_RETURN(uint32_t latest, LatestVersion(draft.name));
  if (latest == UINT32_MAX) return Status::ResourceExhausted("prompt \"" + draft.name + "\" has every version number");
  const int64_t now = now_us_();
  storage::PromptVersionMeta m;
  m.set_template_text(draft.template_text);
  m.set_config_json(draft.config_json);
  m.set_author(draft.author);
  m.set_message(draft.message);
  m.set_created_at_us(now);
  // The version and its label moves: one atomic write.
  rocksdb::WriteBatch batch;
  batch.Put(meta_, keys::PromptVersionKey(draft.name, latest + 1), m.SerializeAsString());
  VERITY_ASSIGN_OR_RETURN(LabelState labels, LoadLabelState(draft.name));
  for (const std::string& label : draft.labels) {
    AddLabelMove(&batch, draft.name, label, latest + 1, draft.author, now, labels);
  }
  VERITY_RETURN_IF_ERROR(write_(&batch, "write prompt " + draft.name));
  return ReadVersion(draft.name, latest + 1);
}

Result<PromptLabelEvent> PromptRegistry::SetLabel(const std::string& name, const std::string& label, uint32_t version,
                                                  const std::string& actor) {
  VERITY_RETURN_IF_ERROR(ValidateName(name, "name"));
  VERITY_RETURN_IF_ERROR(ValidatePromptLabel(label, "label"));
  if (actor.size() > kMaxActorBytes || !IsValidUtf8(actor)) {
    return Status::InvalidArgument("actor: at most " + std::to_string(kMaxActorBytes) + " bytes of UTF-8");
  }
  std::lock_guard lock(mu_);
  VERITY_RETURN_IF_ERROR(ReadVersion(name, version).status());
  rocksdb::WriteBatch batch;
  VERITY_ASSIGN_OR_RETURN(LabelState labels, LoadLabelState(name));
  const PromptLabelEvent event = AddLabelMove(&batch, name, label, version, actor, now_us_(), labels);
  VERITY_RETURN_IF_ERROR(write_(&batch, "move label " + label));
  return event;
}

}  // namespace verity
