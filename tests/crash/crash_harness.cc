// verity_crash_harness: drives a real verityd over gRPC with mixed upserts,
// deletes, snapshots, restores, GC, exports, imports and retrievals, kills it
// (SIGKILL at random moments, and at every named kill point of the engine),
// restarts it and checks after every restart:
//   - every acknowledged write is present, and the state is the state after
//     a prefix of the operations sent (the acknowledged ones, plus perhaps
//     the one in flight at the kill);
//   - graph and rows agree: counts, no deleted id comes back from a search,
//     a self-search finds each probed record;
//   - every acknowledged snapshot, export and import is intact;
//   - the retrieval log's chain verifies and every retrieval the client
//     received has its record.
//
//   verity_crash_harness [--kills 30] [--per-point 20] [--seed N] [--dir DIR]
//   (the verityd it runs is the one built with it: VERITYD_PATH, set by CMake)
//
// CI runs the short mode (30 random kills, 20 per kill point); `--kills 1000`
// is the long mode. Prints one line of figures at the end; exit code 0 when
// every check passed, 1 at the first failure (with what differed).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/test_data.h"
#include "server/server_process.h"
#include "verity/client.h"

using namespace verity;

namespace {

constexpr size_t kDim = 8;
constexpr size_t kIds = 2500;        // enough rows for the mid-export / mid-import kill points
constexpr size_t kMaxSnapshots = 4;  // older ones are deleted (pins would stop GC)
constexpr size_t kMaxImports = 2;
const char* kCollection = "c";

// Rows of one collection: id -> (text, vector).
using Rows = std::map<std::string, std::pair<std::string, std::vector<float>>>;

struct Failure {
  std::string what;
};

[[noreturn]] void Fail(const std::string& what) { throw Failure{what}; }

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Fail(what + ": " + r.status().ToString());
  return std::move(r).value();
}

// What the harness knows the server acknowledged.
struct Model {
  Rows head;
  std::map<std::string, Rows> snapshots;  // name -> rows at it
  std::vector<std::string> snapshot_order;
  std::map<std::string, Rows> exports;    // export name -> rows exported
  std::map<std::string, Rows> imports;    // imported collection -> rows
  std::vector<std::string> import_order;
  std::vector<std::string> unchecked_retrievals;  // delivered since the last check
  std::vector<std::string> all_retrievals;
};

// The operation in flight when the server died: applied or not.
struct Pending {
  enum Kind { kHead, kSnapshot, kDeleteSnapshot, kExport, kImport, kDrop, kNone } kind = kNone;
  Rows rows;         // kHead: the head after it; kSnapshot / kExport / kImport: the rows it holds
  std::string name;  // the snapshot, export or collection
};

struct Figures {
  int random_kills = 0;
  int point_kills = 0;
  std::map<std::string, int> per_point;
  long ops_sent = 0;
  long ops_acked = 0;
  long pending_applied = 0;
  long pending_lost = 0;
  long retrievals_checked = 0;
};

class Harness {
 public:
  Harness(std::string dir, uint64_t seed) : dir_(std::move(dir)), rng_(seed) {}

  Figures figures;

  void Setup() {
    StartServer("");
    CollectionConfig config;
    config.name = kCollection;
    config.dimension = kDim;
    config.retention.keep_versions = 3;
    config.retention.keep_seconds = 0;
    Must(client_->CreateCollection(config), "create collection");
    for (size_t start = 0; start < kIds; start += 500) {
      std::vector<Record> batch;
      for (size_t i = start; i < start + 500; ++i) batch.push_back(NewRecord(i));
      Must(client_->Upsert(kCollection, batch), "initial load");
      for (const auto& r : batch) model_.head[r.id] = {r.text, r.vector};
    }
    StopServer(SIGTERM);
  }

