"""Phone sign-in's services: codes sent, stored as keyed hashes, traded once for tokens,
with time as an input."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import translation
from pytest_django import Settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from codes.models import ReferralCode
from codes.services import code_issue
from common.errors import DomainError
from tests.helpers import position, queued_uuids
from tests.users.factories import UserFactory
from tests.users.helpers import sent_code, unused_port
from users import sms
from users.errors import (
    PhoneCodeInvalidError,
    PhoneCodeResendError,
    PhoneInvalidError,
    SmsUnavailableError,
)
from users.models import PhoneCode, User
from users.services.accounts import user_deactivate
from users.services.phone import (
    PHONE_CODE_MAX_ATTEMPTS,
    phone_code_hash,
    phone_code_send,
    phone_code_store,
    phone_codes_purge,
    phone_sign_in,
)

pytestmark = pytest.mark.django_db

PHONE = "+79991234567"


def wrong(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


class TestPhoneCodeSend:
    def test_texts_a_random_code_of_the_configured_length(
        self, sms_outbox: list[sms.SmsMessage], settings: Settings, now: datetime
    ) -> None:
        settings.PHONE_CODE_LENGTH = 8

        sent = phone_code_send(phone=PHONE, now=now)

        assert (sent.phone, sent.expires_in, sent.resend_after) == (PHONE, 300, 60)
        assert [message.to for message in sms_outbox] == [PHONE]
        assert re.fullmatch(r"\d{8}", sent_code(sms_outbox))

    def test_codes_differ_from_send_to_send(
        self, sms_outbox: list[sms.SmsMessage], now: datetime
    ) -> None:
        for n in range(5):
            phone_code_send(phone=f"+7999123450{n}", now=now)

        # Five equal random 6-digit codes: one chance in 10**24.
        assert len({re.search(r"\d{6}", m.text)[0] for m in sms_outbox}) > 1  # type: ignore[index]

    def test_stores_only_a_keyed_hash_of_the_code(
        self, sms_outbox: list[sms.SmsMessage], now: datetime
    ) -> None:
        phone_code_send(phone=PHONE, now=now)
        code = sent_code(sms_outbox)

        stored = PhoneCode.objects.get(phone=PHONE)
        assert code not in {stored.code_hash, stored.phone}
        assert stored.code_hash == phone_code_hash(phone=PHONE, code=code)
        assert len(stored.code_hash) == 64
        # Keyed: the same digits for another phone hash differently.
        assert stored.code_hash != phone_code_hash(phone="+79990000000", code=code)

    def test_the_hash_depends_on_the_secret_key(self, settings: Settings) -> None:
        before = phone_code_hash(phone=PHONE, code="123456")
        settings.SECRET_KEY = "another-secret-key-" + "x" * 40

        assert phone_code_hash(phone=PHONE, code="123456") != before

    def test_reads_any_notation_and_texts_e164(
        self, sms_outbox: list[sms.SmsMessage], now: datetime
    ) -> None:
        sent = phone_code_send(phone="8 (999) 123-45-67", now=now)

        assert sent.phone == PHONE
        assert sms_outbox[-1].to == PHONE
        assert PhoneCode.objects.filter(phone=PHONE).exists()

    def test_refuses_an_invalid_phone(
        self, sms_outbox: list[sms.SmsMessage], now: datetime
    ) -> None:
        with pytest.raises(PhoneInvalidError):
            phone_code_send(phone="12345", now=now)

        assert sms_outbox == []

    @pytest.mark.parametrize(
        ("language", "text"),
        [
            ("ru", "Код для входа: {code}. Он действует 5 минут."),  # the active language
            (None, "Your sign-in code: {code}. It expires in 5 minutes."),  # the default
        ],
    )
    def test_writes_the_sms_in_the_active_language(
        self, sms_outbox: list[sms.SmsMessage], now: datetime, language: str | None, text: str
    ) -> None:
        with translation.override(language):
            phone_code_send(phone=PHONE, now=now)
        code = sent_code(sms_outbox)

        assert sms_outbox[-1].text == text.format(code=code)

    def test_refuses_a_new_code_within_the_resend_interval(
        self, sms_outbox: list[sms.SmsMessage], now: datetime
    ) -> None:
        phone_code_send(phone=PHONE, now=now)

        with pytest.raises(PhoneCodeResendError) as refused:
            phone_code_send(phone=PHONE, now=now + timedelta(seconds=45))

        assert refused.value.wait == 15
        assert refused.value.status_code == 429
        assert len(sms_outbox) == 1

    def test_replaces_the_code_once_the_resend_interval_is_over(
        self, sms_outbox: list[sms.SmsMessage], now: datetime
    ) -> None:
        phone_code_send(phone=PHONE, now=now)
        first = sent_code(sms_outbox)
        with pytest.raises(PhoneCodeInvalidError):
            phone_sign_in(phone=PHONE, code=wrong(first), now=now)
        later = now + timedelta(seconds=60)

        phone_code_send(phone=PHONE, now=later)

        stored = PhoneCode.objects.get(phone=PHONE)
        assert (stored.attempts, stored.created_at) == (0, later)
        assert stored.expires_at == later + timedelta(seconds=300)
        second = sent_code(sms_outbox)
        if second != first:
            with pytest.raises(PhoneCodeInvalidError):
                phone_sign_in(phone=PHONE, code=first, now=later)
        assert phone_sign_in(phone=PHONE, code=second, now=later).created

    def test_keeps_no_code_when_the_sms_cannot_be_sent(
        self, settings: Settings, now: datetime
    ) -> None:
        settings.SMS_BACKEND = "users.sms.HttpSmsBackend"
        settings.SMS_HTTP_URL = f"http://127.0.0.1:{unused_port()}/send"

        with pytest.raises(SmsUnavailableError):
            phone_code_send(phone=PHONE, now=now)

        assert not PhoneCode.objects.exists()
        # Nothing was kept, so nothing holds the resend interval either.
        settings.SMS_BACKEND = "users.sms.LocmemSmsBackend"
        assert phone_code_send(phone=PHONE, now=now).phone == PHONE


class TestPhoneCodesPurge:
    def test_deletes_codes_past_their_lifetime_and_resend_interval(self, now: datetime) -> None:
        phone_code_store(phone="+79990000001", code="111111", now=now - timedelta(seconds=301))
        phone_code_store(phone="+79990000002", code="222222", now=now - timedelta(seconds=299))

        deleted = phone_codes_purge(now=now)

        assert deleted == 1
        assert list(PhoneCode.objects.values_list("phone", flat=True)) == ["+79990000002"]

    def test_runs_as_codes_are_sent(self, now: datetime) -> None:
        phone_code_store(phone="+79990000001", code="111111", now=now - timedelta(hours=1))

        phone_code_send(phone=PHONE, now=now)

        assert list(PhoneCode.objects.values_list("phone", flat=True)) == [PHONE]


class TestPhoneSignIn:
    def test_first_sign_in_creates_a_phone_only_account(self, now: datetime) -> None:
        phone_code_store(phone=PHONE, code="123456", now=now)

        signed_in = phone_sign_in(phone=PHONE, code="123456", now=now)

        user = User.objects.get(phone=PHONE)
        assert signed_in.user == user
        assert signed_in.created is True
        assert (user.email, user.username, user.is_active) == (None, None, True)
        assert not user.has_usable_password()
        assert user.date_joined == now
        assert ReferralCode.objects.filter(owner=user, is_active=True).exists()
        assert str(user.uuid) in queued_uuids()

    def test_answers_a_token_pair_for_the_users_uuid(self, now: datetime) -> None:
        phone_code_store(phone=PHONE, code="123456", now=now)

        signed_in = phone_sign_in(phone=PHONE, code="123456", now=now)

        refresh = RefreshToken(signed_in.tokens.refresh)  # type: ignore[arg-type]
        access = AccessToken(signed_in.tokens.access)  # type: ignore[arg-type]
        assert refresh["user_id"] == access["user_id"] == str(signed_in.user.uuid)
        assert OutstandingToken.objects.filter(user=signed_in.user).count() == 1

    def test_reads_any_notation(self, now: datetime) -> None:
        phone_code_store(phone=PHONE, code="123456", now=now)

        signed_in = phone_sign_in(phone="+7 (999) 123-45-67", code="123456", now=now)

        assert signed_in.user.phone == PHONE

    def test_a_known_phone_signs_in_to_its_account(self, now: datetime) -> None:
        existing = UserFactory.create(email="anna@example.com", phone=PHONE)
        phone_code_store(phone=PHONE, code="123456", now=now)

        signed_in = phone_sign_in(phone=PHONE, code="123456", now=now)

        assert (signed_in.user, signed_in.created) == (existing, False)
        assert User.objects.count() == 1

    def test_ignores_a_referral_code_for_a_known_phone(self, now: datetime) -> None:
        existing = UserFactory.create(phone=PHONE)
        code = code_issue(owner=UserFactory.create(), max_uses=1, now=now)
        phone_code_store(phone=PHONE, code="123456", now=now)

        signed_in = phone_sign_in(phone=PHONE, code="123456", now=now, referral_code=code.code)

        existing.refresh_from_db()
        code.refresh_from_db()
        assert (signed_in.created, existing.referred_by, code.uses) == (False, None, 0)

    def test_a_code_works_once(self, now: datetime) -> None:
        phone_code_store(phone=PHONE, code="123456", now=now)
        phone_sign_in(phone=PHONE, code="123456", now=now)

        with pytest.raises(PhoneCodeInvalidError):
            phone_sign_in(phone=PHONE, code="123456", now=now - timedelta(seconds=1))

        assert OutstandingToken.objects.count() == 1

    def test_a_used_code_still_holds_the_resend_interval(self, now: datetime) -> None:
        phone_code_store(phone=PHONE, code="123456", now=now)
        phone_sign_in(phone=PHONE, code="123456", now=now)

        with pytest.raises(PhoneCodeResendError):
            phone_code_send(phone=PHONE, now=now + timedelta(seconds=30))

    def test_refuses_a_phone_without_a_code(self, now: datetime) -> None:
        with pytest.raises(PhoneCodeInvalidError) as refused:
            phone_sign_in(phone=PHONE, code="123456", now=now)

        assert (refused.value.code, refused.value.attr) == ("invalid_code", "code")

    def test_refuses_an_invalid_phone(self, now: datetime) -> None:
        with pytest.raises(PhoneInvalidError):
            phone_sign_in(phone="not a phone", code="123456", now=now)

    def test_refuses_the_code_of_another_phone(self, now: datetime) -> None:
        phone_code_store(phone="+79990000000", code="123456", now=now)
        phone_code_store(phone=PHONE, code="654321", now=now)

        with pytest.raises(PhoneCodeInvalidError):
            phone_sign_in(phone=PHONE, code="123456", now=now)

    def test_the_code_works_until_it_expires(self, now: datetime) -> None:
        phone_code_store(phone=PHONE, code="123456", now=now)

        signed_in = phone_sign_in(
            phone=PHONE, code="123456", now=now + timedelta(seconds=299, microseconds=999999)
        )

        assert signed_in.created

    def test_refuses_an_expired_code(self, now: datetime) -> None:
        phone_code_store(phone=PHONE, code="123456", now=now)

        with pytest.raises(PhoneCodeInvalidError):
            phone_sign_in(phone=PHONE, code="123456", now=now + timedelta(seconds=300))

        assert not User.objects.exists()

    def test_the_lifetime_is_a_setting(self, settings: Settings, now: datetime) -> None:
        settings.PHONE_CODE_TTL = 30
        phone_code_store(phone=PHONE, code="123456", now=now)

        with pytest.raises(PhoneCodeInvalidError):
            phone_sign_in(phone=PHONE, code="123456", now=now + timedelta(seconds=30))

    def test_counts_wrong_tries(self, now: datetime) -> None:
        phone_code_store(phone=PHONE, code="123456", now=now)

        for _ in range(2):
            with pytest.raises(PhoneCodeInvalidError):
                phone_sign_in(phone=PHONE, code="000000", now=now)

        assert PhoneCode.objects.get(phone=PHONE).attempts == 2

    def test_the_right_code_works_after_four_wrong_tries(self, now: datetime) -> None:
        phone_code_store(phone=PHONE, code="123456", now=now)
        for _ in range(PHONE_CODE_MAX_ATTEMPTS - 1):
            with pytest.raises(PhoneCodeInvalidError):
                phone_sign_in(phone=PHONE, code="000000", now=now)

        assert phone_sign_in(phone=PHONE, code="123456", now=now).created

    def test_the_fifth_wrong_try_kills_the_code(self, now: datetime) -> None:
        phone_code_store(phone=PHONE, code="123456", now=now)
        for _ in range(PHONE_CODE_MAX_ATTEMPTS):
            with pytest.raises(PhoneCodeInvalidError):
                phone_sign_in(phone=PHONE, code="000000", now=now)

        with pytest.raises(PhoneCodeInvalidError):
            phone_sign_in(phone=PHONE, code="123456", now=now)

        assert not User.objects.exists()
        assert PhoneCode.objects.get(phone=PHONE).attempts == PHONE_CODE_MAX_ATTEMPTS

    def test_a_dead_code_still_holds_the_resend_interval(self, now: datetime) -> None:
        phone_code_store(phone=PHONE, code="123456", now=now)
        for _ in range(PHONE_CODE_MAX_ATTEMPTS):
            with pytest.raises(PhoneCodeInvalidError):
                phone_sign_in(phone=PHONE, code="000000", now=now)

        with pytest.raises(PhoneCodeResendError):
            phone_code_send(phone=PHONE, now=now + timedelta(seconds=59))

    def test_refuses_an_inactive_account_and_uses_up_its_code(self, now: datetime) -> None:
        inactive = UserFactory.create(phone=PHONE)
        user_deactivate(user=inactive)
        phone_code_store(phone=PHONE, code="123456", now=now)

        with pytest.raises(PhoneCodeInvalidError):
            phone_sign_in(phone=PHONE, code="123456", now=now)

        assert not OutstandingToken.objects.filter(user=inactive).exists()
        assert PhoneCode.objects.get(phone=PHONE).code_hash == ""


class TestPhoneSignInWithReferralCode:
    def test_the_new_account_is_referred_by_the_codes_owner(self, now: datetime) -> None:
        referrer = UserFactory.create()
        code = code_issue(owner=referrer, now=now)
        phone_code_store(phone=PHONE, code="123456", now=now)

        signed_in = phone_sign_in(
            phone=PHONE, code="123456", now=now, referral_code=code.code.lower()
        )

        code.refresh_from_db()
        assert (signed_in.user.referred_by, signed_in.user.referred_with_code) == (referrer, code)
        assert position(signed_in.user).depth == 1
        assert code.uses == 1

    @pytest.mark.parametrize("refusal", ["invalid", "expired", "used_up", "too_deep"])
    def test_a_refused_referral_code_creates_nothing_and_keeps_the_phone_code(
        self, refusal: str, settings: Settings, now: datetime
    ) -> None:
        referrer = UserFactory.create()
        code = code_issue(
            owner=referrer,
            max_uses=1 if refusal == "used_up" else None,
            expires_at=now + timedelta(days=1) if refusal == "expired" else None,
            now=now,
        )
        if refusal == "used_up":
            UserFactory.create(referral_code=code.code)
        if refusal == "too_deep":
            settings.REFERRAL_MAX_DEPTH = 0
        later = now + timedelta(days=2) if refusal == "expired" else now
        value = "NOSUCHCODE" if refusal == "invalid" else code.code
        phone_code_store(phone=PHONE, code="123456", now=later)
        users_before = User.objects.count()

        with pytest.raises(DomainError) as refused:
            phone_sign_in(phone=PHONE, code="123456", now=later, referral_code=value)

        assert (getattr(refused.value, "code", None), getattr(refused.value, "attr", None)) == (
            refusal,
            "referral_code",
        )
        assert User.objects.count() == users_before
        assert PhoneCode.objects.get(phone=PHONE).attempts == 0
        assert phone_sign_in(phone=PHONE, code="123456", now=later).created


def synchronous_commit() -> str:
    """This transaction's synchronous_commit (the test's transaction outlives the
    service's, which is a savepoint inside it)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


@pytest.mark.usefixtures("postgres_only")
class TestPhoneSignInDurability:
    def test_a_sign_in_to_a_known_account_commits_without_waiting_for_the_disk(
        self, now: datetime
    ) -> None:
        UserFactory.create(phone=PHONE)
        phone_code_store(phone=PHONE, code="123456", now=now)

        phone_sign_in(phone=PHONE, code="123456", now=now)

        assert synchronous_commit() == "off"

    def test_a_counted_wrong_try_commits_without_waiting_for_the_disk(self, now: datetime) -> None:
        phone_code_store(phone=PHONE, code="123456", now=now)

        with pytest.raises(PhoneCodeInvalidError):
            phone_sign_in(phone=PHONE, code="000000", now=now)

        assert synchronous_commit() == "off"

    def test_a_new_account_waits_for_the_disk_as_every_sign_up(self, now: datetime) -> None:
        phone_code_store(phone=PHONE, code="123456", now=now)

        assert phone_sign_in(phone=PHONE, code="123456", now=now).created

        assert synchronous_commit() == "on"
