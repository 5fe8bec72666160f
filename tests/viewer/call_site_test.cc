// The one call-site rule (proto/call_site.h) and C++ name shortening
// (proto/cxx_names.h) on stacks as libdw names them: through std::vector,
// std::string, operator new, libc, lambdas, operators and anonymous
// namespaces.
#include "call_site.h"

#include <gtest/gtest.h>

#include "cxx_names.h"

namespace leakscope::callsite {
namespace {

constexpr const char* kProg = "/srv/app/bin/prog";
constexpr const char* kShim = "/usr/lib/x86_64-linux-gnu/libleakscope.so";
constexpr const char* kLibc = "/lib/x86_64-linux-gnu/libc.so.6";
constexpr const char* kLibstdcxx = "/lib/x86_64-linux-gnu/libstdc++.so.6";

FrameRef F(const char* function, const char* file, uint32_t line, const char* module) {
  return {function, file, line, module, 0};
}

// push_back on a full vector, as g++ -O2 inlines it into the program.
std::vector<FrameRef> VectorStack() {
  return {
      F("malloc", "", 0, kShim),
      F("operator new(unsigned long)", "", 0, kLibstdcxx),
      F("std::__new_allocator<int>::allocate(unsigned long, void const*)",
        "/usr/include/c++/12/bits/new_allocator.h", 137, kProg),
      F("void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>"
        "(__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, "
        "int const&)",
        "/usr/include/c++/12/bits/vector.tcc", 440, kProg),
      F("std::vector<int, std::allocator<int> >::push_back(int const&)",
        "/usr/include/c++/12/bits/stl_vector.h", 1287, kProg),
      F("Registry::Add(int)", "/srv/app/src/registry.cc", 12, kProg),
      F("main", "/srv/app/src/main.cc", 5, kProg),
      F("__libc_start_main", "", 0, kLibc),
  };
}

TEST(CallSite, ThroughStdVectorIsTheProgramsCall) {
  EXPECT_EQ(CallSiteIndex(VectorStack()), 5);
}

TEST(CallSite, ThroughStdStringInLibstdcxx) {
  // libstdc++'s own frame, a std:: frame inlined into the program, then a
  // program function whose return type and parameters are std:: types.
  const std::vector<FrameRef> stack = {
      F("std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::"
        "_M_create(unsigned long&, unsigned long)",
        "", 0, kLibstdcxx),
      F("void std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::"
        "_M_construct<char const*>(char const*, char const*, std::forward_iterator_tag)",
        "/usr/include/c++/12/bits/basic_string.tcc", 225, kProg),
      F("std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > "
        "Config::Name[abi:cxx11](std::__cxx11::basic_string<char, std::char_traits<char>, "
        "std::allocator<char> > const&) const",
        "/srv/app/src/config.cc", 31, kProg),
      F("main", "/srv/app/src/main.cc", 9, kProg),
  };
  EXPECT_EQ(CallSiteIndex(stack), 2);
}

TEST(CallSite, PlainNewAndLibcHelpers) {
  EXPECT_EQ(CallSiteIndex({F("operator new[](unsigned long)", "", 0, kLibstdcxx),
                           F("Session::Open()", "/srv/app/src/session.cc", 40, kProg)}),
            1);
  // strdup is libc: the call is the program's that called it.
  EXPECT_EQ(CallSiteIndex({F("malloc", "", 0, kShim), F("strdup", "", 0, kLibc),
                           F("Parse(char const*)", "/srv/app/src/parse.c", 7, kProg)}),
            2);
}

TEST(CallSite, OperatorsLambdasAndAnonymousNamespaces) {
  // A return type of std:: does not make the program's operator<< library code.
  EXPECT_EQ(CallSiteIndex({F("std::ostream& operator<<(std::ostream&, Point const&)",
                             "/srv/app/src/point.cc", 3, kProg)}),
            0);
  EXPECT_EQ(CallSiteIndex({F("std::basic_ostream<char, std::char_traits<char> >& std::operator<< "
                             "<std::char_traits<char> >(std::basic_ostream<char, "
                             "std::char_traits<char> >&, char const*)",
                             "/usr/include/c++/12/ostream", 616, kProg),
                           F("main::{lambda(int)#1}::operator()(int) const", "/srv/app/src/main.cc",
                             20, kProg)}),
            1);
  EXPECT_EQ(CallSiteIndex(
                {F("std::_Function_handler<void (), main::{lambda()#1}>::_M_invoke("
                   "std::_Any_data const&)",
                   "/usr/include/c++/12/bits/std_function.h", 290, kProg),
                 F("(anonymous namespace)::Cache::Put(int)", "/srv/app/src/cache.cc", 14, kProg)}),
            1);
}

TEST(CallSite, LibraryThroughoutFallsBackToTheFirstFrameAfterTheAllocator) {
  // libstdc++'s emergency exception pool, a runtime internal.
  EXPECT_EQ(
      CallSiteIndex({F("malloc", "", 0, kShim), F("__gnu_cxx::__freeres()", "", 0, kLibstdcxx),
                     F("_dl_init", "", 0, "/lib64/ld-linux-x86-64.so.2")}),
      1);
  EXPECT_EQ(CallSiteIndex({}), -1);
}

TEST(SiteId, StableAcrossDirectoriesAndLibraryInternals) {
  const std::string id = SiteId(VectorStack());
  // Pinned: the id must not change between leakscope versions either.
  EXPECT_EQ(id, "1fdadd8c");
  // Another checkout, another install: other directories, same id.
  std::vector<FrameRef> moved = VectorStack();
  moved[5] = F("Registry::Add(int)", "/home/ci/app/src/registry.cc", 12, "/opt/app/prog");
  moved[6] = F("main", "/home/ci/app/src/main.cc", 5, "/opt/app/prog");
  EXPECT_EQ(SiteId(moved), id);
  // Allocator and shim frames are not part of it, nor library lines.
  const std::vector<FrameRef> whole = VectorStack();
  const std::vector<FrameRef> bare(whole.begin() + 2, whole.end());
  EXPECT_EQ(SiteId(bare), id);
  std::vector<FrameRef> shim = VectorStack();
  shim.insert(shim.end() - 1, F("leakscope::MainWrapper(int, char**, char**)", "", 0, kShim));
  EXPECT_EQ(SiteId(shim), id);
  std::vector<FrameRef> other_gcc = VectorStack();
  other_gcc[4].line = 1301;
  other_gcc[4].file = "/usr/include/c++/13/bits/stl_vector.h";
  EXPECT_EQ(SiteId(other_gcc), id);
}

TEST(SiteId, AnotherWayThroughTheLibraryIsAnotherSite) {
  std::vector<FrameRef> emplace = VectorStack();
  emplace[4].function = "std::vector<int, std::allocator<int> >::emplace_back<int>(int&&)";
  EXPECT_NE(SiteId(emplace), SiteId(VectorStack()));
}

TEST(SiteId, OtherLineOrCallerIsAnotherSite) {
  const std::string id = SiteId(VectorStack());
  std::vector<FrameRef> other_line = VectorStack();
  other_line[5].line = 13;
  std::vector<FrameRef> other_caller = VectorStack();
  other_caller[6].line = 6;
  EXPECT_NE(SiteId(other_line), id);
  EXPECT_NE(SiteId(other_caller), id);
  EXPECT_NE(SiteId(other_line), SiteId(other_caller));
  EXPECT_EQ(SiteId({}), "");
}

TEST(CallSiteLabel, ShortNameFileAndLine) {
  EXPECT_EQ(
      Label(F("Store<std::string, int>::Add(Item const&)", "/srv/app/src/store.cc", 42, kProg)),
      "Store<...>::Add(Item const&) store.cc:42");
  EXPECT_EQ(Label(F("leak", "", 0, kProg)), "leak");
  EXPECT_EQ(Label({"", "", 0, "/usr/lib/libfoo.so.1", 0x1a2b}), "libfoo.so.1+0x1a2b");
}

}  // namespace
}  // namespace leakscope::callsite

