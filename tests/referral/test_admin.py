"""The referral app's admin: staff's review of flagged referred sign-ups (the signals and
rules themselves: tests/referral/test_abuse.py)."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse

from referral.models import ReferredSignup
from tests.referral.helpers import ELSEWHERE, HOME, code_of, sign_up
from tests.users.factories import UserFactory
from users.services.tokens import user_sign_in_network_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(now: datetime) -> ReferredSignup:
    referrer = UserFactory.create(email="referrer@example.com")
    user_sign_in_network_record(user=referrer, network=HOME.network)
    return sign_up(code_of(referrer), now)


CHANGELIST = reverse("admin:referral_referredsignup_changelist")


class TestReview:
    def test_lists_the_flagged_sign_ups_by_reason(
        self, admin_client: Client, flagged: ReferredSignup, now: datetime
    ) -> None:
        sign_up(code_of(UserFactory.create()), now, client=ELSEWHERE)  # not flagged

        by_reason = admin_client.get(CHANGELIST, {"reason": "same_network_as_referrer"})
        by_flag = admin_client.get(CHANGELIST, {"is_flagged__exact": "1"})
        bursts = admin_client.get(CHANGELIST, {"reason": "burst_from_network"})

        assert list(by_reason.context["cl"].result_list) == [flagged]
        assert list(by_flag.context["cl"].result_list) == [flagged]
        assert list(bursts.context["cl"].result_list) == []

    def test_shows_the_two_users_side_by_side(
        self, admin_client: Client, flagged: ReferredSignup
    ) -> None:
        page = admin_client.get(
            reverse("admin:referral_referredsignup_change", args=[flagged.pk])
        ).content.decode()

        table = page.split('class="referral-side-by-side"', 1)[1].split("</table>", 1)[0]
        assert str(flagged.referee) in table and "referrer@example.com" in table
        assert table.count(HOME.network) == 2  # the sign-up's, and the referrer's last

    def test_clears_a_flag(self, admin_client: Client, flagged: ReferredSignup) -> None:
        admin_client.post(CHANGELIST, {"action": "clear_flags", "_selected_action": [flagged.pk]})

        flagged.refresh_from_db()
        assert (flagged.is_flagged, flagged.reasons) == (False, "same_network_as_referrer")
        assert (
            flagged.cleared_by is not None and flagged.cleared_by.email == "superuser@example.com"
        )

    def test_deactivates_the_code_used(self, admin_client: Client, flagged: ReferredSignup) -> None:
        admin_client.post(
            CHANGELIST, {"action": "deactivate_codes", "_selected_action": [flagged.pk]}
        )

        flagged.code.refresh_from_db()
        assert flagged.code.is_active is False

    def test_erases_the_referred_user_after_a_confirmation(
        self, admin_client: Client, flagged: ReferredSignup
    ) -> None:
        selected = {"action": "erase_referees", "_selected_action": [flagged.pk]}
        phone = flagged.referee.phone

        confirmation = admin_client.post(CHANGELIST, selected)
        admin_client.post(CHANGELIST, {**selected, "post": "yes"})

        assert phone and phone in confirmation.content.decode()
        flagged.referee.refresh_from_db()
        assert flagged.referee.erased_at is not None
        # The erased user's network and agent's hash go with them.
        assert not ReferredSignup.objects.filter(pk=flagged.pk).exists()

    def test_rows_cannot_be_added_or_deleted(
        self, admin_client: Client, flagged: ReferredSignup
    ) -> None:
        assert admin_client.get(reverse("admin:referral_referredsignup_add")).status_code == 403
        delete = reverse("admin:referral_referredsignup_delete", args=[flagged.pk])
        assert admin_client.get(delete).status_code == 403
