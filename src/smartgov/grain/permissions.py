from smartgov.core.permissions import Role, register

# Depot staff (officers of a depot's unit) push readings, handle alerts and record movements for their
# own depot; the bureau's department admin sets up depots, warehouses and lots below the bureau;
# supervisors (监管人员) see every depot below their bureau and maintain the analysis parameters and
# prices. Scope always follows the department tree (core.permissions.scope).
register({
    "grain.view": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
    "grain.manage": {Role.DEPT_ADMIN},
    "grain.ingest": {Role.OFFICER, Role.DEPT_ADMIN},
    "grain.handle_alert": {Role.OFFICER, Role.DEPT_ADMIN},
    "grain.operate": {Role.OFFICER, Role.DEPT_ADMIN},
    "grain.set_parameters": {Role.SUPERVISOR, Role.DEPT_ADMIN},
    "grain.import_prices": {Role.SUPERVISOR, Role.DEPT_ADMIN},
})
