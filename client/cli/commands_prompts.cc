// prompt create / get / list / versions / diff / label / history / render:
// the prompt registry (docs/prompts.md).
#include <sstream>

#include "command_table.h"

namespace verity::cli {
namespace {

Json PromptJson(const PromptVersion& p) {
  return {
      {"name", p.name},     {"version", p.version}, {"template", p.template_text},      {"config_json", p.config_json},
      {"author", p.author}, {"message", p.message}, {"created_at_us", p.created_at_us}, {"variables", p.variables},
      {"labels", p.labels}};
}

Json LabelMoveJson(const PromptLabelEvent& m) {
  return {{"name", m.name},       {"label", m.label},
          {"version", m.version}, {"previous_version", m.previous_version},
          {"actor", m.actor},     {"moved_at_us", m.moved_at_us}};
}

// NAME, NAME@VERSION or NAME@LABEL.
PromptRef PromptArg(const std::string& text) {
  Result<PromptRef> ref = ParsePromptRef(text);
  if (!ref.ok()) throw UsageError{ref.status().message()};
  return *ref;
}

uint32_t VersionArg(const std::string& text, const char* what) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 10 ||
      std::stoull(text) == 0 || std::stoull(text) > UINT32_MAX) {
    throw UsageError{std::string(what) + " \"" + text + "\" is not a version number (1, 2, ...)"};
  }
  return static_cast<uint32_t>(std::stoull(text));
}

void PrintPrompt(const Cli& cli, const PromptVersion& p) {
  if (cli.json) {
    std::cout << PromptJson(p).dump() << "\n";
    return;
  }
  const std::string labels = Join(p.labels, ", ");
  std::cout << p.name << "@" << p.version << (labels.empty() ? "" : "  (" + labels + ")") << "\n"
            << "created " << TimeText(p.created_at_us) << " UTC" << (p.author.empty() ? "" : " by " + p.author)
            << (p.message.empty() ? "" : ": " + p.message) << "\n";
  if (!p.variables.empty()) std::cout << "variables: " << Join(p.variables, ", ") << "\n";
  if (!p.config_json.empty()) std::cout << "config: " << p.config_json << "\n";
  std::cout << "---\n" << p.template_text << (p.template_text.empty() || p.template_text.back() != '\n' ? "\n" : "");
}

Status PromptList(const Cli& cli, const Args&) {
  VERITY_ASSIGN_OR_RETURN(auto all, cli.client->ListPrompts());
  PrintListing(
      cli, all,
      [](const PromptInfo& p) {
        return Json{{"name", p.name}, {"latest_version", p.latest_version}, {"labels", p.labels}};
      },
      {"NAME", "LATEST", "LABELS"},
      [](const PromptInfo& p) -> std::vector<std::string> {
        std::string labels;
        for (const auto& [label, version] : p.labels) {
          labels += (labels.empty() ? "" : ", ") + label + "=" + std::to_string(version);
        }
        return {p.name, std::to_string(p.latest_version), labels};
      });
  return Status::Ok();
}

Status PromptCreate(const Cli& cli, const Args& args) {
  PromptDraft draft;
  draft.name = args.Arg(0);
  VERITY_ASSIGN_OR_RETURN(draft.template_text, RequiredTextOrFile(args, "prompt create", "template", "template-file"));
  draft.config_json = args.Option("config").value_or("");
  draft.author = args.Option("author").value_or("");
  draft.message = args.Option("message").value_or("");
  if (auto labels = args.Option("label")) {
    std::stringstream list(*labels);
    for (std::string label; std::getline(list, label, ',');) draft.labels.push_back(label);
  }
  VERITY_ASSIGN_OR_RETURN(PromptVersion p, cli.client->CreatePromptVersion(draft));
  PrintPrompt(cli, p);
  return Status::Ok();
}

Status PromptGet(const Cli& cli, const Args& args) {
  VERITY_ASSIGN_OR_RETURN(PromptVersion p, cli.client->GetPrompt(PromptArg(args.Arg(0))));
  PrintPrompt(cli, p);
  return Status::Ok();
}

Status PromptVersions(const Cli& cli, const Args& args) {
  VERITY_ASSIGN_OR_RETURN(auto versions, cli.client->ListPromptVersions(args.Arg(0)));
  PrintListing(
      cli, versions, PromptJson, {"VERSION", "CREATED (UTC)", "AUTHOR", "LABELS", "MESSAGE"},
      [](const PromptVersion& p) -> std::vector<std::string> {
        return {std::to_string(p.version), TimeText(p.created_at_us), p.author, Join(p.labels, ", "), p.message};
      });
  return Status::Ok();
}

Status PromptDiffCommand(const Cli& cli, const Args& args) {
  const std::string& name = args.Arg(0);
  const uint32_t from = VersionArg(args.Arg(1), "FROM");
  const uint32_t to = VersionArg(args.Arg(2), "TO");
  VERITY_ASSIGN_OR_RETURN(PromptDiff d, cli.client->DiffPrompt(name, from, to));
  if (cli.json) {
    std::cout << Json{{"name", name},
                      {"from", from},
                      {"to", to},
                      {"template_diff", d.template_diff},
                      {"config_changed", d.config_changed},
                      {"from_config_json", d.from_config},
                      {"to_config_json", d.to_config}}
                     .dump()
              << "\n";
    return Status::Ok();
  }
  std::cout << "--- " << name << "@" << from << "\n+++ " << name << "@" << to << "\n";
  std::cout << (d.template_diff.empty() ? "(templates are equal)\n" : d.template_diff);
  if (d.config_changed) std::cout << "config: " << d.from_config << " -> " << d.to_config << "\n";
  return Status::Ok();
}

