// The word lists compiled into verity_monitor: generated at build time by
// make_wordlists.py from the npm package naughty-words (pinned in
// tools/wordlists/package-lock.json; docs/monitoring.md, "Toxicity and
// bias flags"). Internal to the monitor subsystem: use ToxicityFlagger.
#pragma once

#include <cstddef>

namespace verity::monitor {

struct WordListEntry {
  const char* language;  // the package's file name without ".json": "en", "de", "fr-CA-u-sd-caqc"
  const char* term;      // UTF-8, as the list spells it (not folded)
};

extern const char kWordListPackage[];  // "naughty-words"
extern const char kWordListVersion[];  // the package's version, e.g. "1.2.0"
extern const char kWordListLicense[];  // the package's license, "CC-BY-4.0"
extern const WordListEntry kWordListEntries[];  // sorted by language
extern const size_t kWordListEntryCount;

}  // namespace verity::monitor
