// TenantQuotas: what one tenant may take of the gateway and the account. The defaults come from
// flags; the token file may override them per token (auth/token_file.h). Zero means unlimited.
#ifndef QWENIMAGE_SERVICE_TASKS_TENANT_QUOTAS_H_
#define QWENIMAGE_SERVICE_TASKS_TENANT_QUOTAS_H_

namespace qwenimage::tasks {

struct TenantQuotas {
  // Tasks of the tenant waiting QUEUED in the gateway at once.
  int max_queued = 0;
  // Upstream slots of one model's running limit the tenant may hold while other tenants wait
  // (when nobody else waits, it may use idle slots).
  int max_running = 0;
  // CreateTask/GenerateImages* calls that create a new task, per rolling minute.
  int creates_per_minute = 0;
  // Images requested (sum of n over created tasks) per rolling 24 hours.
  int images_per_day = 0;
};

}  // namespace qwenimage::tasks

#endif  // QWENIMAGE_SERVICE_TASKS_TENANT_QUOTAS_H_
