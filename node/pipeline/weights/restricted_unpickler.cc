#include "node/pipeline/weights/restricted_unpickler.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "node/pipeline/weights/restricted_unpickler_torch.h"

namespace reelfarm::pipeline {
namespace {

using unpickler_internal::kOrderedDict;
using unpickler_internal::kRebuildParameter;
using unpickler_internal::kRebuildTensorV2;
using unpickler_internal::LoadStorage;
using unpickler_internal::LookUpGlobal;
using unpickler_internal::RebuildTensor;

#define RF_TRY(expr)                                      \
  do {                                                    \
    if (absl::Status _st = (expr); !_st.ok()) return _st; \
  } while (0)

// Known opcodes this VM refuses, named so the error says what the file used.
struct RejectedOp {
  uint8_t op;
  const char* name;
};
const RejectedOp kRejectedOps[] = {
    {'I', "INT"},          {'L', "LONG"},
    {'F', "FLOAT"},        {'S', "STRING"},
    {'V', "UNICODE"},      {'g', "GET"},
    {'p', "PUT"},          {'P', "PERSID"},
    {'i', "INST"},         {'o', "OBJ"},
    {0x81, "NEWOBJ"},      {0x92, "NEWOBJ_EX"},
    {0x82, "EXT1"},        {0x83, "EXT2"},
    {0x84, "EXT4"},        {0x8f, "EMPTY_SET"},
    {0x90, "ADDITEMS"},    {0x91, "FROZENSET"},
    {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"},
};

class Machine {
 public:
  Machine(absl::string_view pickle, const StorageResolver& storages,
          const std::string& source, const UnpicklerLimits& limits)
      : in_(pickle), storages_(storages), source_(source), limits_(limits) {}

  absl::StatusOr<PickleResult> Run();

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": pickle offset ", op_offset_, " (opcode 0x",
                     absl::Hex(static_cast<int>(op_)), "): ", what));
  }
  absl::Status Step();

  // Input.
  absl::Status Read(uint64_t n, absl::string_view* out);
  absl::Status ReadLe(int n, uint64_t* out);
  absl::Status ReadLine(std::string* out);
  absl::Status ReadText(int len_bytes, PickleKind kind);
  absl::Status ReadLong(uint64_t n);

  // Objects and the stack.
  absl::Status New(PickleKind kind, PickleObject** out);
  absl::Status Push(PickleObject* v);
  absl::Status Pop(PickleObject** out);
  absl::Status Top(PickleObject** out);
  absl::Status PopMark(std::vector<PickleObject*>* out);
  absl::Status MakeSequence(PickleKind kind, std::vector<PickleObject*> items);
  absl::Status Nest(PickleObject* container, const PickleObject* child);
  absl::Status AddItems(const std::vector<PickleObject*>& kv);
  absl::Status Memo(uint64_t index);
  absl::Status Get(uint64_t index);

  // The allowed globals.
  absl::Status PushGlobal(const std::string& module, const std::string& name);
  absl::Status Reduce();
  absl::Status PersistentLoad();

  absl::string_view in_;
  const StorageResolver& storages_;
  const std::string& source_;
  const UnpicklerLimits& limits_;
  uint64_t pos_ = 0;
  uint64_t op_offset_ = 0;
  uint8_t op_ = 0;
  bool stopped_ = false;

  PickleResult result_;
  PickleObject* none_ = nullptr;
  PickleObject* true_ = nullptr;
  PickleObject* false_ = nullptr;
  std::vector<PickleObject*> stack_;
  std::vector<size_t> marks_;  // stack sizes at each open MARK
  std::unordered_map<uint64_t, PickleObject*> memo_;
};

absl::Status Machine::Read(uint64_t n, absl::string_view* out) {
  if (n > in_.size() - pos_) {
    return Error(absl::StrCat("needs ", n, " bytes but only ",
                              in_.size() - pos_, " remain"));
  }
  *out = in_.substr(pos_, n);
  pos_ += n;
  return absl::OkStatus();
}

