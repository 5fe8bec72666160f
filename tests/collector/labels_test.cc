// What names a process across restarts on /metrics (collector/labels.h):
// label names and values given to the daemon or by a process, and the
// container id in the cgroup files of each runtime.
#include "labels.h"

#include <gtest/gtest.h>

namespace leakscope::collector {
namespace {

TEST(Labels, NamesAreCheckedAndReservedOnesRefused) {
  std::string why;
  for (const char* good : {"team", "_x", "Tier2", "service"})
    EXPECT_TRUE(ValidLabelName(good, &why)) << good;
  EXPECT_FALSE(ValidLabelName("2tier", &why));
  EXPECT_EQ(why, "'2tier' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, at most 64)");
  EXPECT_FALSE(ValidLabelName("a-b", &why));
  EXPECT_FALSE(ValidLabelName("", &why));
  EXPECT_FALSE(ValidLabelName(std::string(65, 'a'), &why));
  for (const char* reserved : {"pid", "exe", "container", "site", "site_id", "__name__"}) {
    EXPECT_FALSE(ValidLabelName(reserved, &why)) << reserved;
    EXPECT_EQ(why, std::string("'") + reserved + "' is set by leakscoped");
  }
}

TEST(Labels, DaemonFlag) {
  Label l;
  std::string error;
  ASSERT_TRUE(ParseLabelFlag("team=pay=ments", &l, &error));
  EXPECT_EQ(l, (Label{"team", "pay=ments"}));
  ASSERT_TRUE(ParseLabelFlag("env=", &l, &error));
  EXPECT_EQ(l, (Label{"env", ""}));
  EXPECT_FALSE(ParseLabelFlag("team", &l, &error));
  EXPECT_EQ(error, "--label 'team': expected NAME=VALUE, e.g. team=payments");
  EXPECT_FALSE(ParseLabelFlag("pid=1", &l, &error));
  EXPECT_EQ(error, "--label 'pid=1': 'pid' is set by leakscoped");
  EXPECT_FALSE(ParseLabelFlag("a=" + std::string(257, 'v'), &l, &error));
  EXPECT_EQ(error, "--label 'a=...': the value is over 256 bytes");
}

TEST(Labels, ProcessLabelsKeepTheGoodAndSayWhatWasLeftOut) {
  std::string dropped;
  EXPECT_EQ(ParseProcessLabels("team=pay,,tier=web", &dropped),
            (std::vector<Label>{{"team", "pay"}, {"tier", "web"}}));
  EXPECT_EQ(dropped, "");
  EXPECT_EQ(ParseProcessLabels("service=checkout,pid=9,oops,x=" + std::string(300, 'v'), &dropped),
            (std::vector<Label>{{"service", "checkout"}}));
  EXPECT_EQ(dropped, "'pid' is set by leakscoped; 'oops' is not k=v; 'x': value over 256 bytes");
  std::string many;
  for (int i = 0; i < 20; ++i) many += "l" + std::to_string(i) + "=v,";
  EXPECT_EQ(ParseProcessLabels(many, &dropped).size(), kMaxProcessLabels);
  EXPECT_EQ(dropped,
            "'l16': more than 16 labels; 'l17': more than 16 labels; 'l18': more than 16 labels; "
            "'l19': more than 16 labels");
}

TEST(Labels, ProcessLabelsReplaceTheDaemonsOfTheSameName) {
  EXPECT_EQ(MergeLabels({{"team", "infra"}, {"env", "prod"}}, {{"team", "pay"}}),
            (std::vector<Label>{{"env", "prod"}, {"team", "pay"}}));
}

TEST(Labels, ContainerIdOfEachRuntime) {
  const std::string id = "4f7c1f5d2d9a0e3b6c8d7e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3";
  // cgroup v2 under systemd: docker, containerd (Kubernetes), CRI-O, podman.
  for (const std::string scope : {"docker-", "cri-containerd-", "crio-", "libpod-"})
    EXPECT_EQ(ContainerFromCgroup("0::/system.slice/" + scope + id + ".scope\n"), "4f7c1f5d2d9a")
        << scope;
  EXPECT_EQ(ContainerFromCgroup("0::/kubepods.slice/kubepods-burstable.slice/"
                                "kubepods-burstable-pod1234.slice/cri-containerd-" +
                                id + ".scope\n"),
            "4f7c1f5d2d9a");
  // cgroup v1: /docker/ID, kubepods/.../ID, on any line.
  EXPECT_EQ(ContainerFromCgroup("12:pids:/\n11:memory:/docker/" + id + "\n"), "4f7c1f5d2d9a");
  EXPECT_EQ(ContainerFromCgroup("4:cpu:/kubepods/besteffort/pod99/" + id + "\n"), "4f7c1f5d2d9a");
  // A host process, a user session, and a 63-digit name: none.
  EXPECT_EQ(ContainerFromCgroup("0::/user.slice/user-1000.slice/session-2.scope\n"), "");
  EXPECT_EQ(ContainerFromCgroup("0::/system.slice/docker-" + id.substr(1) + ".scope\n"), "");
  EXPECT_EQ(ContainerFromCgroup("0::/\n"), "");
  EXPECT_EQ(ContainerFromCgroup(""), "");
}

TEST(Labels, ServiceIsTheExecutablesName) {
  EXPECT_EQ(ServiceName("/srv/bin/api-server"), "api-server");
  EXPECT_EQ(ServiceName("api"), "api");
}

}  // namespace
}  // namespace leakscope::collector
