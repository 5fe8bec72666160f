#include "pprof_profile.h"

#include <zlib.h>

#include <limits>
#include <map>
#include <unordered_map>

#include "pprof/profile.pb.h"

namespace leakscope::pprof {
namespace {

namespace pp = perftools::profiles;

uint64_t SamplingInterval(const report::Report& report) {
  return report.sampling_interval_bytes() == 0 ? 1 : report.sampling_interval_bytes();
}

const report::Frame& FrameAt(const report::Report& report, uint32_t index) {
  if (index < static_cast<uint32_t>(report.frames_size())) return report.frames(index);
  return report::Frame::default_instance();
}

std::string Hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

int64_t Signed(uint64_t v) {
  return v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
             ? std::numeric_limits<int64_t>::max()
             : static_cast<int64_t>(v);
}

class ProfileBuilder {
 public:
  explicit ProfileBuilder(const report::Report& report)
      : report_(report), scanned_(report.reachability().scanned()) {
    Intern("");
  }

  pp::Profile Build() {
    AddSampleType("inuse_space", "bytes");
    AddSampleType("inuse_objects", "count");
    AddSampleType("alloc_space", "bytes");
    AddSampleType("alloc_objects", "count");
    // With a reachability scan: the live figures split by verdict.
    if (scanned_) {
      for (const char* v : {"definitely_lost", "indirectly_lost", "possibly_lost", "reachable"}) {
        AddSampleType((std::string(v) + "_space").c_str(), "bytes");
        AddSampleType((std::string(v) + "_objects").c_str(), "count");
      }
    }
    profile_.set_default_sample_type(Intern("inuse_space"));
    profile_.mutable_period_type()->set_type(Intern("space"));
    profile_.mutable_period_type()->set_unit(Intern("bytes"));
    profile_.set_period(Signed(SamplingInterval(report_)));
    profile_.set_time_nanos(Signed(report_.process().start_time_unix_ns()));
    for (const report::Module& m : report_.modules()) build_ids_[m.path()] = Hex(m.build_id());
    for (const report::Site& site : report_.sites()) AddSample(site);
    return std::move(profile_);
  }

 private:
  int64_t Intern(const std::string& s) {
    auto [it, added] = strings_.emplace(s, profile_.string_table_size());
    if (added) profile_.add_string_table(s);
    return it->second;
  }

  void AddSampleType(const char* type, const char* unit) {
    pp::ValueType* v = profile_.add_sample_type();
    v->set_type(Intern(type));
    v->set_unit(Intern(unit));
  }

  uint64_t FunctionId(const report::Frame& f) {
    const std::string name = f.function().empty() ? "??" : f.function();
    const auto key = std::make_pair(name, f.file());
    auto [it, added] = functions_.emplace(key, functions_.size() + 1);
    if (added) {
      pp::Function* fn = profile_.add_function();
      fn->set_id(it->second);
      fn->set_name(Intern(name));
      fn->set_system_name(Intern(name));
      fn->set_filename(Intern(f.file()));
    }
    return it->second;
  }

  // The module's mapping (0: a frame without a module).
  const pp::Mapping* MappingOf(const std::string& module) {
    if (module.empty()) return nullptr;
    auto [it, added] = mappings_.emplace(module, profile_.mapping_size());
    if (added) {
      pp::Mapping* m = profile_.add_mapping();
      m->set_id(uint64_t(profile_.mapping_size()));
      m->set_memory_start(m->id() << 40);
      m->set_memory_limit((m->id() + 1) << 40);
      m->set_filename(Intern(module));
      m->set_build_id(Intern(build_ids_[module]));
      m->set_has_functions(true);
      m->set_has_filenames(true);
      m->set_has_line_numbers(true);
      m->set_has_inline_frames(true);
    }
    return &profile_.mapping(it->second);
  }

  // frames[begin..end) are inlined calls followed by the physical frame they
  // are inlined into: one location. Keyed by the frame indexes.
  uint64_t LocationId(const std::vector<uint32_t>& frames) {
    auto [it, added] = locations_.emplace(frames, locations_.size() + 1);
    if (added) {
      pp::Location* loc = profile_.add_location();
      loc->set_id(it->second);
      // The physical frame, last of the group, gives the address.
      const report::Frame& physical = FrameAt(report_, frames.back());
      if (const pp::Mapping* m = MappingOf(physical.module())) {
        loc->set_mapping_id(m->id());
        loc->set_address(m->memory_start() + physical.module_offset());
      }
      for (uint32_t index : frames) {
        const report::Frame& f = FrameAt(report_, index);
        pp::Line* line = loc->add_line();
        line->set_function_id(FunctionId(f));
        line->set_line(f.line());
      }
    }
    return it->second;
  }

  void AddSample(const report::Site& site) {
    if (site.live_bytes() == 0 && site.allocations() == 0) return;
    pp::Sample* sample = profile_.add_sample();
    std::vector<uint32_t> group;
    for (uint32_t index : site.frames()) {
      group.push_back(index);
      if (FrameAt(report_, index).inlined()) continue;  // its caller is the next frame
      sample->add_location_id(LocationId(group));
      group.clear();
    }
    if (!group.empty()) sample->add_location_id(LocationId(group));
    for (uint64_t v :
         {site.live_bytes(), site.live_allocations(), site.allocated_bytes(), site.allocations()}) {
      sample->add_value(Signed(v));
    }
    if (!scanned_) return;
    for (uint64_t v : {site.definitely_lost_bytes(), site.definitely_lost_allocations(),
                       site.indirectly_lost_bytes(), site.indirectly_lost_allocations(),
                       site.possibly_lost_bytes(), site.possibly_lost_allocations(),
                       site.reachable_bytes(), site.reachable_allocations()})
      sample->add_value(Signed(v));
  }

  const report::Report& report_;
  const bool scanned_;
  pp::Profile profile_;
  std::unordered_map<std::string, int64_t> strings_;
  std::map<std::pair<std::string, std::string>, uint64_t> functions_;
  std::map<std::vector<uint32_t>, uint64_t> locations_;
  std::unordered_map<std::string, int> mappings_;           // module -> index in profile_.mapping()
  std::unordered_map<std::string, std::string> build_ids_;  // module -> hex
};

}  // namespace

std::string ProfileBytes(const report::Report& report) {
  return ProfileBuilder(report).Build().SerializeAsString();
}

bool GzipProfile(const report::Report& report, std::string* out, std::string* error) {
  const std::string raw = ProfileBytes(report);
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    *error = "cannot start gzip compression";
    return false;
  }
  out->resize(deflateBound(&z, raw.size()) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out->data());
  z.avail_out = static_cast<uInt>(out->size());
  const int rc = deflate(&z, Z_FINISH);
  out->resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) {
    *error = "gzip compression failed";
    return false;
  }
  return true;
}

}  // namespace leakscope::pprof