absl::Status Machine::ReadLe(int n, uint64_t* out) {
  absl::string_view b;
  RF_TRY(Read(n, &b));
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[i]);
  *out = v;
  return absl::OkStatus();
}

absl::Status Machine::ReadLine(std::string* out) {
  constexpr size_t kMaxLine = 256;  // module and class names are short
  const size_t nl = in_.substr(pos_, kMaxLine + 1).find('\n');
  if (nl == absl::string_view::npos) {
    return Error("GLOBAL name is unterminated or too long");
  }
  *out = std::string(in_.substr(pos_, nl));
  pos_ += nl + 1;
  return absl::OkStatus();
}

absl::Status Machine::ReadText(int len_bytes, PickleKind kind) {
  uint64_t len = 0;
  RF_TRY(ReadLe(len_bytes, &len));
  if (op_ == 'T' && len > 0x7fffffff) return Error("negative string length");
  if (len > limits_.max_string) {
    return Error(absl::StrCat("string of ", len, " bytes exceeds the limit of ",
                              limits_.max_string));
  }
  absl::string_view b;
  RF_TRY(Read(len, &b));
  PickleObject* v = nullptr;
  RF_TRY(New(kind, &v));
  v->text = std::string(b);
  return Push(v);
}

absl::Status Machine::ReadLong(uint64_t n) {
  // Python ints are unbounded; a checkpoint's fit in 64 bits.
  if (n > 8) return Error(absl::StrCat(n, "-byte integer is too large"));
  absl::string_view b;
  RF_TRY(Read(n, &b));
  uint64_t v = 0;
  for (uint64_t i = n; i-- > 0;) v = (v << 8) | static_cast<uint8_t>(b[i]);
  if (n > 0 && n < 8 && (static_cast<uint8_t>(b[n - 1]) & 0x80)) {
    v |= ~uint64_t{0} << (8 * n);  // sign-extend
  }
  PickleObject* o = nullptr;
  RF_TRY(New(PickleKind::kInt, &o));
  o->int_value = static_cast<int64_t>(v);
  return Push(o);
}

absl::Status Machine::New(PickleKind kind, PickleObject** out) {
  if (result_.arena.size() >= limits_.max_objects) {
    return Error(absl::StrCat("more than ", limits_.max_objects, " objects"));
  }
  result_.arena.push_back(std::make_unique<PickleObject>());
  *out = result_.arena.back().get();
  (*out)->kind = kind;
  return absl::OkStatus();
}

absl::Status Machine::Push(PickleObject* v) {
  if (stack_.size() >= limits_.max_stack) {
    return Error(absl::StrCat("stack deeper than ", limits_.max_stack));
  }
  stack_.push_back(v);
  return absl::OkStatus();
}

absl::Status Machine::Pop(PickleObject** out) {
  // Values below the innermost MARK belong to an enclosing construct.
  if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) {
    return Error("stack underflow");
  }
  *out = stack_.back();
  stack_.pop_back();
  return absl::OkStatus();
}

absl::Status Machine::Top(PickleObject** out) {
  if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) {
    return Error("stack underflow");
  }
  *out = stack_.back();
  return absl::OkStatus();
}

absl::Status Machine::PopMark(std::vector<PickleObject*>* out) {
  if (marks_.empty()) return Error("no MARK to pop to (unbalanced MARK)");
  const size_t mark = marks_.back();
  marks_.pop_back();
  out->assign(stack_.begin() + mark, stack_.end());
  stack_.resize(mark);
  return absl::OkStatus();
}

absl::Status Machine::Nest(PickleObject* container, const PickleObject* child) {
  container->depth = std::max(container->depth, child->depth + 1);
  if (container->depth > limits_.max_depth) {
    return Error(
        absl::StrCat("containers nested deeper than ", limits_.max_depth));
  }
  return absl::OkStatus();
}

absl::Status Machine::MakeSequence(PickleKind kind,
                                   std::vector<PickleObject*> items) {
  PickleObject* v = nullptr;
  RF_TRY(New(kind, &v));
  v->depth = 1;
  for (PickleObject* item : items) {
    RF_TRY(Nest(v, item));
    v->items.push_back(item);
  }
  return Push(v);
}

