#include "service/tasks/create_resolver.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace qwenimage::tasks {
namespace {

using dashscope::TaskStatus;

bool Finished(TaskStatus s) { return s != TaskStatus::kPending && s != TaskStatus::kRunning; }

constexpr int kPageSize = 100;
constexpr int kMaxPages = 10;

}  // namespace

// Steps run one after another (each from the previous one's reply), so a job needs no lock.
struct CreateResolver::Job {
  Request request;
  Progress progress;
  Done done;
  int lookups = 0;
  int page_no = 1;
  absl::Time give_up;
  std::vector<dashscope::TaskListEntry> listed;  // this lookup's entries so far
  struct Candidate {
    std::string id;
    std::optional<dashscope::UpstreamTask> last;  // the latest poll
  };
  std::vector<Candidate> candidates;
};

CreateResolver::CreateResolver(CreateResolverOptions options, dashscope::Upstream& upstream,
                               RateLimiter& query_budget, Executor& executor, const Clock& clock,
                               HeldElsewhere held_elsewhere)
    : options_(options),
      upstream_(upstream),
      query_budget_(query_budget),
      executor_(executor),
      clock_(clock),
      held_elsewhere_(std::move(held_elsewhere)) {}

void CreateResolver::Resolve(Request request, Progress progress, Done done) {
  auto job = std::make_shared<Job>();
  job->request = std::move(request);
  job->progress = std::move(progress);
  job->done = std::move(done);
  job->give_up = clock_.Now() + options_.max_wait;
  // The first look waits too: an upstream still processing the create may not list it yet.
  List(job, clock_.Now() + options_.lookup_spacing);
}

void CreateResolver::List(const std::shared_ptr<Job>& job, absl::Time not_before) {
  if (stopped_.load()) return;
  dashscope::TaskListQuery query;
  query.start_time = job->request.sent - options_.window_margin;
  query.end_time = std::max(job->request.failed, clock_.Now()) + options_.window_margin;
  query.model_name = job->request.model;
  query.page_no = job->page_no;
  query.page_size = kPageSize;
  const absl::Time when = std::max(not_before, query_budget_.Reserve());
  executor_.RunAt(when, [this, job, query = std::move(query)] {
    if (stopped_.load()) return;
    upstream_.ListTasks(query, [this, job](absl::StatusOr<dashscope::TaskListPage> page) mutable {
      executor_.Run([this, job, page = std::move(page)]() mutable {
        OnListed(job, std::move(page));
      });
    });
  });
}

void CreateResolver::OnListed(const std::shared_ptr<Job>& job,
                              absl::StatusOr<dashscope::TaskListPage> page) {
  if (stopped_.load()) return;
  if (!page.ok()) {
    // Listing is free: look again (a failed look does not count as an empty one).
    if (clock_.Now() >= job->give_up) {
      job->done(Result{std::nullopt, {},
                       absl::StrCat("the batch list kept failing: ", page.status().message())});
      return;
    }
    List(job, clock_.Now() + options_.lookup_spacing);
    return;
  }
  for (dashscope::TaskListEntry& e : page->data) {
    // Newest first: a task created between two page fetches shifts one entry onto the next page.
    const bool seen = std::any_of(job->listed.begin(), job->listed.end(),
                                  [&](const auto& l) { return l.task_id == e.task_id; });
    if (!seen) job->listed.push_back(std::move(e));
  }
  if (page->total_page > job->page_no && job->page_no < kMaxPages) {
    ++job->page_no;
    List(job, clock_.Now());
    return;
  }
  const Request& r = job->request;
  for (const dashscope::TaskListEntry& e : job->listed) {
    if (!e.model_name.empty() && e.model_name != r.model) continue;
    if (!e.gmt_create.has_value() || *e.gmt_create < r.sent - options_.skew ||
        *e.gmt_create > std::max(r.failed, r.sent) + options_.skew) {
      continue;
    }
    if (held_elsewhere_(e.task_id)) continue;
    job->candidates.push_back({e.task_id, std::nullopt});
  }
  job->listed.clear();
  job->page_no = 1;
  ++job->lookups;
  if (job->candidates.empty()) {
    if (job->lookups < options_.empty_lookups) {
      List(job, clock_.Now() + options_.lookup_spacing);
      return;
    }
    job->done(Result{std::nullopt, {},
                     "no upstream task of the model was created in the send window"});
    return;
  }
  PollCandidates(job, 0, clock_.Now());
}

