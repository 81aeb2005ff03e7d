"""Accounts in the API: `me`, sign-in by one-time code (residents) or password (staff), tokens, devices."""

from __future__ import annotations

import graphene
from django.utils import timezone
from django.utils.translation import gettext as _
from graphene import relay
from graphene_django import DjangoObjectType

from backend.accounts import services
from backend.accounts.errors import AuthErrorCode, DeviceErrorCode
from backend.accounts.models import AuthSession, Device, Language, Membership, Platform, User
from backend.errors import DomainError
from notifications.services import preferences_of
from schema.errors import AuthError, DeviceError, DomainMutation
from schema.notifications import NotificationPreferences
from schema.regions import AgencyNode, RegionNode, RoleEnum

LanguageEnum = graphene.Enum.from_enum(Language, name="Language")
PlatformEnum = graphene.Enum.from_enum(Platform, name="Platform")


class MembershipType(graphene.ObjectType):
    class Meta:
        name = "Membership"
        description = "A staff role: in an agency, or over a whole region (region admin)."

    role = graphene.Field(RoleEnum, required=True)
    region = graphene.Field(RegionNode, required=True)
    agency = graphene.Field(AgencyNode)


class DeviceType(DjangoObjectType):
    platform = graphene.Field(PlatformEnum, required=True)
    language = graphene.Field(LanguageEnum, required=True)

    class Meta:
        model = Device
        name = "Device"
        fields = ("id", "platform", "language", "app_version", "last_seen_at", "active")


class SessionType(DjangoObjectType):
    current = graphene.Boolean(required=True, description="The session this request was made with.")

    class Meta:
        model = AuthSession
        name = "Session"
        description = "A place where the account is signed in."
        fields = ("id", "created_at", "last_used_at", "expires_at", "user_agent", "ip")

    @staticmethod
    def resolve_current(session, info):
        return info.context.session is not None and info.context.session.pk == session.pk


class UserNode(DjangoObjectType):
    language = graphene.Field(LanguageEnum, required=True)
    phone_verified = graphene.Boolean(required=True)
    is_superuser = graphene.Boolean(required=True)
    memberships = graphene.List(graphene.NonNull(MembershipType), required=True)
    devices = graphene.List(graphene.NonNull(DeviceType), required=True)
    sessions = graphene.List(graphene.NonNull(SessionType), required=True, description="Where you are signed in.")
    notification_preferences = graphene.Field(NotificationPreferences, required=True)

    class Meta:
        model = User
        name = "User"
        interfaces = (relay.Node,)
        fields = ("username", "email", "phone", "full_name", "language", "date_joined")

    @classmethod
    def get_node(cls, info, id):
        """A user is readable as a node by themselves only."""
        user = info.context.user
        return user if user is not None and str(user.pk) == str(id) else None

    @staticmethod
    def resolve_phone_verified(user, info):
        return user.phone_verified_at is not None

    @staticmethod
    def resolve_memberships(user, info):
        return Membership.objects.filter(user=user).select_related("region__triage_agency", "agency")

    @staticmethod
    def resolve_devices(user, info):
        return Device.objects.filter(user=user, active=True).order_by("-last_seen_at")

    @staticmethod
    def resolve_notification_preferences(user, info):
        return preferences_of(user)

    @staticmethod
    def resolve_sessions(user, info):
        return AuthSession.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()).order_by(
            "-last_used_at"
        )


class AccountQueries(graphene.ObjectType):
    me = graphene.Field(UserNode, description="The signed-in user; null when the request carries no token.")

    @staticmethod
    def resolve_me(root, info):
        return info.context.user


def _require_user(info, code):
    if info.context.user is None:
        raise DomainError(code, _("Sign in first."))
    return info.context.user


class TokenFields:
    access_token = graphene.String(description="Send as `Authorization: Bearer <token>`.")
    access_token_expires_at = graphene.DateTime()
    refresh_token = graphene.String(description="Use once with `refreshToken` for a new pair; keep it secret.")
    refresh_token_expires_at = graphene.DateTime()
    user = graphene.Field(UserNode)
    Error = AuthError

    @classmethod
    def from_pair(cls, pair):
        return cls(
            access_token=pair.access_token,
            access_token_expires_at=pair.access_expires_at,
            refresh_token=pair.refresh_token,
            refresh_token_expires_at=pair.refresh_expires_at,
            user=pair.user,
            errors=[],
        )


class RequestOtp(DomainMutation):
    """Send a sign-in code by SMS to a phone number (residents). The same answer whether or not an account exists."""

    class Arguments:
        phone = graphene.String(required=True, description="08…, 62… or +62…")

    phone = graphene.String(description="The number the code went to, in E.164.")
    expires_in = graphene.Int(description="Seconds the code stays valid.")
    resend_after = graphene.Int(description="Seconds before another code may be asked for.")
    Error = AuthError

    @classmethod
    def perform(cls, info, phone):
        sent = services.request_otp(phone=phone, client=info.context.client)
        return cls(phone=sent.phone, expires_in=sent.expires_in, resend_after=sent.resend_after, errors=[])


