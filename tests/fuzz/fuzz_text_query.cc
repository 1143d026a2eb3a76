// libFuzzer target: a search of a collection with a text index, dense vectors
// and a sparse field, built from any bytes: the text query, and from the same
// bytes the sparse query, the dense vector, the fusion parameters, k, a
// filter and the version read (text_query_target.h). The search answers OK
// with hits that hold together, or INVALID_ARGUMENT naming a field; never a
// crash, never another code. The engine tests replay the seed corpus
// (tests/engine/text_query_fuzz_test.cc).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "text_query_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static verity::Database* const db = [] {
    char dir[] = "/tmp/fuzz_text_query.XXXXXX";
    if (mkdtemp(dir) == nullptr) std::abort();
    static const std::string path = dir;
    std::atexit([] { std::filesystem::remove_all(path); });
    return verity::fuzz::OpenTextQueryDatabase(path).release();  // lives as long as the process
  }();
  const std::string wrong = verity::fuzz::RunTextQuery(*db, data, size);
  if (!wrong.empty()) {
    std::fprintf(stderr, "fuzz_text_query: %s\n", wrong.c_str());
    std::abort();
  }
  return 0;
}
