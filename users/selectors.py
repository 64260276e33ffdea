from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from codes.models import ReferralCode
from users.errors import UserNotFoundError
from users.models import User


def referrals_count_expression() -> Coalesce:
    """The number of direct referrals of each row, as an annotation: a correlated subquery
    answered by users_user_referrals_idx for just the rows fetched, rather than a
    Count() over a join that groups the whole table first."""
    per_referrer = (
        User.objects.filter(referred_by=OuterRef("pk"))
        .order_by()
        .values("referred_by")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(per_referrer, output_field=IntegerField()), Value(0))


def user_profile_get(*, user: User) -> User:
    """`user` with what the profile shows, in one query: the referrer and the code used
    (`referred_by`, `referred_with_code`), `referrals_count`, and the active code
    (`active_code`, `active_code_expires_at`; None when there is none)."""
    active_code = ReferralCode.objects.filter(owner=OuterRef("pk"), is_active=True)
    try:
        return (
            User.objects.select_related("referred_by", "referred_with_code")
            .annotate(
                referrals_count=referrals_count_expression(),
                active_code=Subquery(active_code.values("code")[:1]),
                active_code_expires_at=Subquery(active_code.values("expires_at")[:1]),
            )
            .get(pk=user.pk)
        )
    except User.DoesNotExist as exc:
        raise UserNotFoundError() from exc
