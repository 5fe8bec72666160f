// A walk of the program's stack that crosses frames without unwind tables
// (V8's interpreter, builtins and JIT code; hand-written assembly) where
// libunwind's fast trace takes its slow path: a lock and a dl_iterate_phdr
// under two sigprocmask calls a frame, a mincore plus a pipe write and read
// to validate each word it reads (Node.js: ~100 us a stack). RuleWalk
// (stack_unwind.h) steps with three registers (pc, sp, rbp), one of two ways
// a frame:
//   - a frame with tables (found by libgcc's _Unwind_Find_FDE, which asks
//     glibc's _dl_find_object: no lock, no syscall) by its CFI, interpreted
//     here for the rules compilers emit on x86-64: the CFA from rsp or rbp
//     plus an offset, the return address and rbp saved at an offset from the
//     CFA or kept. Anything else (a CFA expression, a signal frame's rules)
//     stops the walk, and the caller falls back to libunwind;
//   - a frame without tables is taken to keep the frame-pointer chain
//     (`push %rbp; mov %rsp,%rbp`, as V8's frames do): its caller's return
//     address is at rbp + 8, the caller's rbp at rbp.
// The rule of each return address is computed once and cached (RuleCache),
// so a step is a few instructions, as in libunwind's fast trace.
// Every word read is on the thread's own stack: between the walk's current
// stack pointer (which only grows: a frame whose caller would not be above it
// stops the walk) and the stack's top, 8-aligned. The stack is mapped from
// any stack pointer of the thread up to its top, so no read can fault and
// none needs a syscall to be checked. A garbage frame pointer at worst ends
// the walk, or gives frames that the stack really holds at those places.
#pragma once

#include <unwind.h>

#include <atomic>
#include <cstdint>
#include <cstring>

namespace leakscope::preload {

// libgcc's lookup of a pc's unwind tables (unwind-dw2-fde.h, not installed).
struct DwarfEhBases {
  void* tbase;
  void* dbase;
  void* func;
};
extern "C" const void* _Unwind_Find_FDE(void* pc, DwarfEhBases* bases);

namespace frame_walk {

struct Regs {
  uint64_t pc;  // a return address (the frame's caller resumes there)
  uint64_t sp;  // the frame's stack pointer: the CFA of the frame it called
  uint64_t fp;  // rbp in the frame
  bool fp_known;
};

enum class Step {
  kNext,   // regs are the caller's; *slot is where its return address was read
  kEnd,    // the outermost frame (its return address is undefined, or rbp 0)
  kGiveUp  // rules this walk does not follow, or a read off the stack
};

// A word of the stack in [lo, hi): lo the walk's stack pointer, hi the top.
inline bool StackWord(uint64_t addr, uint64_t lo, uint64_t hi, uint64_t* out) {
  if (addr < lo || addr > hi - 8 || (addr & 7)) return false;
  *out = *reinterpret_cast<const uint64_t*>(addr);
  return true;
}

// ---- CFI (the .eh_frame format: DWARF 4 section 6.4, LSB 10.6) ----

struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  bool ok = true;

  uint8_t U8() {
    if (p >= end) return Fail();
    return *p++;
  }
  template <class T>
  T Fixed() {
    T v{};
    if (end - p < static_cast<long>(sizeof(T))) return Fail();
    std::memcpy(&v, p, sizeof(T));
    p += sizeof(T);
    return v;
  }
  uint64_t Uleb() {
    uint64_t v = 0;
    for (unsigned shift = 0; p < end; shift += 7) {
      const uint8_t b = *p++;
      if (shift < 64) v |= uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) return v;
    }
    return Fail();
  }
  int64_t Sleb() {
    uint64_t v = 0;
    for (unsigned shift = 0; p < end;) {
      const uint8_t b = *p++;
      if (shift < 64) v |= uint64_t{b & 0x7fu} << shift;
      shift += 7;
      if (!(b & 0x80)) {
        if (shift < 64 && (b & 0x40)) v |= ~uint64_t{0} << shift;
        return static_cast<int64_t>(v);
      }
    }
    return static_cast<int64_t>(Fail());
  }
  void Skip(uint64_t n) {
    if (n > static_cast<uint64_t>(end - p)) {
      Fail();
      return;
    }
    p += n;
  }
  uint8_t Fail() {
    ok = false;
    p = end;
    return 0;
  }
};

