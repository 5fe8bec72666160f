// Help texts of the leakscope command and its subcommands.
#pragma once

namespace leakscope::viewer {

extern const char kMainUsage[];
extern const char kRunUsage[];
extern const char kReportUsage[];
extern const char kCheckUsage[];
extern const char kDiffUsage[];
extern const char kExportUsage[];
extern const char kHtmlUsage[];
extern const char kTopUsage[];
extern const char kVersionText[];

}  // namespace leakscope::viewer
