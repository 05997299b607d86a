from smartgov.core.permissions import Role, register

register({
    # officers of the EID authority issue and revoke credentials
    "eid.issue": {Role.OFFICER, Role.DEPT_ADMIN},
    "eid.revoke": {Role.OFFICER, Role.DEPT_ADMIN, Role.SECADMIN},
    # relying applications are registered by administrators
    "eid.manage_partner": {Role.SYSADMIN, Role.DEPT_ADMIN},
})