// Bytes of a pointer encoded as `enc` (DW_EH_PE_*), 0 if not a fixed size.
inline unsigned EncodedSize(uint8_t enc) {
  if ((enc & 0x70) == 0x50) return 0;  // aligned
  switch (enc & 0x0f) {
    case 0x00:
      return 8;  // absptr
    case 0x02:
    case 0x0a:
      return 2;
    case 0x03:
    case 0x0b:
      return 4;
    case 0x04:
    case 0x0c:
      return 8;
    default:
      return 0;
  }
}

enum class Rule : uint8_t { kSame, kUndefined, kOffset, kOther };
struct RegRule {
  Rule how = Rule::kSame;
  int64_t offset = 0;  // kOffset: saved at CFA + offset
};
struct Rules {
  uint64_t cfa_reg = 7;
  int64_t cfa_offset = 8;
  bool cfa_expression = false;
  RegRule fp, ra;
};

inline constexpr uint64_t kRbp = 6, kRsp = 7;

struct Cie {
  uint64_t code_align = 1;
  int64_t data_align = -8;
  uint64_t ra_reg = 16;
  uint8_t fde_enc = 0;
  bool z = false;
};

// Runs CFA instructions [r.p, r.end) while `loc` < `pc` (as libgcc does: the
// rules at a return address are those of the call before it). `initial`:
// the CIE's rules, for DW_CFA_restore. False on an instruction it does not
// know or deeper state nesting than it keeps.
inline bool Execute(Reader r, const Cie& cie, uint64_t loc, uint64_t pc, Rules& rules,
                    const Rules& initial) {
  constexpr int kDepth = 8;
  Rules saved[kDepth];
  int depth = 0;
  auto set = [&](uint64_t reg, Rule how, int64_t offset) {
    if (reg == kRbp)
      rules.fp = RegRule{how, offset};
    else if (reg == cie.ra_reg)
      rules.ra = RegRule{how, offset};
  };
  auto restore = [&](uint64_t reg) {
    if (reg == kRbp)
      rules.fp = initial.fp;
    else if (reg == cie.ra_reg)
      rules.ra = initial.ra;
  };
  while (r.ok && r.p < r.end && loc < pc) {
    const uint8_t op = r.U8();
    const uint8_t low = op & 0x3f;
    switch (op >> 6) {
      case 1:  // DW_CFA_advance_loc
        loc += low * cie.code_align;
        continue;
      case 2:  // DW_CFA_offset
        set(low, Rule::kOffset, static_cast<int64_t>(r.Uleb()) * cie.data_align);
        continue;
      case 3:  // DW_CFA_restore
        restore(low);
        continue;
      default:
        break;
    }
    switch (op) {
      case 0x00:  // nop
        break;
      case 0x02:
        loc += r.U8() * cie.code_align;
        break;
      case 0x03:
        loc += r.Fixed<uint16_t>() * cie.code_align;
        break;
      case 0x04:
        loc += r.Fixed<uint32_t>() * cie.code_align;
        break;
      case 0x05: {  // offset_extended
        const uint64_t reg = r.Uleb();
        set(reg, Rule::kOffset, static_cast<int64_t>(r.Uleb()) * cie.data_align);
        break;
      }
      case 0x06:
        restore(r.Uleb());
        break;  // restore_extended
      case 0x07:
        set(r.Uleb(), Rule::kUndefined, 0);
        break;
      case 0x08:
        set(r.Uleb(), Rule::kSame, 0);
        break;
      case 0x09: {  // register: reg in another register
        const uint64_t reg = r.Uleb();
        r.Uleb();
        set(reg, Rule::kOther, 0);
        break;
      }
      case 0x0a:  // remember_state
        if (depth == kDepth) return false;
        saved[depth++] = rules;
        break;
      case 0x0b:  // restore_state
        if (depth == 0) return false;
        rules = saved[--depth];
        break;
      case 0x0c:  // def_cfa
        rules.cfa_reg = r.Uleb();
        rules.cfa_offset = static_cast<int64_t>(r.Uleb());
        rules.cfa_expression = false;
        break;
      case 0x0d:
        rules.cfa_reg = r.Uleb();
        break;
      case 0x0e:
        rules.cfa_offset = static_cast<int64_t>(r.Uleb());
        break;
      case 0x0f:  // def_cfa_expression
        r.Skip(r.Uleb());
        rules.cfa_expression = true;
        break;
      case 0x10:    // expression
      case 0x16: {  // val_expression
        const uint64_t reg = r.Uleb();
        r.Skip(r.Uleb());
        set(reg, Rule::kOther, 0);
        break;
      }
      case 0x11: {  // offset_extended_sf
        const uint64_t reg = r.Uleb();
        set(reg, Rule::kOffset, r.Sleb() * cie.data_align);
        break;
      }
      case 0x12:  // def_cfa_sf
        rules.cfa_reg = r.Uleb();
        rules.cfa_offset = r.Sleb() * cie.data_align;
        rules.cfa_expression = false;
        break;
      case 0x13:
        rules.cfa_offset = r.Sleb() * cie.data_align;
        break;
      case 0x14:    // val_offset
      case 0x15: {  // val_offset_sf
        const uint64_t reg = r.Uleb();
        if (op == 0x14)
          r.Uleb();
        else
          r.Sleb();
        set(reg, Rule::kOther, 0);
        break;
      }
      case 0x2e:
        r.Uleb();
        break;      // GNU_args_size
      case 0x2f: {  // GNU_negative_offset_extended
        const uint64_t reg = r.Uleb();
        set(reg, Rule::kOffset, -static_cast<int64_t>(r.Uleb()) * cie.data_align);
        break;
      }
      default:  // set_loc, and anything newer
        return false;
    }
  }
  return r.ok;
}

