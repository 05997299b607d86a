from smartgov.core.permissions import Role, register

# 1:N identification searches the whole population, so it is for front-line and supervisory staff
# only; citizens and enterprises never query the index. The three administrators run the platform
# and do not handle biometric data (三员分立).
register({
    "biometrics.enrol": {Role.OFFICER, Role.DEPT_ADMIN},
    "biometrics.override_duplicate": {Role.OFFICER, Role.DEPT_ADMIN},
    "biometrics.identify": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
    "biometrics.delete": {Role.OFFICER, Role.DEPT_ADMIN},
})
