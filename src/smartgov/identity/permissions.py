from smartgov.core.permissions import Role, register

# The population and enterprise register (人口库/法人库). Officers keep their department's records;
# supervisors and department admins see their subtree.
register({
    "identity.view_register": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
    "identity.manage_register": {Role.OFFICER, Role.DEPT_ADMIN},
    "identity.view_personal_data": {Role.OFFICER, Role.DEPT_ADMIN},
})
