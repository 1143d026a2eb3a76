#include <catch2/catch.hpp>

#include "engine/test_data.h"
#include "verity/database.h"
#include "verity/prompts.h"

using namespace verity;

TEST_CASE("prompt templates: validation names the offset, rendering names the missing variable", "[engine][prompts]") {
  CHECK(ValidateTemplate("Answer {{question}} from {{ context }}.").ok());
  CHECK(TemplateVariables("{{a}} {{b}} {{a}}") == std::vector<std::string>{"a", "b"});
  const Status unclosed = ValidateTemplate("Hello {{name");
  CHECK(unclosed.code() == StatusCode::kInvalidArgument);
  CHECK(unclosed.message().find("byte 6") != std::string::npos);
  CHECK(ValidateTemplate("a }} b").message().find("byte 2") != std::string::npos);
  CHECK(ValidateTemplate("{{}}").code() == StatusCode::kInvalidArgument);
  CHECK(ValidateTemplate("{{two words}}").code() == StatusCode::kInvalidArgument);

  auto rendered = RenderTemplate("Q: {{q}}\nC: {{ c }}", {{"q", "why?"}, {"c", "because"}});
  REQUIRE(rendered.ok());
  CHECK(*rendered == "Q: why?\nC: because");
  auto missing = RenderTemplate("{{q}} {{c}}", {{"q", "x"}});
  CHECK(missing.status().code() == StatusCode::kInvalidArgument);
  CHECK(missing.status().message().find("\"c\"") != std::string::npos);
  // A value containing braces is inserted as is, not re-expanded.
  CHECK(*RenderTemplate("{{q}}", {{"q", "{{c}}"}}) == "{{c}}");
  // The result is bounded before it is built: a template that uses one
  // large variable many times is refused.
  std::string many;
  for (int i = 0; i < 17; ++i) many += "{{big}}";
  const std::string mib(1 << 20, 'x');
  auto huge = RenderTemplate(many, {{"big", mib}});
  CHECK(huge.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(huge.status().message(), Catch::Contains("exceed 16777216 bytes"));
  auto sixteen = RenderTemplate(many.substr(0, 16 * 7), {{"big", mib}});
  REQUIRE(sixteen.ok());
  CHECK(sixteen->size() == size_t{16} << 20);
}

TEST_CASE("prompt references and line diffs", "[engine][prompts]") {
  auto plain = ParsePromptRef("qa");
  REQUIRE(plain.ok());
  CHECK((plain->name == "qa" && !plain->version && plain->label.empty()));
  auto numbered = ParsePromptRef("qa@12");
  REQUIRE(numbered.ok());
  CHECK((numbered->version && *numbered->version == 12));
  CHECK(ParsePromptRef("qa@staging")->label == "staging");
  CHECK(ParsePromptRef("qa@0").status().code() == StatusCode::kInvalidArgument);
  CHECK(ParsePromptRef("q a").status().code() == StatusCode::kInvalidArgument);
  CHECK(ParsePromptRef("@1").status().code() == StatusCode::kInvalidArgument);

  CHECK(LineDiff("a\nb\nc\n", "a\nb\nc\n").empty());
  CHECK(LineDiff("a\nb\nc\n", "a\nx\nc\n") == " a\n-b\n+x\n c\n");
  CHECK(LineDiff("a", "a\n") == " a\n+(newline at end of text)\n");
}

TEST_CASE("prompt registry: immutable versions, labels, rollback and history", "[engine][prompts]") {
  test::TempDir dir;
  auto db = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(db.ok());
  Database& d = **db;

  auto v1 = d.CreatePromptVersion({"qa", "Answer {{question}} using {{context}}.", R"({"temperature": 0})", "ana",
                                   "first", {"production"}});
  REQUIRE(v1.ok());
  CHECK(v1->version == 1);
  CHECK(v1->variables == std::vector<std::string>{"question", "context"});
  CHECK(v1->labels == std::vector<std::string>{"production"});
  // Labels: at most 64, none twice; a refused version writes nothing.
  std::vector<std::string> labels;
  for (int i = 0; i < 65; ++i) labels.push_back("l" + std::to_string(i));
  const Status too_many = d.CreatePromptVersion({"qa", "x {{question}}", "", "ana", "", labels}).status();
  CHECK(too_many.code() == StatusCode::kInvalidArgument);
  CHECK(too_many.message() == "labels: 65 labels; the limit is 64");
  // config_json: an object, nested at most 32 levels.
  const std::string deep = "{\"a\":" + std::string(40, '[') + std::string(40, ']') + "}";
  const Status nested = d.CreatePromptVersion({"qa", "x {{question}}", deep, "ana", "", {}}).status();
  CHECK(nested.code() == StatusCode::kInvalidArgument);
  CHECK(nested.message() == "config_json: nested 41 levels deep; the limit is 32");
  CHECK(d.CreatePromptVersion({"qa", "x {{question}}", "[1]", "ana", "", {}}).status().message() ==
        "config_json: must be a JSON object");
  const Status twice = d.CreatePromptVersion({"qa", "x {{question}}", "", "ana", "", {"a", "b", "a"}}).status();
  CHECK(twice.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(twice.message(), Catch::StartsWith("labels[2]:"));
  auto v2 = d.CreatePromptVersion({"qa", "Answer {{question}} only from {{context}}.\nCite sources.", "", "bo",
                                   "stricter", {"staging"}});
  REQUIRE(v2.ok());
  CHECK(v2->version == 2);

  // Default get reads production; by number and by label.
  CHECK(d.GetPrompt({"qa", std::nullopt, ""})->version == 1);
  CHECK(d.GetPrompt({"qa", 2, ""})->template_text.find("Cite sources") != std::string::npos);
  CHECK(d.GetPrompt({"qa", std::nullopt, "staging"})->version == 2);

  // Promote 2, then roll back to 1: the label moves, versions do not change.
  REQUIRE(d.SetPromptLabel("qa", "production", 2, "ana").ok());
  CHECK(d.GetPrompt({"qa", std::nullopt, ""})->version == 2);
  auto rollback = d.SetPromptLabel("qa", "production", 1, "bo");
  REQUIRE(rollback.ok());
  CHECK((rollback->previous_version == 2 && rollback->version == 1));
  CHECK(d.GetPrompt({"qa", std::nullopt, ""})->version == 1);
  CHECK(d.GetPrompt({"qa", 2, ""})->message == "stricter");

  auto history = d.PromptLabelHistory("qa", "production");
  REQUIRE(history.ok());
  REQUIRE(history->size() == 3);
  CHECK(((*history)[0].version == 1 && (*history)[0].previous_version == 0 && (*history)[0].actor == "ana"));
  CHECK(((*history)[1].version == 2 && (*history)[1].previous_version == 1));
  CHECK(((*history)[2].version == 1 && (*history)[2].previous_version == 2 && (*history)[2].actor == "bo"));
  CHECK(d.PromptLabelHistory("qa")->size() == 4);  // staging's move too

  auto diff = d.DiffPrompt("qa", 1, 2);
  REQUIRE(diff.ok());
  CHECK(diff->template_diff.find("+Cite sources.") != std::string::npos);
  CHECK(diff->config_changed);

  auto rendered = d.RenderPrompt({"qa", std::nullopt, ""}, {{"question", "Q"}, {"context", "C"}});
  REQUIRE(rendered.ok());
  CHECK(*rendered == "Answer Q using C.");

  auto list = d.ListPrompts();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].latest_version == 2);
  CHECK((*list)[0].labels.at("production") == 1);
  CHECK(d.ListPromptVersions("qa")->size() == 2);

  // Bad input: a clear error, nothing changed.
  CHECK(d.GetPrompt({"nope", std::nullopt, ""}).status().code() == StatusCode::kNotFound);
  CHECK(d.GetPrompt({"qa", 9, ""}).status().message().find("no version 9") != std::string::npos);
  CHECK(d.GetPrompt({"qa", std::nullopt, "canary"}).status().message().find("no label \"canary\"") !=
        std::string::npos);
  CHECK(d.CreatePromptVersion({"qa", "broken {{", "", "", "", {}}).status().code() == StatusCode::kInvalidArgument);
  CHECK(d.CreatePromptVersion({"qa", "ok", "[1, 2]", "", "", {}}).status().code() == StatusCode::kInvalidArgument);
  CHECK(d.CreatePromptVersion({"bad name", "ok", "", "", "", {}}).status().code() == StatusCode::kInvalidArgument);
  CHECK(d.SetPromptLabel("qa", "production", 7, "x").status().code() == StatusCode::kNotFound);
  // A label of digits only could never be named ("qa@2" is version 2).
  const auto digits = d.SetPromptLabel("qa", "2", 1, "x");
  CHECK(digits.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(digits.status().message(), Catch::Contains("label: \"2\" is all digits"));
  CHECK(d.CreatePromptVersion({"qa", "ok", "", "", "", {"v1", "10"}}).status().code() == StatusCode::kInvalidArgument);
  CHECK(d.RenderPrompt({"qa", 1, ""}, {{"question", "Q"}}).status().message().find("\"context\"") !=
        std::string::npos);
  CHECK(d.ListPromptVersions("qa")->size() == 2);
  CHECK(d.GetPrompt({"qa", std::nullopt, ""})->version == 1);

  // Everything survives a reopen.
  db->reset();
  auto reopened = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(reopened.ok());
  CHECK((*reopened)->GetPrompt({"qa", std::nullopt, ""})->version == 1);
  CHECK((*reopened)->PromptLabelHistory("qa")->size() == 4);
  auto v3 = (*reopened)->CreatePromptVersion({"qa", "v3 {{question}}", "", "", "", {}});
  REQUIRE(v3.ok());
  CHECK(v3->version == 3);
}

TEST_CASE("a retrieval logs the prompt version its label resolved to, before and after a rollback",
          "[engine][prompts]") {
  test::TempDir dir;
  auto db = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(db.ok());
  Database& d = **db;
  CollectionConfig config;
  config.name = "docs";
  config.dimension = 4;
  REQUIRE(d.CreateCollection(config).ok());
  std::vector<Record> records;
  for (int i = 0; i < 5; ++i) {
    Record r;
    r.id = "r" + std::to_string(i);
    r.vector = {float(i), 1, 0, 0};
    r.text = "The answer is " + std::to_string(i) + ".";
    records.push_back(r);
  }
  REQUIRE(d.Upsert("docs", records).ok());
  REQUIRE(d.CreatePromptVersion({"qa", "v1 {{q}}", "", "", "", {"production"}}).ok());
  REQUIRE(d.CreatePromptVersion({"qa", "v2 {{q}}", "", "", "", {}}).ok());
  REQUIRE(d.SetPromptLabel("qa", "production", 2, "ops").ok());

  auto retrieve = [&](const std::string& prompt) {
    RetrieveRequest request;
    request.collection = "docs";
    request.vector = {1, 1, 0, 0};
    request.k = 2;
    request.prompt = prompt;
    return d.Retrieve(request);
  };
  auto before = retrieve("qa");  // production = 2
  REQUIRE(before.ok());
  CHECK(before->prompt == "qa@2");
  REQUIRE(d.SetPromptLabel("qa", "production", 1, "ops").ok());  // rollback
  auto after = retrieve("qa@production");
  REQUIRE(after.ok());
  CHECK(after->prompt == "qa@1");
  CHECK(retrieve("qa@2")->prompt == "qa@2");
  CHECK(retrieve("unregistered prompt text")->prompt == "unregistered prompt text");
  CHECK(retrieve("qa@canary").status().code() == StatusCode::kNotFound);

  // The log, and so every audit and replay, shows the two versions.
  auto first = d.GetRetrieval(before->retrieval_id);
  auto second = d.GetRetrieval(after->retrieval_id);
  REQUIRE((first.ok() && second.ok()));
  CHECK(first->first.prompt == "qa@2");
  CHECK(second->first.prompt == "qa@1");
  REQUIRE(d.RecordAnswer({before->retrieval_id, "The answer is 1.", "m", 0, 0}).ok());
  AuditRequest audit;
  audit.retrieval_id = before->retrieval_id;
  auto scored = d.Audit(audit);
  REQUIRE(scored.ok());
  CHECK(scored->prompt == "qa@2");
}

TEST_CASE("prompt versions list in pages, oldest first", "[engine][prompts]") {
  test::TempDir dir;
  auto db = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(db.ok());
  Database& d = **db;
  for (int i = 1; i <= 7; ++i) {
    REQUIRE(d.CreatePromptVersion({"p", "v" + std::to_string(i) + " {{q}}", "", "", "", {}}).ok());
  }
  // Pages of 3 from the start: 1-3, 4-6, 7; the next page starts after each.
  std::vector<uint32_t> seen;
  uint32_t start = 0;
  int pages = 0;
  do {
    auto page = d.ListPromptVersionsPage("p", start, 3);
    REQUIRE(page.ok());
    REQUIRE(!page->versions.empty());
    for (const auto& v : page->versions) {
      seen.push_back(v.version);
      CHECK(v.template_text == "v" + std::to_string(v.version) + " {{q}}");
    }
    start = page->next_start_at;
    ++pages;
  } while (start != 0);
  CHECK(pages == 3);
  CHECK(seen == std::vector<uint32_t>{1, 2, 3, 4, 5, 6, 7});
  // A page that ends exactly at the latest says there is no more.
  auto last = d.ListPromptVersionsPage("p", 5, 3);
  REQUIRE(last.ok());
  CHECK(last->versions.size() == 3);
  CHECK(last->next_start_at == 0);
  // Past the latest: an empty last page. No limit: everything.
  auto past = d.ListPromptVersionsPage("p", 8, 3);
  REQUIRE(past.ok());
  CHECK(past->versions.empty());
  CHECK(past->next_start_at == 0);
  CHECK(d.ListPromptVersionsPage("p", 0, 0)->versions.size() == 7);
  CHECK(d.ListPromptVersions("p")->size() == 7);
  // Bad input.
  const Status over = d.ListPromptVersionsPage("p", 0, Limits::kMaxPromptVersionsPage + 1).status();
  CHECK(over.code() == StatusCode::kInvalidArgument);
  CHECK(over.message() == "limit: 1001 is over 1000 (0 = every version)");
  CHECK(d.ListPromptVersionsPage("nope", 0, 3).status().code() == StatusCode::kNotFound);
}
