#include "eval/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {
namespace {

// Margins inside the SVG box: left leaves room for category names, bottom for the x label.
constexpr double kLeft = 110, kRight = 20, kTop = 34, kBottom = 46;

const char* colour(int series) {
  static const char* palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
                                  "#393b79", "#637939"};
  return palette[series % 12];
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string tick_label(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", value);
  return buf;
}

SvgPlot::SvgPlot(std::string title, std::string x_label, std::string y_label, int width,
                 int height)
    : title_(std::move(title)), x_label_(std::move(x_label)), y_label_(std::move(y_label)),
      width_(width), height_(height) {}

void SvgPlot::set_y_categories(std::vector<std::pair<double, std::string>> categories) {
  y_categories_ = std::move(categories);
}

int SvgPlot::series_index(const std::string& name) {
  const auto it = std::find(series_.begin(), series_.end(), name);
  if (it != series_.end()) return static_cast<int>(it - series_.begin());
  series_.push_back(name);
  return static_cast<int>(series_.size()) - 1;
}

void SvgPlot::add_line(const std::string& series, const std::vector<double>& x,
                       const std::vector<double>& y, double stroke_width) {
  if (x.size() != y.size())
    throw DataError(cat("plot \"", title_, "\": series \"", series, "\" has ", x.size(),
                        " x values and ", y.size(), " y values"));
  if (x.empty()) return;
  marks_.push_back({Mark::kLine, series_index(series), x, y, {}, stroke_width});
}

void SvgPlot::add_segment(const std::string& series, double x0, double x1, double y,
                          double stroke_width) {
  marks_.push_back({Mark::kSegment, series_index(series), {x0, x1}, {y, y}, {}, stroke_width});
}

void SvgPlot::add_scatter(const std::string& series, const std::vector<double>& x,
                          const std::vector<double>& y, const std::vector<std::string>& labels) {
  if (x.size() != y.size() || (!labels.empty() && labels.size() != x.size()))
    throw DataError(cat("plot \"", title_, "\": scatter \"", series, "\" has mismatched sizes"));
  if (x.empty()) return;
  marks_.push_back({Mark::kPoints, series_index(series), x, y, labels, 4.0});
}

double SvgPlot::map_x(double x, double lo, double hi) const {
  const double plot_w = width_ - kLeft - kRight;
  if (log_x_) {
    x = std::log10(x);
    lo = std::log10(lo);
    hi = std::log10(hi);
  }
  return kLeft + (hi > lo ? (x - lo) / (hi - lo) : 0.5) * plot_w;
}

double SvgPlot::map_y(double y, double lo, double hi) const {
  const double plot_h = height_ - kTop - kBottom;
  return kTop + plot_h - (hi > lo ? (y - lo) / (hi - lo) : 0.5) * plot_h;
}

std::string SvgPlot::render() const {
  // Data range; log x ignores non-positive values.
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const auto& m : marks_)
    for (size_t i = 0; i < m.x.size(); ++i) {
      if (!std::isfinite(m.x[i]) || !std::isfinite(m.y[i]) || (log_x_ && m.x[i] <= 0)) continue;
      x_lo = std::min(x_lo, m.x[i]);
      x_hi = std::max(x_hi, m.x[i]);
      y_lo = std::min(y_lo, m.y[i]);
      y_hi = std::max(y_hi, m.y[i]);
    }
  for (const auto& [pos, name] : y_categories_) {
    y_lo = std::min(y_lo, pos - 0.5);
    y_hi = std::max(y_hi, pos + 0.5);
  }
  const bool has_data = std::isfinite(x_lo) && std::isfinite(y_lo);
  if (!has_data) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  if (log_x_) {  // whole decades
    x_lo = std::pow(10.0, std::floor(std::log10(x_lo)));
    x_hi = std::pow(10.0, std::ceil(std::log10(x_hi)));
    if (x_hi <= x_lo) x_hi = x_lo * 10;
  }
  if (y_hi <= y_lo) y_lo -= 1, y_hi += 1;

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width_ << "\" height=\""
      << height_ << "\" viewBox=\"0 0 " << width_ << ' ' << height_
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  svg << "<title>" << xml_escape(title_) << "</title>\n";
  svg << "<rect x=\"0\" y=\"0\" width=\"" << width_ << "\" height=\"" << height_
      << "\" fill=\"white\"/>\n";
  svg << "<text x=\"" << width_ / 2 << "\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">"
      << xml_escape(title_) << "</text>\n";
  const double left = kLeft, right = width_ - kRight, top = kTop, bottom = height_ - kBottom;
  svg << "<g stroke=\"#444\" fill=\"none\"><line x1=\"" << left << "\" y1=\"" << bottom
      << "\" x2=\"" << right << "\" y2=\"" << bottom << "\"/><line x1=\"" << left << "\" y1=\""
      << top << "\" x2=\"" << left << "\" y2=\"" << bottom << "\"/></g>\n";

