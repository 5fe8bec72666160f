// Finding a process's memory limit (collector/cgroup_memory.h): the mount
// table, /proc/PID/cgroup, and the walk up a cgroup tree, on file trees
// shaped as the kernel shows them.
#include "cgroup_memory.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "daemon_test_util.h"

namespace leakscope::collector {
namespace {

// This sandbox's own mount table, cut: v1 controllers, v2 beside them.
constexpr char kMountInfo[] =
    "1250 1249 0:71 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "1251 1250 0:72 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "1254 1250 0:75 /process_api /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "1259 1250 0:80 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n"
    "1260 1250 0:81 / /mnt/with\\040space rw - cgroup2 cgroup2 rw\n";

TEST(CgroupMemory, MountInfoFindsV2AndV1Memory) {
  const CgroupMounts m = ParseMountInfo(kMountInfo);
  ASSERT_TRUE(m.v2);
  EXPECT_EQ(m.v2->point, "/sys/fs/cgroup/unified");  // the first cgroup2
  EXPECT_EQ(m.v2->root, "/");
  ASSERT_TRUE(m.v1_memory);
  EXPECT_EQ(m.v1_memory->point, "/sys/fs/cgroup/memory");
  EXPECT_EQ(m.v1_memory->root, "/process_api");
  const CgroupMounts spaced =
      ParseMountInfo("1 0 0:81 / /mnt/with\\040space rw - cgroup2 cgroup2 rw\n");
  EXPECT_EQ(spaced.v2->point, "/mnt/with space");
  EXPECT_FALSE(ParseMountInfo("garbage\n\n1 2 3\n").v2);
}

TEST(CgroupMemory, ProcCgroupLines) {
  const ProcCgroups c = ParseProcCgroup(
      "9:name=systemd:/\n4:memory:/process_api/1bd9\n2:cpu,cpuacct:/x\n0::/user.slice/a:b\n");
  EXPECT_EQ(c.v1_memory, "/process_api/1bd9");
  EXPECT_EQ(c.v2, "/user.slice/a:b");
  EXPECT_FALSE(ParseProcCgroup("4:cpu:/\n").v1_memory);
}

TEST(CgroupMemory, DirectoryUnderAMountOfASubtree) {
  const CgroupMount whole{"/", "/sys/fs/cgroup"};
  EXPECT_EQ(CgroupDir(whole, "/a/b"), "/sys/fs/cgroup/a/b");
  EXPECT_EQ(CgroupDir(whole, "/"), "/sys/fs/cgroup");
  const CgroupMount sub{"/process_api", "/sys/fs/cgroup/memory"};
  EXPECT_EQ(CgroupDir(sub, "/process_api/1bd9"), "/sys/fs/cgroup/memory/1bd9");
  EXPECT_EQ(CgroupDir(sub, "/process_api"), "/sys/fs/cgroup/memory");
  EXPECT_EQ(CgroupDir(sub, "/process_apix/1"), "");  // outside what the mount shows
  EXPECT_EQ(CgroupDir(sub, "relative"), "");
}

void Put(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

// A pod (limit 1000, using 900) holding a container (limit 2000: looser,
// its own usage 800): the pod is nearer its limit. The root sets none.
TEST(CgroupMemory, NearestLimitWalksUpToTheLevelNearestItsLimit) {
  const std::string root = testing::MakeTempDir("leakscope-cgroup");
  Put(root + "/memory.max", "max\n");  // v2's root has none; a "max" is no limit
  Put(root + "/memory.current", "5000\n");
  Put(root + "/pod/memory.max", "1000\n");
  Put(root + "/pod/memory.current", "900\n");
  Put(root + "/pod/ctr/memory.max", "2000\n");
  Put(root + "/pod/ctr/memory.current", "800\n");
  Put(root + "/pod/ctr/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n");
  auto limit = NearestLimit(root + "/pod/ctr", root, 2);
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->dir, root + "/pod");
  EXPECT_EQ(limit->limit, 1000u);
  EXPECT_EQ(limit->usage, 900u);
  EXPECT_EQ(limit->own_dir, root + "/pod/ctr");
  EXPECT_EQ(OomKills({root + "/pod/ctr", 2}), 2u);
  // v1: "unlimited" is 2^63 rounded down to a page.
  Put(root + "/v1/memory.limit_in_bytes", "9223372036854771712\n");
  Put(root + "/v1/memory.usage_in_bytes", "100\n");
  Put(root + "/v1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n");
  EXPECT_FALSE(NearestLimit(root + "/v1", root + "/v1", 1));
  Put(root + "/v1/leaf/memory.limit_in_bytes", "4096\n");
  Put(root + "/v1/leaf/memory.usage_in_bytes", "1024\n");
  limit = NearestLimit(root + "/v1/leaf", root + "/v1", 1);
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->dir, root + "/v1/leaf");
  EXPECT_EQ(limit->limit, 4096u);
  EXPECT_EQ(OomKills({root + "/v1", 1}), 7u);
  EXPECT_EQ(OomKills({root + "/nowhere", 1}), 0u);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace leakscope::collector
