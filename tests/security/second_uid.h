// The hostile local user that tests/security act as: a real second uid,
// `leakscope-test`, created by scripts/install-deps.sh. Acting as it needs
// root. Without it a test fails loudly, unless the user could not have been
// created (not root, so install-deps.sh could not either): then it skips,
// loudly too.
#pragma once

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <string>

namespace leakscope::security {

inline constexpr char kSecondUser[] = "leakscope-test";

struct SecondUid {
  uid_t uid = 0;
  gid_t gid = 0;
};

// Sets *out, or records the failure or skip (use LEAKSCOPE_SECOND_UID).
inline void FindSecondUid(SecondUid* out, bool* usable) {
  *usable = false;
  const passwd* pw = getpwnam(kSecondUser);
  if (!pw && geteuid() != 0) {
    GTEST_SKIP() << "SKIPPED, NOT TESTED: no user " << kSecondUser
                 << " and not root, so it cannot be created: the attack needs a second uid";
  }
  ASSERT_NE(pw, nullptr) << "no user " << kSecondUser
                         << ": run scripts/install-deps.sh (as root) to create it";
  ASSERT_EQ(geteuid(), 0u) << "cannot act as " << kSecondUser
                           << ": tests/security must run as root to take a second uid";
  out->uid = pw->pw_uid;
  out->gid = pw->pw_gid;
  *usable = true;
}

}  // namespace leakscope::security

// Declares `var` (SecondUid) or ends the test (failed, or skipped loudly).
#define LEAKSCOPE_SECOND_UID(var)                         \
  ::leakscope::security::SecondUid var;                   \
  {                                                       \
    bool usable_ = false;                                 \
    ::leakscope::security::FindSecondUid(&var, &usable_); \
    if (!usable_) return;                                 \
  }