// The rules at return address `pc` of the function whose FDE is `fde`,
// starting at `func`. False if this walk does not read them.
inline bool RulesAt(const uint8_t* fde, uint64_t func, uint64_t pc, Rules& rules, Cie& cie) {
  uint32_t fde_len, cie_len;
  int32_t cie_delta;
  std::memcpy(&fde_len, fde, 4);
  std::memcpy(&cie_delta, fde + 4, 4);
  if (fde_len == 0 || fde_len == 0xffffffffu) return false;  // 64-bit DWARF: not in .eh_frame
  const uint8_t* cie_p = fde + 4 - cie_delta;
  std::memcpy(&cie_len, cie_p, 4);
  if (cie_len == 0 || cie_len == 0xffffffffu) return false;
  Reader c{cie_p + 8, cie_p + 4 + cie_len};  // past the length and the CIE id
  const uint8_t version = c.U8();
  if (version != 1 && version != 3) return false;
  const char* aug = reinterpret_cast<const char*>(c.p);
  const size_t aug_len = strnlen(aug, c.end - c.p);
  c.Skip(aug_len + 1);
  cie.code_align = c.Uleb();
  cie.data_align = c.Sleb();
  cie.ra_reg = version == 1 ? c.U8() : c.Uleb();
  if (aug_len) {
    if (aug[0] != 'z') return false;
    cie.z = true;
    const uint64_t data_len = c.Uleb();
    if (!c.ok || data_len > static_cast<uint64_t>(c.end - c.p)) return false;
    Reader a{c.p, c.p + data_len};
    for (size_t i = 1; i < aug_len; ++i) {
      switch (aug[i]) {
        case 'R':
          cie.fde_enc = a.U8();
          break;
        case 'L':
          a.U8();
          break;
        case 'P': {
          const unsigned size = EncodedSize(a.U8());
          if (!size) return false;
          a.Skip(size);
          break;
        }
        default:
          return false;  // 'S' (a signal frame) and the unknown
      }
    }
    if (!a.ok) return false;
    c.p += data_len;
  }
  if (!c.ok) return false;
  Rules initial;
  initial.ra = RegRule{Rule::kUndefined, 0};
  const Rules before = initial;  // a DW_CFA_restore in a CIE is meaningless anyway
  if (!Execute(c, cie, func, ~uint64_t{0}, initial, before)) return false;
  Reader f{fde + 8, fde + 4 + fde_len};  // past the length and the CIE pointer
  const unsigned size = EncodedSize(cie.fde_enc);
  if (!size) return false;
  f.Skip(2 * size);  // pc_begin (`func`, from _Unwind_Find_FDE) and pc_range
  if (cie.z) f.Skip(f.Uleb());
  if (!f.ok) return false;
  rules = initial;
  return Execute(f, cie, func, pc, rules, initial);
}

