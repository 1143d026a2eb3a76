// The body of the fuzz target fuzz_text_query (tests/fuzz/fuzz_text_query.cc),
// shared with the engine tests, which replay the seed corpus through it
// without the fuzz build (tests/engine/text_query_fuzz_test.cc).
//
// One input is decoded into a search of a small collection with a text
// index, dense vectors and a sparse field (see TextQueryFromBytes for the
// layout): the bytes left after the parameters are the text query, the
// parameters give the legs (dense, sparse, their values), the fusion (method,
// rrf_k, weights, leg limit), k, a filter and an old version to read.
//
// Thread-safety: none; one database per caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "verity/database.h"

namespace verity::fuzz {

// Opens a database in `dir` (an empty directory) holding the collection the
// inputs search: "c", dimension 4, an English text index, a sparse field
// "s" of dimension 64, 24 records written in three versions (the last
// replaces some and deletes one). Aborts on failure: without it the target
// has nothing to search.
std::unique_ptr<Database> OpenTextQueryDatabase(const std::string& dir);

// The search an input describes (exposed for the tests' own inputs).
SearchRequest TextQueryFromBytes(const uint8_t* data, size_t size);

// Runs the input's search twice. Returns "" when it behaved: OK with hits
// that hold together (at most k, distinct known ids, finite scores ranked
// best first, legs for a hybrid search, the same answer twice), or
// INVALID_ARGUMENT naming a field. Otherwise, what went wrong.
std::string RunTextQuery(Database& db, const uint8_t* data, size_t size);

}  // namespace verity::fuzz
