from smartgov.core.permissions import Role, register

# The leaders' screen (领导驾驶舱): department admins and supervisors, who already see their department and
# everything below it; plain officers do not. Each leader acknowledges alerts for themselves.
register({
    "overview.view": {Role.DEPT_ADMIN, Role.SUPERVISOR},
    "overview.acknowledge": {Role.DEPT_ADMIN, Role.SUPERVISOR},
})

# Generating the 运行报告 is the platform's scheduled job (a system actor) — or the `smartgov overview report`
# command; no person generates one from the screen. Leaders download the reports of their scope (overview.view).
register({"overview.report": set()})
