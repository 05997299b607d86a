from smartgov.core.permissions import Role, register

# 三员分立: the system admin runs accounts and the org tree; the security admin holds the security
# levers (unlock, reset a second factor, see personal data of staff); the audit admin only audits.
register({
    "accounts.view_department": set(Role) - {Role.CITIZEN, Role.ENTERPRISE},
    "accounts.manage_department": {Role.SYSADMIN},
    "accounts.view_user": {Role.DEPT_ADMIN, Role.SUPERVISOR, Role.SYSADMIN, Role.SECADMIN},
    "accounts.manage_user": {Role.DEPT_ADMIN, Role.SYSADMIN},
    "accounts.unlock_user": {Role.SECADMIN},
    "accounts.reset_second_factor": {Role.SECADMIN},
    "accounts.view_personal_data": {Role.DEPT_ADMIN, Role.SECADMIN},
})
