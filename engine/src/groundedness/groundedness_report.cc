// AuditHtml: the self-contained HTML report of groundedness audits. The
// element classes and ids are an interface (tools and tests select on them):
// see include/verity/groundedness.h.
#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "util/utf8.h"
#include "verity/groundedness.h"

namespace verity {
namespace {

std::string Fixed4(double x) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::fixed, 4);
  if (ec != std::errc()) return "0.0000";
  return std::string(buf, ptr);
}

// Appends `s` HTML-escaped. Invalid UTF-8 and control characters other than
// tab and line breaks become U+FFFD, so the page is always valid UTF-8.
void Escape(std::string& out, std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t len = utf8::Decode(s, i, &cp);
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (cp == utf8::kInvalid || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F) {
          out += "\uFFFD";
        } else {
          out.append(s.substr(i, len));
        }
    }
    i += len;
  }
}

std::string Esc(std::string_view s) {
  std::string out;
  Escape(out, s);
  return out;
}

constexpr std::string_view kCss = R"css(
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 72em;
       padding: 0 1em; color: #1f2328; line-height: 1.5; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin: 0; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
.legend span { padding: 0.1em 0.4em; margin-right: 0.6em; border-radius: 3px; }
section.summary, section.answer { border: 1px solid #d0d7de; border-radius: 6px; padding: 1em 1.2em;
                                  margin: 1.2em 0; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 0.2em 0.8em 0.2em 0; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 0.1em 1em; margin: 0.6em 0; }
