#include "cxx_names.h"

namespace leakscope::cxxnames {
namespace {

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// At s[i], "operator" followed by its symbol ("<<", "->*", "()", "[]"...):
// the length of both, so that the symbol is not read as brackets. 0 if
// s[i] does not start an operator's name (conversion operators and
// `operator new` are followed by a word, which needs no care).
size_t OperatorLength(std::string_view s, size_t i) {
  static constexpr std::string_view kWord = "operator";
  if (s.compare(i, kWord.size(), kWord) != 0) return 0;
  if (i > 0 && IsIdentChar(s[i - 1])) return 0;
  size_t end = i + kWord.size();
  if (end < s.size() && IsIdentChar(s[end])) return 0;
  if (s.compare(end, 2, "()") == 0 || s.compare(end, 2, "[]") == 0) return end + 2 - i;
  while (end < s.size() &&
         std::string_view("<>=!+-*/%^&|~,").find(s[end]) != std::string_view::npos)
    ++end;
  return end - i;
}

constexpr std::string_view kAnonymous = "(anonymous namespace)";

// One step of a scan at top level: how far to skip from s[i] when it starts
// an operator's name or "(anonymous namespace)", else 0.
size_t Atom(std::string_view s, size_t i) {
  if (s.compare(i, kAnonymous.size(), kAnonymous) == 0) return kAnonymous.size();
  return OperatorLength(s, i);
}

// From the '<' at s[open]: the index of its '>', or npos if it has none.
// Inside parentheses (a function type, an expression) angle brackets are
// not counted: `std::function<void (std::vector<int>)>`, `Foo<(1<2)>`.
size_t MatchingAngle(std::string_view s, size_t open) {
  int angles = 0, parens = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (const size_t skip = Atom(s, i)) {
      i += skip - 1;
      continue;
    }
    const char c = s[i];
    if (c == '(' || c == '[' || c == '{') ++parens;
    if (c == ')' || c == ']' || c == '}') --parens;
    if (parens > 0) continue;
    if (c == '<') ++angles;
    if (c == '>' && --angles == 0) return i;
  }
  return std::string_view::npos;
}

}  // namespace

std::string_view QualifiedName(std::string_view function) {
  // The parameters: the last parenthesised group at top level (a local
  // entity's name holds its function's too: "f(int)::{lambda()#1}::operator()()").
  size_t params = std::string_view::npos;
  int depth = 0;
  for (size_t i = 0; i < function.size(); ++i) {
    if (const size_t skip = Atom(function, i)) {
      i += skip - 1;
      continue;
    }
    const char c = function[i];
    if (c == '(' && depth == 0) params = i;
    if (c == '(' || c == '<' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == '>' || c == ']' || c == '}') --depth;
  }
  const std::string_view head = function.substr(0, params);
  // The name starts after the return type: the last top-level space, but not
  // the one in "operator<< <char>".
  size_t start = 0;
  depth = 0;
  for (size_t i = 0; i < head.size(); ++i) {
    if (const size_t skip = Atom(head, i)) {
      i += skip - 1;
      continue;
    }
    const char c = head[i];
    if (c == '(' || c == '<' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == '>' || c == ']' || c == '}') --depth;
    if (c == ' ' && depth == 0 && (i + 1 >= head.size() || head[i + 1] != '<')) start = i + 1;
  }
  return head.substr(start);
}

std::string ShortenTemplates(std::string_view function) {
  std::string out;
  out.reserve(function.size());
  for (size_t i = 0; i < function.size(); ++i) {
    if (const size_t skip = Atom(function, i)) {
      out.append(function.substr(i, skip));
      i += skip - 1;
      continue;
    }
    if (function[i] != '<') {
      out += function[i];
      continue;
    }
    const size_t close = MatchingAngle(function, i);
    if (close == std::string_view::npos) {  // not a name we can read: as it is
      out.append(function.substr(i));
      break;
    }
    out += close == i + 1 ? "<>" : "<...>";
    i = close;
  }
  return out;
}

}  // namespace leakscope::cxxnames
