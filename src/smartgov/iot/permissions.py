from smartgov.core.permissions import Role, register

# Devices and alarm rules belong to a department (a park's operator, a depot): its admin provisions devices
# and writes rules; its officers see telemetry and acknowledge alarms; supervisors see downwards.
register({
    "iot.view": {Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR},
    "iot.manage_devices": {Role.DEPT_ADMIN},
    "iot.manage_rules": {Role.DEPT_ADMIN},
    "iot.handle_alarm": {Role.OFFICER, Role.DEPT_ADMIN},
    "iot.ingest": {Role.DEPT_ADMIN},
    "iot.expire_telemetry": set(),  # platform-wide retention: the system's hourly job only
})
