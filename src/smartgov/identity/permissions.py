from smartgov.core.permissions import Role, register

# The population and enterprise register (人口库/法人库). Officers keep their department's records;
# supervisors and department admins see their subtree. Clear ID numbers and phones (reveal, audited)
# only for those who register people; exports are always masked.
register({
    "identity.view_register": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
    "identity.manage_register": {Role.OFFICER, Role.DEPT_ADMIN},
    "identity.view_personal_data": {Role.OFFICER, Role.DEPT_ADMIN},
    "identity.import_register": {Role.OFFICER, Role.DEPT_ADMIN},
    "identity.export_register": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
})
