"""Password sign-in for staff (and the admin site) by username or email, case-insensitively."""

from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from backend.accounts.models import User


class StaffLoginBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        login = (username or kwargs.get("email") or "").strip().lower()
        if not login or password is None:
            return None
        user = User.objects.filter(Q(username=login) | Q(email=login)).first()
        if user is None:
            # Spend the time a real check would, so response time does not reveal which logins exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
