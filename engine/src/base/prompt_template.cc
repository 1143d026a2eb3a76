// Prompt templates: validation, variables, rendering, line diffs and prompt
// references (verity/prompts.h). Pure functions.
#include <algorithm>
#include <charconv>
#include <string_view>
#include <unordered_set>

#include "verity/prompts.h"
#include "verity/types.h"

namespace verity {
namespace {

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

// One piece of a template: literal text, or a placeholder's name.
struct Piece {
  bool placeholder;
  std::string_view text;
};

// Splits a template; on error returns the message and leaves `pieces` partial.
Status Split(const std::string& t, std::vector<Piece>* pieces) {
  size_t i = 0, literal = 0;
  auto at = [](size_t offset) { return " at byte " + std::to_string(offset); };
  while (i < t.size()) {
    if (t.compare(i, 2, "}}") == 0) return Status::InvalidArgument("template: \"}}\" without \"{{\"" + at(i));
    if (t.compare(i, 2, "{{") != 0) {
      ++i;
      continue;
    }
    const size_t open = i;
    const size_t close = t.find("}}", open + 2);
    if (close == std::string::npos) return Status::InvalidArgument("template: \"{{\" is not closed" + at(open));
    std::string_view inside(t.data() + open + 2, close - open - 2);
    while (!inside.empty() && inside.front() == ' ') inside.remove_prefix(1);
    while (!inside.empty() && inside.back() == ' ') inside.remove_suffix(1);
    if (inside.empty() || inside.size() > 128 || !std::all_of(inside.begin(), inside.end(), IsNameChar)) {
      return Status::InvalidArgument("template: the placeholder" + at(open) +
                                     " is not {{name}} with a name of 1..128 of [A-Za-z0-9_.-]");
    }
    if (open > literal) pieces->push_back({false, std::string_view(t.data() + literal, open - literal)});
    pieces->push_back({true, inside});
    i = literal = close + 2;
  }
  if (t.size() > literal) pieces->push_back({false, std::string_view(t.data() + literal, t.size() - literal)});
  return Status::Ok();
}

std::vector<std::string_view> Lines(const std::string& text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      lines.emplace_back(text.data() + start, text.size() - start);
      break;
    }
    lines.emplace_back(text.data() + start, end - start);
    start = end + 1;
  }
  return lines;
}

}  // namespace

Status ValidateTemplate(const std::string& template_text) {
  std::vector<Piece> pieces;
  return Split(template_text, &pieces);
}

std::vector<std::string> TemplateVariables(const std::string& template_text) {
  std::vector<Piece> pieces;
  (void)Split(template_text, &pieces);
  // In order of first use; the set keeps this linear (a 256 KiB template
  // can hold ~37,000 distinct placeholders: a linear find cost ~2 s a read).
  std::vector<std::string> names;
  std::unordered_set<std::string_view> seen;
  for (const Piece& p : pieces) {
    if (p.placeholder && seen.insert(p.text).second) names.emplace_back(p.text);
  }
  return names;
}

Result<std::string> RenderTemplate(const std::string& template_text,
                                   const std::map<std::string, std::string>& variables) {
  std::vector<Piece> pieces;
  VERITY_RETURN_IF_ERROR(Split(template_text, &pieces));
  std::string out;
  for (const Piece& p : pieces) {
    std::string_view text = p.text;
    if (p.placeholder) {
      const auto it = variables.find(std::string(p.text));
      if (it == variables.end()) {
        return Status::InvalidArgument("variables: no value for \"" + std::string(p.text) + "\", which the template uses");
      }
      text = it->second;
    }
    // A template may use one large variable many times: bound the result
    // before it is built, not after.
    if (out.size() + text.size() > Limits::kMaxRenderedPromptBytes) {
      return Status::InvalidArgument("variables: the rendered prompt would exceed " +
                                     std::to_string(Limits::kMaxRenderedPromptBytes) + " bytes");
    }
    out.append(text);
  }
  return out;
}

std::string LineDiff(const std::string& from, const std::string& to) {
  if (from == to) return "";
  const std::vector<std::string_view> a = Lines(from), b = Lines(to);
  std::string out;
  bool changed = false;
  auto line = [&](char mark, std::string_view text) {
    changed |= mark != ' ';
    out.push_back(mark);
    out.append(text);
    out.push_back('\n');
  };
  // Common leading and trailing lines, then the middle: a longest common
  // subsequence of lines when it is small enough (the table is
  // rows x columns), else all of one side then all of the other.
  size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) ++tail;
  for (size_t i = 0; i < head; ++i) line(' ', a[i]);
  const size_t na = a.size() - head - tail, nb = b.size() - head - tail;
  if (na * nb <= (1u << 22)) {
    std::vector<std::vector<uint32_t>> lcs(na + 1, std::vector<uint32_t>(nb + 1, 0));
    for (size_t i = na; i-- > 0;) {
      for (size_t j = nb; j-- > 0;) {
        lcs[i][j] = a[head + i] == b[head + j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    size_t i = 0, j = 0;
    while (i < na && j < nb) {
      if (a[head + i] == b[head + j]) {
        line(' ', a[head + i++]);
        ++j;
      } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
        line('-', a[head + i++]);
      } else {
        line('+', b[head + j++]);
      }
    }
    while (i < na) line('-', a[head + i++]);
    while (j < nb) line('+', b[head + j++]);
  } else {
    for (size_t i = 0; i < na; ++i) line('-', a[head + i]);
    for (size_t j = 0; j < nb; ++j) line('+', b[head + j]);
  }
  for (size_t i = a.size() - tail; i < a.size(); ++i) line(' ', a[i]);
  // Equal lines, different texts: they differ in a newline at the end.
  if (!changed) out += from.size() > to.size() ? "-(newline at end of text)\n" : "+(newline at end of text)\n";
  return out;
}

Result<PromptRef> ParsePromptRef(const std::string& text) {
  PromptRef ref;
  const size_t at = text.find('@');
  ref.name = text.substr(0, at);
  auto valid = [](std::string_view s) {
    return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), IsNameChar) && s != "." && s != "..";
  };
  if (!valid(ref.name)) {
    return Status::InvalidArgument("prompt: \"" + text + "\" is not name, name@version or name@label");
  }
  if (at == std::string::npos) return ref;
  const std::string_view rest(text.data() + at + 1, text.size() - at - 1);
  if (!rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    uint32_t v = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
    if (ec != std::errc() || ptr != rest.data() + rest.size() || v == 0) {
      return Status::InvalidArgument("prompt: version in \"" + text + "\" must be 1..4294967295");
    }
    ref.version = v;
  } else if (valid(rest)) {
    ref.label = std::string(rest);
  } else {
    return Status::InvalidArgument("prompt: \"" + text + "\" is not name, name@version or name@label");
  }
  return ref;
}

}  // namespace verity
