#pragma once

// Measurements: repeats reduced to median, min and max; printed as a table; written as JSON
// lines (one object per measurement) for scripts that compare runs.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bench {

struct Measurement {
  std::string workload;
  std::string variant;
  std::string backend;
  int workers = 0;
  std::string unit;
  std::vector<double> samples;
  nlohmann::json extra = nlohmann::json::object();

  [[nodiscard]] double median() const {
    auto s = samples;
    std::sort(s.begin(), s.end());
    const std::size_t n = s.size();
    return n == 0 ? 0 : (n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2);
  }
  [[nodiscard]] double min() const { return *std::min_element(samples.begin(), samples.end()); }
  [[nodiscard]] double max() const { return *std::max_element(samples.begin(), samples.end()); }

  [[nodiscard]] nlohmann::json json() const {
    nlohmann::json j = extra;
    j["workload"] = workload;
    j["variant"] = variant;
    j["backend"] = backend;
    j["workers"] = workers;
    j["median"] = median();
    j["min"] = min();
    j["max"] = max();
    j["unit"] = unit;
    j["repeat"] = samples.size();
    return j;
  }
};

class Report {
 public:
  void add(Measurement m) {
    print_row(m);
    rows_.push_back(std::move(m));
  }
  void header() const {
    std::printf("%-10s %-12s %-9s %7s %14s %25s  %s\n", "workload", "variant", "backend", "workers",
                "median", "min - max", "unit");
    std::fflush(stdout);
  }
  void write_json(const std::string& path) const {
    std::ofstream f(path);
    for (const auto& m : rows_) f << m.json().dump() << "\n";
  }
  [[nodiscard]] const std::vector<Measurement>& rows() const { return rows_; }

 private:
  static void print_row(const Measurement& m) {
    char range[64];
    std::snprintf(range, sizeof range, "%.4g - %.4g", m.min(), m.max());
    std::printf("%-10s %-12s %-9s %7d %14.5g %25s  %s\n", m.workload.c_str(), m.variant.c_str(),
                m.backend.c_str(), m.workers, m.median(), range, m.unit.c_str());
    std::fflush(stdout);
  }
  std::vector<Measurement> rows_;
};

}  // namespace bench
