// The text analyzer's throughput (engine/src/text/analyzer.h): reads a text
// (files given as arguments, or standard input), cuts it into documents of
// about --doc-bytes bytes at line ends (a record's text), and analyzes every
// document with each preset, one thread, printing MB/s and terms/s per
// second of the thread's CPU time (the machine is shared: wall time would
// measure the neighbours too) and the wall-clock rate beside it.
//
//   for f in /usr/share/man/man1/*.gz; do zcat "$f"; done > /tmp/man.txt
//   build/bench/verity_bench_analyzer [--doc-bytes N] [--passes N] /tmp/man.txt
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "text/analyzer.h"

namespace {

std::string ReadAll(std::istream& in) {
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string_view> CutDocuments(std::string_view text, size_t doc_bytes) {
  std::vector<std::string_view> docs;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = std::min(text.size(), begin + doc_bytes);
    const size_t newline = text.find('\n', end);
    end = newline == std::string_view::npos ? text.size() : newline + 1;
    docs.push_back(text.substr(begin, end - begin));
    begin = end;
  }
  return docs;
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Config {
  const char* label;
  verity::AnalyzerConfig config;
};

}  // namespace

int main(int argc, char** argv) {
  size_t doc_bytes = 2048;
  int passes = 3;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--doc-bytes" && i + 1 < argc) {
      doc_bytes = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--passes" && i + 1 < argc) {
      passes = std::atoi(argv[++i]);
    } else {
      files.push_back(arg);
    }
  }
  std::string text;
  if (files.empty()) text = ReadAll(std::cin);
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", file.c_str());
      return 1;
    }
    text += ReadAll(in);
  }
  const std::vector<std::string_view> docs = CutDocuments(text, doc_bytes == 0 ? 1 : doc_bytes);
  std::printf("%.1f MB in %zu documents of ~%zu bytes, best of %d passes, 1 thread\n", text.size() / 1e6,
              docs.size(), doc_bytes, passes);

  std::vector<Config> configs = {{"standard", *verity::text::PresetConfig("standard", "preset")},
                                 {"english", *verity::text::PresetConfig("english", "preset")},
                                 {"english+ascii_fold", *verity::text::PresetConfig("english", "preset")}};
  configs.back().config.ascii_fold = true;
  for (const auto& [label, config] : configs) {
    auto analyzer = verity::text::Analyzer::Create(config);
    if (!analyzer.ok()) {
      std::fprintf(stderr, "%s\n", analyzer.status().ToString().c_str());
      return 1;
    }
    double best_cpu = 1e300;
    double best_wall = 1e300;
    size_t terms_per_pass = 0;
    std::vector<std::string> terms;
    for (int pass = 0; pass < passes; ++pass) {
      terms_per_pass = 0;
      const double cpu_start = ThreadCpuSeconds();
      const auto start = std::chrono::steady_clock::now();
      for (const auto doc : docs) {
        terms.clear();
        terms_per_pass += (*analyzer)->Analyze(doc, &terms);
      }
      best_wall = std::min(best_wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      best_cpu = std::min(best_cpu, ThreadCpuSeconds() - cpu_start);
    }
    std::printf("%-20s %7.1f MB/s  %6.2f M terms/s per CPU second  (wall: %.1f MB/s; %zu terms)\n", label,
                text.size() / 1e6 / best_cpu, terms_per_pass / 1e6 / best_cpu, text.size() / 1e6 / best_wall,
                terms_per_pass);
  }
  return 0;
}
