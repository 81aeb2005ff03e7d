"""Users (residents by phone, staff by username/email), role memberships, sign-in sessions, one-time codes, devices."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ID = "id", "Bahasa Indonesia"
    EN = "en", "English"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, username=None, email=None, password=None, **extra):
        user = self.model(username=username, email=email, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, username, email=None, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(username=username, email=email, password=password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """One account type for everyone. Residents have a verified phone and no password; staff sign in with a
    username or email and a password, and get their powers from memberships (never from Django's is_staff alone)."""

    username = models.CharField(_("username"), max_length=150, unique=True, null=True, blank=True)
    email = models.EmailField(_("email"), unique=True, null=True, blank=True)
    phone = models.CharField(_("phone (E.164)"), max_length=16, unique=True, null=True, blank=True)
    phone_verified_at = models.DateTimeField(_("phone verified at"), null=True, blank=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.ID)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("may use the admin site"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(username__isnull=False) | Q(email__isnull=False) | Q(phone__isnull=False),
                name="user_has_an_identifier",
            )
        ]

    def __str__(self) -> str:
        return self.full_name or self.username or self.email or self.phone or f"user {self.pk}"

    def save(self, *args, **kwargs):
        # Blank identifiers are stored as NULL so that uniqueness allows many users without one.
        self.username = (self.username or "").strip().lower() or None
        self.email = (self.email or "").strip().lower() or None
        self.phone = (self.phone or "").strip() or None
        super().save(*args, **kwargs)


class Role(models.TextChoices):
    AGENCY_STAFF = "agency_staff", _("Agency staff")
    AGENCY_SUPERVISOR = "agency_supervisor", _("Agency supervisor")
    REGION_ADMIN = "region_admin", _("Region admin")


AGENCY_ROLES = (Role.AGENCY_STAFF, Role.AGENCY_SUPERVISOR)


class Membership(models.Model):
    """A role of a staff user: in one agency (staff, supervisor) or over a whole region (region admin).
    A staff user works for one region only: all of a user's memberships share it."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.CASCADE, related_name="memberships"
    )
    agency = models.ForeignKey(
        "regions.Agency",
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=(Q(role=Role.REGION_ADMIN) & Q(agency__isnull=True))
                | (Q(role__in=AGENCY_ROLES) & Q(agency__isnull=False)),
                name="membership_agency_matches_role",
            ),
            models.UniqueConstraint(
                fields=["user", "agency"], condition=Q(agency__isnull=False), name="membership_one_role_per_agency"
            ),
            models.UniqueConstraint(
                fields=["user", "region"], condition=Q(role=Role.REGION_ADMIN), name="membership_one_admin_per_region"
            ),
        ]

    def __str__(self) -> str:
        where = self.agency or self.region
        return f"{self.user} — {self.get_role_display()} — {where}"

    def clean(self) -> None:
        if self.role == Role.REGION_ADMIN and self.agency_id:
            raise ValidationError({"agency": _("A region admin belongs to the region, not to an agency.")})
        if self.role in AGENCY_ROLES:
            if not self.agency_id:
                raise ValidationError({"agency": _("Agency staff and supervisors need an agency.")})
            if self.region_id and self.agency.region_id != self.region_id:
                raise ValidationError({"agency": _("The agency must belong to the membership's region.")})
        if self.user_id and self.region_id:
            other = Membership.objects.filter(user_id=self.user_id).exclude(region_id=self.region_id)
            if self.pk:
                other = other.exclude(pk=self.pk)
            if other.exists():
                raise ValidationError({"region": _("A staff member works for one region only.")})


class AuthSession(models.Model):
    """A signed-in device: one family of rotating refresh tokens. Revoking it ends every token of the family."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=32, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in session")
        verbose_name_plural = _("sign-in sessions")
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.user_agent or self.ip or self.pk}"


class RefreshToken(models.Model):
    """One issued refresh token, stored as a SHA-256 hash. Used once: using it again revokes its session."""

    session = models.ForeignKey(AuthSession, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token of session {self.session_id}"


class OtpChallenge(models.Model):
    """A one-time code sent to a phone. Only an HMAC of the code is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    phone = models.CharField(max_length=16)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone", "-created_at"])]

    def __str__(self) -> str:
        return f"code for {self.phone} at {self.created_at:%Y-%m-%d %H:%M}"


class Platform(models.TextChoices):
    ANDROID = "android", "Android"
    IOS = "ios", "iOS"
    WEB = "web", "Web"


class Device(models.Model):
    """A phone or browser that receives push notifications (its FCM registration token)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="devices")
    token = models.CharField(max_length=512, unique=True)
    platform = models.CharField(max_length=8, choices=Platform.choices)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ID)
    app_version = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        indexes = [models.Index(fields=["user", "active"])]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} device of {self.user}"
