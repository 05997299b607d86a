from smartgov.core.permissions import Role, register

# 安全云 belongs to the security administrator (安全管理员): sources, rules, incidents, keys. The audit
# administrator (审计管理员) reads events, alerts and the self-check but changes nothing; a department
# admin registers and reads its own department's log sources and events (scoped by department).
register({
    "seccloud.view": {Role.SECADMIN, Role.AUDITADMIN, Role.DEPT_ADMIN},
    "seccloud.manage_source": {Role.SECADMIN, Role.DEPT_ADMIN},
    "seccloud.manage_rule": {Role.SECADMIN},
    "seccloud.handle_incident": {Role.SECADMIN},
    "seccloud.manage_keys": {Role.SECADMIN},
    "seccloud.self_check": {Role.SECADMIN, Role.AUDITADMIN},
})
