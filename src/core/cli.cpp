#include "core/cli.h"

#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

bool CliArgs::has(const std::string& name) const {
  return values.count(name) || flags.count(name);
}

std::string CliArgs::get(const std::string& name, const std::string& def) const {
  auto it = values.find(name);
  return it == values.end() ? def : it->second;
}

CliArgs parse_cli(int argc, char** argv, const std::string& program, const std::string& usage,
                  const std::vector<CliOption>& options) {
  auto print_usage = [&](std::FILE* out) {
    std::fprintf(out, "usage: %s %s\n", program.c_str(), usage.c_str());
    std::fprintf(out, "  --set section.key=value   override a config value (repeatable)\n");
    for (const auto& o : options)
      std::fprintf(out, "  --%-22s %s\n", (o.name + (o.takes_value ? " V" : "")).c_str(), o.help.c_str());
  };
  CliArgs args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      print_usage(stdout);
      std::exit(0);
    }
    if (a.rfind("--", 0) != 0) {
      args.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    auto need_value = [&]() {
      if (inline_value) return value;
      if (i + 1 >= argc) throw ConfigError(cat(program, ": option --", name, " needs a value"));
      return std::string(argv[++i]);
    };
    if (name == "set") {
      args.overrides.push_back(need_value());
      continue;
    }
    const CliOption* opt = nullptr;
    for (const auto& o : options)
      if (o.name == name) opt = &o;
    if (!opt) {
      std::string known = "--set";
      for (const auto& o : options) known += ", --" + o.name;
      throw ConfigError(cat(program, ": unknown option --", name, " (known: ", known, ")"));
    }
    if (opt->takes_value) args.values[name] = need_value();
    else args.flags[name] = true;
  }
  return args;
}

}  // namespace vlmt