dl.meta dt { color: #57606a; }
dl.meta dd { margin: 0; }
.answer-text { white-space: pre-wrap; padding: 0.6em; background: #f6f8fa; border-radius: 4px; }
.sentence { padding: 0.05em 0.1em; border-radius: 3px; }
.supported { background: #c9f0c9; }
.unsupported { background: #f8c8c8; }
.not_scored { background: #e4e4e4; }
a.cite-ref { font-size: 0.75em; vertical-align: super; text-decoration: none; margin-left: 0.1em; }
ol.citations { padding-left: 1.6em; }
li.citation { margin: 0.6em 0; padding: 0.3em 0.6em; background: none; border-left: 4px solid #999; }
li.citation.supported { border-left-color: #2da44e; }
li.citation.unsupported { border-left-color: #cf222e; }
li.citation .verdict { font-weight: 600; }
blockquote.excerpt { margin: 0.3em 0; padding: 0.3em 0.6em; background: #f6f8fa; white-space: pre-wrap;
                     border-radius: 4px; }
mark.match { background: #ffe27a; }
.missing .token, .conflicts .token { background: #f8c8c8; padding: 0 0.3em; border-radius: 3px;
                                     margin-right: 0.3em; font-family: ui-monospace, monospace; }
.g-low { color: #cf222e; font-weight: 600; }
)css";

// The cited chunk's text around the matched span, with the span marked.
void AppendExcerpt(std::string& out, const SourceChunk& chunk, size_t b, size_t e, size_t context) {
  std::string_view text = chunk.text;
  if (b > e || e > text.size()) {
    out += "<blockquote class=\"excerpt\">(matched span outside the chunk text)</blockquote>";
    return;
  }
  const size_t from = utf8::CeilBoundary(text, b > context ? b - context : 0);
  const size_t to = utf8::FloorBoundary(text, e + context < text.size() ? e + context : text.size());
  out += "<blockquote class=\"excerpt\">";
  if (from > 0) out += "\u2026";
  Escape(out, text.substr(std::min(from, b), b - std::min(from, b)));
  out += "<mark class=\"match\">";
  Escape(out, text.substr(b, e - b));
  out += "</mark>";
  if (to > e) Escape(out, text.substr(e, to - e));
  if (to < text.size()) out += "\u2026";
  out += "</blockquote>";
}

void AppendTokens(std::string& out, const char* cls, const char* label, const std::vector<std::string>& tokens) {
  if (tokens.empty()) return;
  out += "<div class=\"";
  out += cls;
  out += "\">";
  out += label;
  for (const std::string& t : tokens) {
    out += " <span class=\"token\">";
    Escape(out, t);
    out += "</span>";
  }
  out += "</div>";
}

// Whether the sentences' offsets agree with `answer` (then the text between
// them is shown as written).
bool OffsetsFit(const AuditReportEntry& e) {
  if (e.answer.empty()) return false;
  size_t last = 0;
  for (const SentenceScore& s : e.result.sentences) {
    if (s.begin < last || s.end < s.begin || s.end > e.answer.size()) return false;
    if (std::string_view(e.answer).substr(s.begin, s.end - s.begin) != s.text) return false;
    last = s.end;
  }
  return true;
}

// The second chunk of a two-chunk citation (version 3), with its excerpt.
void AppendSecondChunk(std::string& out, const AuditReportEntry& e, const SentenceScore& s,
                       const AuditReportOptions& options) {
  if (s.second_chunk_index < 0) return;
  out += "<div class=\"second-chunk\">and chunk <code class=\"second-chunk-id\">" + Esc(s.second_chunk_id) +
         "</code> (#" + std::to_string(s.second_chunk_index) + ")</div>";
  const auto index = static_cast<size_t>(s.second_chunk_index);
  if (index < e.chunks.size() && e.chunks[index].id == s.second_chunk_id) {
    AppendExcerpt(out, e.chunks[index], s.second_span_begin, s.second_span_end, options.excerpt_context_bytes);
  }
}

void AppendEntry(std::string& out, size_t n, const AuditReportEntry& e, const AuditReportOptions& options) {
  const GroundednessResult& r = e.result;
  const std::string prefix = "answer-" + std::to_string(n);
  const bool low = r.scored > 0 && r.g < options.low_g_threshold;
  out += "<section class=\"answer\" id=\"" + prefix + "\" data-g=\"" + Fixed4(r.g) + "\">\n<header><h2>Retrieval ";
  out += "<code class=\"retrieval-id\">" + Esc(e.retrieval_id) + "</code></h2>\n<dl class=\"meta\">";
  out += "<dt>Collection</dt><dd class=\"collection\">" + Esc(e.collection) + "</dd>";
  out += "<dt>Version</dt><dd class=\"version\">" + std::to_string(e.version) + "</dd>";
  out += "<dt>G</dt><dd><span class=\"g" + std::string(low ? " g-low" : "") + "\">" + Fixed4(r.g) + "</span> (" +
         std::to_string(r.supported) + " of " + std::to_string(r.scored) + " scored sentences supported; " +
         std::to_string(r.sentences.size()) + " sentences)</dd>";
  out += "<dt>Threshold</dt><dd class=\"threshold\">" + Fixed4(r.threshold) + "</dd>";
  out += "<dt>Scorer</dt><dd class=\"scorer\">" + Esc(r.scorer_version) + "</dd>";
  out += "</dl></header>\n";

  // The answer, sentence by sentence.
  out += "<div class=\"answer-text\">";
  const bool fit = OffsetsFit(e);
  size_t pos = 0;
  for (size_t m = 0; m < r.sentences.size(); ++m) {
    const SentenceScore& s = r.sentences[m];
    if (fit) {
      Escape(out, std::string_view(e.answer).substr(pos, s.begin - pos));
      pos = s.end;
    } else if (m > 0) {
      out += " ";
    }
    const std::string id = prefix + "-s-" + std::to_string(m);
    out += "<span class=\"sentence " + std::string(SentenceVerdictName(s.verdict)) + "\" id=\"" + id + "\"";
    if (s.scored()) out += " data-support=\"" + Fixed4(s.support) + "\"";
    out += ">";
    Escape(out, s.text);
    out += "</span>";
    if (s.scored()) {
      out += "<a class=\"cite-ref\" href=\"#" + prefix + "-c-" + std::to_string(m) + "\">[" + std::to_string(m + 1) +
             "]</a>";
    }
  }
  if (fit) Escape(out, std::string_view(e.answer).substr(pos));
  out += "</div>\n";

  // Citations of the scored sentences.
  out += "<ol class=\"citations\">\n";
  for (size_t m = 0; m < r.sentences.size(); ++m) {
    const SentenceScore& s = r.sentences[m];
    if (!s.scored()) continue;
    const char* verdict = SentenceVerdictName(s.verdict);
    out += "<li class=\"citation " + std::string(verdict) + "\" id=\"" + prefix + "-c-" + std::to_string(m) +
           "\" value=\"" + std::to_string(m + 1) + "\" data-support=\"" + Fixed4(s.support) + "\">";
    out += "<div class=\"citation-head\"><span class=\"verdict\">" + std::string(verdict) + "</span> &middot; ";
    if (s.chunk_index < 0) {
      out += "no retrieved chunk shares a content word with this sentence</div>";
    } else {
      out += "chunk <code class=\"chunk-id\">" + Esc(s.chunk_id) + "</code> (#" + std::to_string(s.chunk_index) +
             ") &middot; support <span class=\"support\">" + Fixed4(s.support) +
             "</span> <span class=\"components\">(tokens " + Fixed4(s.token_precision) + ", ROUGE-L " +
             Fixed4(s.rouge_l_precision) + ", trigrams " + Fixed4(s.trigram_containment) + ")</span></div>";
      const auto index = static_cast<size_t>(s.chunk_index);
      if (index < e.chunks.size() && e.chunks[index].id == s.chunk_id) {
        AppendExcerpt(out, e.chunks[index], s.span_begin, s.span_end, options.excerpt_context_bytes);
      } else {
        out += "<blockquote class=\"excerpt\">(chunk text not provided)</blockquote>";
      }
    }
    AppendSecondChunk(out, e, s, options);
    AppendTokens(out, "missing", "Missing critical tokens:", s.missing_critical);
    AppendTokens(out, "conflicts", "Negations in the source that the sentence drops:", s.conflicting_negations);
    AppendTokens(out, "contradictions",
                 "Contradicted by an antonym in the source (sentence/source):", s.contradictions);
    AppendTokens(out, "roles", "Words whose neighbours come from another clause of the source:", s.role_conflicts);
    if (s.short_evidence) {
      out +=
          "<div class=\"short-evidence\">Short sentence without an exact phrase, name or number in the "
          "source</div>";
    }
    if (s.match_support != s.support && s.match_support > 0) {
      out +=
          "<div class=\"penalised\">Support before the role and contradiction penalties: "
          "<span class=\"match-support\">" +
          Fixed4(s.match_support) + "</span></div>";
    }
    out += "</li>\n";
  }
  out += "</ol>\n</section>\n";
}

void AppendSummary(std::string& out, const std::vector<AuditReportEntry>& entries, const AuditReportOptions& options) {
  std::vector<size_t> scored;
  double sum = 0;
  size_t low = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const GroundednessResult& r = entries[i].result;
    if (r.scored == 0) continue;
    scored.push_back(i);
    sum += static_cast<double>(r.supported) / r.scored;  // exact, as AuditCollection's mean_g
    if (r.g < options.low_g_threshold) ++low;
  }
  const double mean = scored.empty() ? 0.0 : sum / static_cast<double>(scored.size());
  const double share = scored.empty() ? 0.0 : static_cast<double>(low) / static_cast<double>(scored.size());
  out += "<section class=\"summary\" id=\"summary\">\n<h2>Summary</h2>\n<table>";
  out += "<tr><th>Answers</th><td class=\"count\">" + std::to_string(entries.size()) + "</td></tr>";
  out += "<tr><th>Answers with scored sentences</th><td class=\"scored-count\">" + std::to_string(scored.size()) +
         "</td></tr>";
  out += "<tr><th>Mean G</th><td class=\"mean-g\">" + Fixed4(mean) + "</td></tr>";
  out += "<tr><th>Share with G &lt; " + Fixed4(options.low_g_threshold) + "</th><td class=\"share-low\">" +
         Fixed4(share) + "</td></tr>";
  out += "</table>\n";
  std::stable_sort(scored.begin(), scored.end(),
                   [&](size_t a, size_t b) { return entries[a].result.g < entries[b].result.g; });
  const size_t worst = std::min(options.worst_count, scored.size());
  if (worst > 0) {
    out += "<h3>Lowest G</h3>\n<ol class=\"worst\">";
    for (size_t k = 0; k < worst; ++k) {
      const size_t i = scored[k];
      out += "<li><a href=\"#answer-" + std::to_string(i) + "\"><code>" + Esc(entries[i].retrieval_id) +
             "</code></a> &middot; " + Esc(entries[i].collection) + " &middot; G <span class=\"g\">" +
             Fixed4(entries[i].result.g) + "</span></li>";
    }
    out += "</ol>\n";
  }
  out += "</section>\n";
}

}  // namespace

std::string AuditHtml(const std::vector<AuditReportEntry>& entries, const AuditReportOptions& options) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + Esc(options.title) + "</title>\n<style>";
  out += kCss;
  out += "</style>\n</head>\n<body>\n<h1>" + Esc(options.title) + "</h1>\n";
  out +=
      "<p class=\"legend\"><span class=\"supported\">supported</span><span class=\"unsupported\">unsupported"
      "</span><span class=\"not_scored\">not scored</span></p>\n";
  AppendSummary(out, entries, options);
  for (size_t n = 0; n < entries.size(); ++n) AppendEntry(out, n, entries[n], options);
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace verity
