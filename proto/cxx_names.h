// Reading demangled C++ names as a person does: the qualified name of a
// function without its return type and parameters, and the name with its
// template arguments shortened (`std::vector<...>::push_back(int const&)`),
// as heaptrack shows them. Operators whose names hold '<' or '>'
// (`operator<<`, `operator->`, `operator<=>`) are names, not brackets.
#pragma once

#include <string>
#include <string_view>

namespace leakscope::cxxnames {

// "std::pair<A, B> std::map<K, V>::emplace<X>(X&&)" -> "std::map<K, V>::emplace<X>".
std::string_view QualifiedName(std::string_view function);

// Every outermost template argument list becomes "<...>" (an empty one stays
// "<>"), in the name, its return type and its parameters:
// "std::vector<int, std::allocator<int> >::push_back(int const&)" ->
// "std::vector<...>::push_back(int const&)".
std::string ShortenTemplates(std::string_view function);

}  // namespace leakscope::cxxnames
