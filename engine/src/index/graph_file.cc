#include "index/graph_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include "util/kill_point.h"
#include "index/quantizer.h"

namespace verity {
namespace {

constexpr char kMagic[8] = {'V', 'R', 'T', 'Y', 'G', 'R', 'P', 'H'};
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "graph files are little-endian");

uint32_t Crc(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {
    uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = static_cast<uint32_t>(crc32(crc, p, chunk));
    p += chunk;
    n -= chunk;
  }
  return crc;
}

uint32_t HeaderCrc(const GraphFileHeader& header) { return Crc(0, &header, offsetof(GraphFileHeader, header_crc)); }

Status WriteAll(int fd, const void* data, size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::Unavailable("write " + path + ": " + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

std::string DirName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Sets the body's size and CRC in `header`, then the header's own fields.
void Seal(GraphFileHeader& header, const GraphFileBody& body) {
  std::memcpy(header.magic, kMagic, sizeof(kMagic));
  header.format_version = kGraphFileFormatVersion;
  const size_t count = header.node_count;
  const size_t level0_bytes = count * header.bytes_per_node;
  uint32_t crc = Crc(0, body.level0, level0_bytes);
  uint64_t bytes = level0_bytes;
  for (size_t i = 0; i < count; ++i) {
    const uint32_t level = static_cast<uint32_t>(body.levels[i]);
    crc = Crc(crc, &level, sizeof(level));
    bytes += sizeof(level);
    if (level > 0) {
      crc = Crc(crc, body.upper_lists[i], level * header.bytes_per_upper_list);
      bytes += level * header.bytes_per_upper_list;
    }
  }
  header.body_bytes = bytes;
  header.body_crc = crc;
  header.header_crc = HeaderCrc(header);
}

// Writes the header and the body to the open `fd` (named `tmp`).
Status WriteContents(int fd, const std::string& tmp, const GraphFileHeader& header, const GraphFileBody& body) {
  const size_t count = header.node_count;
  Status s = WriteAll(fd, &header, sizeof(header), tmp);
  if (s.ok()) s = WriteAll(fd, body.level0, count * header.bytes_per_node, tmp);
  KillPoint("graph.mid_save");
  VERITY_RETURN_IF_ERROR(s);
  // Upper levels are small; buffer them to avoid one write per node.
  std::vector<char> buffer;
  for (size_t i = 0; i < count; ++i) {
    const uint32_t level = static_cast<uint32_t>(body.levels[i]);
    const char* lp = reinterpret_cast<const char*>(&level);
    buffer.insert(buffer.end(), lp, lp + sizeof(level));
    if (level > 0) {
      buffer.insert(buffer.end(), body.upper_lists[i], body.upper_lists[i] + level * header.bytes_per_upper_list);
    }
    if (buffer.size() > (1 << 20)) {
      VERITY_RETURN_IF_ERROR(WriteAll(fd, buffer.data(), buffer.size(), tmp));
      buffer.clear();
    }
  }
  VERITY_RETURN_IF_ERROR(WriteAll(fd, buffer.data(), buffer.size(), tmp));
  if (::fsync(fd) != 0) return Status::Unavailable("fsync " + tmp + ": " + std::strerror(errno));
  return Status::Ok();
}

// The whole file at `path`. NotFound when there is none.
Result<std::string> ReadWhole(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("no graph file " + path);
    return Status::DataLoss("open " + path + ": " + std::strerror(errno));
  }
  std::string contents;
  off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) {
    ::close(fd);
    return Status::DataLoss("seek " + path);
  }
  contents.resize(static_cast<size_t>(size));
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t r = ::pread(fd, contents.data() + done, contents.size() - done, static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      ::close(fd);
      return Status::DataLoss("read " + path + ": short read");
    }
    done += static_cast<size_t>(r);
  }
  ::close(fd);
  return contents;
}

}  // namespace

Status WriteGraphFile(const std::string& path, GraphFileHeader header, const GraphFileBody& body) {
  Seal(header, body);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Unavailable("open " + tmp + ": " + std::strerror(errno));
  Status s = WriteContents(fd, tmp, header, body);
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = Status::Unavailable("rename " + tmp + ": " + std::strerror(errno));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  const std::string dir = DirName(path);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    int rc = ::fsync(dfd);
    ::close(dfd);
    if (rc != 0) return Status::Unavailable("fsync " + dir + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Status GraphFileError(const std::string& path, const std::string& what) {
  return Status::DataLoss("graph file " + path + ": " + what);
}

Result<GraphFileContents> ReadGraphFile(const std::string& path, const GraphParams& params, uint32_t collection_id,
                                        uint64_t max_label_span) {
  GraphFileContents file;
  VERITY_ASSIGN_OR_RETURN(file.bytes, ReadWhole(path));
  auto bad = [&](const std::string& what) { return GraphFileError(path, what); };
  GraphFileHeader& header = file.header;
  if (file.bytes.size() < sizeof(header)) return bad("truncated header");
  std::memcpy(&header, file.bytes.data(), sizeof(header));
  if (std::memcmp(header.magic, kMagic, sizeof(kMagic)) != 0) return bad("bad magic");
  // The version sits at the same offset in every format; check it first so
  // that a file of an older format says so (its header has another size,
  // so its checksum would not match either).
  if (header.format_version != kGraphFileFormatVersion) {
    return bad("format version " + std::to_string(header.format_version) + ", this build reads version " +
               std::to_string(kGraphFileFormatVersion));
  }
  if (header.header_crc != HeaderCrc(header)) return bad("header checksum mismatch");
  if (header.collection_id != collection_id) return bad("belongs to another collection");
  if (header.dimension != params.dimension || header.metric != static_cast<uint32_t>(params.metric) ||
      header.m != params.m || header.ef_construction != params.ef_construction) {
    return bad("parameters differ from the collection's");
  }
  if (file.bytes.size() - sizeof(header) != header.body_bytes) return bad("body size mismatch (truncated?)");
  const bool quantized = params.metric != Metric::kIp;
  const ScalarQuantizer quantizer{header.quantizer_lo, header.quantizer_step, header.quantizer_trained == 1,
                                  header.quantizer_routes == 1};
  if (header.quantizer_routes > header.quantizer_trained || header.quantizer_trained > 1 ||
      (!quantized && quantizer.trained) || (quantized && header.node_count > 0 && !quantizer.trained) ||
      (quantizer.trained && !quantizer.Valid())) {
    return bad("bad quantizer parameters");
  }
  if (header.label_span < header.node_count || header.label_span > UINT32_MAX) return bad("bad label span");
  if (header.label_span > max_label_span) {
    return bad("label span " + std::to_string(header.label_span) + " is above the collection's " +
               std::to_string(max_label_span) + " labels");
  }
  return file;
}

Status CheckGraphFileBody(const std::string& path, const GraphFileContents& file, size_t bytes_per_node,
                          size_t bytes_per_upper_list) {
  const GraphFileHeader& header = file.header;
  if (header.bytes_per_node != bytes_per_node || header.bytes_per_upper_list != bytes_per_upper_list) {
    return GraphFileError(path, "node layout differs");
  }
  if (header.node_count > 0 &&
      (header.entry_point >= header.node_count || header.max_level < 0 || header.max_level > 64)) {
    return GraphFileError(path, "bad entry point");
  }
  if (Crc(0, file.body(), header.body_bytes) != header.body_crc) return GraphFileError(path, "body checksum mismatch");
  return Status::Ok();
}

}  // namespace verity
