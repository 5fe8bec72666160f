// What `cmake --install` puts next to the binaries for deployment, each file
// tested the way it can be here: the man pages formatted by groff and man
// with warnings as errors, and naming every option the usage texts name;
// the bash completion sourced in bash; the systemd unit through
// `systemd-analyze verify` in the installed tree; the Kubernetes recipes
// through a schema check (tests/api/k8s_manifests_check.py: no cluster here).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "run_process.h"

namespace leakscope::api_testing {
namespace {

namespace fs = std::filesystem;

// A fresh install of the build tree under <scratch>/usr.
class Installed : public ::testing::Test {
 protected:
  void SetUp() override {
    ProcessResult r = RunProcess({CMAKE_PATH, "--install", BUILD_DIR, "--prefix", usr()});
    ASSERT_EQ(r.exit_status, 0) << r.output;
  }
  std::string usr() const { return scratch_.path() + "/usr"; }
  std::string root() const { return scratch_.path(); }
  std::string PathEnv() const { return "PATH=" + usr() + "/bin:/usr/bin:/bin"; }

 private:
  ScratchDir scratch_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Options in a help text: words of dashes and [a-z0-9-] that start after a
// space, bracket, comma, quote or the line's start ("non-zero" is no option).
std::set<std::string> OptionsIn(const std::string& text) {
  std::set<std::string> out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '-' || (i > 0 && std::string(" \n[,('|").find(text[i - 1]) == std::string::npos))
      continue;
    size_t j = i + (i + 1 < text.size() && text[i + 1] == '-' ? 2 : 1);
    if (j >= text.size() || text[j] < 'a' || text[j] > 'z') continue;
    while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '-'))
      ++j;
    out.insert(text.substr(i, j - i));
    i = j;
  }
  return out;
}

// A man page as text to search: "\-" is "-", font changes dropped.
std::string ManText(const std::string& path) {
  std::string page = ReadFile(path), out;
  for (size_t i = 0; i < page.size(); ++i) {
    if (page.compare(i, 2, "\\-") == 0) {
      out += '-';
      ++i;
    } else if (page.compare(i, 2, "\\f") == 0 && i + 2 < page.size()) {
      i += 2;
    } else {
      out += page[i];
    }
  }
  return out;
}

