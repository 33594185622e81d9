#include "cli/flags.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace reelfarm::cli {

void FlagSet::String(const std::string& name, std::string* target,
                     const std::string& help) {
  flags_.push_back({name, help, false, *target, [target](const std::string& v) {
                      *target = v;
                      return true;
                    }});
}

void FlagSet::Uint(const std::string& name, uint32_t* target,
                   const std::string& help) {
  flags_.push_back(
      {name, help, false, absl::StrCat(*target),
       [target](const std::string& v) { return absl::SimpleAtoi(v, target); }});
}

void FlagSet::Double(const std::string& name, double* target,
                     const std::string& help) {
  flags_.push_back(
      {name, help, false, absl::StrCat(*target),
       [target](const std::string& v) { return absl::SimpleAtod(v, target); }});
}

void FlagSet::Bool(const std::string& name, bool* target,
                   const std::string& help) {
  flags_.push_back({name, help, true, "", [target](const std::string& v) {
                      if (v.empty() || v == "true" || v == "1") {
                        *target = true;
                      } else if (v == "false" || v == "0") {
                        *target = false;
                      } else {
                        return false;
                      }
                      return true;
                    }});
}

void FlagSet::StringList(const std::string& name,
                         std::vector<std::string>* target,
                         const std::string& help) {
  flags_.push_back({name, absl::StrCat(help, " (repeatable)"), false, "",
                    [target](const std::string& v) {
                      target->push_back(v);
                      return true;
                    }});
}

const FlagSet::Flag* FlagSet::Find(const std::string& name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

absl::StatusOr<std::vector<std::string>> FlagSet::Parse(
    const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Flag* flag = Find(name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    if (!has_value && !flag->is_bool) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value"));
      }
      value = args[++i];
    }
    if (!flag->set(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, ": bad value '", value, "'"));
    }
  }
  return positional;
}

std::string FlagSet::Help() const {
  std::string out = absl::StrCat("usage: ", usage_, "\n\n", summary_, "\n");
  if (!flags_.empty()) out += "\nflags:\n";
  for (const Flag& f : flags_) {
    const std::string lhs = f.is_bool ? absl::StrCat("--", f.name)
                                      : absl::StrCat("--", f.name, " VALUE");
    absl::StrAppend(&out, absl::StrFormat("  %-30s %s", lhs, f.help));
    if (!f.is_bool && !f.default_text.empty() && f.default_text != "0") {
      absl::StrAppend(&out, " (default ", f.default_text, ")");
    }
    out += "\n";
  }
  out += "  --help                         this text\n";
  return out;
}

}  // namespace reelfarm::cli
