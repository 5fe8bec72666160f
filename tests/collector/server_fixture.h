// A collector Server listening in a fresh directory, its event loop on a
// thread, stopped and removed after the test (server_test.cc,
// fork_inheritance_test.cc).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "report_file.h"
#include "server.h"

namespace leakscope::testing {

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/leakscope-server-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
    socket_path = dir + "/sock";
    server = std::make_unique<collector::Server>(collector::ServerOptions{socket_path, dir});
    std::string error;
    ASSERT_TRUE(server->Listen(&error)) << error;
    BeforeRun();
    loop = std::thread([this] { server->Run(); });
  }
  void TearDown() override {
    StopServer();
    std::filesystem::remove_all(dir);
  }
  // Callbacks a test sets before the loop starts.
  virtual void BeforeRun() {}
  void StopServer() {
    if (!loop.joinable()) return;
    server->Stop();
    loop.join();
  }
  static report::Report ReadReport(const std::string& path) {
    report::Report r;
    std::string error;
    EXPECT_TRUE(report::ReadReportFile(path, &r, &error)) << error;
    return r;
  }

  std::string dir, socket_path;
  std::unique_ptr<collector::Server> server;
  std::thread loop;
};

}  // namespace leakscope::testing
