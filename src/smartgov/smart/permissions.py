from smartgov.core.permissions import Role, register

# A department admin writes and publishes its department's rules (免申即享 entitlements, 秒批 rule sets);
# officers see the decisions and take the 事后抽查 samples; supervisors see downwards; citizens answer
# their own offers and pre-check their own uploads; window staff pre-check the originals they scan at
# the counter (窗口受理).
register({
    "smart.view": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
    "smart.manage_rules": {Role.DEPT_ADMIN},
    "smart.review_sample": {Role.OFFICER, Role.DEPT_ADMIN},
    "smart.respond": {Role.CITIZEN},
    "smart.prereview": {Role.CITIZEN, Role.ENTERPRISE, Role.OFFICER, Role.DEPT_ADMIN},
})
