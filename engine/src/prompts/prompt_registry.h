// PromptRegistry: the prompt registry behind Database's prompt methods
// (verity/prompts.h, docs/prompts.md). Versions, labels and the label
// history live in the `meta` column family (keys.h: "Q" versions, "L"
// labels, "Y" label moves); nothing is cached in memory, so a registry
// holds no state but the lock that numbers writes.
//
// Ownership: the RocksDB handle and the `meta` column family are borrowed
// from the façade (Database::Impl), which outlives the registry and stops
// every call before it closes RocksDB. Writes go through the `write`
// function the façade gives (its write options: synced or not), and the
// clock is the façade's too, so that the registry knows nothing of
// Database::Impl.
//
// Thread-safety: every method is safe to call concurrently. Reads take no
// lock (each is a RocksDB point read or iterator, consistent on its own);
// Create and SetLabel hold `mu_`, which serialises version numbering and the
// label-move sequence, so two writers never take the same number.
//
// Errors: InvalidArgument naming the field and its limit for bad input;
// NotFound naming the prompt, version or label that does not exist;
// DataLoss for a stored key or value that does not parse; RocksDB's errors
// as FromRocks maps them. The façade refuses writes on a read-only
// database before it calls in (Database's VERITY_CHECK_WRITABLE_).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "verity/prompts.h"
#include "verity/status.h"

namespace verity {

// A label that a reference could name: a name (1..128 of [A-Za-z0-9_.-]),
// and not all digits (in "name@2", 2 is a version, so a label "2" could never
// be reached). InvalidArgument naming `field` otherwise.
Status ValidatePromptLabel(const std::string& label, const std::string& field);

// Every check CreatePromptVersion makes of a draft before it writes: name,
// template (size, UTF-8, syntax), config (a JSON object, bounded in size and
// nesting), author, message, labels (at most 64, valid, none twice).
// InvalidArgument naming the first field that fails and its limit.
Status ValidatePromptDraft(const PromptDraft& draft);

class PromptRegistry {
 public:
  // Writes `batch` atomically with the database's write options; `what`
  // names the write in its error ("write prompt qa").
  using WriteFn = std::function<Status(rocksdb::WriteBatch* batch, const std::string& what)>;
  // Now, in microseconds since the epoch (creation and label-move times).
  using ClockFn = std::function<int64_t()>;

  PromptRegistry(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta, WriteFn write, ClockFn now_us);
  PromptRegistry(const PromptRegistry&) = delete;
  PromptRegistry& operator=(const PromptRegistry&) = delete;

  // --- Writing (hold mu_) ---------------------------------------------------
  // Stores the next version of draft.name (1 for a new prompt) and points
  // draft.labels at it, in one write; returns the version as stored.
  // ResourceExhausted once a prompt has used every version number.
  Result<PromptVersion> Create(const PromptDraft& draft);
  // Points `label` of `name` at `version` (which must exist) and appends the
  // move to the label history.
  Result<PromptLabelEvent> SetLabel(const std::string& name, const std::string& label, uint32_t version,
                                    const std::string& actor);

  // --- Reading (no lock) ----------------------------------------------------
  // The version `ref` names (its number, or its label's target, default
  // production), with its labels.
  Result<PromptVersion> Get(const PromptRef& ref) const;
  // Every prompt, by name, with its latest version and its labels.
  Result<std::vector<PromptInfo>> List() const;
  // Versions start_at.. of `name` (start_at 0 = 1), at most `limit` of them
  // (0 = all; at most Limits::kMaxPromptVersionsPage).
  Result<PromptVersionPage> ListVersions(const std::string& name, uint32_t start_at, uint32_t limit) const;
  // The moves of `label` of `name` ("" = every label), oldest first.
  Result<std::vector<PromptLabelEvent>> LabelHistory(const std::string& name, const std::string& label) const;
  // The line diff of two versions' templates, and whether their configs differ.
  Result<PromptDiff> Diff(const std::string& name, uint32_t from, uint32_t to) const;
  // The template `ref` names with `variables` filled in (RenderTemplate).
  Result<std::string> Render(const PromptRef& ref, const std::map<std::string, std::string>& variables) const;

  // --- Resolving (no lock) --------------------------------------------------
  // The version number `ref` names, checked to exist: one point read when it
  // does. NotFound naming the prompt, version or label otherwise.
  Result<uint32_t> ResolveVersion(const PromptRef& ref) const;
  // A retrieval's prompt as the retrieval log records it (Retrieve, cache
  // lookups): "name@N" for a registered prompt named as name, name@N or
  // name@label (NotFound for an unknown version or label of it); anything
  // else — free text, a name the registry does not hold — as given.
  Result<std::string> ResolvePrompt(const std::string& prompt) const;

 private:
  // The labels of one prompt and the number of its next label move: what a
  // write reads before it adds moves (under mu_).
  struct LabelState {
    std::map<std::string, uint32_t> labels;
    uint64_t next_seq = 1;  // of the next label move
  };

  // Version `version` of `name`; `labels` are its labels when the caller
  // already read them (read here otherwise).
  Result<PromptVersion> ReadVersion(const std::string& name, uint32_t version,
                                    const std::map<std::string, uint32_t>* labels = nullptr) const;
  Result<uint32_t> LatestVersion(const std::string& name) const;  // 0: no such prompt
  Result<std::map<std::string, uint32_t>> Labels(const std::string& name) const;
  // NotFound for `ref`, which does not resolve: no such prompt, version or label.
  Status RefNotFound(const PromptRef& ref, const std::string& label) const;
  Result<LabelState> LoadLabelState(const std::string& name) const;
  // Adds a label move to `batch` and to `state`.
  PromptLabelEvent AddLabelMove(rocksdb::WriteBatch* batch, const std::string& name, const std::string& label,
                                uint32_t version, const std::string& actor, int64_t now_us, LabelState& state) const;

  rocksdb::DB* const db_;                    // borrowed
  rocksdb::ColumnFamilyHandle* const meta_;  // borrowed
  const WriteFn write_;
  const ClockFn now_us_;
  // Serialises Create and SetLabel: version numbers and the label-move
  // sequence are read, then written, under it.
  std::mutex mu_;
};

}  // namespace verity
