"""The rules that turn a referred sign-up's signals into a flag with reasons: all of them,
here and nowhere else. Pure functions of the signals and the thresholds (settings)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from common.network import UNKNOWN_NETWORK

SAME_NETWORK_AS_REFERRER = "same_network_as_referrer"
BURST_FROM_NETWORK = "burst_from_network"
DISPOSABLE_EMAIL = "disposable_email"
REASONS = (SAME_NETWORK_AS_REFERRER, BURST_FROM_NETWORK, DISPOSABLE_EMAIL)


@dataclass(frozen=True)
class SignupSignals:
    """What is known of a sign-up under a referrer's code when it happens."""

    network: str  # the client's /24 or /64, or "unknown"
    user_agent_hash: str
    referrer_network: str | None  # the referrer's last sign-in network, if known
    email_verdict: str | None  # Hunter's, where one was made for this sign-up
    network_signups_last_hour: int  # with this code from this network, this one too

    @property
    def is_same_network_as_referrer(self) -> bool:
        return self.network != UNKNOWN_NETWORK and self.network == self.referrer_network


@dataclass(frozen=True)
class AbuseThresholds:
    burst_max: int  # sign-ups with one code from one network an hour, beyond which: a burst

    @classmethod
    def from_settings(cls) -> AbuseThresholds:
        return cls(burst_max=settings.REFERRAL_ABUSE_BURST_MAX)


def abuse_reasons(*, signals: SignupSignals, thresholds: AbuseThresholds) -> list[str]:
    """Why the sign-up looks like a referrer farming their own code, in REASONS' order;
    empty when nothing does."""
    reasons = []
    if signals.is_same_network_as_referrer:
        # The referrer signed in last from the network the invitee signs up from: one
        # household or office, or one person with two accounts.
        reasons.append(SAME_NETWORK_AS_REFERRER)
    if (
        signals.network != UNKNOWN_NETWORK
        and signals.network_signups_last_hour > thresholds.burst_max
    ):
        reasons.append(BURST_FROM_NETWORK)
    if signals.email_verdict == "disposable":
        reasons.append(DISPOSABLE_EMAIL)
    return reasons