// The subcommands `leakscope --help` lists.
std::vector<std::string> Commands(const std::string& leakscope) {
  std::istringstream help(RunProcess({leakscope, "--help"}).output);
  std::vector<std::string> out;
  bool in_list = false;
  for (std::string line; std::getline(help, line);) {
    if (line == "commands:") in_list = true;
    if (in_list && line.empty()) break;
    if (in_list && line.rfind("  ", 0) == 0 && line[2] >= 'a' && line[2] <= 'z')
      out.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  return out;
}

TEST_F(Installed, PutsEachDeploymentFileWhereItsToolLooks) {
  for (const char* path :
       {"/bin/leakscope-entrypoint", "/share/man/man1/leakscope.1", "/share/man/man8/leakscoped.8",
        "/share/bash-completion/completions/leakscope",
        "/share/bash-completion/completions/leakscoped", "/lib/systemd/system/leakscoped.service"})
    EXPECT_TRUE(fs::is_regular_file(usr() + path)) << path;
  EXPECT_EQ(access((usr() + "/bin/leakscope-entrypoint").c_str(), X_OK), 0);
}

// Sidecar mode of the installed entrypoint, with no LEAKSCOPE_PRELOAD: it
// preloads the shim installed beside it (bin/../lib), as the image does.
TEST_F(Installed, EntrypointPreloadsTheShimInstalledBesideIt) {
  Daemon sidecar(usr() + "/bin/leakscoped");
  ASSERT_TRUE(sidecar.ok());
  ProcessResult r = RunProcess({usr() + "/bin/leakscope-entrypoint", LISTENER_LEAK_PATH},
                               {PathEnv(), "LEAKSCOPE_SOCKET=" + sidecar.socket(),
                                "LEAKSCOPE_PRELOAD=", "LEAKSCOPE_SAMPLE_INTERVAL=1"});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  sidecar.Stop();
  const std::vector<std::string> files = FilesEndingWith(sidecar.dir(), ".lsr");
  ASSERT_EQ(files.size(), 1u) << r.output;
  const std::string report = sidecar.dir() + "/" + files[0];
  EXPECT_EQ(
      RunProcess({usr() + "/bin/leakscope", "check", report, "--max-leaked", "112408"}).exit_status,
      0);
  EXPECT_EQ(
      RunProcess({usr() + "/bin/leakscope", "check", report, "--max-leaked", "112407"}).exit_status,
      1);
}

TEST_F(Installed, ManPagesFormatWithoutWarnings) {
  for (const char* page : {"/share/man/man1/leakscope.1", "/share/man/man8/leakscoped.8"}) {
    ProcessResult groff = RunProcess({"/usr/bin/groff", "-z", "-man", "-ww", usr() + page});
    EXPECT_EQ(groff.exit_status, 0) << page;
    EXPECT_EQ(groff.output, "") << page;
    // man as a reader runs it (its warnings on, the page itself thrown away).
    ProcessResult man = RunProcess(
        {"/bin/sh", "-c", "man --warnings -l \"$0\" >/dev/null", usr() + page}, {"MANWIDTH=80"});
    EXPECT_EQ(man.exit_status, 0) << page;
    EXPECT_EQ(man.output, "") << page;
  }
}

TEST_F(Installed, ManPagesNameEveryCommandAndOptionOfTheUsageTexts) {
  const std::string leakscope = usr() + "/bin/leakscope";
  const std::string page = ManText(usr() + "/share/man/man1/leakscope.1");
  const std::vector<std::string> commands = Commands(leakscope);
  EXPECT_GE(commands.size(), 7u) << "run report check diff export html top, at least";
  for (const std::string& command : commands) {
    EXPECT_NE(page.find(".SS \"leakscope " + command + " "), std::string::npos) << command;
    for (const std::string& option : OptionsIn(RunProcess({leakscope, command, "--help"}).output))
      EXPECT_NE(page.find(option), std::string::npos) << "leakscope " << command << " " << option;
  }
  for (const std::string& option : OptionsIn(RunProcess({leakscope, "--help"}).output))
    EXPECT_NE(page.find(option), std::string::npos) << "leakscope " << option;
  const std::string daemon_page = ManText(usr() + "/share/man/man8/leakscoped.8");
  const std::set<std::string> daemon_options =
      OptionsIn(RunProcess({usr() + "/bin/leakscoped", "--help"}).output);
  EXPECT_GE(daemon_options.size(), 15u);
  for (const std::string& option : daemon_options)
    EXPECT_NE(daemon_page.find(option), std::string::npos) << "leakscoped " << option;
}

TEST_F(Installed, BashCompletionCompletesCommandsOptionsAndValues) {
  ScratchDir files;
  for (const char* name : {"a.lsr", "ab.lsr", "b.lsr"}) std::ofstream(files.path() + "/" + name);
  fs::create_directory(files.path() + "/adir");
  // COMPREPLY for the words, the last one being completed, sorted, one line.
  auto complete = [&](const std::string& function, const std::vector<std::string>& words) {
    std::string script = "source \"$0\"; COMP_WORDS=(";
    for (const std::string& w : words) script += "'" + w + "' ";
    script += "); COMP_CWORD=" + std::to_string(words.size() - 1) + "; " + function +
              "; printf '%s\\n' \"${COMPREPLY[@]}\" | sort | paste -sd' '";
    ProcessResult r = RunProcess({"/bin/bash", "--norc", "--noprofile", "-c", script,
                                  usr() + "/share/bash-completion/completions/leakscope"},
                                 {PathEnv()});
    EXPECT_EQ(r.exit_status, 0) << r.output;
    return r.output.empty() ? r.output : r.output.substr(0, r.output.size() - 1);
  };
  EXPECT_EQ(complete("_leakscope", {"leakscope", ""}),
            "--help --version check diff export html report run snapshot top");
  EXPECT_EQ(complete("_leakscope", {"leakscope", "r"}), "report run");
  EXPECT_EQ(complete("_leakscope", {"leakscope", "run", "--no-"}), "--no-follow --no-wait");
  EXPECT_EQ(complete("_leakscope", {"leakscope", "run", "--me"}), "--metrics");
  EXPECT_EQ(complete("_leakscope", {"leakscope", "top", "127.0.0.1:9464", "--"}),
            "--interval --once --pid --sort");
  EXPECT_EQ(complete("_leakscope", {"leakscope", "top", "--sort", ""}), "bytes count growth");
  EXPECT_EQ(complete("_leakscope", {"leakscope", "export", "x.lsr", "--format", ""}),
            "collapsed json pprof");
  EXPECT_EQ(complete("_leakscope", {"leakscope", "report", "--by", "f"}), "file function");
  EXPECT_EQ(complete("_leakscope", {"leakscope", "report", files.path() + "/a"}),
            files.path() + "/a.lsr " + files.path() + "/ab.lsr " + files.path() + "/adir");
  EXPECT_EQ(complete("_leakscope", {"leakscope", "run", "-o", files.path() + "/a"}),
            files.path() + "/adir");
  EXPECT_EQ(complete("_leakscope", {"leakscope", "run", "--", "leakscope"}),
            "leakscope leakscope-entrypoint leakscoped");
  EXPECT_EQ(complete("_leakscoped", {"leakscoped", "--sock"}), "--socket --socket-group");
  EXPECT_EQ(complete("_leakscoped", {"leakscoped", "--output", files.path() + "/"}),
            files.path() + "/adir");
}

// A root holding the installed tree, and what the unit names from the
// system it will run on: the targets it orders itself against, and kill.
void SystemRoot(const std::string& root) {
  const std::string units = root + "/usr/lib/systemd/system";
  for (const auto& e : fs::directory_iterator("/usr/lib/systemd/system")) {
    const std::string ext = e.path().extension();
    if ((ext == ".target" || ext == ".slice") &&
        !fs::exists(units + "/" + e.path().filename().string()))
      fs::copy_file(e.path(), units + "/" + e.path().filename().string());
  }
  fs::copy_file("/usr/bin/kill", root + "/usr/bin/kill");
}

TEST_F(Installed, SystemdUnitVerifies) {
  SystemRoot(root());
  // Its man page is looked up too (Documentation=man:leakscoped(8)).
  const std::vector<std::string> verify = {"/usr/bin/systemd-analyze", "--root=" + root(), "verify",
                                           "leakscoped.service"};
  ProcessResult r = RunProcess(verify, {"MANPATH=" + usr() + "/share/man"});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(r.output, "");
  // Not vacuous: a misspelt hardening key is only said (exit status 0,
  // hence the empty output asked above); the daemon missing fails.
  const std::string unit = usr() + "/lib/systemd/system/leakscoped.service";
  std::string text = ReadFile(unit);
  text.replace(text.find("\nProtectSystem=") + 1, 14, "ProtectSystm=");
  std::ofstream(unit) << text;
  r = RunProcess(verify, {"MANPATH=" + usr() + "/share/man"});
  EXPECT_EQ(LinesWith(r.output, "Unknown key 'ProtectSystm'").size(), 1u) << r.output;
  fs::remove(usr() + "/bin/leakscoped");
  r = RunProcess(verify, {"MANPATH=" + usr() + "/share/man"});
  EXPECT_EQ(r.exit_status, 1) << r.output;
  EXPECT_EQ(LinesWith(r.output, "Command leakscoped is not executable").size(), 1u) << r.output;
}

TEST_F(Installed, SystemdUnitsDaemonWritesOnlyWhereTheUnitLetsIt) {
  // The unit's --output is its StateDirectory, the only writable place
  // under ProtectSystem=strict; --socket is in its RuntimeDirectory.
  const std::string unit = ReadFile(usr() + "/lib/systemd/system/leakscoped.service");
  EXPECT_NE(unit.find("--output /var/lib/leakscope "), std::string::npos);
  EXPECT_NE(unit.find("\nStateDirectory=leakscope\n"), std::string::npos);
  EXPECT_NE(unit.find("\nStateDirectoryMode=0700\n"), std::string::npos);
  EXPECT_NE(unit.find("--socket /run/leakscope/leakscoped.sock "), std::string::npos);
  EXPECT_NE(unit.find("\nRuntimeDirectory=leakscope\n"), std::string::npos);
  EXPECT_NE(unit.find("\nProtectSystem=strict\n"), std::string::npos);
}

const std::string kCheck = SOURCE_DIR "/tests/api/k8s_manifests_check.py";

TEST(KubernetesRecipes, PassTheSchemaCheck) {
  ProcessResult r = RunProcess({"/usr/bin/python3", kCheck,
                                SOURCE_DIR "/examples/container/kubernetes-sidecar.yaml",
                                SOURCE_DIR "/examples/container/kubernetes-daemonset.yaml"});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(r.output, "");
}

TEST(KubernetesRecipes, TheCheckCatchesReportsOnAnEmptyDirAndNoMetrics) {
  ScratchDir dir;
  std::string yaml = ReadFile(SOURCE_DIR "/examples/container/kubernetes-sidecar.yaml");
  const std::string claim = "persistentVolumeClaim: {claimName: my-service-leakscope}";
  yaml.replace(yaml.find(claim), claim.size(), "emptyDir: {}");
  const std::string metrics = "\"--metrics\", \"0.0.0.0:9464\",";
  yaml.erase(yaml.find(metrics), metrics.size());
  const std::string volumes = "- name: leakscope-socket\n";
  yaml.replace(yaml.find(volumes), volumes.size(), "- name: socket\n");
  std::ofstream(dir.path() + "/bad.yaml") << yaml;
  ProcessResult r = RunProcess({"/usr/bin/python3", kCheck, dir.path() + "/bad.yaml"});
  EXPECT_EQ(r.exit_status, 1);
  const std::string where = dir.path() + "/bad.yaml[1]";
  EXPECT_EQ(r.output,
            where + " container leakscoped: mount of unknown volume 'leakscope-socket'\n" + where +
                " container my-service: mount of unknown volume 'leakscope-socket'\n");
  yaml.replace(yaml.find("- name: socket\n"), 15, volumes);
  std::ofstream(dir.path() + "/bad.yaml") << yaml;
  r = RunProcess({"/usr/bin/python3", kCheck, dir.path() + "/bad.yaml"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.output, dir.path() + "/bad.yaml leakscoped: no --metrics\n" + dir.path() +
                          "/bad.yaml leakscoped: reports on emptyDir: lost with the pod\n");
}

}  // namespace
}  // namespace leakscope::api_testing
