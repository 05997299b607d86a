from smartgov.core.permissions import register

register({})
