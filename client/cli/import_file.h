// Readers for `verity import`: JSON Lines ({"id", "vector", "text",
// "document_id", "metadata", "sparse"} per line; "vector" left out for a
// collection of dimension 0) and .fvecs (int32 dimension, then that
// many float32, per vector; ids are the row numbers). Both stream: they hand
// out batches and report a bad line or record with its number. No number is
// wrapped or narrowed (json_numbers.h): an integer id becomes its decimal
// text at any size, an integer metadata value must fit int64, a vector
// component must fit a float.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "verity/status.h"
#include "verity/types.h"

namespace verity::cli {

class ImportReader {
 public:
  // Opens `path`; the format follows the extension (.fvecs, else JSON Lines).
  // Errors: NotFound / InvalidArgument naming the file.
  static Result<std::unique_ptr<ImportReader>> Open(const std::string& path);

  // Reads up to `max` records into *batch (cleared first). An empty batch
  // means the end. Errors: InvalidArgument "FILE:LINE: what is wrong".
  Status Next(size_t max, std::vector<Record>* batch);

  // The line (JSON Lines) or vector number (fvecs, from 0) of batch[i] of
  // the last Next().
  uint64_t LineOf(size_t i) const { return i < batch_lines_.size() ? batch_lines_[i] : 0; }
  bool fvecs() const { return fvecs_; }
  const std::string& path() const { return path_; }

  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t file_bytes() const { return file_bytes_; }

 private:
  Status NextJsonLines(size_t max, std::vector<Record>* batch);
  Status NextFvecs(size_t max, std::vector<Record>* batch);

  std::string path_;
  std::ifstream in_;
  bool fvecs_ = false;
  std::vector<uint64_t> batch_lines_;
  uint64_t line_ = 0;  // JSON Lines: last line read; fvecs: vectors read
  uint64_t bytes_read_ = 0;
  uint64_t file_bytes_ = 0;
};

}  // namespace verity::cli