Status PromptLabel(const Cli& cli, const Args& args) {
  const std::string& name = args.Arg(0);
  const std::string& label = args.Arg(1);
  const uint32_t version = VersionArg(args.Arg(2), "VERSION");
  VERITY_ASSIGN_OR_RETURN(PromptLabelEvent m,
                          cli.client->SetPromptLabel(name, label, version, args.Option("actor").value_or("")));
  PrintResult(cli, LabelMoveJson(m),
              name + ": " + label + " -> " + std::to_string(m.version) +
                  (m.previous_version ? " (was " + std::to_string(m.previous_version) + ")" : " (new label)"));
  return Status::Ok();
}

Status PromptHistory(const Cli& cli, const Args& args) {
  VERITY_ASSIGN_OR_RETURN(auto moves, cli.client->PromptLabelHistory(args.Arg(0), args.Option("label").value_or("")));
  PrintListing(cli, moves, LabelMoveJson, {"MOVED (UTC)", "LABEL", "FROM", "TO", "ACTOR"},
               [](const PromptLabelEvent& m) -> std::vector<std::string> {
                 return {TimeText(m.moved_at_us), m.label,
                         m.previous_version ? std::to_string(m.previous_version) : "-", std::to_string(m.version),
                         m.actor};
               });
  return Status::Ok();
}

Status PromptRender(const Cli& cli, const Args& args) {
  const PromptRef ref = PromptArg(args.Arg(0));
  VERITY_ASSIGN_OR_RETURN(std::optional<std::string> vars_text, TextOrFile(args, "prompt render", "vars", "vars-file"));
  const Json parsed = Json::parse(vars_text.value_or("{}"), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    throw UsageError{"--vars: expected a JSON object of strings, e.g. '{\"question\": \"...\"}'"};
  }
  std::map<std::string, std::string> variables;
  for (const auto& [key, value] : parsed.items()) {
    if (!value.is_string()) throw UsageError{"--vars: the value of \"" + key + "\" is not a string"};
    variables[key] = value.get<std::string>();
  }
  VERITY_ASSIGN_OR_RETURN(auto rendered, cli.client->RenderPrompt(ref, variables));
  if (cli.json) {
    std::cout << Json{{"name", ref.name}, {"version", rendered.second}, {"text", rendered.first}}.dump() << "\n";
  } else {
    std::cout << rendered.first << (rendered.first.empty() || rendered.first.back() != '\n' ? "\n" : "");
  }
  return Status::Ok();
}

const ArgSpec kName{"NAME", "the prompt's name"};
const ArgSpec kPrompt{"PROMPT", "NAME (its production label), NAME@VERSION or NAME@LABEL"};

}  // namespace

std::vector<Command> PromptCommands() {
  return {
      {"prompt create",
       "NAME (--template T | --template-file F) [--config JSON] [--author A] [--message M] [--label L[,L...]]",
       "a new immutable version; the labels given move to it",
       {kName},
       {{"template", "T", "the template text ({{name}} placeholders)"},
        {"template-file", "F", "a file holding the template"},
        {"config", "JSON", "model settings kept with the version (a JSON object)"},
        {"author", "A", "who wrote it"},
        {"message", "M", "why (like a commit message)"},
        {"label", "L[,L...]", "labels to point at the new version (e.g. production)"}},
       "verity prompt create qa --template-file qa.txt --message 'cite sources' --label staging",
       PromptCreate},
      {"prompt get",
       "PROMPT",
       "one version: template, variables, labels",
       {kPrompt},
       {},
       "verity prompt get qa@3",
       PromptGet},
      {"prompt list", "", "every prompt: latest version and labels", {}, {}, "verity prompt list", PromptList},
      {"prompt versions",
       "NAME",
       "every version of a prompt",
       {kName},
       {},
       "verity prompt versions qa",
       PromptVersions},
      {"prompt diff",
       "NAME FROM TO",
       "what changed between two versions",
       {kName, {"FROM", "a version number"}, {"TO", "a version number"}},
       {},
       "verity prompt diff qa 2 3",
       PromptDiffCommand},
      {"prompt label",
       "NAME LABEL VERSION [--actor A]",
       "points a label at a version (rollback: move production back)",
       {kName, {"LABEL", "the label (e.g. production)"}, {"VERSION", "a version number"}},
       {{"actor", "A", "who moved it, kept in its history"}},
       "verity prompt label qa production 2 --actor alice",
       PromptLabel},
      {"prompt history",
       "NAME [--label L]",
       "every label move of a prompt, oldest first",
       {kName},
       {{"label", "L", "only this label's moves"}},
       "verity prompt history qa --label production",
       PromptHistory},
      {"prompt render",
       "PROMPT [--vars JSON | --vars-file F]",
       "the template with its variables filled in",
       {kPrompt},
       {{"vars", "JSON", "the variables, a JSON object of strings"}, {"vars-file", "F", "a file holding them"}},
       "verity prompt render qa@production --vars '{\"question\": \"how do I reset it?\"}'",
       PromptRender},
  };
}

}  // namespace verity::cli
