"""Page numbers of the paginated lists (common.api.PageNumberPagination): a malformed one is
a 400 on `page`, one past the end a 404, however far."""

from __future__ import annotations

import pytest

from tests.common.helpers import assert_envelope
from tests.helpers import client_for
from users.models import User

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/codes/",
    "/api/referrals/",
    "/api/referrals/?search=a",
    "/api/referrals/tree/",
    "/api/users/{uuid}/referrals/",
]


class TestPageNumber:
    @pytest.mark.parametrize("path", LISTS)
    @pytest.mark.parametrize("page", ["abc", "0", "-1"])
    def test_refuses_a_malformed_one_with_400(self, user: User, path: str, page: str) -> None:
        response = client_for(user).get(path.format(uuid=user.uuid), {"page": page})

        assert response.status_code == 400
        assert response.json()["errors"][0]["attr"] == "page"

    @pytest.mark.parametrize("path", LISTS)
    @pytest.mark.parametrize("page", ["50", "922337203685477580", "9" * 40])
    def test_answers_404_past_the_end(self, user: User, path: str, page: str) -> None:
        """However far: an offset past what the database can take is no 500."""
        response = client_for(user).get(path.format(uuid=user.uuid), {"page": page})

        assert_envelope(response, 404, "not_found")
