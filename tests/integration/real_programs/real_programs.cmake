# Real, unmodified Debian programs under the shim (scripts/install-deps.sh
# installs them): they must behave as without it, and their reports must make
# sense. Debian's /usr/bin/python3 runs the tests: the `python3` first in PATH
# may be a pyenv shim script.
set(real_programs_dir ${CMAKE_CURRENT_LIST_DIR})
foreach(program python_leak redis nginx sqlite3_git java node postgres memcached python_fork)
  add_test(NAME integration/real_programs/${program}
    COMMAND /usr/bin/python3 -B ${real_programs_dir}/test_${program}.py
      --leakscope $<TARGET_FILE:leakscope>)
  set_tests_properties(integration/real_programs/${program}
    PROPERTIES TIMEOUT 300 LABELS "integration;real_programs")
endforeach()
