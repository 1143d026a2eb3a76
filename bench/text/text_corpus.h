// Text corpora for the demo and the text benchmark (issue #26): records in
// `verity import` JSONL shape (docs/cli.md), one JSON object per line:
//   {"id": "chmod.2#3", "text": "...", "document_id": "chmod.2",
//    "metadata": {"section": "2", ...}, "vector": [...]}   (vector optional)
// as bench/text/manpages.py and scale_corpus.py write them, and the query
// files of the known-item set and the speed corpus.
//
// Errors: NotFound naming the file when it cannot be opened; InvalidArgument
// naming the file and line when a line is not such a record. Nothing throws.
// Thread-safety: no shared state.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "verity/database.h"
#include "verity/status.h"
#include "verity/types.h"

namespace verity::bench {

// Every record of a JSONL file. Metadata values: strings, integers, doubles,
// booleans and lists of strings, as Metadata holds them.
Result<std::vector<Record>> ReadTextRecords(const std::string& path);

// "qid TAB text" lines (queries.tsv), or plain lines (queries.txt: the qid
// is then the line number from 1).
Result<std::vector<std::pair<std::string, std::string>>> ReadQueries(const std::string& path);

// Creates `config` unless a collection of that name exists, then upserts
// `records` in batches of `batch` unless the collection already holds as
// many live records (so a second start skips the load; an interrupted load
// is redone, upserts by id being idempotent). Returns the collection.
Result<CollectionInfo> LoadTextCollection(Database& db, const CollectionConfig& config,
                                          std::vector<Record> records, size_t batch);

}  // namespace verity::bench