  // X ticks.
  std::vector<double> x_ticks;
  if (log_x_)
    for (double t = x_lo; t <= x_hi * 1.0001; t *= 10) x_ticks.push_back(t);
  else
    x_ticks = nice_ticks(x_lo, x_hi);
  for (double t : x_ticks) {
    const double px = map_x(t, x_lo, x_hi);
    svg << "<line x1=\"" << num(px) << "\" y1=\"" << bottom << "\" x2=\"" << num(px) << "\" y2=\""
        << bottom + 4 << "\" stroke=\"#444\"/><text x=\"" << num(px) << "\" y=\"" << bottom + 16
        << "\" text-anchor=\"middle\">" << tick_label(t) << "</text>\n";
  }
  // Y ticks: categories or numbers.
  std::vector<std::pair<double, std::string>> y_ticks = y_categories_;
  if (y_ticks.empty())
    for (double t : nice_ticks(y_lo, y_hi)) y_ticks.emplace_back(t, tick_label(t));
  for (const auto& [t, label] : y_ticks) {
    const double py = map_y(t, y_lo, y_hi);
    svg << "<line x1=\"" << left - 4 << "\" y1=\"" << num(py) << "\" x2=\"" << left << "\" y2=\""
        << num(py) << "\" stroke=\"#444\"/><text x=\"" << left - 6 << "\" y=\"" << num(py + 4)
        << "\" text-anchor=\"end\">" << xml_escape(label) << "</text>\n";
  }
  svg << "<text x=\"" << (left + right) / 2 << "\" y=\"" << height_ - 8
      << "\" text-anchor=\"middle\">" << xml_escape(x_label_) << "</text>\n";
  svg << "<text x=\"12\" y=\"" << (top + bottom) / 2 << "\" text-anchor=\"middle\" transform=\"rotate(-90 12 "
      << (top + bottom) / 2 << ")\">" << xml_escape(y_label_) << "</text>\n";

  for (const auto& m : marks_) {
    const char* c = colour(m.series);
    if (m.kind == Mark::kPoints) {
      for (size_t i = 0; i < m.x.size(); ++i) {
        if (log_x_ && m.x[i] <= 0) continue;
        const double px = map_x(m.x[i], x_lo, x_hi), py = map_y(m.y[i], y_lo, y_hi);
        svg << "<circle cx=\"" << num(px) << "\" cy=\"" << num(py) << "\" r=\"" << m.width
            << "\" fill=\"" << c << "\"/>";
        if (!m.labels.empty())
          svg << "<text x=\"" << num(px + 6) << "\" y=\"" << num(py - 4) << "\" font-size=\"9\">"
              << xml_escape(m.labels[i]) << "</text>";
        svg << '\n';
      }
      continue;
    }
    svg << "<polyline fill=\"none\" stroke=\"" << c << "\" stroke-width=\"" << m.width
        << "\" points=\"";
    std::vector<std::pair<double, double>> drawn;
    for (size_t i = 0; i < m.x.size(); ++i) {
      if (!std::isfinite(m.x[i]) || !std::isfinite(m.y[i]) || (log_x_ && m.x[i] <= 0)) continue;
      drawn.emplace_back(map_x(m.x[i], x_lo, x_hi), map_y(m.y[i], y_lo, y_hi));
      svg << num(drawn.back().first) << ',' << num(drawn.back().second) << ' ';
    }
    svg << "\"/>\n";
    // A line of one point (a run validated once, at its end) is invisible: mark the point.
    if (drawn.size() == 1)
      svg << "<circle cx=\"" << num(drawn[0].first) << "\" cy=\"" << num(drawn[0].second) << "\" r=\""
          << m.width + 2 << "\" fill=\"" << c << "\"/>\n";
  }

  if (legend_ && series_.size() > 0) {
    double y = top + 4;
    for (size_t s = 0; s < series_.size(); ++s, y += 14) {
      svg << "<rect x=\"" << right - 120 << "\" y=\"" << y << "\" width=\"10\" height=\"10\" fill=\""
          << colour(static_cast<int>(s)) << "\"/><text x=\"" << right - 106 << "\" y=\"" << y + 9
          << "\">" << xml_escape(series_[s]) << "</text>\n";
    }
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace vlmt