namespace leakscope::cxxnames {
namespace {

TEST(CxxNames, QualifiedNameWithoutReturnTypeAndParameters) {
  EXPECT_EQ(QualifiedName("std::pair<std::_Rb_tree_iterator<int>, bool> "
                          "std::set<int>::insert(int const&)"),
            "std::set<int>::insert");
  EXPECT_EQ(QualifiedName("(anonymous namespace)::Cache::Put(int)"),
            "(anonymous namespace)::Cache::Put");
  EXPECT_EQ(QualifiedName("std::ostream& operator<<(std::ostream&, Point const&)"), "operator<<");
  EXPECT_EQ(QualifiedName("std::basic_ostream<char>& std::operator<< <std::char_traits<char> >"
                          "(std::basic_ostream<char>&, char const*)"),
            "std::operator<< <std::char_traits<char> >");
  EXPECT_EQ(QualifiedName("Handler::Run()::{lambda()#1}::operator()() const"),
            "Handler::Run()::{lambda()#1}::operator()");
  EXPECT_EQ(QualifiedName("bool operator< <Key>(Key const&, Key const&)"), "operator< <Key>");
  EXPECT_EQ(QualifiedName("leak_hundreds"), "leak_hundreds");
}

TEST(CxxNames, ShortensNestedTemplateArguments) {
  EXPECT_EQ(ShortenTemplates("std::vector<int, std::allocator<int> >::push_back(int const&)"),
            "std::vector<...>::push_back(int const&)");
  EXPECT_EQ(ShortenTemplates(
                "std::map<std::__cxx11::basic_string<char, std::char_traits<char>, "
                "std::allocator<char> >, int, std::less<std::__cxx11::basic_string<char, "
                "std::char_traits<char>, std::allocator<char> > >, "
                "std::allocator<std::pair<std::__cxx11::basic_string<char, "
                "std::char_traits<char>, std::allocator<char> > const, int> > >::operator[]("
                "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> "
                "> const&)"),
            "std::map<...>::operator[](std::__cxx11::basic_string<...> const&)");
  EXPECT_EQ(ShortenTemplates("std::function<void (std::vector<int, std::allocator<int> >)>::"
                             "operator()(std::vector<int, std::allocator<int> >) const"),
            "std::function<...>::operator()(std::vector<...>) const");
  EXPECT_EQ(ShortenTemplates("Bar<(1<2)>::run()"), "Bar<...>::run()");
  EXPECT_EQ(ShortenTemplates("f<>()"), "f<>()");
}

TEST(CxxNames, OperatorsAreNamesNotBrackets) {
  EXPECT_EQ(ShortenTemplates("std::basic_ostream<char, std::char_traits<char> >& std::operator<< "
                             "<std::char_traits<char> >(std::basic_ostream<char, "
                             "std::char_traits<char> >&, char const*)"),
            "std::basic_ostream<...>& std::operator<< <...>(std::basic_ostream<...>&, char "
            "const*)");
  EXPECT_EQ(ShortenTemplates("bool operator<(Key<int> const&, Key<int> const&)"),
            "bool operator<(Key<...> const&, Key<...> const&)");
  EXPECT_EQ(ShortenTemplates("Ptr<Node<int> >::operator->() const"),
            "Ptr<...>::operator->() const");
  EXPECT_EQ(ShortenTemplates("Bits<8>::operator>>=(int)"), "Bits<...>::operator>>=(int)");
  EXPECT_EQ(ShortenTemplates("auto Version<int>::operator<=>(Version<int> const&) const"),
            "auto Version<...>::operator<=>(Version<...> const&) const");
}

TEST(CxxNames, LambdasAnonymousNamespacesAndPlainNames) {
  EXPECT_EQ(ShortenTemplates("main::{lambda(std::vector<int, std::allocator<int> > const&)#1}::"
                             "operator()(std::vector<int, std::allocator<int> > const&) const"),
            "main::{lambda(std::vector<...> const&)#1}::operator()(std::vector<...> const&) "
            "const");
  EXPECT_EQ(ShortenTemplates("(anonymous namespace)::Pool<Item, 64ul>::Grow()"),
            "(anonymous namespace)::Pool<...>::Grow()");
  EXPECT_EQ(ShortenTemplates("leak_hundreds"), "leak_hundreds");
  EXPECT_EQ(ShortenTemplates("libfoo.so+0x1234"), "libfoo.so+0x1234");
  EXPECT_EQ(ShortenTemplates("Foo<int"), "Foo<int");  // not a name we can read: as it is
}

}  // namespace
}  // namespace leakscope::cxxnames
