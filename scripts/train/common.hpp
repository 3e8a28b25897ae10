// What every native trainer in scripts/train/ shares: "--key value" command lines that
// are echoed verbatim into the model card, file reading/writing with named errors,
// fixed-precision formatting, and the progress bar (loss, lr, throughput).
// Each trainer is its own executable (scripts/train/CMakeLists.txt builds one per .cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "core/error.hpp"

namespace attn::trainer {

// "--key value" pairs. take(key, field) parses and consumes one; finish() refuses leftovers.
class Options {
 public:
  Options(const char* program, int argc, char** argv) : program_(program) {
    std::ostringstream cmd;
    cmd << program;
    for (int i = 1; i < argc; ++i) {
      const std::string k = argv[i];
      ATTN_CHECK(k.rfind("--", 0) == 0 && i + 1 < argc, program, ": expected --option value, got '", k, "'");
      kv_[k] = argv[++i];
      cmd << ' ' << k << ' ' << argv[i];
    }
    command_ = cmd.str();
  }
  template <typename T>
  void take(const char* key, T& field) {
    const auto it = kv_.find(key);
    if (it == kv_.end()) return;
    std::istringstream in(it->second);
    in >> field;
    ATTN_CHECK(!in.fail() && in.eof(), program_, ": ", key, " '", it->second, "' is not a valid value");
    kv_.erase(it);
  }
  void take(const char* key, std::string& field) {
    const auto it = kv_.find(key);
    if (it == kv_.end()) return;
    field = it->second;
    kv_.erase(it);
  }
  void finish() const {
    ATTN_CHECK(kv_.empty(), program_, ": unknown option '", kv_.empty() ? "" : kv_.begin()->first, "'");
  }
  // The command line as given (for the model card's retrain command).
  const std::string& command() const { return command_; }

 private:
  const char* program_;
  std::map<std::string, std::string> kv_;
  std::string command_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  ATTN_CHECK(f.good(), "trainer: cannot read '", path, "'");
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  ATTN_CHECK(f.good(), "trainer: cannot write '", p.string(), "'");
  f << s;
}

inline std::string fmt(double v, int prec = 4) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(prec);
  o << v;
  return o.str();
}

// "[#####.....] step 10/100 loss 1.2345 lr 1.00e-03 1234 tok/s" on one line, redrawn in
// place every `every` steps and at the last; `unit` names what `items` counts.
class Progress {
 public:
  Progress(int64_t steps, const char* unit, int64_t every = 10)
      : steps_(steps), every_(every), unit_(unit), t0_(std::chrono::steady_clock::now()) {}
  void update(int64_t step, double loss, double lr, int64_t items_so_far) {
    if (step % every_ != 0 && step + 1 != steps_) return;
    const double secs = seconds();
    const int width = 30, done = static_cast<int>(width * (step + 1) / steps_);
    std::printf("\r[%s%s] step %lld/%lld loss %.4f lr %.2e %.0f %s/s ", std::string(done, '#').c_str(),
                std::string(width - done, '.').c_str(), static_cast<long long>(step + 1),
                static_cast<long long>(steps_), loss, lr, items_so_far / (secs > 0 ? secs : 1e-9), unit_);
    std::fflush(stdout);
    if (step + 1 == steps_) std::printf("\n");
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  int64_t steps_, every_;
  const char* unit_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace attn::trainer
