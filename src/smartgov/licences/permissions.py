from smartgov.core.permissions import Role, register

# Licence types are set up by the issuing department's admin; officers issue, revoke and cancel for
# their own department; any department's staff may call the sharing interface (with a purpose and a
# legal basis or the holder's consent, each call logged). Holders see their own licences (wallet).
register({
    "licences.manage_type": {Role.DEPT_ADMIN},
    "licences.view_licence": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
    "licences.issue": {Role.OFFICER, Role.DEPT_ADMIN},
    "licences.revoke": {Role.OFFICER, Role.DEPT_ADMIN},
    "licences.share": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
    "licences.view_access": {Role.DEPT_ADMIN, Role.SUPERVISOR},
})
