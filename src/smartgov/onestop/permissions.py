from smartgov.core.permissions import Role, register

# Citizens and enterprise users apply and evaluate; officers of the item's department handle cases
# (officers: their own department; department admins and supervisors also see the departments below
# them); department admins keep their department's catalogue and answer rectification tickets.
register({
    "onestop.apply": {Role.CITIZEN, Role.ENTERPRISE},
    "onestop.handle": {Role.OFFICER, Role.DEPT_ADMIN},
    "onestop.view_case": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
    "onestop.manage_catalogue": {Role.DEPT_ADMIN},
    "onestop.rectify": {Role.OFFICER, Role.DEPT_ADMIN},
    "onestop.follow_up": {Role.DEPT_ADMIN, Role.SUPERVISOR},
    "onestop.view_stats": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
})
