"""Every write path that touches a field the tree service sees puts the user on the queue,
in the same transaction; writes to other fields do not."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from codes.models import ReferralCode
from referral.services import referrer_set
from sync.selectors import EXPORT_KEYS
from tests.helpers import client_for, code_of, queued_uuids
from tests.users.factories import UserFactory
from users.models import User
from users.services.accounts import user_deactivate, user_update

pytestmark = pytest.mark.django_db


def queued_since(mark: int) -> list[str]:
    return queued_uuids()[mark:]


def test_registration_through_the_api(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/users/", {"email": "new@example.com", "password": "s3cret-Passw0rd!"}, format="json"
    )

    assert queued_uuids() == [response.json()["uuid"]]


def test_manager_create_user_and_createsuperuser() -> None:
    made = User.objects.create_user(email="m@example.com", password="x")
    call_command("createsuperuser", "--noinput", "--email", "admin@example.com")
    admin = User.objects.get(email="admin@example.com")

    assert queued_uuids() == [str(made.uuid), str(admin.uuid)]


def test_entering_a_referrer_queues_the_user_but_not_their_subtree() -> None:
    referrer, user = UserFactory.create(), UserFactory.create()
    UserFactory.create(referral_code=code_of(user))  # user's child: its referrer does not change
    mark = len(queued_uuids())

    referrer_set(user=user, code_value=code_of(referrer), now=timezone.now())

    assert queued_since(mark) == [str(user.uuid)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "other@example.com"),
        ("first_name", "A"),
        ("last_name", "B"),
        ("phone", "+79990001122"),
    ],
)
def test_profile_changes_of_synced_fields(field: str, value: str) -> None:
    user = UserFactory.create()
    mark = len(queued_uuids())

    user_update(user=user, changes={field: value})

    assert queued_since(mark) == [str(user.uuid)]


@pytest.mark.parametrize(("field", "value"), [("username", "renamed"), ("middle_name", "C")])
def test_changes_the_tree_service_cannot_see_are_not_queued(field: str, value: str) -> None:
    user = UserFactory.create()
    mark = len(queued_uuids())

    user_update(user=user, changes={field: value})
    user.set_password("another-one")
    user.save()

    assert queued_since(mark) == []


def test_deactivation_through_the_api() -> None:
    user = UserFactory.create()
    mark = len(queued_uuids())

    client_for(user).delete("/api/users/me/")

    assert queued_since(mark) == [str(user.uuid)]


def test_bulk_update() -> None:
    users = [UserFactory.create() for _ in range(3)]
    mark = len(queued_uuids())

    User.objects.filter(pk__in=[u.pk for u in users]).update(is_business_user=True)

    assert sorted(queued_since(mark)) == sorted(str(u.uuid) for u in users)


def test_admin_change_form() -> None:
    admin = User.objects.create_superuser(email="admin@example.com", password="x")
    user = UserFactory.create()
    mark = len(queued_uuids())
    client = Client()
    client.force_login(admin)
    url = f"/admin/users/user/{user.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        is_business_user="on",
        is_active="on",
        email=user.email,
        date_joined_0=str(user.date_joined.date()),
        date_joined_1=user.date_joined.strftime("%H:%M:%S"),
    )
    data.pop("groups", None)
    data.pop("user_permissions", None)

    response = client.post(url, data)

    assert response.status_code == 302, (
        response.context["adminform"].form.errors if response.context else response
    )
    assert queued_since(mark) == [str(user.uuid)]
    assert admin_site.is_registered(User)


def test_hard_delete_queues_the_uuid() -> None:
    user = UserFactory.create()
    ReferralCode.objects.filter(owner=user).delete()
    mark = len(queued_uuids())

    User.objects.filter(pk=user.pk).delete()

    assert queued_since(mark) == [str(user.uuid)]


def test_seed_demo_command() -> None:
    call_command("seed_demo", "--users", "20", stdout=__import__("io").StringIO())

    assert len(set(queued_uuids())) == User.objects.count() == 20


def test_a_rolled_back_change_is_not_queued() -> None:
    user = UserFactory.create()
    mark = len(queued_uuids())

    with pytest.raises(RuntimeError), transaction.atomic():
        user_deactivate(user=user)
        raise RuntimeError("abort")

    assert queued_since(mark) == []


def test_the_triggers_watch_every_column_the_export_reads() -> None:
    # The migration keeps its own list (migrations never import app code); this binds it
    # to what the tree service is sent, so a field added to one is not missed by the other.
    triggers = importlib.import_module("sync.migrations.0002_user_change_triggers")
    columns = {field.name: field.column for field in User._meta.concrete_fields}
    exported_columns = {
        columns["referred_by" if key == "referred_by_uuid" else key] for key in EXPORT_KEYS
    }

    assert exported_columns == set(triggers.SYNCED)
