#include "eval/table_render.h"

#include <cmath>
#include <cstdio>

#include "core/log.h"
#include "eval/svg_plot.h"

namespace vlmt {

std::string format_score(const std::optional<double>& score) {
  if (!score) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", *score);
  return buf;
}

std::string format_mean_sd(const std::vector<double>& values) {
  if (values.empty()) return "-";
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double ss = 0;
  for (double v : values) ss += (v - mean) * (v - mean);
  const double sd = values.size() > 1 ? std::sqrt(ss / static_cast<double>(values.size() - 1)) : 0.0;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.2f ± %.2f", mean, sd);
  return buf;
}

std::string format_params(int64_t params) {
  const double p = static_cast<double>(params);
  const auto scaled = [](double v, const char* unit) {
    char buf[32];
    if (v >= 100 || std::abs(v - std::round(v)) < 0.05) std::snprintf(buf, sizeof buf, "%.0f%s", v, unit);
    else std::snprintf(buf, sizeof buf, "%.1f%s", v, unit);
    return std::string(buf);
  };
  if (p >= 1e9) return scaled(p / 1e9, "B");
  if (p >= 1e6) return scaled(p / 1e6, "M");
  if (p >= 1e3) return scaled(p / 1e3, "K");
  return std::to_string(params);
}

std::string to_markdown(const TextTable& table) {
  std::string out = cat("**", table.title, "**\n\n|");
  for (const auto& h : table.header) out += cat(" ", h, " |");
  out += "\n|";
  for (size_t i = 0; i < table.header.size(); ++i) out += i == 0 ? "---|" : "---:|";
  out += "\n";
  for (const auto& row : table.rows) {
    out += "|";
    for (const auto& cell : row) out += cat(" ", cell, " |");
    out += "\n";
  }
  return out;
}

std::string to_html(const TextTable& table) {
  std::string out = cat("<table>\n<caption>", xml_escape(table.title), "</caption>\n<thead><tr>");
  for (const auto& h : table.header) out += cat("<th>", xml_escape(h), "</th>");
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (const auto& cell : row) out += cat("<td>", xml_escape(cell), "</td>");
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

}  // namespace vlmt