class VerifyOtp(TokenFields, DomainMutation):
    """Sign in with the code from the SMS. A first sign-in creates the resident's account."""

    class Arguments:
        phone = graphene.String(required=True)
        code = graphene.String(required=True)

    @classmethod
    def perform(cls, info, phone, code):
        return cls.from_pair(services.verify_otp(phone=phone, code=code, client=info.context.client))


class SignIn(TokenFields, DomainMutation):
    """Staff sign-in with username or email and password."""

    class Arguments:
        login = graphene.String(required=True, description="Username or email.")
        password = graphene.String(required=True)

    @classmethod
    def perform(cls, info, login, password):
        return cls.from_pair(services.sign_in_with_password(login=login, password=password, client=info.context.client))


class RefreshTokens(TokenFields, DomainMutation):
    """Trade a refresh token for a new access and refresh token. Each refresh token works once."""

    class Arguments:
        refresh_token = graphene.String(required=True)

    @classmethod
    def perform(cls, info, refresh_token):
        return cls.from_pair(services.refresh_session(refresh_token=refresh_token, client=info.context.client))


class SignOut(DomainMutation):
    """End a session: this one, or another of yours by id (from `me.sessions`)."""

    class Arguments:
        session_id = graphene.UUID()

    ok = graphene.Boolean()
    Error = AuthError

    @classmethod
    def perform(cls, info, session_id=None):
        user = _require_user(info, AuthErrorCode.NOT_AUTHENTICATED)
        services.revoke_session(user=user, session_id=session_id or info.context.session.pk)
        return cls(ok=True, errors=[])


class SignOutEverywhere(DomainMutation):
    """End every session of the account, this one included."""

    revoked_sessions = graphene.Int()
    Error = AuthError

    @classmethod
    def perform(cls, info):
        user = _require_user(info, AuthErrorCode.NOT_AUTHENTICATED)
        return cls(revoked_sessions=services.revoke_all_sessions(user=user), errors=[])


class ChangePassword(DomainMutation):
    """Staff: change the password. Every session is signed out; sign in again with the new password."""

    class Arguments:
        current_password = graphene.String(required=True)
        new_password = graphene.String(required=True)

    ok = graphene.Boolean()
    Error = AuthError

    @classmethod
    def perform(cls, info, current_password, new_password):
        user = _require_user(info, AuthErrorCode.NOT_AUTHENTICATED)
        services.change_password(user=user, current_password=current_password, new_password=new_password)
        return cls(ok=True, errors=[])


class UpdateProfile(DomainMutation):
    class Arguments:
        full_name = graphene.String()
        language = LanguageEnum()

    user = graphene.Field(UserNode)
    Error = AuthError

    @classmethod
    def perform(cls, info, full_name=None, language=None):
        user = _require_user(info, AuthErrorCode.NOT_AUTHENTICATED)
        language = getattr(language, "value", language)
        return cls(user=services.update_profile(user=user, full_name=full_name, language=language), errors=[])


class RegisterDevice(DomainMutation):
    """Register this device's FCM token for push notifications (call again when the token changes)."""

    class Arguments:
        token = graphene.String(required=True)
        platform = PlatformEnum(required=True)
        language = LanguageEnum()
        app_version = graphene.String()

    device = graphene.Field(DeviceType)
    Error = DeviceError

    @classmethod
    def perform(cls, info, token, platform, language=None, app_version=""):
        user = _require_user(info, DeviceErrorCode.NOT_AUTHENTICATED)
        device = services.register_device(
            user=user,
            token=token,
            platform=getattr(platform, "value", platform),
            language=getattr(language, "value", language) or user.language,
            app_version=app_version or "",
        )
        return cls(device=device, errors=[])


class UnregisterDevice(DomainMutation):
    """Stop push notifications to a device of yours (e.g. on sign-out)."""

    class Arguments:
        token = graphene.String(required=True)

    ok = graphene.Boolean()
    Error = DeviceError

    @classmethod
    def perform(cls, info, token):
        user = _require_user(info, DeviceErrorCode.NOT_AUTHENTICATED)
        services.unregister_device(user=user, token=token)
        return cls(ok=True, errors=[])


class AccountMutations(graphene.ObjectType):
    request_otp = RequestOtp.Field()
    verify_otp = VerifyOtp.Field()
    sign_in = SignIn.Field()
    refresh_tokens = RefreshTokens.Field()
    sign_out = SignOut.Field()
    sign_out_everywhere = SignOutEverywhere.Field()
    change_password = ChangePassword.Field()
    update_profile = UpdateProfile.Field()
    register_device = RegisterDevice.Field()
    unregister_device = UnregisterDevice.Field()
