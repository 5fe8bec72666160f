// The output folder is checked when leakscoped starts, not at its first
// report: a missing one is created 0700; one that is not ours, that others
// may write in (unless sticky), or that we cannot write in is a one-line
// error and a non-zero exit.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "run_process.h"
#include "second_uid.h"

namespace leakscope::security {
namespace {

using api_testing::Daemon;
using api_testing::RunProcessAs;
using api_testing::ScratchDir;

TEST(OutputFolder, AMissingOneIsCreatedPrivate) {
  ScratchDir parent;
  const std::string out = parent.path() + "/reports";
  const mode_t old = umask(0);  // the folder's mode must not be the umask's
  Daemon daemon(LEAKSCOPED_PATH, {"--output", out});
  umask(old);
  ASSERT_TRUE(daemon.ok()) << daemon.said();
  struct stat st;
  ASSERT_EQ(stat(out.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, geteuid());
}

TEST(OutputFolder, OneOwnedBySomeoneElseIsRefusedAtStart) {
  LEAKSCOPE_SECOND_UID(who);
  ScratchDir out;
  ASSERT_EQ(chown(out.path().c_str(), who.uid, who.gid), 0);
  Daemon daemon(LEAKSCOPED_PATH, {"--output", out.path()});
  EXPECT_FALSE(daemon.ok());
  EXPECT_EQ(daemon.said(), "leakscoped: output folder '" + out.path() + "': owned by uid " +
                               std::to_string(who.uid) + ", not by leakscoped's (0)\n");
}

TEST(OutputFolder, OneOthersMayWriteInIsRefusedUnlessSticky) {
  ScratchDir out;
  ASSERT_EQ(chmod(out.path().c_str(), 0777), 0);
  {
    Daemon daemon(LEAKSCOPED_PATH, {"--output", out.path()});
    EXPECT_FALSE(daemon.ok());
    EXPECT_EQ(daemon.said(), "leakscoped: output folder '" + out.path() +
                                 "': writable by everyone and not sticky (chmod go-w, or +t)\n");
  }
  ASSERT_EQ(chmod(out.path().c_str(), 0770), 0);
  {
    Daemon daemon(LEAKSCOPED_PATH, {"--output", out.path()});
    EXPECT_FALSE(daemon.ok());
    EXPECT_EQ(daemon.said(), "leakscoped: output folder '" + out.path() +
                                 "': writable by its group and not sticky (chmod go-w, or +t)\n");
  }
  ASSERT_EQ(chmod(out.path().c_str(), 01777), 0);  // others add names, never replace ours
  Daemon daemon(LEAKSCOPED_PATH, {"--output", out.path()});
  EXPECT_TRUE(daemon.ok()) << daemon.said();
}

// leakscoped as the second uid (root may write anywhere): its own folder,
// but read-only to it.
TEST(OutputFolder, OneWeCannotWriteInIsRefusedAtStart) {
  LEAKSCOPE_SECOND_UID(who);
  ScratchDir parent;
  ASSERT_EQ(chown(parent.path().c_str(), who.uid, who.gid), 0);
  const std::string out = parent.path() + "/out";
  ASSERT_EQ(mkdir(out.c_str(), 0500), 0);
  ASSERT_EQ(chown(out.c_str(), who.uid, who.gid), 0);
  // `timeout`: a daemon that wrongly starts would serve for ever.
  const auto r = RunProcessAs(who.uid, who.gid,
                              {"/usr/bin/timeout", "10", LEAKSCOPED_PATH, "--socket",
                               parent.path() + "/socket", "--output", out});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.output, "leakscoped: output folder '" + out + "': not writable: Permission denied\n");
}

}  // namespace
}  // namespace leakscope::security
