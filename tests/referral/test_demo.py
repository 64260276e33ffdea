"""referral.demo: the demo forest, generated without a database."""

from __future__ import annotations

from datetime import UTC, datetime

from codes.models import GENERATED_ALPHABET
from referral.demo import (
    CHAIN_LENGTH,
    GUARANTEE_FROM,
    INFLUENCER_REFERRALS,
    USER_COLUMNS,
    Forest,
    forest_summary,
    generate_forest,
    user_rows,
)
from referral.models import to_base36

START = datetime(2025, 1, 1, tzinfo=UTC)


def forest(size: int, **overrides: object) -> Forest:
    options: dict[str, object] = {
        "size": size,
        "seed": 7,
        "first_user_id": 100,
        "first_code_id": 500,
        "start": START,
        "max_depth": 250,
        "code_length": 8,
        "taken_codes": set(),
        "taken_contacts": {},
    }
    options.update(overrides)
    return generate_forest(**options)  # type: ignore[arg-type]


class TestGenerateForest:
    def test_is_reproducible_from_its_seed(self) -> None:
        first, again, other = forest(500), forest(500), forest(500, seed=8)

        assert (list(first.parent), first.codes, first.uuids) == (
            list(again.parent),
            again.codes,
            again.uuids,
        )
        assert list(first.parent) != list(other.parent)

    def test_paths_and_depths_follow_the_referrer_chain(self) -> None:
        generated = forest(2_000)

        for index in range(generated.size):
            referrer = generated.parent[index]
            own_prefix = generated.prefix[index]
            assert own_prefix.endswith(f"/{to_base36(generated.first_user_id + index)}/")
            if referrer < 0:
                assert (generated.depth[index], own_prefix.count("/")) == (0, 2)
            else:
                assert referrer < index  # a referrer signed up first
                assert generated.depth[index] == generated.depth[referrer] + 1
                assert own_prefix.startswith(generated.prefix[referrer])

    def test_counts_each_referral_on_its_referrer(self) -> None:
        generated = forest(1_000)

        made = [0] * generated.size
        for referrer in generated.parent:
            if referrer >= 0:
                made[referrer] += 1
        assert made == list(generated.referrals)

    def test_never_chains_deeper_than_allowed(self) -> None:
        assert max(forest(3_000, max_depth=3).depth) <= 3

    def test_codes_are_unique_of_the_alphabet_and_length_and_not_taken(self) -> None:
        taken = {forest(300).codes[0]}

        generated = forest(300, code_length=5, taken_codes=taken)

        assert len(set(generated.codes)) == 300
        assert not taken & set(generated.codes)
        assert all(
            len(code) == 5 and set(code) <= set(GENERATED_ALPHABET) for code in generated.codes
        )

    def test_a_taken_email_gets_another_and_a_taken_phone_is_left_out(self) -> None:
        plain = forest(200)
        phones = {row[USER_COLUMNS.index("phone")] for row in user_rows(plain, password_hash="x")}
        taken_phone = next(phone for phone in phones if phone)
        taken = {"email": {plain.email(0)}, "phone": {taken_phone}}

        generated = forest(200, taken_contacts=taken)
        rows = list(user_rows(generated, password_hash="x"))

        emails = [row[USER_COLUMNS.index("email")] for row in rows]
        assert emails[0] != plain.email(0) and emails[0].endswith("@demo.example")
        assert taken_phone not in {row[USER_COLUMNS.index("phone")] for row in rows}

    def test_a_large_forest_has_the_shapes_benchmarks_need(self) -> None:
        summary = forest_summary(forest(GUARANTEE_FROM))

        assert summary["most_referrals"]["direct_referrals"] >= INFLUENCER_REFERRALS
        assert summary["deepest_leaf"]["depth"] >= CHAIN_LENGTH - 1
        assert summary["users"] == GUARANTEE_FROM
