#pragma once
// A small self-contained SVG plotter for the HTML report: axes with "nice" ticks (linear or
// log10 x), polylines, horizontal segments (the DSG go/stop timeline), scatter points with
// labels, categorical y tick labels and a legend. Output is a standalone <svg> element with
// inline styling only, so the page needs no external CSS or JS.
#include <string>
#include <utility>
#include <vector>

namespace vlmt {

// Escapes & < > " ' for XML text and attribute values.
std::string xml_escape(const std::string& text);
// About `target` round tick values (1, 2, 5 × 10^k steps) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// Compact tick label: "0.5", "1200", "1.2e+06".
std::string tick_label(double value);

class SvgPlot {
 public:
  SvgPlot(std::string title, std::string x_label, std::string y_label, int width = 520,
          int height = 320);

  void set_log_x(bool log_x) { log_x_ = log_x; }
  // Replace numeric y ticks by named positions (e.g. one row per task).
  void set_y_categories(std::vector<std::pair<double, std::string>> categories);
  void set_legend(bool show) { legend_ = show; }

  void add_line(const std::string& series, const std::vector<double>& x,
                const std::vector<double>& y, double stroke_width = 1.5);
  void add_segment(const std::string& series, double x0, double x1, double y, double stroke_width);
  void add_scatter(const std::string& series, const std::vector<double>& x,
                   const std::vector<double>& y, const std::vector<std::string>& labels = {});

  bool empty() const { return marks_.empty(); }
  std::string render() const;

 private:
  struct Mark {
    enum Kind { kLine, kSegment, kPoints } kind;
    int series;
    std::vector<double> x, y;
    std::vector<std::string> labels;
    double width;
  };
  int series_index(const std::string& name);
  double map_x(double x, double lo, double hi) const;
  double map_y(double y, double lo, double hi) const;

  std::string title_, x_label_, y_label_;
  int width_, height_;
  bool log_x_ = false;
  bool legend_ = true;
  std::vector<std::pair<double, std::string>> y_categories_;
  std::vector<std::string> series_;
  std::vector<Mark> marks_;
};

}  // namespace vlmt
