// The prompt registry (issue #8): prompts as versioned, immutable templates
// with movable labels, so that a changed prompt is a new version, a rollback
// is a label move, and every retrieval that names a prompt records the exact
// version it used (docs/prompts.md).
//
// A prompt has a name (1..128 of [A-Za-z0-9_.-]), and versions 1, 2, 3, ...
// each holding a template with {{variables}}, an optional JSON config
// (model parameters and the like) and who made it, when. Versions never
// change. Labels (`production`, `staging`, any name of the same form) point
// at a version; moving one appends to the label history (who, when, from
// which version to which). A get without a version or label reads the
// `production` label.
//
// Templates: text with {{name}} placeholders; a name is 1..128 of
// [A-Za-z0-9_.-], spaces inside the braces are allowed ({{ name }}). A
// literal "{{" or "}}" outside a placeholder, an unclosed "{{", or an
// invalid name is refused when the version is created, naming the byte
// offset. Rendering replaces every placeholder; a variable without a value
// is an error naming it.
//
// Thread-safety: the functions here are pure; Database's prompt methods
// (database.h) are safe to call concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "verity/status.h"

namespace verity {

inline constexpr char kProductionLabel[] = "production";

struct PromptDraft {
  std::string name;
  std::string template_text;  // at most Limits::kMaxPromptBytes
  std::string config_json;    // "" or a JSON object
  std::string author;         // who creates it (free text, at most 1024 bytes)
  std::string message;        // why (free text, at most 4096 bytes)
  std::vector<std::string> labels;  // labels to point at the new version, in the same write
};

struct PromptVersion {
  std::string name;
  uint32_t version = 0;
  std::string template_text;
  std::string config_json;
  std::string author;
  std::string message;
  int64_t created_at_us = 0;
  std::vector<std::string> variables;  // the template's placeholders, in first-use order
  std::vector<std::string> labels;     // labels pointing at this version now, sorted
};

// A page of ListPromptVersionsPage.
struct PromptVersionPage {
  std::vector<PromptVersion> versions;  // oldest first
  uint32_t next_start_at = 0;           // 0 = no more
};

struct PromptInfo {
  std::string name;
  uint32_t latest_version = 0;
  std::map<std::string, uint32_t> labels;  // label -> version
};

struct PromptLabelEvent {
  std::string name;
  std::string label;
  uint32_t version = 0;           // where the label points after the move
  uint32_t previous_version = 0;  // 0: the label was new
  std::string actor;
  int64_t moved_at_us = 0;
};

// Which version to read: a number, or a label (default production).
struct PromptRef {
  std::string name;
  std::optional<uint32_t> version;
  std::string label;  // used when version is unset; "" = production
};

struct PromptDiff {
  std::string name;
  uint32_t from = 0, to = 0;
  std::string template_diff;  // unified-style line diff ("-", "+", " " lines), "" when equal
  bool config_changed = false;
  std::string from_config, to_config;
};

// --- Templates (pure) --------------------------------------------------------
// Errors: InvalidArgument naming the byte offset of the first problem.
Status ValidateTemplate(const std::string& template_text);
// The placeholder names in first-use order, each once. The template must
// validate.
std::vector<std::string> TemplateVariables(const std::string& template_text);
// Replaces every placeholder. Errors: InvalidArgument for an invalid
// template, naming the first variable (in template order) without a value,
// or when the result would exceed Limits::kMaxRenderedPromptBytes.
Result<std::string> RenderTemplate(const std::string& template_text,
                                   const std::map<std::string, std::string>& variables);
// A line diff of two texts: "-" lines only in `from`, "+" lines only in
// `to`, " " lines in both (longest common subsequence of lines); "" when
// the texts are equal.
std::string LineDiff(const std::string& from, const std::string& to);
// Parses "name", "name@7" or "name@label". Errors: InvalidArgument.
Result<PromptRef> ParsePromptRef(const std::string& text);

}  // namespace verity