absl::Status Machine::AddItems(const std::vector<PickleObject*>& kv) {
  if (kv.size() % 2 != 0) return Error("odd number of dict keys and values");
  PickleObject* dict = nullptr;
  RF_TRY(Top(&dict));
  if (dict->kind != PickleKind::kDict) return Error("SETITEM(S) on a non-dict");
  for (size_t i = 0; i < kv.size(); i += 2) {
    RF_TRY(Nest(dict, kv[i]));
    RF_TRY(Nest(dict, kv[i + 1]));
    dict->entries.emplace_back(kv[i], kv[i + 1]);
  }
  return absl::OkStatus();
}

absl::Status Machine::Memo(uint64_t index) {
  PickleObject* v = nullptr;
  RF_TRY(Top(&v));
  auto it = memo_.find(index);
  if (it != memo_.end()) {
    it->second = v;
    return absl::OkStatus();
  }
  if (memo_.size() >= limits_.max_memo) {
    return Error(
        absl::StrCat("memo holds more than ", limits_.max_memo, " entries"));
  }
  memo_.emplace(index, v);
  return absl::OkStatus();
}

absl::Status Machine::Get(uint64_t index) {
  auto it = memo_.find(index);
  if (it == memo_.end()) {
    return Error(absl::StrCat("memo index ", index, " was never stored"));
  }
  return Push(it->second);
}

absl::Status Machine::PushGlobal(const std::string& module,
                                 const std::string& name) {
  absl::StatusOr<int64_t> which = LookUpGlobal(module, name);
  if (!which.ok()) return Error(which.status().message());
  PickleObject* v = nullptr;
  RF_TRY(New(PickleKind::kGlobal, &v));
  v->int_value = *which;
  v->text = absl::StrCat(module, ".", name);
  return Push(v);
}

absl::Status Machine::Reduce() {
  PickleObject *args = nullptr, *fn = nullptr;
  RF_TRY(Pop(&args));
  RF_TRY(Pop(&fn));
  if (fn->kind != PickleKind::kGlobal) return Error("REDUCE on a non-callable");
  if (args->kind != PickleKind::kTuple) return Error("REDUCE without a tuple");
  const std::vector<const PickleObject*>& a = args->items;
  switch (fn->int_value) {
    case kOrderedDict: {
      if (!a.empty()) return Error("OrderedDict called with arguments");
      PickleObject* d = nullptr;
      RF_TRY(New(PickleKind::kDict, &d));
      d->depth = 1;
      return Push(d);
    }
    case kRebuildTensorV2: {
      absl::StatusOr<std::unique_ptr<PickleTensor>> t =
          RebuildTensor(a, limits_.max_dims);
      if (!t.ok()) return Error(t.status().message());
      PickleObject* v = nullptr;
      RF_TRY(New(PickleKind::kTensor, &v));
      v->tensor = *std::move(t);
      return Push(v);
    }
    case kRebuildParameter:
      // (data, requires_grad, backward_hooks): the parameter is its data.
      if (a.size() != 3 || a[0]->kind != PickleKind::kTensor) {
        return Error("_rebuild_parameter expects (tensor, bool, hooks)");
      }
      return Push(const_cast<PickleObject*>(a[0]));
    default:
      return Error(
          absl::StrCat(fn->text, " may only appear inside a persistent id"));
  }
}

absl::Status Machine::PersistentLoad() {
  PickleObject* pid = nullptr;
  RF_TRY(Pop(&pid));
  absl::StatusOr<std::shared_ptr<const PickleStorage>> storage =
      LoadStorage(*pid, storages_);
  if (!storage.ok()) return Error(storage.status().message());
  PickleObject* v = nullptr;
  RF_TRY(New(PickleKind::kStorage, &v));
  v->storage = *std::move(storage);
  return Push(v);
}

