// The Debian package: cpack builds it from this build directory, dpkg -x
// unpacks it into a scratch root (no root needed), and the unpacked
// `leakscope run` finds its own shim (bin/../lib) and catches a leak in a
// test suite that uses the unpacked header's API.
#include <fnmatch.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "run_process.h"

namespace leakscope::api_testing {
namespace {

std::string FindDeb(const std::string& dir) {
  const std::vector<std::string> debs = FilesEndingWith(dir, ".deb");
  return debs.size() == 1 ? dir + "/" + debs[0] : "";
}

bool Exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

struct DockerCopy {
  std::string source, destination;
};

// A Dockerfile's COPY lines, ${ARG}s replaced by their defaults.
std::vector<DockerCopy> DockerfileCopies(const std::string& path) {
  std::ifstream in(path);
  std::map<std::string, std::string> args;
  std::vector<DockerCopy> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string op, a, b;
    words >> op >> a >> b;
    if (op == "ARG" && a.find('=') != std::string::npos)
      args["${" + a.substr(0, a.find('=')) + "}"] = a.substr(a.find('=') + 1);
    if (op != "COPY") continue;
    for (const auto& [name, value] : args)
      if (a == name) a = value;
    out.push_back({a, b});
  }
  return out;
}

// The program of ENTRYPOINT ["..."].
std::string DockerfileEntrypoint(const std::string& path) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("ENTRYPOINT [\"", 0) == 0) return line.substr(13, line.find('"', 13) - 13);
  return "";
}

// One test: cpack takes a while, and each test case is its own process.
TEST(DebPackage, BuildsUnpacksAndRuns) {
  ScratchDir scratch;
  const std::string out = scratch.path() + "/pkg";
  ProcessResult packed =
      RunProcess({CPACK_PATH, "--config", BUILD_DIR "/CPackConfig.cmake", "-G", "DEB", "-B", out});
  ASSERT_EQ(packed.exit_status, 0) << packed.output;
  const std::string deb = FindDeb(out);
  ASSERT_EQ(deb.substr(deb.rfind('/') + 1).substr(0, 16), "leakscope_" LEAKSCOPE_VERSION "_")
      << packed.output;

  ProcessResult depends = RunProcess({"/usr/bin/dpkg-deb", "-f", deb, "Depends"});
  EXPECT_EQ(depends.exit_status, 0);
  EXPECT_EQ(depends.output,
            "libc6, libstdc++6, libgcc-s1, libunwind8, libprotobuf32, libdw1, libelf1, "
            "liblz4-1, zlib1g, libmimalloc2.0\n");

  const std::string root = scratch.path() + "/root";
  ASSERT_EQ(RunProcess({"/usr/bin/dpkg", "-x", deb, root}).exit_status, 0);
  for (const char* path :
       {"/usr/bin/leakscope", "/usr/bin/leakscoped", "/usr/lib/libleakscope.so",
        "/usr/include/leakscope.h", "/usr/include/leakscope_gtest.h",
        "/usr/lib/libleakscope_gtest.a", "/usr/lib/libleakscope_gtest_main.a",
        "/usr/lib/cmake/leakscope/leakscopeConfig.cmake", "/usr/bin/leakscope-entrypoint",
        "/usr/share/man/man1/leakscope.1", "/usr/share/man/man8/leakscoped.8",
        "/usr/share/bash-completion/completions/leakscope",
        "/usr/share/bash-completion/completions/leakscoped",
        "/usr/lib/systemd/system/leakscoped.service"})
    EXPECT_TRUE(Exists(root + path)) << path;

  // The unpacked command finds the unpacked shim (bin/../lib), nothing else.
  ScratchDir reports;
  ProcessResult run = RunProcess({root + "/usr/bin/leakscope", "run", "-o", reports.path(), "--",
                                  LEAKY_SUITE_PATH, "--gtest_filter=Suite.Leaks"},
                                 {"LEAKSCOPE_PRELOAD="});
  EXPECT_EQ(run.exit_status, 1) << run.output;
  EXPECT_EQ(LinesWith(run.output, "leakscope: this test leaked"),
            std::vector<std::string>{"leakscope: this test leaked 48 bytes in 1 allocation"})
      << run.output;

  ProcessResult help = RunProcess({root + "/usr/bin/leakscoped", "--help"});
  EXPECT_EQ(help.exit_status, 0) << help.output;
  EXPECT_EQ(LinesWith(help.output, "usage: leakscoped").size(), 1u) << help.output;

  // examples/container/Dockerfile, checked statically (no Docker engine
  // that may pull debian:bookworm-slim here): its build context is the
  // build tree with the package cpack writes there, so every COPY source
  // must be found in BUILD_DIR or among cpack's output; what ENTRYPOINT
  // names, the package installs.
  for (const DockerCopy& copy : DockerfileCopies(SOURCE_DIR "/examples/container/Dockerfile")) {
    const bool in_build = Exists(std::string(BUILD_DIR) + "/" + copy.source);
    const bool is_package =
        fnmatch(copy.source.c_str(), deb.substr(deb.rfind('/') + 1).c_str(), 0) == 0;
    EXPECT_TRUE(in_build || is_package) << "COPY " << copy.source << " " << copy.destination;
  }
  EXPECT_TRUE(Exists(root + DockerfileEntrypoint(SOURCE_DIR "/examples/container/Dockerfile")));
}

}  // namespace
}  // namespace leakscope::api_testing
