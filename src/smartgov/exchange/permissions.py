from smartgov.core.permissions import Role, register

# The provider department's admin publishes its resources and decides on requests for them; officers
# and admins of a consumer department apply for resources and call them; supervisors see every
# department's catalogue use (scoped downwards); the audit administrator reads the message log.
register({
    "exchange.view_catalogue": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR, Role.AUDITADMIN},
    "exchange.manage_resource": {Role.DEPT_ADMIN},
    "exchange.apply": {Role.OFFICER, Role.DEPT_ADMIN},
    "exchange.decide": {Role.DEPT_ADMIN},
    "exchange.call": {Role.OFFICER, Role.DEPT_ADMIN},
    "exchange.manage_key": {Role.DEPT_ADMIN},
    "exchange.subscribe": {Role.DEPT_ADMIN},
    "exchange.publish_event": {Role.OFFICER, Role.DEPT_ADMIN},
    "exchange.view_log": {Role.DEPT_ADMIN, Role.SUPERVISOR, Role.AUDITADMIN},
    "exchange.supervise": {Role.SUPERVISOR, Role.AUDITADMIN},
})
