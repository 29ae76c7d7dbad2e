// Batch list selection: window, filters, ordering and paging.
#include "service/simulator/task_list.h"

#include <algorithm>
#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace qwenimage::simulator {
namespace {

std::optional<absl::Time> ParseListTime(const std::string& text) {
  // absl's %Y is greedy, so the fixed-width fields are cut by hand.
  int f[6];
  const int widths[6] = {4, 2, 2, 2, 2, 2};
  if (text.size() != 14 || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  for (int i = 0, at = 0; i < 6; at += widths[i], ++i) {
    f[i] = std::stoi(text.substr(at, widths[i]));
  }
  absl::CivilSecond cs(f[0], f[1], f[2], f[3], f[4], f[5]);
  if (cs.month() != f[1] || cs.day() != f[2] || cs.hour() != f[3] || cs.minute() != f[4] ||
      cs.second() != f[5]) {
    return std::nullopt;  // normalised: the fields were out of range
  }
  return absl::FromCivil(cs, absl::FixedTimeZone(8 * 3600));
}

}  // namespace

std::string QueryUnescape(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    int hex = 0;
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() &&
               absl::SimpleHexAtoi(text.substr(i + 1, 2), &hex)) {
      out.push_back(static_cast<char>(hex));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::optional<ApiError> SelectListPage(std::vector<const Task*> tasks, absl::string_view query,
                                       absl::Time now, ListPage* page) {
  std::map<std::string, std::string> params;
  for (absl::string_view kv : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
    params[QueryUnescape(p.first)] = QueryUnescape(p.second);
  }
  auto get = [&](const char* name) -> std::string {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  };

  std::optional<absl::Time> start, end;
  for (auto [name, slot] : {std::pair{"start_time", &start}, std::pair{"end_time", &end}}) {
    std::string v = get(name);
    if (v.empty()) continue;
    *slot = ParseListTime(v);
    if (!*slot) return InvalidParameter(absl::StrCat(name, " must be in the format yyyyMMddHHmmss."));
  }
  const absl::Duration kWindow = absl::Hours(24);
  if (!start && !end) end = now;
  if (!start) start = *end - kWindow;
  if (!end) end = *start + kWindow;
  if (*end < *start) return InvalidParameter("end_time must not be earlier than start_time.");
  if (*end - *start > kWindow) {
    return InvalidParameter("The time range between start_time and end_time must not exceed 24 hours.");
  }

  page->page_no = 1;
  page->page_size = 10;
  for (auto [name, slot] : {std::pair{"page_no", &page->page_no}, std::pair{"page_size", &page->page_size}}) {
    std::string v = get(name);
    if (v.empty()) continue;
    if (!absl::SimpleAtoi(v, slot) || *slot < 1 || (slot == &page->page_size && *slot > 100)) {
      return InvalidParameter(absl::StrCat(name, " is invalid."));
    }
  }

  const std::string task_id = get("task_id"), model = get("model_name"), status = get("status");
  // Both ends inclusive at second precision, as the query times have no sub-second part.
  const absl::Time lo = *start, hi = *end + absl::Seconds(1);
  tasks.erase(std::remove_if(tasks.begin(), tasks.end(),
                             [&](const Task* t) {
                               return t->submit_time < lo || t->submit_time >= hi ||
                                      (!task_id.empty() && t->id != task_id) ||
                                      (!model.empty() && t->request.model->name != model) ||
                                      (!status.empty() && StatusName(t->status) != status);
                             }),
              tasks.end());
  std::sort(tasks.begin(), tasks.end(), [](const Task* a, const Task* b) {
    return a->submit_time != b->submit_time ? a->submit_time > b->submit_time : a->id < b->id;
  });
  page->total = static_cast<int64_t>(tasks.size());
  const size_t first = static_cast<size_t>(page->page_no - 1) * page->page_size;
  for (size_t i = first; i < tasks.size() && i < first + page->page_size; ++i) {
    page->data.push_back(tasks[i]);
  }
  return std::nullopt;
}

}  // namespace qwenimage::simulator
