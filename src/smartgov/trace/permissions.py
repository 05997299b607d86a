from smartgov.core.permissions import Role, register

# Who may do what in 追溯监管:
# - master data (products, batches, organisations, loggers) and recalls are the regulator's
#   (supervisors and department admins of the drug administration, over their subtree);
# - capture: an organisation-bound API key (X-Trace-Key) for the systems of manufacturers,
#   distributors and CDCs, or staff (officers, department admins) for organisations in their scope;
# - code issuing (赋码): staff for manufacturers in their scope (or the manufacturer's key);
# - vaccination records: officers of the vaccination site's department;
# - reads (events, traces, dashboard): supervisors, department admins and officers, scoped.
register({
    "trace.manage_master": {Role.SUPERVISOR, Role.DEPT_ADMIN},
    "trace.capture": {Role.OFFICER, Role.DEPT_ADMIN},
    "trace.issue_codes": {Role.OFFICER, Role.DEPT_ADMIN},
    "trace.view": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
    "trace.recall": {Role.SUPERVISOR},
    "trace.acknowledge_alert": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
    "trace.release_doses": {Role.SUPERVISOR},
    "trace.vaccinate": {Role.OFFICER, Role.DEPT_ADMIN},
    "trace.view_vaccinee": {Role.SUPERVISOR, Role.DEPT_ADMIN},
})
