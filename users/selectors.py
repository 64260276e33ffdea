from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from codes.models import ReferralCode
from users.errors import UserNotFoundError
from users.models import User


def user_profile_get(*, user: User) -> User:
    """`user` with what the profile shows, in one query: the referrer and the code used
    (`referred_by`, `referred_with_code`), `referrals_count`, and the active code
    (`active_code`, `active_code_expires_at`; None when there is none)."""
    active_code = ReferralCode.objects.filter(owner=OuterRef("pk"), is_active=True)
    direct_count = (
        User.objects.filter(referred_by=OuterRef("pk"))
        .order_by()
        .values("referred_by")
        .annotate(count=Count("pk"))
        .values("count")
    )
    try:
        return (
            User.objects.select_related("referred_by", "referred_with_code")
            .annotate(
                referrals_count=Coalesce(
                    Subquery(direct_count, output_field=IntegerField()), Value(0)
                ),
                active_code=Subquery(active_code.values("code")[:1]),
                active_code_expires_at=Subquery(active_code.values("expires_at")[:1]),
            )
            .get(pk=user.pk)
        )
    except User.DoesNotExist as exc:
        raise UserNotFoundError() from exc