void CreateResolver::PollCandidates(const std::shared_ptr<Job>& job, size_t from,
                                    absl::Time not_before) {
  if (stopped_.load()) return;
  size_t i = from;
  while (i < job->candidates.size() && job->candidates[i].last.has_value() &&
         Finished(job->candidates[i].last->status)) {
    ++i;
  }
  if (i == job->candidates.size()) {  // the end of a round
    bool any_running = false;
    bool all_finished = true;
    for (const Job::Candidate& c : job->candidates) {
      if (c.last.has_value() && Finished(c.last->status)) continue;
      all_finished = false;
      any_running |= c.last.has_value() && c.last->status == TaskStatus::kRunning;
    }
    if (all_finished) {
      Decide(job);
      return;
    }
    if (clock_.Now() >= job->give_up) {
      // A candidate still running could yet match too: adopting another would be a guess.
      Result result;
      for (const Job::Candidate& c : job->candidates) result.candidates.push_back(c.id);
      result.why = "upstream tasks of the model created in the send window were still running "
                   "when the gateway stopped waiting for them";
      job->done(std::move(result));
      return;
    }
    job->progress(any_running ? TaskStatus::kRunning : TaskStatus::kPending);
    PollCandidates(job, 0, clock_.Now() + options_.candidate_poll);
    return;
  }
  const absl::Time when = std::max(not_before, query_budget_.Reserve());
  executor_.RunAt(when, [this, job, i] {
    if (stopped_.load()) return;
    upstream_.GetTask(job->candidates[i].id,
                      [this, job, i](absl::StatusOr<dashscope::UpstreamTask> polled) mutable {
                        executor_.Run([this, job, i, polled = std::move(polled)]() mutable {
                          OnPolled(job, i, std::move(polled));
                        });
                      });
  });
}

void CreateResolver::OnPolled(const std::shared_ptr<Job>& job, size_t i,
                              absl::StatusOr<dashscope::UpstreamTask> polled) {
  if (stopped_.load()) return;
  // A failed poll is free to repeat: the candidate stays unfinished for the next round.
  if (polled.ok()) job->candidates[i].last = *std::move(polled);
  PollCandidates(job, i + 1, clock_.Now());
}

bool CreateResolver::Proves(const Job& job, const dashscope::UpstreamTask& task) const {
  if (task.status != TaskStatus::kSucceeded || task.images.empty()) return false;
  if (static_cast<int>(task.images.size() + task.failures.size()) != job.request.n) return false;
  return std::all_of(task.images.begin(), task.images.end(), [&](const auto& image) {
    return image.orig_prompt == job.request.prompt;
  });
}

void CreateResolver::Decide(const std::shared_ptr<Job>& job) {
  Result result;
  std::vector<size_t> proven;
  for (size_t k = 0; k < job->candidates.size(); ++k) {
    const auto& c = job->candidates[k];
    result.candidates.push_back(c.id);
    // Claims are read again: another task may have taken one while it ran.
    if (c.last.has_value() && Proves(*job, *c.last) && !held_elsewhere_(c.id)) {
      proven.push_back(k);
    }
  }
  if (proven.size() == 1) {
    result.adopted = *std::move(job->candidates[proven[0]].last);
    result.adopted->task_id = job->candidates[proven[0]].id;
  } else if (proven.empty()) {
    result.why = absl::StrCat(job->candidates.size(),
                              " upstream task(s) of the model were created in the send window; "
                              "none finished with this request's prompt and image count");
  } else {
    result.why = absl::StrCat(proven.size(),
                              " upstream tasks match this request; the gateway cannot tell "
                              "which one is this one");
  }
  job->done(std::move(result));
}

}  // namespace qwenimage::tasks
