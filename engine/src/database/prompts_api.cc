// Database's prompt methods (verity/prompts.h): the façade opens the call
// (lifecycle lock, read-only check for writes) and hands it to the prompt
// registry (prompts/prompt_registry.h), which owns the prompts' storage.
#include "database/database_impl.h"
#include "prompts/prompt_registry.h"

namespace verity {

Result<PromptVersion> Database::GetPrompt(const PromptRef& ref) const {
  VERITY_CHECK_OPEN_();
  return impl_->prompts->Get(ref);
}

Result<std::vector<PromptInfo>> Database::ListPrompts() const {
  VERITY_CHECK_OPEN_();
  return impl_->prompts->List();
}

Result<std::vector<PromptVersion>> Database::ListPromptVersions(const std::string& name) const {
  VERITY_ASSIGN_OR_RETURN(PromptVersionPage all, ListPromptVersionsPage(name, 0, 0));
  return std::move(all.versions);
}

Result<PromptVersionPage> Database::ListPromptVersionsPage(const std::string& name, uint32_t start_at,
                                                           uint32_t limit) const {
  VERITY_CHECK_OPEN_();
  return impl_->prompts->ListVersions(name, start_at, limit);
}

Result<std::vector<PromptLabelEvent>> Database::PromptLabelHistory(const std::string& name,
                                                                   const std::string& label) const {
  VERITY_CHECK_OPEN_();
  return impl_->prompts->LabelHistory(name, label);
}

Result<PromptDiff> Database::DiffPrompt(const std::string& name, uint32_t from, uint32_t to) const {
  VERITY_CHECK_OPEN_();
  return impl_->prompts->Diff(name, from, to);
}

Result<std::string> Database::RenderPrompt(const PromptRef& ref,
                                           const std::map<std::string, std::string>& variables) const {
  VERITY_CHECK_OPEN_();
  return impl_->prompts->Render(ref, variables);
}

Result<PromptVersion> Database::CreatePromptVersion(const PromptDraft& draft) {
  VERITY_CHECK_WRITABLE_();
  return impl_->prompts->Create(draft);
}

Result<PromptLabelEvent> Database::SetPromptLabel(const std::string& name, const std::string& label, uint32_t version,
                                                  const std::string& actor) {
  VERITY_CHECK_WRITABLE_();
  return impl_->prompts->SetLabel(name, label, version, actor);
}

}  // namespace verity
