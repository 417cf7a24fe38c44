// report: one self-contained HTML page (inline SVG plots, no network) for one or more runs.
//   report RUN_DIR... [--out report.html]
// Each RUN_DIR holds metrics.jsonl (required) and results.jsonl (optional; else
// eval_val/results.jsonl, where evaluate writes by default).
#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "eval/html_report.h"

namespace vlmt::apps::report {

int run(int argc, char** argv) {
  return vlmt::run_tool([&] {
    const auto args = vlmt::parse_cli(argc, argv, "report", "RUN_DIR... [--out report.html]",
                                      {vlmt::cli_positional("RUN_DIR", "run directories", 1, -1),
                                       vlmt::cli_text("out", "output HTML file (default report.html)")});
    const std::string out = args.get("out", "report.html");
    const auto counts = vlmt::write_report(args.positional, out);
    vlmt::log::info(vlmt::cat("report: wrote ", out, " (", counts.svg_total(), " plots, ",
                              counts.tables, " tables)"));
    return 0;
  });
}

}  // namespace vlmt::apps::report
