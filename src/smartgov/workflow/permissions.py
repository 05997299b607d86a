from smartgov.core.permissions import Role, register

# Department admins define processes and reassign/escalate their department's tasks; officers and
# admins act on tasks of their department (the task's role decides which); supervisors watch.
register({
    "workflow.define_process": {Role.DEPT_ADMIN, Role.SYSADMIN},
    "workflow.act": {Role.OFFICER, Role.DEPT_ADMIN},
    "workflow.reassign": {Role.DEPT_ADMIN},
    "workflow.escalate": {Role.DEPT_ADMIN, Role.SUPERVISOR},
    "workflow.monitor": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
})
