#include "labels.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

namespace leakscope::collector {
namespace {

bool IsHex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

// A cgroup path component without its runtime's scope prefix and suffix.
std::string Unwrap(std::string part) {
  const std::string scope = ".scope";
  if (part.size() > scope.size() &&
      part.compare(part.size() - scope.size(), scope.size(), scope) == 0)
    part.resize(part.size() - scope.size());
  for (const char* prefix : {"docker-", "cri-containerd-", "crio-", "libpod-"}) {
    const std::string p = prefix;
    if (part.compare(0, p.size(), p) == 0) return part.substr(p.size());
  }
  return part;
}

}  // namespace

bool ValidLabelName(const std::string& name, std::string* why) {
  const bool syntax = !name.empty() && name.size() <= kMaxLabelName &&
                      !std::isdigit(static_cast<unsigned char>(name[0])) &&
                      std::all_of(name.begin(), name.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                      });
  if (!syntax) {
    *why = "'" + name + "' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, at most 64)";
    return false;
  }
  if (name.compare(0, 2, "__") == 0 || name == "pid" || name == "exe" || name == "container" ||
      name == "site" || name == "site_id") {
    *why = "'" + name + "' is set by leakscoped";
    return false;
  }
  return true;
}

bool ParseLabelFlag(const std::string& text, Label* out, std::string* error) {
  const size_t eq = text.find('=');
  std::string why;
  if (eq == std::string::npos) {
    *error = "--label '" + text + "': expected NAME=VALUE, e.g. team=payments";
    return false;
  }
  out->name = text.substr(0, eq);
  out->value = text.substr(eq + 1);
  if (!ValidLabelName(out->name, &why)) {
    *error = "--label '" + text + "': " + why;
    return false;
  }
  if (out->value.size() > kMaxLabelValue) {
    *error = "--label '" + out->name + "=...': the value is over 256 bytes";
    return false;
  }
  return true;
}

std::vector<Label> ParseProcessLabels(const std::string& text, std::string* dropped) {
  std::vector<Label> out;
  dropped->clear();
  const auto drop = [&](const std::string& why) {
    *dropped += (dropped->empty() ? "" : "; ") + why;
  };
  std::istringstream pairs(text);
  std::string pair;
  while (std::getline(pairs, pair, ',')) {
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    Label l{pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1)};
    std::string why;
    if (eq == std::string::npos)
      drop("'" + pair.substr(0, kMaxLabelName) + "' is not k=v");
    else if (!ValidLabelName(l.name, &why))
      drop(why.substr(0, 2 * kMaxLabelName));
    else if (l.value.size() > kMaxLabelValue)
      drop("'" + l.name + "': value over 256 bytes");
    else if (out.size() == kMaxProcessLabels)
      drop("'" + l.name + "': more than 16 labels");
    else
      out.push_back(std::move(l));
  }
  return out;
}

std::string ContainerFromCgroup(const std::string& cgroup_text) {
  std::istringstream lines(cgroup_text);
  std::string line;
  while (std::getline(lines, line)) {
    // "hierarchy:controllers:path"
    const size_t second = line.find(':', line.find(':') + 1);
    if (second == std::string::npos) continue;
    std::istringstream path(line.substr(second + 1));
    std::string part, found;
    while (std::getline(path, part, '/'))
      if (IsHex64(Unwrap(part))) found = Unwrap(part);
    if (!found.empty()) return found.substr(0, 12);
  }
  return "";
}

std::string ServiceName(const std::string& exe) {
  const size_t slash = exe.rfind('/');
  return slash == std::string::npos ? exe : exe.substr(slash + 1);
}

std::vector<Label> MergeLabels(const std::vector<Label>& daemon,
                               const std::vector<Label>& process) {
  std::map<std::string, std::string> merged;
  for (const Label& l : daemon) merged[l.name] = l.value;
  for (const Label& l : process) merged[l.name] = l.value;
  std::vector<Label> out;
  for (auto& [name, value] : merged) out.push_back({name, value});
  return out;
}

}  // namespace leakscope::collector
