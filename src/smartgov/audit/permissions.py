from smartgov.core.permissions import Role, register

# 三员分立: only the audit administrator reads the trail; the security administrator may run the
# integrity check (it reveals no entry), nobody may change or delete an entry.
register({
    "audit.view_entry": {Role.AUDITADMIN},
    "audit.export_entry": {Role.AUDITADMIN},
    "audit.verify": {Role.AUDITADMIN, Role.SECADMIN},
})
