#include "debug_cache.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace leakscope::collector {
namespace {

bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// mkdir -p, private to the user: debug files can reveal what runs here.
bool MakeDirs(const std::string& dir) {
  for (size_t at = 1; at <= dir.size(); ++at) {
    if (at < dir.size() && dir[at] != '/') continue;
    const std::string prefix = dir.substr(0, at);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return false;
  }
  return true;
}

bool HasCompressedSection(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  elf_version(EV_CURRENT);
  bool compressed = false;
  if (Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr)) {
    size_t names = 0;
    elf_getshdrstrndx(elf, &names);
    for (Elf_Scn* scn = nullptr; !compressed && (scn = elf_nextscn(elf, scn)) != nullptr;) {
      GElf_Shdr shdr;
      if (gelf_getshdr(scn, &shdr) == nullptr) continue;
      const char* name = elf_strptr(elf, names, shdr.sh_name);
      compressed = (shdr.sh_flags & SHF_COMPRESSED) != 0 ||
                   (name != nullptr && std::strncmp(name, ".zdebug", 7) == 0);
    }
    elf_end(elf);
  }
  close(fd);
  return compressed;
}

// eu-elfcompress -t none: writes `out` with every section inflated.
bool Inflate(const std::string& in, const std::string& out) {
  const char* argv[] = {"eu-elfcompress", "-q",       "-t",   "none", "-o",
                        out.c_str(),      in.c_str(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;  // elfutils is not installed: no cache
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

std::string DebugCacheDir() {
  if (const char* dir = getenv("LEAKSCOPE_DEBUG_CACHE")) {
    return (dir[0] == '\0' || std::strcmp(dir, "off") == 0) ? std::string() : std::string(dir);
  }
  if (const char* xdg = getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/')
    return std::string(xdg) + "/leakscope/debug";
  if (const char* home = getenv("HOME"); home != nullptr && home[0] == '/')
    return std::string(home) + "/.cache/leakscope/debug";
  return {};
}

std::string InflatedDebugFile(const std::string& debug_file, const std::string& build_id_hex) {
  const std::string dir = DebugCacheDir();
  if (dir.empty() || build_id_hex.empty()) return {};
  const std::string cached = dir + "/" + build_id_hex + ".debug";
  if (IsFile(cached)) return cached;
  if (!HasCompressedSection(debug_file) || !MakeDirs(dir)) return {};
  // Another collector may be making the same file: each writes its own, the
  // rename is atomic and either copy is right.
  const std::string tmp = cached + ".tmp." + std::to_string(getpid());
  if (!Inflate(debug_file, tmp) || rename(tmp.c_str(), cached.c_str()) != 0) {
    unlink(tmp.c_str());
    return {};
  }
  return cached;
}

}  // namespace leakscope::collector
