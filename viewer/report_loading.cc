#include "report_loading.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "report_file.h"

namespace leakscope::viewer {

bool LoadReport(const std::string& path, report::Report* report, std::string* error) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = path + ": not a regular file";
    return false;
  }
  return report::ReadReportFile(path, report, error);
}

}  // namespace leakscope::viewer
