#include "core/cli.h"

#include <CLI/CLI.hpp>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <tuple>

#include "core/allocator.h"
#include "core/log.h"
#include "core/version.h"

namespace vlmt {
namespace {

// Whole-string parses: "5x", "", " 5" and out-of-range values are refused, nan and inf too.
bool parse_integer(const std::string& text, int64_t& out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size()) return false;
  out = v;
  return true;
}

bool parse_number(const std::string& text, double& out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(v)) return false;
  out = v;
  return true;
}

std::string range_text(const CliOption& o) {
  std::ostringstream s;
  s << (o.value == CliValue::kInteger ? "an integer" : "a number");
  const bool low = std::isfinite(o.min), high = std::isfinite(o.max);
  if (low && high) s << " in [" << o.min << ", " << o.max << "]";
  else if (low) s << " >= " << o.min;
  else if (high) s << " <= " << o.max;
  return s.str();
}

// The option's type and range as one CLI11 validator; its message follows "--name: ".
CLI::Validator value_check(const CliOption& o) {
  const std::string expected = range_text(o);
  return CLI::Validator(
      [o, expected](std::string& text) -> std::string {
        double v = 0;
        int64_t i = 0;
        const bool ok = o.value == CliValue::kInteger ? parse_integer(text, i) : parse_number(text, v);
        if (o.value == CliValue::kInteger) v = static_cast<double>(i);
        if (!ok || v < o.min || v > o.max) return "expected " + expected + ", got \"" + text + "\"";
        return "";
      },
      "");  // the help shows the type name and, in the option's text, the range
}

std::string choices_text(const std::vector<std::string>& choices) {
  std::string s;
  for (const auto& c : choices) s += (s.empty() ? "" : "|") + c;
  return s;
}

}  // namespace

CliOption cli_flag(std::string name, std::string help) {
  CliOption o;
  o.name = std::move(name);
  o.value = CliValue::kFlag;
  o.help = std::move(help);
  return o;
}
CliOption cli_text(std::string name, std::string help, std::vector<std::string> choices) {
  CliOption o = cli_flag(std::move(name), std::move(help));
  o.value = CliValue::kText;
  o.choices = std::move(choices);
  return o;
}
CliOption cli_number(std::string name, std::string help, double min, double max) {
  CliOption o = cli_flag(std::move(name), std::move(help));
  std::tie(o.value, o.min, o.max) = std::make_tuple(CliValue::kNumber, min, max);
  return o;
}
CliOption cli_integer(std::string name, std::string help, double min, double max) {
  CliOption o = cli_number(std::move(name), std::move(help), min, max);
  o.value = CliValue::kInteger;
  return o;
}
CliOption cli_set() {
  CliOption o = cli_flag("set", "override a config value (repeatable)");
  o.value = CliValue::kOverrides;
  return o;
}
CliOption cli_positional(std::string name, std::string help, int min, int max) {
  CliOption o = cli_flag(std::move(name), std::move(help));
  std::tie(o.value, o.count_min, o.count_max) = std::make_tuple(CliValue::kPositional, min, max);
  return o;
}

bool CliArgs::has(const std::string& name) const { return values.count(name) || flags.count(name); }

std::string CliArgs::get(const std::string& name, const std::string& def) const {
  auto it = values.find(name);
  return it == values.end() ? def : it->second;
}

int64_t CliArgs::integer(const std::string& name, int64_t def) const {
  auto it = values.find(name);
  if (it == values.end()) return def;
  int64_t v = 0;
  if (!parse_integer(it->second, v)) throw ConfigError(cat("--", name, ": expected an integer, got \"", it->second, "\""));
  return v;
}

double CliArgs::number(const std::string& name, double def) const {
  auto it = values.find(name);
  if (it == values.end()) return def;
  double v = 0;
  if (!parse_number(it->second, v)) throw ConfigError(cat("--", name, ": expected a number, got \"", it->second, "\""));
  return v;
}

CliArgs parse_cli(int argc, char** argv, const std::string& program, const std::string& usage,
                  const std::vector<CliOption>& options) {
  CLI::App app(program + " " + usage, program);
  app.set_version_flag("--version", version_text(program));
  CliArgs args;
  std::map<std::string, CLI::Option*> declared;
  for (const auto& o : options) {
    if (o.value == CliValue::kOverrides) {
      app.add_option("--set", args.overrides, o.help)->type_name("SECTION.KEY=VALUE")->allow_extra_args(false);
      continue;
    }
    if (o.value == CliValue::kPositional) {
      auto* p = app.add_option(o.name, args.positional, o.help)->type_name("");
      p->expected(o.count_min, o.count_max < 0 ? CLI::detail::expected_max_vector_size : o.count_max);
      if (o.count_min > 0) p->required();
      continue;
    }
    if (o.value == CliValue::kFlag) {
      declared[o.name] = app.add_flag("--" + o.name, o.help);
      continue;
    }
    const std::string help = o.value == CliValue::kText ? o.help : o.help + " [" + range_text(o) + "]";
    auto* opt = app.add_option("--" + o.name, args.values[o.name], help)->allow_extra_args(false);
    if (o.value == CliValue::kText) {
      opt->type_name(o.choices.empty() ? "TEXT" : choices_text(o.choices));
      if (!o.choices.empty()) opt->check(CLI::IsMember(o.choices).description(""));  // the type name lists them
    } else {
      opt->check(value_check(o))->type_name(o.value == CliValue::kInteger ? "INT" : "NUMBER");
    }
    declared[o.name] = opt;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    if (log::rank() == 0) std::printf("%s", app.help().c_str());
    throw CliExit();
  } catch (const CLI::CallForVersion& e) {
    if (log::rank() == 0) std::printf("%s\n", e.what());
    throw CliExit();
  } catch (const CLI::ParseError& e) {
    throw ConfigError(cat(program, ": ", e.what(), " (", program, " --help lists the options)"));
  }
  // Only options given on the command line stay in the maps.
  for (const auto& [name, opt] : declared) {
    if (opt->count() == 0) args.values.erase(name);
    else if (opt->get_expected_min() == 0) args.flags[name] = true;
  }
  return args;
}

int run_tool(const std::function<int()>& body) {
  try {
    keep_freed_memory();  // reads VLMT_CPU_BLOCK_CACHE_MB: a bad value is reported like any error
    return body();
  } catch (const Error& e) {
    if (e.code() != ExitCode::kOk) log::error(e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    log::error(cat("internal error: ", e.what()));
    return static_cast<int>(ExitCode::kFailure);
  }
}

}  // namespace vlmt
