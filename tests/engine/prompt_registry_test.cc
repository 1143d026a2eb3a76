// The prompt registry on its own (prompts/prompt_registry.h), over a bare
// RocksDB database with the write function and clock a test gives it: what
// a failed write leaves, where times come from, draft validation and how a
// retrieval's prompt resolves. Database-level behaviour is in prompts_test.cc.
#include <catch2/catch.hpp>
#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/test_data.h"
#include "prompts/prompt_registry.h"
#include "verity/types.h"

using namespace verity;

namespace {

// A RocksDB database with a `meta` column family, and a registry over it
// whose writes fail while `fail_writes` is set and whose clock reads `now`.
struct RegistryFixture {
  test::TempDir dir;
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  bool fail_writes = false;
  int64_t now = 1000;
  std::unique_ptr<PromptRegistry> registry;

  RegistryFixture() {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()}, {"meta", rocksdb::ColumnFamilyOptions()}};
    REQUIRE(rocksdb::DB::Open(options, dir.Sub("db"), families, &handles, &db).ok());
    registry = std::make_unique<PromptRegistry>(
        db, handles[1],
        [this](rocksdb::WriteBatch* batch, const std::string& what) {
          if (fail_writes) return Status::Unavailable(what + ": the disk said no");
          return db->Write(rocksdb::WriteOptions(), batch).ok() ? Status::Ok() : Status::Internal(what);
        },
        [this] { return now; });
  }
  ~RegistryFixture() {
    registry.reset();
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
};

PromptDraft Draft(const std::string& name, const std::string& text, std::vector<std::string> labels = {}) {
  PromptDraft d;
  d.name = name;
  d.template_text = text;
  d.author = "ana";
  d.labels = std::move(labels);
  return d;
}

}  // namespace

TEST_CASE("prompt registry: a failed write stores nothing and uses up no version number", "[engine][prompts]") {
  RegistryFixture f;
  f.fail_writes = true;
  Result<PromptVersion> failed = f.registry->Create(Draft("qa", "Q: {{q}}", {"production"}));
  CHECK(failed.status().code() == StatusCode::kUnavailable);
  CHECK(failed.status().message().find("write prompt qa") != std::string::npos);
  CHECK(f.registry->List()->empty());
  CHECK(f.registry->Get({"qa", 1, ""}).status().code() == StatusCode::kNotFound);

  f.fail_writes = false;
  Result<PromptVersion> first = f.registry->Create(Draft("qa", "Q: {{q}}", {"production"}));
  REQUIRE(first.ok());
  CHECK(first->version == 1);  // the failed write took no number
  REQUIRE(f.registry->Create(Draft("qa", "Question: {{q}}")).ok());

  // A failed label move leaves the label and its history as they were, and
  // the next move is numbered as if it had not been tried.
  f.fail_writes = true;
  CHECK(f.registry->SetLabel("qa", "production", 2, "bob").status().message().find("move label production") !=
        std::string::npos);
  f.fail_writes = false;
  CHECK(f.registry->ResolveVersion({"qa", std::nullopt, ""}).value() == 1);
  REQUIRE(f.registry->LabelHistory("qa", "")->size() == 1);
  REQUIRE(f.registry->SetLabel("qa", "production", 2, "bob").ok());
  const auto history = f.registry->LabelHistory("qa", "production");
  REQUIRE(history->size() == 2);
  CHECK((*history)[1].previous_version == 1);
  CHECK((*history)[1].version == 2);
}

TEST_CASE("prompt registry: creation and label-move times come from the clock it is given", "[engine][prompts]") {
  RegistryFixture f;
  f.now = 42;
  Result<PromptVersion> v1 = f.registry->Create(Draft("qa", "{{q}}", {"staging"}));
  REQUIRE(v1.ok());
  CHECK(v1->created_at_us == 42);
  CHECK(v1->labels == std::vector<std::string>{"staging"});
  f.now = 77;
  Result<PromptLabelEvent> moved = f.registry->SetLabel("qa", "production", 1, "bob");
  REQUIRE(moved.ok());
  CHECK(moved->moved_at_us == 77);
  CHECK(moved->previous_version == 0);  // a new label
  const auto history = f.registry->LabelHistory("qa", "");
  REQUIRE(history->size() == 2);
  CHECK((*history)[0].moved_at_us == 42);
  CHECK((*history)[0].actor == "ana");  // the draft's author moves its labels
  CHECK((*history)[1].moved_at_us == 77);
  CHECK((*history)[1].actor == "bob");
}

TEST_CASE("prompt drafts: validation names the first field that fails", "[engine][prompts]") {
  CHECK(ValidatePromptDraft(Draft("qa", "Q: {{q}}", {"production", "staging"})).ok());
  CHECK(ValidatePromptDraft(Draft("bad name", "x")).message().find("name") == 0);
  CHECK(ValidatePromptDraft(Draft("qa", "")).message() == "template: empty");
  CHECK(ValidatePromptDraft(Draft("qa", "{{")).code() == StatusCode::kInvalidArgument);
  PromptDraft config = Draft("qa", "x");
  config.config_json = "[1]";
  CHECK(ValidatePromptDraft(config).message() == "config_json: must be a JSON object");
  const Status twice = ValidatePromptDraft(Draft("qa", "x", {"prod", "prod"}));
  CHECK(twice.message() == "labels[1]: \"prod\" is given twice (also labels[0])");
  CHECK(ValidatePromptDraft(Draft("qa", "x", std::vector<std::string>(65, "l"))).message() ==
        "labels: 65 labels; the limit is 64");
  const Status digits = ValidatePromptLabel("2", "label");
  CHECK(digits.code() == StatusCode::kInvalidArgument);
  CHECK(digits.message().find("all digits") != std::string::npos);
  CHECK(ValidatePromptLabel("v2", "label").ok());
}

TEST_CASE("prompt registry: a retrieval's prompt resolves to its exact version, or stays as given",
          "[engine][prompts]") {
  RegistryFixture f;
  REQUIRE(f.registry->Create(Draft("qa", "{{q}}", {"production"})).ok());
  REQUIRE(f.registry->Create(Draft("qa", "Q: {{q}}", {"staging"})).ok());
  CHECK(*f.registry->ResolvePrompt("") == "");
  CHECK(*f.registry->ResolvePrompt("qa") == "qa@1");
  CHECK(*f.registry->ResolvePrompt("qa@staging") == "qa@2");
  CHECK(*f.registry->ResolvePrompt("qa@2") == "qa@2");
  // Free text, and names the registry does not hold, are logged as given.
  CHECK(*f.registry->ResolvePrompt("Answer briefly.") == "Answer briefly.");
  CHECK(*f.registry->ResolvePrompt("other@beta") == "other@beta");
  // A registered prompt's unknown version or label is an error.
  CHECK(f.registry->ResolvePrompt("qa@3").status().message() == "prompt \"qa\" has no version 3 (latest is 2)");
  CHECK(f.registry->ResolvePrompt("qa@beta").status().message() == "prompt \"qa\" has no label \"beta\"");
}
