from django.contrib.auth.backends import ModelBackend

from .models import User


class LockoutModelBackend(ModelBackend):
    """Username + password, refusing locked accounts; failures are counted by the login view's service."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle on usernames
            return None
        if user.is_locked or not user.is_active:
            return None
        if user.check_password(password):
            return user
        return None

    def get_user(self, user_id):
        """The signed-in user of each request, with the department (every permission check scopes by it)
        and the register record (citizens' applications) in the same query."""
        # the register (identity app) may be absent from a restricted app registry (some tests)
        related = ["department", *(r.name for r in User._meta.related_objects if r.name == "person")]
        user = User.objects.select_related(*related).filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
