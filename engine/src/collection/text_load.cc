// Loading a collection's text and sparse indexes at open (and for an
// import): the analysed documents of the text family are the full-text
// index's durable form; the inverted lists are built from them. A row
// whose document is missing (written before the collection had one, or
// lost) or was made by another analyzer version is analysed again and its
// document rewritten, so a change of analyzer rebuilds the index here:
// SetTextIndex stores the new settings, then loads the index again.
#include <rocksdb/write_batch.h>

#include "base/validate.h"
#include "collection/collections.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "text/analyzer.h"

namespace verity {
namespace {

text::DocRanges RangesOf(const RowNode& node) { return {node.from, node.to, node.from2, node.to2}; }

// Reads the row at `row_key`; DataLoss when it is missing or does not parse.
Result<storage::RowMeta> ReadRowMeta(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* rows, const std::string& row_key,
                                     uint32_t label) {
  std::string value;
  rocksdb::Status rs = db->Get(rocksdb::ReadOptions(), rows, row_key, &value);
  if (rs.IsNotFound()) return Status::DataLoss("rows: the row of label " + std::to_string(label) + " is missing");
  VERITY_RETURN_IF_ERROR(FromRocks(rs, "read row"));
  storage::RowMeta row;
  if (!row.ParseFromString(value)) {
    return Status::DataLoss("rows: the row of label " + std::to_string(label) + " does not parse");
  }
  return row;
}

// The key of the row each label stands for ("" for a label without one:
// collected, or never used), as LoadNodeTable finds them at open.
std::vector<std::string> RowKeysOfLabels(const Collection& c) {
  std::vector<std::string> keys(c.nodes.size());
  for (uint32_t label = 0; label < c.nodes.size(); ++label) {
    const RowNode& node = c.nodes[label];
    if (!node.collected()) keys[label] = keys::RowKey(c.id, node.id, node.from);
  }
  return keys;
}

}  // namespace

Result<CollectionInfo> Collections::SetTextIndex(const std::string& name, TextIndexConfig settings) {
  if (!settings.enabled) {
    return Status::InvalidArgument("a text index cannot be removed (a text-only collection needs it)")
        .WithField("text_index.enabled");
  }
  VERITY_RETURN_IF_ERROR(text::ResolvePreset(&settings.analyzer, "text_index.analyzer"));
  VERITY_ASSIGN_OR_RETURN(auto c, Find(name));
  std::lock_guard write(c->write_mu);  // no commit while the index is rebuilt
  VERITY_RETURN_IF_ERROR(CheckNotDropped(*c));
  CollectionConfig config = c->config;
  const TextIndexConfig& old = config.text_index;
  settings.analyzer_version = old.enabled ? old.analyzer_version + 1 : 1;
  if (old.enabled && old.analyzer == settings.analyzer && old.k1 == settings.k1 && old.b == settings.b &&
      old.fields == settings.fields) {
    return InfoOf(*c);  // nothing changes: no new analyzer version
  }
  config.text_index = settings;
  VERITY_RETURN_IF_ERROR(ValidateTextIndexSettings(config));
  // The settings first: a crash before the documents are rewritten leaves
  // them stale, and the next open analyses them again with these settings.
  storage::CollectionMeta meta = c->meta;
  ConfigToMeta(config, &meta);
  VERITY_RETURN_IF_ERROR(
      FromRocks(db_->Put(write_options_, meta_, keys::CollectionKey(c->id), meta.SerializeAsString()),
                "set text index"));
  c->meta = meta;
  {
    std::unique_lock lock(c->graph_mu);  // searches of this collection wait for the rebuild
    c->config = config;
    const std::vector<std::string> row_keys = RowKeysOfLabels(*c);
    VERITY_RETURN_IF_ERROR(LoadTextIndex(*c, row_keys));
    VERITY_RETURN_IF_ERROR(LoadSparseIndex(*c, row_keys));
  }
  Log(LogLevel::kInfo, "collection \"" + name + "\": text index now analyzer version " +
                           std::to_string(settings.analyzer_version));
  return InfoOf(*c);
}

Status Collections::LoadTextIndex(Collection& c, const std::vector<std::string>& row_key_of_label) {
  VERITY_ASSIGN_OR_RETURN(c.text, text::CollectionTextIndex::Create(c.config));
  if (!c.text || !c.text->has_text()) return Status::Ok();
  const size_t label_count = c.nodes.size();
  std::vector<char> loaded(label_count, 0);
  rocksdb::WriteBatch batch;
  const std::string prefix = keys::CollectionPrefix(c.id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), text_));
  uint64_t stale = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != 8) return Status::DataLoss("text: malformed key " + it->key().ToString(true));
    const uint32_t label = keys::GetU32(it->key().data() + 4);
    if (label >= label_count || c.nodes[label].collected()) {  // GC removed its rows
      batch.Delete(text_, it->key());
      ++stale;
      continue;
    }
    bool current = false;
    VERITY_ASSIGN_OR_RETURN(
        text::DocTerms doc,
        c.text->DecodeDocument(it->value().ToStringView(), "label " + std::to_string(label), &current));
    if (!current) continue;  // another analyzer's: analysed again below
    c.text->LoadText(label, RangesOf(c.nodes[label]), doc);
    loaded[label] = 1;
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "scan text of " + c.config.name));
  uint64_t analysed = 0;
  for (uint32_t label = 0; label < label_count; ++label) {
    if (loaded[label] || c.nodes[label].collected() || row_key_of_label[label].empty()) continue;
    VERITY_ASSIGN_OR_RETURN(const storage::RowMeta row, ReadRowMeta(db_, rows_, row_key_of_label[label], label));
    const text::DocTerms doc = c.text->AnalyzeDocument(row.text(), MetadataFromProto(row.metadata()));
    batch.Put(text_, keys::TextKey(c.id, label), c.text->EncodeDocument(doc));
    c.text->LoadText(label, RangesOf(c.nodes[label]), doc);
    ++analysed;
  }
  if (analysed > 0 || stale > 0) {
    Log(LogLevel::kInfo, "collection \"" + c.config.name + "\": text index: analysed " + std::to_string(analysed) +
                             " rows again, removed " + std::to_string(stale) + " stale documents");
    if (!store_.opened_read_only()) {
      VERITY_RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), "rewrite text documents"));
    }
  }
  return Status::Ok();
}

Status Collections::LoadSparseIndex(Collection& c, const std::vector<std::string>& row_key_of_label) {
  if (!c.text || c.config.sparse_fields.empty()) return Status::Ok();
  for (uint32_t label = 0; label < c.nodes.size(); ++label) {
    if (c.nodes[label].collected() || row_key_of_label[label].empty()) continue;
    VERITY_ASSIGN_OR_RETURN(const storage::RowMeta row, ReadRowMeta(db_, rows_, row_key_of_label[label], label));
    if (row.sparse().empty()) continue;
    c.text->LoadSparse(label, RangesOf(c.nodes[label]), SparseFromProto(row.sparse()));
  }
  return Status::Ok();
}

}  // namespace verity
