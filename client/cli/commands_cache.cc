// cache stats / clear: the answer cache (docs/answer-cache.md).
#include <cstdio>

#include "command_table.h"

namespace verity::cli {
namespace {

Status CacheStatsCommand(const Cli& cli, const Args&) {
  VERITY_ASSIGN_OR_RETURN(CacheStats st, cli.client->GetCacheStats());
  if (cli.json) {
    std::cout << Json{{"entries", st.entries},
                      {"bytes", st.bytes},
                      {"max_entries", st.max_entries},
                      {"max_bytes", st.max_bytes},
                      {"stores", st.stores},
                      {"exact_hits", st.exact_hits},
                      {"semantic_hits", st.semantic_hits},
                      {"misses", st.misses},
                      {"refused_false_hits", st.refused_false_hits},
                      {"evictions", st.evictions}}
                     .dump()
              << "\n";
    return Status::Ok();
  }
  const uint64_t lookups = st.exact_hits + st.semantic_hits + st.misses;
  char rate[32];
  std::snprintf(rate, sizeof(rate), "%.1f%%", lookups ? 100.0 * (st.exact_hits + st.semantic_hits) / lookups : 0.0);
  std::cout << "entries " << st.entries << " of " << st.max_entries << ", " << BytesText(st.bytes) << " of "
            << BytesText(st.max_bytes) << "\n"
            << "lookups " << lookups << ": " << st.exact_hits << " exact hits, " << st.semantic_hits
            << " semantic hits, " << st.misses << " misses (hit rate " << rate << "), " << st.refused_false_hits
            << " refused false hits\n"
            << "stores " << st.stores << ", evictions " << st.evictions << "\n";
  return Status::Ok();
}

Status CacheClear(const Cli& cli, const Args&) {
  VERITY_RETURN_IF_ERROR(cli.client->ClearCache());
  PrintResult(cli, Json{{"cleared", true}}, "answer cache cleared");
  return Status::Ok();
}

}  // namespace

std::vector<Command> CacheCommands() {
  return {
      {"cache stats",
       "",
       "entries, size, hits, misses and refused false hits",
       {},
       {},
       "verity cache stats",
       CacheStatsCommand},
      {"cache clear", "", "empties the answer cache", {}, {}, "verity cache clear", CacheClear},
  };
}

}  // namespace verity::cli
