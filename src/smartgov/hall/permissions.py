from smartgov.core.permissions import Role, register

# Halls belong to the exit-entry administration's department (出入境管理部门). Its department admin sets up
# halls, windows, duty rosters and lockers; window officers call tickets and store issued documents; the
# hall's kiosk is a device signed in with an officer account of the hall (it acts for the citizen only
# after the citizen's EID QR code was verified); supervisors above see statistics. Citizens book online.
register({
    "hall.manage": {Role.DEPT_ADMIN},
    "hall.view": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
    "hall.call": {Role.OFFICER, Role.DEPT_ADMIN},
    "hall.kiosk": {Role.OFFICER, Role.DEPT_ADMIN},
    "hall.book": {Role.CITIZEN},
})
