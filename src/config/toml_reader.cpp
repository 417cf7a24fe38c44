#include "config/toml_reader.h"

#include <cctype>
#include <charconv>
#include <sstream>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

void ConfigIssues::add(const std::string& file, const std::string& key, const std::string& problem) {
  const auto origin = origins_.find(key);
  messages_.push_back(cat(origin == origins_.end() ? file : origin->second, ": ", key, ": ", problem));
}

void ConfigIssues::throw_if_any() const {
  if (messages_.empty()) return;
  std::ostringstream out;
  out << messages_.size() << " configuration error" << (messages_.size() > 1 ? "s" : "") << ":";
  for (const auto& m : messages_) out << "\n  " << m;
  throw ConfigError(out.str());
}

namespace {
std::string describe(const toml::node& node) {
  std::ostringstream out;
  if (node.is_string()) {
    out << '"' << node.as_string()->get() << '"';
  } else if (node.is_table()) {
    out << "a table";
  } else if (node.is_array()) {
    out << "an array";
  } else {
    node.visit([&](auto&& v) { out << v; });
  }
  return out.str();
}

// Walks `a.b.c` creating tables as needed.
toml::table& table_at(toml::table& root, const std::string& dotted) {
  toml::table* t = &root;
  std::string::size_type start = 0;
  while (start < dotted.size()) {
    auto end = dotted.find('.', start);
    if (end == std::string::npos) end = dotted.size();
    const std::string part = dotted.substr(start, end - start);
    if (!t->contains(part)) t->insert(part, toml::table{});
    t = (*t)[part].as_table();
    start = end + 1;
  }
  return *t;
}
}  // namespace

TomlSection::TomlSection(const toml::table* table, std::string path, std::string file,
                         ConfigIssues* issues, toml::table* resolved)
    : table_(table), path_(std::move(path)), file_(std::move(file)), issues_(issues), resolved_(resolved) {}

std::string TomlSection::where(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

bool TomlSection::has(const std::string& key) const { return table_ && table_->contains(key); }

const toml::node* TomlSection::lookup(const std::string& key) {
  used_.insert(key);
  return table_ ? table_->get(key) : nullptr;
}

void TomlSection::record(const std::string& key, toml::node&& value) {
  if (!resolved_) return;
  toml::table& t = path_.empty() ? *resolved_ : table_at(*resolved_, path_);
  value.visit([&](auto&& v) { t.insert_or_assign(key, std::move(v)); });
}

void TomlSection::wrong_type(const std::string& key, const char* expected, const toml::node& got) {
  issues_->add(file_, where(key), cat("expected ", expected, ", got ", describe(got)));
}

void TomlSection::retired(const std::string& key, const std::string& why) {
  if (!lookup(key)) return;
  log::warn0(cat(file_, ": ", where(key), " is no longer used: ", why));
}

bool TomlSection::get(const std::string& key, bool def) {
  bool value = def;
  if (const auto* n = lookup(key)) {
    if (auto v = n->value<bool>(); v && n->is_boolean()) value = *v;
    else wrong_type(key, "a boolean", *n);
  }
  record(key, toml::value<bool>(value));
  return value;
}

int64_t TomlSection::get(const std::string& key, int64_t def) {
  int64_t value = def;
  if (const auto* n = lookup(key)) {
    if (n->is_integer()) value = n->as_integer()->get();
    else wrong_type(key, "an integer", *n);
  }
  record(key, toml::value<int64_t>(value));
  return value;
}

double TomlSection::get(const std::string& key, double def) {
  double value = def;
  if (const auto* n = lookup(key)) {
    if (n->is_floating_point()) value = n->as_floating_point()->get();
    else if (n->is_integer()) value = static_cast<double>(n->as_integer()->get());
    else wrong_type(key, "a number", *n);
  }
  record(key, toml::value<double>(value));
  return value;
}

std::string TomlSection::get(const std::string& key, const std::string& def) {
  std::string value = def;
  if (const auto* n = lookup(key)) {
    if (n->is_string()) value = n->as_string()->get();
    else wrong_type(key, "a string", *n);
  }
  record(key, toml::value<std::string>(value));
  return value;
}

std::vector<int64_t> TomlSection::get(const std::string& key, const std::vector<int64_t>& def) {
  std::vector<int64_t> value = def;
  if (const auto* n = lookup(key)) {
    const auto* arr = n->as_array();
    bool ok = arr != nullptr;
    if (ok) {
      value.clear();
      for (const auto& e : *arr) {
        if (!e.is_integer()) { ok = false; break; }
        value.push_back(e.as_integer()->get());
      }
    }
    if (!ok) { wrong_type(key, "an array of integers", *n); value = def; }
  }
  toml::array out;
  for (auto v : value) out.push_back(v);
  record(key, std::move(out));
  return value;
}

std::vector<std::string> TomlSection::get(const std::string& key,
                                          const std::vector<std::string>& def) {
  std::vector<std::string> value = def;
  if (const auto* n = lookup(key)) {
    const auto* arr = n->as_array();
    bool ok = arr != nullptr;
    if (ok) {
      value.clear();
      for (const auto& e : *arr) {
        if (!e.is_string()) { ok = false; break; }
        value.push_back(e.as_string()->get());
      }
    }
    if (!ok) { wrong_type(key, "an array of strings", *n); value = def; }
  }
  toml::array out;
  for (const auto& v : value) out.push_back(v);
  record(key, std::move(out));
  return value;
}

std::string TomlSection::get_choice(const std::string& key, const std::string& def,
                                    const std::vector<std::string>& allowed) {
  std::string value = get(key, def);
  for (const auto& a : allowed)
    if (a == value) return value;
  issues_->add(file_, where(key), not_one_of(value, allowed));
  return def;
}

void TomlSection::require_range(const std::string& key, double value, double lo, double hi) {
  if (value < lo || value > hi)
    issues_->add(file_, where(key), cat(value, " is outside [", lo, ", ", hi, "]"));
}

void TomlSection::require(bool ok, const std::string& key, const std::string& problem) {
  if (!ok) issues_->add(file_, where(key), problem);
}

TomlSection TomlSection::child(const std::string& key) {
  const toml::node* n = lookup(key);
  const toml::table* t = nullptr;
  if (n) {
    t = n->as_table();
    if (!t) wrong_type(key, "a table", *n);
  }
  return TomlSection(t, where(key), file_, issues_, resolved_);
}

std::vector<TomlSection> TomlSection::array_of_tables(const std::string& key) {
  std::vector<TomlSection> sections;
  const toml::node* n = lookup(key);
  if (!n) return sections;
  const toml::array* entries = n->as_array();
  if (!entries) {
    wrong_type(key, "an array of tables", *n);
    return sections;
  }
  for (size_t i = 0; i < entries->size(); ++i) {
    const std::string entry = cat(key, "[", i, "]");
    if (const toml::table* t = (*entries)[i].as_table())
      sections.emplace_back(t, where(entry), file_, issues_, nullptr);
    else
      wrong_type(entry, "a table", (*entries)[i]);
  }
  return sections;
}

std::vector<std::string> TomlSection::keys() const {
  std::vector<std::string> out;
  if (table_)
    for (const auto& [k, v] : *table_) out.emplace_back(k.str());
  return out;
}

void TomlSection::finish() {
  if (!table_) return;
  for (const auto& [k, v] : *table_) {
    const std::string key(k.str());
    if (!used_.count(key)) issues_->add(file_, where(key), cat("unknown key (value ", describe(v), ")"));
  }
}

toml::table parse_toml_file(const std::string& file) {
  try {
    return toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    if (src.begin.line == 0) throw ConfigError(cat(file, ": cannot read: ", e.description()));
    throw ConfigError(cat(file, ":", src.begin.line, ":", src.begin.column, ": TOML syntax error: ",
                          e.description()));
  }
}

void apply_override(toml::table& root, const std::string& assignment, const std::string& origin) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(cat(origin, ": override \"", assignment, "\" is not of the form section.key=value"));
  const std::string path = assignment.substr(0, eq);
  const std::string raw = assignment.substr(eq + 1);
  const auto dot = path.rfind('.');
  toml::table& parent = dot == std::string::npos ? root : table_at(root, path.substr(0, dot));
  const std::string key = dot == std::string::npos ? path : path.substr(dot + 1);
  // Parse the value as TOML so numbers, booleans and arrays keep their types.
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + raw);
  } catch (const toml::parse_error&) {
    parsed.insert("v", raw);  // a bare word: take it as a string
  }
  parsed["v"].node()->visit([&](auto&& v) { parent.insert_or_assign(key, v); });
}

