"""codes.services, called directly: every rule and every error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django_tasks_db.models import DBTaskResult
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from codes.errors import (
    CodeEmailNoAddressError,
    CodeExpiredError,
    CodeExpiresInPastError,
    CodeInvalidError,
    CodeMaxUsesBelowUsesError,
    CodeNoActiveError,
    CodeNotFoundError,
    CodeTakenError,
    CodeUsedUpError,
)
from codes.models import GENERATED_ALPHABET, ReferralClick, ReferralCode, RefusalDay
from codes.services import (
    code_click_record,
    code_count_use,
    code_delete,
    code_email_send,
    code_issue,
    code_redeem,
    code_refusal_count,
    code_refusals_counted,
    code_terms_check,
    code_update,
    codes_retire_for_owner,
    share_link_visit,
)
from referral.errors import ReferralCycleError
from tests.codes.helpers import active_code, active_codes
from tests.queue import run_tasks
from tests.users.factories import UserFactory
from users.errors import PhoneInvalidError
from users.models import User

pytestmark = pytest.mark.django_db

HOME = "203.0.113.0/24"
AGENT = "a" * 64


def refusal_counts() -> dict[tuple[str, str], int]:
    return {(f"{row.day:%Y-%m-%d}", row.reason): row.count for row in RefusalDay.objects.all()}


class TestCodeIssue:
    def test_generates_a_code_of_the_alphabet_and_length(self, user: User, now: datetime) -> None:
        code = code_issue(owner=user, now=now)

        assert len(code.code) == settings.REFERRAL_CODE_LENGTH
        assert set(code.code) <= set(GENERATED_ALPHABET)
        assert (code.is_active, code.expires_at, code.max_uses, code.created_at) == (
            True,
            None,
            None,
            now,
        )

    def test_deactivates_the_owners_previous_code(self, user: User, now: datetime) -> None:
        previous = active_code(user)

        code = code_issue(owner=user, now=now)

        assert active_codes(user) == [code.code]
        previous.refresh_from_db()
        assert previous.is_active is False

    def test_stores_a_chosen_code_upper_cased(self, user: User, now: datetime) -> None:
        code = code_issue(owner=user, value=" my_Code-1 ", now=now)

        assert code.code == "MY_CODE-1"

    def test_refuses_a_code_taken_in_another_case(self, user: User, now: datetime) -> None:
        code_issue(owner=UserFactory.create(), value="TAKEN1", now=now)

        with pytest.raises(CodeTakenError):
            code_issue(owner=user, value="taken1", now=now)

    def test_refuses_the_string_of_a_deleted_code(self, user: User, now: datetime) -> None:
        other = UserFactory.create()
        taken = code_issue(owner=other, value="TAKEN1", now=now)
        code_delete(code=taken, now=now)

        with pytest.raises(CodeTakenError):
            code_issue(owner=user, value="taken1", now=now)

        assert ReferralCode.objects.get(code="TAKEN1").owner == other

    def test_a_refused_code_keeps_the_current_one_active(self, user: User, now: datetime) -> None:
        before = active_codes(user)
        code_issue(owner=UserFactory.create(), value="OTHERS", now=now)

        with pytest.raises(CodeTakenError):
            code_issue(owner=user, value="others", now=now)

        assert active_codes(user) == before

    def test_refuses_a_string_no_code_can_have(self, user: User, now: datetime) -> None:
        with pytest.raises(CodeInvalidError):
            code_issue(owner=user, value="has space", now=now)

    def test_live_days_sets_the_expiry_from_now(self, user: User, now: datetime) -> None:
        code = code_issue(owner=user, live_days=10, now=now)

        assert code.expires_at == now + timedelta(days=10)

    def test_keeps_an_expiry_and_a_use_limit(self, user: User, now: datetime) -> None:
        later = now + timedelta(days=1)

        code = code_issue(owner=user, expires_at=later, max_uses=5, now=now)

        assert (code.expires_at, code.max_uses) == (later, 5)

    @pytest.mark.parametrize("offset", [timedelta(0), -timedelta(seconds=1)])
    def test_refuses_an_expiry_now_or_in_the_past(
        self, user: User, now: datetime, offset: timedelta
    ) -> None:
        before = active_codes(user)

        with pytest.raises(CodeExpiresInPastError):
            code_issue(owner=user, expires_at=now + offset, now=now)

        assert active_codes(user) == before


class TestCodeTermsCheck:
    def test_accepts_a_future_expiry_and_a_limit_equal_to_the_uses(self, now: datetime) -> None:
        code_terms_check(now=now, expires_at=now + timedelta(seconds=1), max_uses=3, uses=3)

    def test_accepts_no_terms(self, now: datetime) -> None:
        code_terms_check(now=now, expires_at=None, max_uses=None, uses=7)

    def test_refuses_an_expiry_that_is_now(self, now: datetime) -> None:
        with pytest.raises(CodeExpiresInPastError):
            code_terms_check(now=now, expires_at=now)

    def test_refuses_a_limit_below_the_uses(self, now: datetime) -> None:
        with pytest.raises(CodeMaxUsesBelowUsesError):
            code_terms_check(now=now, max_uses=2, uses=3)


class TestCodeUpdate:
    def test_reactivating_an_old_code_deactivates_the_current(
        self, user: User, now: datetime
    ) -> None:
        old = active_code(user)
        current = code_issue(owner=user, now=now)

        updated = code_update(code=old, now=now, is_active=True)

        assert updated.is_active is True
        assert active_codes(user) == [old.code]
        current.refresh_from_db()
        assert current.is_active is False

    def test_changes_only_the_terms_given(self, user: User, now: datetime) -> None:
        later = now + timedelta(days=2)
        code = code_issue(owner=user, expires_at=later, max_uses=5, now=now)

        code_update(code=code, now=now, max_uses=None)

        code.refresh_from_db()
        assert (code.expires_at, code.max_uses, code.is_active) == (later, None, True)

    def test_refuses_a_limit_below_the_uses(self, user: User, now: datetime) -> None:
        code = active_code(user)
        ReferralCode.objects.filter(pk=code.pk).update(uses=3)

        with pytest.raises(CodeMaxUsesBelowUsesError):
            code_update(code=code, now=now, max_uses=2)

    def test_refuses_an_expiry_in_the_past(self, user: User, now: datetime) -> None:
        with pytest.raises(CodeExpiresInPastError):
            code_update(code=active_code(user), now=now, expires_at=now - timedelta(days=1))

    def test_refuses_a_code_deleted_meanwhile(self, user: User, now: datetime) -> None:
        code = active_code(user)
        code_delete(code=code, now=now)

        with pytest.raises(CodeNotFoundError):
            code_update(code=code, now=now, is_active=True)

    def test_clears_the_public_lookup_after_commit(
        self,
        user: User,
        now: datetime,
        django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    ) -> None:
        with django_capture_on_commit_callbacks() as callbacks:
            code_update(code=active_code(user), now=now, is_active=False)

        assert len(callbacks) == 1


class TestCodeDelete:
    def test_keeps_the_row_and_the_referrers_of_its_users(self, user: User, now: datetime) -> None:
        code = active_code(user)
        referee = UserFactory.create(referral_code=code.code)

        code_delete(code=code, now=now)

        code.refresh_from_db()
        assert (code.is_active, code.deleted_at) == (False, now)
        referee.refresh_from_db()
        assert (referee.referred_by_id, referee.referred_with_code_id) == (user.pk, code.pk)


class TestCodeRedeem:
    def test_returns_the_code_in_any_case_with_its_owner(self, user: User, now: datetime) -> None:
        code = active_code(user)

        redeemed = code_redeem(value=code.code.lower(), now=now)

        assert (redeemed.pk, redeemed.owner) == (code.pk, user)

    @pytest.mark.parametrize("value", ["NOSUCHCODE", "X" * 33, "AB\x00CD", ""])
    def test_refuses_an_unknown_or_impossible_code(self, value: str, now: datetime) -> None:
        with pytest.raises(CodeInvalidError):
            code_redeem(value=value, now=now)

    @pytest.mark.parametrize("state", ["inactive", "deleted", "owner_inactive"])
    def test_refuses_a_code_that_no_longer_works_as_invalid(
        self, user: User, now: datetime, state: str
    ) -> None:
        code = active_code(user)
        if state == "inactive":
            code_issue(owner=user, now=now)
        elif state == "deleted":
            code_delete(code=code, now=now)
        else:
            User.objects.filter(pk=user.pk).update(is_active=False)

        with pytest.raises(CodeInvalidError):
            code_redeem(value=code.code, now=now)

    def test_refuses_an_expired_code(self, user: User, now: datetime) -> None:
        code = code_issue(owner=user, expires_at=now + timedelta(minutes=1), now=now)

        with pytest.raises(CodeExpiredError):
            code_redeem(value=code.code, now=now + timedelta(minutes=1))

    def test_refuses_a_used_up_code(self, user: User, now: datetime) -> None:
        code = code_issue(owner=user, max_uses=1, now=now)
        UserFactory.create(referral_code=code.code)

        with pytest.raises(CodeUsedUpError):
            code_redeem(value=code.code, now=now)


class TestCodeCountUse:
    def test_counts_one_use(self, user: User, now: datetime) -> None:
        code = code_issue(owner=user, max_uses=2, now=now)

        code_count_use(code=code, now=now)

        code.refresh_from_db()
        assert code.uses == 1

    def test_refuses_the_use_past_the_limit(self, user: User, now: datetime) -> None:
        code = code_issue(owner=user, max_uses=1, now=now)
        redeemed = code_redeem(value=code.code, now=now)
        ReferralCode.objects.filter(pk=code.pk).update(uses=1)  # used up meanwhile

        with pytest.raises(CodeUsedUpError):
            code_count_use(code=redeemed, now=now)

        code.refresh_from_db()
        assert code.uses == 1

    def test_refuses_a_code_deactivated_since_it_was_redeemed(
        self, user: User, now: datetime
    ) -> None:
        redeemed = code_redeem(value=active_code(user).code, now=now)
        ReferralCode.objects.filter(pk=redeemed.pk).update(is_active=False)

        with pytest.raises(CodeInvalidError):
            code_count_use(code=redeemed, now=now)


class TestCodesRetireForOwner:
    def test_deletes_every_code_of_the_owner_keeping_the_strings(
        self, user: User, now: datetime
    ) -> None:
        old = active_code(user)
        current = code_issue(owner=user, now=now)
        others = active_code(UserFactory.create())

        codes_retire_for_owner(owner=user, now=now)

        retired = ReferralCode.objects.filter(pk__in=[old.pk, current.pk])
        assert sorted(retired.values_list("code", flat=True)) == sorted([old.code, current.code])
        assert all(code.deleted_at == now and not code.is_active for code in retired)
        others.refresh_from_db()
        assert (others.is_active, others.deleted_at) == (True, None)


class TestCodeClickRecord:
    def test_counts_a_click_with_the_network_and_agent_hash(
        self, user: User, now: datetime
    ) -> None:
        code = active_code(user)

        counted = code_click_record(
            value=code.code.lower(), network=HOME, user_agent_hash=AGENT, now=now
        )

        assert counted is True
        click = ReferralClick.objects.get()
        assert (click.code_id, click.network, click.user_agent_hash, click.clicked_at) == (
            code.pk,
            HOME,
            AGENT,
            now,
        )
        code.refresh_from_db()
        assert code.clicks == 1

    def test_a_repeat_from_one_network_within_the_minute_is_not_counted(
        self, user: User, now: datetime
    ) -> None:
        code = active_code(user)
        code_click_record(value=code.code, network=HOME, user_agent_hash=AGENT, now=now)

        again = code_click_record(value=code.code, network=HOME, user_agent_hash=AGENT, now=now)
        elsewhere = code_click_record(
            value=code.code, network="198.51.100.0/24", user_agent_hash=AGENT, now=now
        )
        cache.delete(f"codes:click:{code.pk}:{HOME}")  # the minute is over
        later = code_click_record(value=code.code, network=HOME, user_agent_hash=AGENT, now=now)

        assert (again, elsewhere, later) == (False, True, True)
        code.refresh_from_db()
        assert code.clicks == ReferralClick.objects.count() == 3

    @pytest.mark.parametrize("value", ["NOSUCHCODE", "AB\x00CD"])
    def test_an_unknown_or_impossible_code_is_not_counted(self, value: str, now: datetime) -> None:
        assert not code_click_record(value=value, network=HOME, user_agent_hash=AGENT, now=now)

        assert not ReferralClick.objects.exists()


class TestShareLinkVisit:
    def test_sends_a_person_to_the_landing_with_a_usable_code(
        self, user: User, now: datetime
    ) -> None:
        code = active_code(user)

        target = share_link_visit(
            value=code.code.lower(), network=HOME, user_agent_hash=AGENT, is_person=True, now=now
        )

        assert target == f"/invite/?ref={code.code}"
        code.refresh_from_db()
        assert code.clicks == 1

    def test_sends_an_unusable_code_to_the_landing_without_it(
        self, user: User, now: datetime
    ) -> None:
        old = active_code(user)
        code_issue(owner=user, now=now)

        target = share_link_visit(
            value=old.code, network=HOME, user_agent_hash=AGENT, is_person=True, now=now
        )

        assert target == "/invite/"
        old.refresh_from_db()
        assert old.clicks == 1

    def test_does_not_count_a_visit_that_is_not_a_persons(self, user: User, now: datetime) -> None:
        code = active_code(user)

        share_link_visit(
            value=code.code, network=HOME, user_agent_hash=AGENT, is_person=False, now=now
        )

        assert not ReferralClick.objects.exists()

    def test_lands_on_the_configured_page(
        self, user: User, now: datetime, settings: Settings
    ) -> None:
        settings.REFERRAL_LANDING_URL = "https://shop.example/join"
        code = active_code(user)

        target = share_link_visit(
            value=code.code, network=HOME, user_agent_hash=AGENT, is_person=False, now=now
        )

        assert target == f"https://shop.example/join?ref={code.code}"


class TestCodeEmailSend:
    def test_queues_the_email_of_the_active_code(self, now: datetime) -> None:
        owner = UserFactory.create(email="anna@example.com")

        code_email_send(owner=owner, language="ru", now=now)

        [task] = DBTaskResult.objects.all()
        assert task.task_path == "codes.tasks.code_email_deliver"
        assert active_code(owner).code in str(task.args_kwargs)

    def test_the_task_is_rolled_back_with_the_transaction_that_queued_it(
        self, now: datetime
    ) -> None:
        """An outbox: the task is a row of the caller's transaction, so a write that
        fails after queueing takes its email with it."""
        owner = UserFactory.create(email="anna@example.com")

        class WriteFailed(Exception):
            pass

        with pytest.raises(WriteFailed), transaction.atomic():
            code_email_send(owner=owner, language="en", now=now)
            assert DBTaskResult.objects.count() == 1  # written inside, not after commit
            raise WriteFailed

        assert not DBTaskResult.objects.exists()
        assert run_tasks() == 0

    def test_refuses_an_owner_without_an_email(self, now: datetime) -> None:
        phone_only = UserFactory.create(email=None, phone="+79990001122")

        with pytest.raises(CodeEmailNoAddressError):
            code_email_send(owner=phone_only, language="en", now=now)

        assert not DBTaskResult.objects.exists()

    def test_refuses_an_owner_without_an_active_code(self, user: User, now: datetime) -> None:
        user.referral_codes.update(is_active=False)

        with pytest.raises(CodeNoActiveError):
            code_email_send(owner=user, language="en", now=now)

        assert not DBTaskResult.objects.exists()


class TestCodeRefusalCount:
    def test_counts_per_utc_day_and_reason(self) -> None:
        late = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)

        code_refusal_count(reason="invalid", now=late)
        code_refusal_count(reason="invalid", now=late)
        code_refusal_count(reason="expired", now=late)
        code_refusal_count(reason="invalid", now=late + timedelta(minutes=2))

        assert refusal_counts() == {
            ("2026-03-01", "invalid"): 2,
            ("2026-03-01", "expired"): 1,
            ("2026-03-02", "invalid"): 1,
        }


class TestCodeRefusalsCounted:
    def test_counts_a_refusal_and_still_raises_it(self, now: datetime) -> None:
        with pytest.raises(ReferralCycleError), code_refusals_counted(now=now):
            raise ReferralCycleError()

        assert refusal_counts() == {(f"{now:%Y-%m-%d}", "cycle"): 1}

    def test_does_not_count_other_errors(self, now: datetime) -> None:
        with pytest.raises(PhoneInvalidError), code_refusals_counted(now=now):
            raise PhoneInvalidError()

        assert refusal_counts() == {}
