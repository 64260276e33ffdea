"""Who is asking, as far as the service keeps it: a network, never a full address; a hash
of the user agent, never the string."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

# What network_prefix gives for anything that is not an address.
UNKNOWN_NETWORK = "unknown"
# IPv4 addresses are kept to their /24, IPv6 to their /64 (one subscriber's whole range).
_PREFIX_LENGTH = {4: 24, 6: 64}

# Link previewers and crawlers that fetch a shared link without a person behind them.
_CRAWLER = re.compile(
    # Not "Telegram" or "Instagram" as such: their in-app browsers carry people.
    r"bot\b|bot/|crawl|spider|slurp|preview|facebookexternalhit|whatsapp/|vkshare|"
    r"embedly|quora link|outbrain|pinterest/|headless|curl/|wget/|python-requests|"
    r"httpclient|okhttp|go-http-client|java/",
    re.IGNORECASE,
)


def client_ip(request: HttpRequest) -> str:
    """The client's address as the throttles see it: REMOTE_ADDR, or the X-Forwarded-For
    entry DJANGO_NUM_PROXIES trusted proxies appended; nothing a client can forge
    beyond those."""
    return BaseThrottle().get_ident(request) or ""  # type: ignore[arg-type]


def network_prefix(address: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) network of `address` in CIDR notation; "unknown" for
    anything that is not an address."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return UNKNOWN_NETWORK
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    network = ipaddress.ip_network(f"{ip}/{_PREFIX_LENGTH[ip.version]}", strict=False)
    return str(network)


def user_agent_hash(user_agent: str) -> str:
    """A keyed hash of a user agent: equal agents compare equal, and the string cannot be
    read back or looked up in a table of common agents without the secret key."""
    return hmac.new(
        settings.SECRET_KEY.encode(), user_agent.encode("utf-8", "replace"), hashlib.sha256
    ).hexdigest()


def is_crawler(user_agent: str) -> bool:
    """Whether a user agent is a bot, crawler, link previewer or script; an empty one
    counts as one (browsers always send theirs)."""
    return not user_agent.strip() or _CRAWLER.search(user_agent) is not None


@dataclass(frozen=True)
class ClientFacts:
    """What a sign-up or a sign-in keeps of who made it: the network (never the address)
    and a keyed hash of the user agent (never the string). Built by the view, which has
    the request; services take this instead."""

    network: str
    user_agent_hash: str

    @classmethod
    def of(cls, request: HttpRequest) -> ClientFacts:
        return cls(
            network=network_prefix(client_ip(request)),
            user_agent_hash=user_agent_hash(request.META.get("HTTP_USER_AGENT", "")),
        )

    @classmethod
    def unknown(cls) -> ClientFacts:
        """For a write that no request made (the admin's own forms, scripts, tests)."""
        return cls(network=UNKNOWN_NETWORK, user_agent_hash="")
