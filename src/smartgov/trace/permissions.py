from smartgov.core.permissions import NonPersonActor, Role, register

# Who may do what in 追溯监管:
# - master data (products, batches, organisations, loggers) and recalls are the regulator's
#   (supervisors and department admins of the drug administration, over their subtree);
# - capture: an organisation-bound API key (X-Trace-Key) for the systems of manufacturers,
#   distributors and CDCs, or staff (officers, department admins) for organisations in their scope;
# - code issuing (赋码): staff for manufacturers in their scope (or the manufacturer's key);
# - vaccination records and AEFI reports: officers of the site's (reporting unit's) department;
#   AEFI classification (the expert group's conclusion): supervisors;
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
    "trace.classify_aefi": {Role.SUPERVISOR},
})


class OrganisationKey(NonPersonActor):
    """An organisation's API key acting (追溯参与单位密钥, ``X-Trace-Key``): neither a person nor the platform.

    The trace API builds one for a request a key authenticated. The services a key may call (capture,
    code issuing for its own products, named queries and subscriptions, logger uploads) say what it may
    do for ``organisation``; it holds no role, so ``require()`` refuses it every registered permission.
    The audit trail records it as ``org:<id>``."""

    def __init__(self, organisation):
        self.organisation = organisation

    def get_username(self) -> str:
        return f"org:{self.organisation.pk}"

    def __str__(self) -> str:
        return self.get_username()


def is_key(actor) -> bool:
    return isinstance(actor, OrganisationKey)
