// Four sites for site_ids_test.cc: a list grown through std::vector, a
// string through std::string and the new that holds it (one line, two
// sites), and the list's own new in main. It waits for stdin to close, so
// the test can read leakscoped's /metrics while it runs.
#include <unistd.h>

#include <string>
#include <vector>

std::vector<long>* g_list;
std::string* g_name;

__attribute__((noinline)) void Grow(int n) {
  for (int i = 0; i < n; ++i) g_list->push_back(i);
}

__attribute__((noinline)) void Name() {
  g_name = new std::string(1000, 'x');
}

int main() {
  g_list = new std::vector<long>;
  Grow(1024);
  Name();
  // write(), not stdio: a stdout buffer would be one more (runtime) site.
  if (write(1, "ready\n", 6) != 6) return 1;
  char c;
  while (read(0, &c, 1) > 0) {
  }
  return 0;
}