void merge_tables(toml::table& base, const toml::table& overlay) {
  for (const auto& [k, v] : overlay) {
    if (v.is_table() && base.contains(k) && base[k].is_table()) {
      merge_tables(*base[k].as_table(), *v.as_table());
    } else {
      v.visit([&](auto&& value) { base.insert_or_assign(k, value); });
    }
  }
}

namespace {

// The shortest text that reads back as the same double ("0.1", not toml++'s max_digits10
// "0.10000000000000001"), with ".0" kept on whole numbers so the value stays a float.
std::string shortest_float(const std::string& token) {
  double value = 0;
  const auto parsed = std::from_chars(token.data(), token.data() + token.size(), value);
  if (parsed.ec != std::errc() || parsed.ptr != token.data() + token.size()) return token;
  char buffer[32];
  const auto printed = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string out(buffer, printed.ptr);
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
  return out;
}

// Rewrites every float value of toml++'s output with shortest_float: only values (after a key's
// '=', inside arrays across lines), never keys, table headers or strings.
std::string shorten_floats(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  char quote = 0;        // inside a '...' or "..." string
  bool in_value = false; // after '=' on this line
  int array_depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      out += c;
      if (c == '\\' && quote == '"' && i + 1 < text.size()) out += text[++i];
      else if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    if (c == '\n') in_value = array_depth > 0;
    if (c == '=') in_value = true;
    if (in_value && c == '[') ++array_depth;
    if (in_value && c == ']') --array_depth;
    const bool starts_number = std::isdigit(static_cast<unsigned char>(c)) ||
                               ((c == '-' || c == '+') && i + 1 < text.size() &&
                                std::isdigit(static_cast<unsigned char>(text[i + 1])));
    const bool after_word = i > 0 && (std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_');
    if (!in_value || !starts_number || after_word) {
      out += c;
      continue;
    }
    size_t end = i + 1;
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '.' ||
                                 text[end] == '_' || text[end] == '+' || text[end] == '-'))
      ++end;
    const std::string token = text.substr(i, end - i);
    const bool is_float = token.find_first_of(".eE") != std::string::npos && token.find('x') == std::string::npos;
    out += is_float ? shortest_float(token) : token;
    i = end - 1;
  }
  return out;
}

}  // namespace

std::string format_toml(const toml::table& table) {
  std::ostringstream out;
  out << toml::toml_formatter(table);
  return shorten_floats(out.str());
}

}  // namespace vlmt