// A frame's step, as the rule cache keeps it (one word): kind in bits 0-1;
// kTable's CFA base (bit 2: rbp, else rsp) and rbp's rule (bit 3: saved at
// CFA + fp_offset; bit 4: unknown after the step; neither: kept); the CFA's
// offset from its base (bits 8-39), rbp's (40-51) and the return address's
// (52-63) from the CFA, signed. A rule that does not fit is not cached.
enum Kind : uint64_t { kNone = 0, kTable = 1, kFramePointer = 2, kOutermost = 3 };
inline constexpr uint64_t kCfaRbp = 4, kFpSaved = 8, kFpLost = 16;

inline bool FitsSigned(int64_t v, int bits) {
  return v >= -(int64_t{1} << (bits - 1)) && v < (int64_t{1} << (bits - 1));
}
inline int64_t Field(uint64_t rule, int lo, int bits) {
  return static_cast<int64_t>(rule << (64 - lo - bits)) >> (64 - bits);
}

// The step rule of return address `pc`, kNone if this walk does not follow
// that frame (its rules, or no room for them in a word).
inline uint64_t RuleFor(uint64_t pc) {
  DwarfEhBases bases;
  const void* fde = _Unwind_Find_FDE(reinterpret_cast<void*>(pc - 1), &bases);
  if (!fde) return kFramePointer;
  Rules rules;
  Cie cie;
  if (!RulesAt(static_cast<const uint8_t*>(fde), reinterpret_cast<uint64_t>(bases.func), pc, rules,
               cie))
    return kNone;
  if (rules.ra.how == Rule::kUndefined) return kOutermost;
  if (rules.cfa_expression || rules.ra.how != Rule::kOffset) return kNone;
  if (rules.cfa_reg != kRsp && rules.cfa_reg != kRbp) return kNone;
  uint64_t rule = kTable | (rules.cfa_reg == kRbp ? kCfaRbp : 0);
  int64_t fp_offset = 0;
  switch (rules.fp.how) {
    case Rule::kSame:
      break;
    case Rule::kOffset:
      rule |= kFpSaved;
      fp_offset = rules.fp.offset;
      break;
    default:
      rule |= kFpLost;
      break;
  }
  if (!FitsSigned(rules.cfa_offset, 32) || !FitsSigned(fp_offset, 12) ||
      !FitsSigned(rules.ra.offset, 12))
    return kNone;
  return rule | (static_cast<uint64_t>(rules.cfa_offset) & 0xffffffffu) << 8 |
         (static_cast<uint64_t>(fp_offset) & 0xfff) << 40 |
         (static_cast<uint64_t>(rules.ra.offset) & 0xfff) << 52;
}