  // One cycle: start, run operations until the server dies (killed by a
  // thread after a random delay, or by an armed kill point), restart, check.
  void Cycle(const std::string& kill_point) {
    StartServer(kill_point);
    std::atomic<bool> stop_killer{false};
    std::thread killer;
    const bool graceful_point = kill_point == "graph.mid_save";
    if (kill_point.empty()) {
      const int delay_ms = std::uniform_int_distribution<int>(5, 400)(rng_);
      const pid_t pid = server_->pid();
      killer = std::thread([pid, delay_ms, &stop_killer] {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
        while (!stop_killer && std::chrono::steady_clock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        if (!stop_killer) kill(pid, SIGKILL);
      });
    }
    pending_ = Pending();
    const int max_ops = graceful_point ? std::uniform_int_distribution<int>(1, 12)(rng_) : 400;
    bool died = false;
    for (int i = 0; i < max_ops && !died; ++i) died = !RunOne(kill_point);
    if (graceful_point && !died) died = !RunOne(kill_point, /*forced_upsert=*/true);  // the graph changed
    // Every operation but the one the kill interrupted was acknowledged
    // whole (RunOne fails the run on any other error).
    if (graceful_point && !died) {
      // The graph is saved on a graceful stop: the armed point kills it there.
      client_.reset();  // no idle connection to wait for
      const int code = server_->Stop(SIGTERM);
      if (code != 128 + SIGKILL) Fail("graph.mid_save: verityd exited " + std::to_string(code) + ", not killed");
      died = true;
    }
    if (killer.joinable()) {
      if (!died) killer.join();  // the kill is still to come
      stop_killer = true;
      if (killer.joinable()) killer.join();
    }
    if (!died && !kill_point.empty()) Fail("kill point " + kill_point + " not reached in " + std::to_string(max_ops) + " operations");
    if (server_->pid() > 0) {
      const int code = server_->Stop(SIGKILL);  // reaps it (already dead)
      if (code != 128 + SIGKILL) Fail("verityd exited with " + std::to_string(code) + " instead of being killed");
    }
    if (kill_point.empty()) ++figures.random_kills;
    else {
      ++figures.point_kills;
      ++figures.per_point[kill_point];
    }
    StartServer("");
    Check();
    StopServer(SIGKILL);
  }

  // A last check after a graceful restart, of every delivered retrieval.
  void Final() {
    StartServer("");
    model_.unchecked_retrievals = model_.all_retrievals;
    Check();
    StopServer(SIGTERM);
  }

 private:
  enum Op { kUpsert, kDelete, kRetrieve, kSnapshot, kRestore, kGc, kExport, kImport };

  Record NewRecord(size_t i) {
    Record r;
    r.id = "id" + std::to_string(i);
    r.text = "text of " + r.id + " #" + std::to_string(++writes_);
    r.vector.resize(kDim);
    std::normal_distribution<float> normal(0.f, 1.f);
    for (auto& x : r.vector) x = normal(rng_);
    return r;
  }

  void StartServer(const std::string& kill_point) {
    client_.reset();
    if (kill_point.empty()) unsetenv("VERITY_KILL_POINT");
    else {
      // The N-th time the point is reached (the graph is saved once per stop).
      const int nth = kill_point == "graph.mid_save" ? 1 : std::uniform_int_distribution<int>(1, 2)(rng_);
      setenv("VERITY_KILL_POINT", (kill_point + ":" + std::to_string(nth)).c_str(), 1);
    }
    const std::string log = dir_ + "/verityd-" + std::to_string(++starts_) + ".log";
    server_ = test::ServerProcess::Start(dir_ + "/data", log, {"--gc-interval-seconds", "0"});
    unsetenv("VERITY_KILL_POINT");
    if (!server_) Fail("verityd did not start; its log: " + log + "\n" + test::ReadFile(log));
    ClientOptions options;
    options.address = server_->address();
    options.timeout = std::chrono::milliseconds(30000);
    client_ = std::make_unique<Client>(options);
  }

  void StopServer(int signal) {
    client_.reset();
    const int code = server_->Stop(signal);
    if (signal == SIGTERM && code != 0) Fail("verityd exited " + std::to_string(code) + " on SIGTERM");
  }

  // Returns false when the call failed because the server is gone; a
  // transport error from a server that is still alive 5 s later is a failure.
  bool Acked(const Status& status, const std::string& what) {
    if (status.ok()) return true;
    if (status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kCancelled ||
        status.code() == StatusCode::kUnknown || status.code() == StatusCode::kDeadlineExceeded) {
      if (ServerDied(std::chrono::seconds(5))) return false;
      Fail(what + " failed with " + status.ToString() + " but verityd is still running");
    }
    Fail(what + " was refused: " + status.ToString());
  }

  // Whether verityd has exited within `wait` (without reaping it: Stop does).
  bool ServerDied(std::chrono::milliseconds wait) {
    const auto until = std::chrono::steady_clock::now() + wait;
    while (true) {
      siginfo_t info{};
      if (waitid(P_PID, static_cast<id_t>(server_->pid()), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == server_->pid()) {
        return true;
      }
      if (std::chrono::steady_clock::now() >= until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // Picks an operation (biased towards the one that reaches `kill_point`)
  // and runs it. False when the server died during it.
  bool RunOne(const std::string& kill_point, bool forced_upsert = false) {
    std::vector<int> weights = {30, 10, 20, 7, 5, 8, 3, 3};
    auto favour = [&](Op op) { weights[op] += 150; };
    if (kill_point == "commit.after_wal") favour(kUpsert);
    if (kill_point == "restore.after_commit") favour(kRestore);
    if (kill_point.rfind("gc.", 0) == 0) favour(kGc);
    if (kill_point.rfind("export.", 0) == 0) favour(kExport);
    if (kill_point.rfind("import.", 0) == 0) favour(kImport);
    if (kill_point == "log.after_append") favour(kRetrieve);
    Op op = static_cast<Op>(std::discrete_distribution<int>(weights.begin(), weights.end())(rng_));
    if (forced_upsert) op = kUpsert;
    if (op == kRestore && model_.snapshots.empty()) op = kSnapshot;
    if (op == kImport && model_.exports.empty()) op = kExport;
    ++figures.ops_sent;
    if (!RunOp(op)) return false;
    ++figures.ops_acked;
    return true;
  }

  // Runs `op`; false when the server died during it.
  bool RunOp(Op op) {
    switch (op) {
      case kUpsert: {
        const int n = std::uniform_int_distribution<int>(1, 40)(rng_);
        std::vector<Record> batch;
        std::set<std::string> seen;
        for (int i = 0; i < n; ++i) {
          Record r = NewRecord(std::uniform_int_distribution<size_t>(0, kIds - 1)(rng_));
          if (seen.insert(r.id).second) batch.push_back(std::move(r));
        }
        Rows after = model_.head;
        for (const auto& r : batch) after[r.id] = {r.text, r.vector};
        return Commit(client_->Upsert(kCollection, batch).status(), "upsert", std::move(after));
      }
      case kDelete: {
        if (model_.head.empty()) return true;
        const int n = std::uniform_int_distribution<int>(1, 20)(rng_);
        std::vector<std::string> ids;
        Rows after = model_.head;
        for (int i = 0; i < n && !after.empty(); ++i) {
          auto it = after.begin();
          std::advance(it, std::uniform_int_distribution<size_t>(0, after.size() - 1)(rng_));
          ids.push_back(it->first);
          after.erase(it);
        }
        return Commit(client_->Delete(kCollection, ids).status(), "delete", std::move(after));
      }
      case kRetrieve: {
        RetrieveRequest request;
        request.collection = kCollection;
        request.vector = NewRecord(0).vector;
        request.k = 5;
        request.query_text = "crash harness query";
        auto result = client_->Retrieve(request);
        if (!Acked(result.status(), "retrieve")) return false;
        model_.unchecked_retrievals.push_back(result->retrieval_id);
        model_.all_retrievals.push_back(result->retrieval_id);
        return true;
      }
      case kSnapshot: {
        if (model_.snapshots.size() >= kMaxSnapshots) {
          const std::string oldest = model_.snapshot_order.front();
          pending_ = {Pending::kDeleteSnapshot, model_.snapshots[oldest], oldest};
          if (!Acked(client_->DeleteSnapshot(kCollection, oldest), "delete snapshot")) return false;
          model_.snapshots.erase(oldest);
          model_.snapshot_order.erase(model_.snapshot_order.begin());
        }
        const std::string name = "s" + std::to_string(++names_);
        pending_ = {Pending::kSnapshot, model_.head, name};
        if (!Acked(client_->CreateSnapshot(kCollection, name).status(), "create snapshot")) return false;
        model_.snapshots[name] = model_.head;
        model_.snapshot_order.push_back(name);
        pending_ = Pending();
        return true;
      }
      case kRestore: {
        auto it = model_.snapshots.begin();
        std::advance(it, std::uniform_int_distribution<size_t>(0, model_.snapshots.size() - 1)(rng_));
        return Commit(client_->Restore(kCollection, ReadPoint::AtSnapshot(it->first)).status(), "restore",
                      Rows(it->second));
      }
      case kGc:
        return Acked(client_->Gc(kCollection).status(), "gc");
      case kExport: {
        const std::string name = "e" + std::to_string(++names_);
        pending_ = {Pending::kExport, model_.head, name};
        if (!Acked(client_->Export(kCollection, {}, name).status(), "export")) return false;
        model_.exports[name] = model_.head;
        pending_ = Pending();
        return true;
      }
      case kImport: {
        if (model_.imports.size() >= kMaxImports) {
          const std::string oldest = model_.import_order.front();
          pending_ = {Pending::kDrop, model_.imports[oldest], oldest};
          if (!Acked(client_->DropCollection(oldest), "drop")) return false;
          model_.imports.erase(oldest);
          model_.import_order.erase(model_.import_order.begin());
        }
        auto it = model_.exports.begin();
        std::advance(it, std::uniform_int_distribution<size_t>(0, model_.exports.size() - 1)(rng_));
        const std::string as = "imp" + std::to_string(++names_);
        pending_ = {Pending::kImport, it->second, as};
        if (!Acked(client_->Import(it->first, as).status(), "import")) return false;
        model_.imports[as] = it->second;
        model_.import_order.push_back(as);
        pending_ = Pending();
        return true;
      }
    }
    return true;
  }

  bool Commit(const Status& status, const std::string& what, Rows after) {
    pending_ = {Pending::kHead, std::move(after), ""};
    if (!Acked(status, what)) return false;
    model_.head = std::move(pending_.rows);
    pending_ = Pending();
    return true;
  }

  Rows ReadAll(const std::string& collection, const ReadPoint& at) {
    Rows out;
    ClientScroll scroll;
    scroll.at = at;
    scroll.limit = 1000;
    scroll.with_vectors = true;
    for (;;) {
      auto page = Must(client_->Scroll(collection, scroll), "scroll " + collection);
      for (const auto& s : page.records) out[s.record.id] = {s.record.text, s.record.vector};
      if (page.next_cursor.empty()) break;
      scroll.start_after = page.next_cursor;
    }
    return out;
  }

  static std::string Describe(const Rows& got, const Rows& want) {
    size_t missing = 0, extra = 0, changed = 0;
    std::string example;
    for (const auto& [id, row] : want) {
      auto it = got.find(id);
      if (it == got.end()) {
        ++missing;
        if (example.empty()) example = "missing " + id;
      } else if (it->second != row) {
        ++changed;
        if (example.empty()) example = "changed " + id + ": \"" + it->second.first + "\" instead of \"" + row.first + "\"";
      }
    }
    for (const auto& [id, row] : got) {
      if (!want.count(id)) {
        ++extra;
        if (example.empty()) example = "extra " + id;
      }
    }
    return std::to_string(missing) + " missing, " + std::to_string(extra) + " extra, " + std::to_string(changed) +
           " changed (" + example + ")";
  }

  // The rows of a collection (or snapshot) equal `want`, and its graph
  // agrees: counts, self-search, no deleted id.
  void CheckCollection(const std::string& collection, const ReadPoint& at, const Rows& want, const std::string& what) {
    const Rows got = ReadAll(collection, at);
    if (got != want) Fail(what + ": rows differ from the acknowledged state: " + Describe(got, want));
    const uint64_t count = Must(client_->Count(collection, at), "count " + what);
    if (count != want.size()) Fail(what + ": Count " + std::to_string(count) + " != " + std::to_string(want.size()));
    if (want.empty()) return;
    std::vector<const std::pair<const std::string, std::pair<std::string, std::vector<float>>>*> rows;
    for (const auto& row : want) rows.push_back(&row);
    for (int probe = 0; probe < 10; ++probe) {
      const auto* row = rows[std::uniform_int_distribution<size_t>(0, rows.size() - 1)(rng_)];
      ClientSearch query;
      query.vector = row->second.second;
      query.k = 20;
      query.ef = 128;
      query.at = at;
      query.plan = SearchPlan::kGraph;
      query.with_payload = false;
      const auto result = Must(client_->Search(collection, query), "search " + what);
      if (result.hits.empty() || result.hits[0].distance > 1e-4f) {
        Fail(what + ": a graph search for " + row->first + "'s own vector did not find it");
      }
      bool found = false;
      for (const auto& hit : result.hits) {
        if (!want.count(hit.id)) Fail(what + ": a search returned " + hit.id + ", which is not in the collection");
        found = found || hit.id == row->first;
      }
      if (!found) Fail(what + ": a graph search for " + row->first + "'s own vector did not return it");
      if (result.hits.size() != std::min<size_t>(20, want.size())) Fail(what + ": a search returned too few hits");
    }
  }

  void Check() {
    // The head: the acknowledged state, or that plus the operation in flight.
    const Rows head = ReadAll(kCollection, {});
    if (pending_.kind == Pending::kHead && head == pending_.rows && head != model_.head) {
      model_.head = pending_.rows;
      ++figures.pending_applied;
    } else if (head != model_.head) {
      Fail("after restart the head is neither the acknowledged state nor that plus the write in flight: " +
           Describe(head, model_.head));
    } else if (pending_.kind == Pending::kHead) {
      ++figures.pending_lost;
    }
    CheckCollection(kCollection, {}, model_.head, "head");

    // Snapshots: the acknowledged ones; one in flight is there entirely or not at all.
    const auto snapshots = Must(client_->ListSnapshots(kCollection), "list snapshots");
    std::set<std::string> present;
    for (const auto& s : snapshots) present.insert(s.name);
    if (pending_.kind == Pending::kSnapshot && present.count(pending_.name)) {
      model_.snapshots[pending_.name] = pending_.rows;
      model_.snapshot_order.push_back(pending_.name);
    }
    if (pending_.kind == Pending::kDeleteSnapshot && !present.count(pending_.name)) {
      model_.snapshots.erase(pending_.name);
      model_.snapshot_order.erase(model_.snapshot_order.begin());
    }
    for (const auto& [name, rows] : model_.snapshots) {
      if (!present.count(name)) Fail("acknowledged snapshot " + name + " is gone");
    }
    if (present.size() != model_.snapshots.size()) Fail("a snapshot nobody acknowledged exists");
    if (!model_.snapshots.empty()) {
      auto it = model_.snapshots.begin();
      std::advance(it, std::uniform_int_distribution<size_t>(0, model_.snapshots.size() - 1)(rng_));
      CheckCollection(kCollection, ReadPoint::AtSnapshot(it->first), it->second, "snapshot " + it->first);
    }

    // Imports and drops of imported collections.
    std::set<std::string> collections;
    for (const auto& c : Must(client_->ListCollections(), "list collections")) collections.insert(c.config.name);
    if (pending_.kind == Pending::kImport && collections.count(pending_.name)) {
      model_.imports[pending_.name] = pending_.rows;
      model_.import_order.push_back(pending_.name);
    }
    if (pending_.kind == Pending::kDrop && !collections.count(pending_.name)) {
      model_.imports.erase(pending_.name);
      model_.import_order.erase(model_.import_order.begin());
    }
    if (collections.size() != model_.imports.size() + 1) Fail("collections other than the acknowledged ones exist");
    for (const auto& [name, rows] : model_.imports) {
      if (!collections.count(name)) Fail("acknowledged import " + name + " is gone");
      CheckCollection(name, {}, rows, "import " + name);
    }

    // An export in flight is complete (it imports to its rows) or absent.
    if (pending_.kind == Pending::kExport) {
      auto imported = client_->Import(pending_.name, "export-check");
      if (imported.ok()) {
        CheckCollection("export-check", {}, pending_.rows, "export " + pending_.name + " made at the kill");
        if (Status dropped = client_->DropCollection("export-check"); !dropped.ok()) {
          Fail("drop export-check: " + dropped.ToString());
        }
        model_.exports[pending_.name] = pending_.rows;
      } else if (imported.status().code() != StatusCode::kNotFound) {
        Fail("export " + pending_.name + " made at the kill: " + imported.status().ToString());
      }
    }

    // The retrieval log: the chain verifies, every delivered retrieval is there.
    const auto verified = Must(client_->VerifyLog(), "verify log");
    if (!verified.ok) Fail("the retrieval log does not verify: first bad record " + std::to_string(verified.first_bad_seq));
    for (const auto& id : model_.unchecked_retrievals) {
      auto got = client_->GetRetrieval(id);
      if (!got.ok()) Fail("delivered retrieval " + id + " has no log record: " + got.status().ToString());
      ++figures.retrievals_checked;
    }
    model_.unchecked_retrievals.clear();
    pending_ = Pending();
  }

  std::string dir_;
  std::mt19937_64 rng_;
  std::unique_ptr<test::ServerProcess> server_;
  std::unique_ptr<Client> client_;
  Model model_;
  Pending pending_;
  long writes_ = 0;
  int names_ = 0;
  int starts_ = 0;
};

const std::vector<std::string> kKillPoints = {
    "commit.after_wal", "restore.after_commit", "gc.after_horizon",    "gc.mid_delete",
    "export.mid_records", "export.before_rename", "import.mid_rows",   "import.before_register",
    "log.after_append",   "graph.mid_save",
};

}  // namespace

int main(int argc, char** argv) {
  int kills = 30, per_point = 20;
  uint64_t seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--kills") kills = std::stoi(value);
    else if (flag == "--per-point") per_point = std::stoi(value);
    else if (flag == "--seed") seed = std::stoull(value);
    else if (flag == "--dir") dir = value;
    else {
      std::fprintf(stderr, "usage: verity_crash_harness [--kills N] [--per-point N] [--seed N] [--dir DIR]\n");
      return 2;
    }
  }
  std::optional<test::TempDir> temp;
  if (dir.empty()) {
    temp.emplace();
    dir = temp->path();
  }
  std::printf("crash harness: seed %llu, %d random kills, %d per kill point, in %s\n",
              static_cast<unsigned long long>(seed), kills, per_point, dir.c_str());
  std::fflush(stdout);
  Harness harness(dir, seed);
  const auto start = std::chrono::steady_clock::now();
  try {
    harness.Setup();
    // Interleaved: each kill point, then a few random kills, round after round.
    int random_done = 0;
    for (int round = 0; round < per_point; ++round) {
      for (const auto& point : kKillPoints) harness.Cycle(point);
      const int due = (round + 1) * kills / std::max(per_point, 1);
      for (; random_done < due; ++random_done) harness.Cycle("");
    }
    for (; random_done < kills; ++random_done) harness.Cycle("");
    harness.Final();
  } catch (const Failure& f) {
    std::printf("crash harness: FAILED (seed %llu) after %d random and %d kill-point kills: %s\n",
                static_cast<unsigned long long>(seed), harness.figures.random_kills, harness.figures.point_kills,
                f.what.c_str());
    return 1;
  }
  const auto& f = harness.figures;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("crash harness: passed in %.0f s: %d random kills and %d at kill points (", seconds, f.random_kills,
              f.point_kills);
  bool first = true;
  for (const auto& [point, n] : f.per_point) {
    std::printf("%s%s %d", first ? "" : ", ", point.c_str(), n);
    first = false;
  }
  std::printf("); %ld operations sent, %ld acknowledged, all present; the write in flight at a kill was applied %ld "
              "times and lost %ld times; %ld delivered retrievals checked in the log\n",
              f.ops_sent, f.ops_acked, f.pending_applied, f.pending_lost, f.retrievals_checked);
  return 0;
}
