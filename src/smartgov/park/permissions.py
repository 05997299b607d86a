from smartgov.core.permissions import Role, register

# The park operator (管委会/运营公司) is a department: its admin manages space, enterprises, leases and
# devices; its officers record payments and see everything of the park; supervisors see downwards.
register({
    "park.view": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
    "park.manage": {Role.DEPT_ADMIN},
    "park.lease": {Role.OFFICER, Role.DEPT_ADMIN},
    "park.visitors": {Role.OFFICER, Role.DEPT_ADMIN},  # front desk and gate: register visitors, check passes
})