absl::Status Machine::Step() {
  op_offset_ = pos_;
  absl::string_view b;
  RF_TRY(Read(1, &b));
  op_ = static_cast<uint8_t>(b[0]);
  uint64_t n = 0;
  PickleObject* v = nullptr;
  std::vector<PickleObject*> items;
  switch (op_) {
    case 0x80:  // PROTO
      RF_TRY(ReadLe(1, &n));
      if (n > 5) return Error(absl::StrCat("pickle protocol ", n));
      return absl::OkStatus();
    case 0x95:  // FRAME: a length hint only
      return ReadLe(8, &n);
    case '.':  // STOP
      stopped_ = true;
      return absl::OkStatus();
    case '(':  // MARK
      if (marks_.size() >= limits_.max_marks) {
        return Error(
            absl::StrCat("more than ", limits_.max_marks, " open MARKs"));
      }
      marks_.push_back(stack_.size());
      return absl::OkStatus();
    case '0':  // POP: a value, else the MARK it sits on
      if (stack_.size() > (marks_.empty() ? 0 : marks_.back())) {
        stack_.pop_back();
        return absl::OkStatus();
      }
      return PopMark(&items);
    case '1':  // POP_MARK
      return PopMark(&items);
    case '2':  // DUP
      RF_TRY(Top(&v));
      return Push(v);
    case 'N':
      return Push(none_);
    case 0x88:
      return Push(true_);
    case 0x89:
      return Push(false_);
    case 'J':  // BININT
    case 'K':  // BININT1
    case 'M':  // BININT2
      RF_TRY(ReadLe(op_ == 'J' ? 4 : op_ == 'K' ? 1 : 2, &n));
      RF_TRY(New(PickleKind::kInt, &v));
      v->int_value = op_ == 'J' ? int64_t{static_cast<int32_t>(n)}
                                : static_cast<int64_t>(n);
      return Push(v);
    case 0x8a:  // LONG1
      RF_TRY(ReadLe(1, &n));
      return ReadLong(n);
    case 0x8b:  // LONG4
      RF_TRY(ReadLe(4, &n));
      return ReadLong(n);
    case 'G': {  // BINFLOAT, big-endian
      RF_TRY(Read(8, &b));
      uint64_t bits = 0;
      for (char c : b) bits = (bits << 8) | static_cast<uint8_t>(c);
      RF_TRY(New(PickleKind::kFloat, &v));
      std::memcpy(&v->float_value, &bits, 8);
      return Push(v);
    }
    case 'X':  // BINUNICODE
      return ReadText(4, PickleKind::kString);
    case 0x8c:  // SHORT_BINUNICODE
      return ReadText(1, PickleKind::kString);
    case 0x8d:  // BINUNICODE8
      return ReadText(8, PickleKind::kString);
    case 'T':  // BINSTRING
      return ReadText(4, PickleKind::kString);
    case 'U':  // SHORT_BINSTRING
      return ReadText(1, PickleKind::kString);
    case 'B':  // BINBYTES
      return ReadText(4, PickleKind::kBytes);
    case 'C':  // SHORT_BINBYTES
      return ReadText(1, PickleKind::kBytes);
    case 0x8e:  // BINBYTES8
    case 0x96:  // BYTEARRAY8
      return ReadText(8, PickleKind::kBytes);
    case ')':
      return MakeSequence(PickleKind::kTuple, {});
    case ']':
      return MakeSequence(PickleKind::kList, {});
    case '}':
      return MakeSequence(PickleKind::kDict, {});
    case 't':  // TUPLE
    case 'l':  // LIST
      RF_TRY(PopMark(&items));
      return MakeSequence(op_ == 't' ? PickleKind::kTuple : PickleKind::kList,
                          std::move(items));
    case 0x85:  // TUPLE1..3
    case 0x86:
    case 0x87:
      items.resize(op_ - 0x84);
      for (size_t i = items.size(); i-- > 0;) RF_TRY(Pop(&items[i]));
      return MakeSequence(PickleKind::kTuple, std::move(items));
    case 'd':  // DICT
      RF_TRY(PopMark(&items));
      RF_TRY(MakeSequence(PickleKind::kDict, {}));
      return AddItems(items);
    case 'a':    // APPEND
    case 'e': {  // APPENDS
      if (op_ == 'a') {
        items.resize(1);
        RF_TRY(Pop(&items[0]));
      } else {
        RF_TRY(PopMark(&items));
      }
      PickleObject* list = nullptr;
      RF_TRY(Top(&list));
      if (list->kind != PickleKind::kList) return Error("APPEND to a non-list");
      for (PickleObject* item : items) {
        RF_TRY(Nest(list, item));
        list->items.push_back(item);
      }
      return absl::OkStatus();
    }
    case 's':  // SETITEM
      items.resize(2);
      RF_TRY(Pop(&items[1]));
      RF_TRY(Pop(&items[0]));
      return AddItems(items);
    case 'u':  // SETITEMS
      RF_TRY(PopMark(&items));
      return AddItems(items);
    case 'q':  // BINPUT
    case 'r':  // LONG_BINPUT
      RF_TRY(ReadLe(op_ == 'q' ? 1 : 4, &n));
      return Memo(n);
    case 0x94:  // MEMOIZE
      return Memo(memo_.size());
    case 'h':  // BINGET
    case 'j':  // LONG_BINGET
      RF_TRY(ReadLe(op_ == 'h' ? 1 : 4, &n));
      return Get(n);
    case 'c': {  // GLOBAL
      std::string module, name;
      RF_TRY(ReadLine(&module));
      RF_TRY(ReadLine(&name));
      return PushGlobal(module, name);
    }
    case 0x93: {  // STACK_GLOBAL
      PickleObject *module = nullptr, *name = nullptr;
      RF_TRY(Pop(&name));
      RF_TRY(Pop(&module));
      if (module->kind != PickleKind::kString ||
          name->kind != PickleKind::kString) {
        return Error("STACK_GLOBAL needs two strings");
      }
      return PushGlobal(module->text, name->text);
    }
    case 'R':  // REDUCE
      return Reduce();
    case 'b': {  // BUILD: only an OrderedDict's attributes (_metadata)
      PickleObject *state = nullptr, *obj = nullptr;
      RF_TRY(Pop(&state));
      RF_TRY(Top(&obj));
      if (obj->kind != PickleKind::kDict) {
        return Error("BUILD on something other than a dict");
      }
      return absl::OkStatus();
    }
    case 'Q':  // BINPERSID
      return PersistentLoad();
    default:
      for (const RejectedOp& r : kRejectedOps) {
        if (r.op == op_)
          return Error(absl::StrCat("unsupported opcode ", r.name));
      }
      return Error("unknown opcode");
  }
}

absl::StatusOr<PickleResult> Machine::Run() {
  if (in_.size() > limits_.max_input_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": pickle of ", in_.size(),
                     " bytes exceeds the limit of ", limits_.max_input_bytes));
  }
  for (PickleObject** p : {&none_, &true_, &false_}) RF_TRY(New({}, p));
  true_->kind = false_->kind = PickleKind::kBool;
  true_->int_value = 1;
  while (!stopped_) {
    if (pos_ >= in_.size()) {
      op_offset_ = pos_;
      return Error("pickle ends without STOP");
    }
    RF_TRY(Step());
  }
  if (!marks_.empty()) return Error("STOP inside an open MARK (unbalanced)");
  if (stack_.size() != 1) {
    return Error(absl::StrCat("STOP with ", stack_.size(),
                              " values on the "
                              "stack"));
  }
  result_.root = stack_.back();
  return std::move(result_);
}

#undef RF_TRY

}  // namespace

absl::StatusOr<PickleResult> Unpickle(absl::string_view pickle,
                                      const StorageResolver& storages,
                                      const std::string& source,
                                      const UnpicklerLimits& limits) {
  Machine machine(pickle, storages, source, limits);
  return machine.Run();
}

}  // namespace reelfarm::pipeline