// Step rules by return address, shared by all threads, lock-free: a slot is
// two words, the rule and pc ^ rule, written and read without order; a
// reader that sees halves of two writes finds a pc that does not check, a
// miss. A miss costs the FDE lookup and the CFI interpretation (~1-2 us); a
// hit, a few instructions. JIT code may reuse an address with other code:
// its rule (frame pointer) stays right, as it has no tables either way.
class RuleCache {
 public:
  static constexpr size_t kSlots = size_t{1} << 14;  // 256 KiB, touched as used

  uint64_t Get(uint64_t pc) {
    Slot& s = slots_[Index(pc)];
    const uint64_t rule = s.rule.load(std::memory_order_relaxed);
    const uint64_t check = s.check.load(std::memory_order_relaxed);
    return rule != kNone && (check ^ rule) == pc ? rule : kNone;
  }
  void Put(uint64_t pc, uint64_t rule) {
    Slot& s = slots_[Index(pc)];
    s.rule.store(rule, std::memory_order_relaxed);
    s.check.store(pc ^ rule, std::memory_order_relaxed);
  }
  // Code unloaded (dlclose): another library may come to its addresses.
  void Clear() {
    for (Slot& s : slots_) s.rule.store(kNone, std::memory_order_relaxed);
  }

 private:
  struct Slot {
    std::atomic<uint64_t> rule{0}, check{0};
  };
  static size_t Index(uint64_t pc) { return (pc * 0x9E3779B97F4A7C15ull) >> (64 - 14); }
  Slot slots_[kSlots];
};
inline RuleCache g_rules;

// One frame up from `r` (within the stack [r.sp, stack_hi)) by `rule`.
inline Step StepBy(uint64_t rule, Regs& r, uint64_t stack_hi, uint64_t* slot) {
  switch (rule & 3) {
    case kOutermost:
      return Step::kEnd;
    case kFramePointer: {
      if (!r.fp_known) return Step::kGiveUp;
      if (r.fp == 0) return Step::kEnd;  // the ABI's outermost frame mark
      uint64_t caller_fp, ra;
      if (!StackWord(r.fp, r.sp, stack_hi, &caller_fp) || !StackWord(r.fp + 8, r.sp, stack_hi, &ra))
        return Step::kGiveUp;
      *slot = r.fp + 8;
      r.sp = r.fp + 16;
      r.fp = caller_fp;
      r.pc = ra;
      return Step::kNext;
    }
    case kTable:
      break;
    default:
      return Step::kGiveUp;
  }
  uint64_t base;
  if (!(rule & kCfaRbp)) {
    base = r.sp;
  } else if (r.fp_known) {
    base = r.fp;
  } else {
    return Step::kGiveUp;
  }
  const uint64_t cfa = base + static_cast<uint64_t>(Field(rule, 8, 32));
  if (cfa <= r.sp || cfa > stack_hi) return Step::kGiveUp;
  const uint64_t ra_at = cfa + static_cast<uint64_t>(Field(rule, 52, 12));
  uint64_t ra;
  if (!StackWord(ra_at, r.sp, stack_hi, &ra)) return Step::kGiveUp;
  if (rule & kFpSaved) {
    if (!StackWord(cfa + static_cast<uint64_t>(Field(rule, 40, 12)), r.sp, stack_hi, &r.fp))
      return Step::kGiveUp;
  } else if (rule & kFpLost) {
    r.fp_known = false;
  }
  r.pc = ra;
  r.sp = cfa;
  *slot = ra_at;
  return Step::kNext;
}

// One frame up from `r`, by the cached rule of its pc or a new one.
inline Step CachedStep(Regs& r, uint64_t stack_hi, uint64_t* slot) {
  uint64_t rule = g_rules.Get(r.pc);
  if (rule == kNone) {
    rule = RuleFor(r.pc);
    if (rule == kNone) return Step::kGiveUp;
    g_rules.Put(r.pc, rule);
  }
  return StepBy(rule, r, stack_hi, slot);
}

}  // namespace frame_walk
}  // namespace leakscope::preload
