"""Profile links: which hosts each network answers on, and one link's normalized form.

A link is parsed (urllib.parse), never searched for a host name: `https://evil.com/?vk.com`
is on evil.com. The host is compared exactly, in its ASCII (IDNA) form, with the
network's own hosts below: the one table of them.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

from social.errors import SocialLinkInvalidError, SocialLinkNetworkMismatchError
from social.models import LINK_MAX_LENGTH, Network

NETWORK_HOSTS: dict[str, frozenset[str]] = {
    Network.VK: frozenset({"vk.com", "m.vk.com"}),
    Network.TELEGRAM: frozenset({"t.me", "telegram.me"}),
    Network.OK: frozenset({"ok.ru"}),
    Network.GITHUB: frozenset({"github.com"}),
    Network.X: frozenset({"x.com", "twitter.com"}),
    Network.FACEBOOK: frozenset({"facebook.com", "m.facebook.com"}),
    Network.INSTAGRAM: frozenset({"instagram.com"}),
    Network.YOUTUBE: frozenset({"youtube.com", "m.youtube.com", "youtu.be"}),
}
DEFAULT_PORTS = {"http": 80, "https": 443}
# Whitespace and control characters: urlsplit drops some of them silently, browsers
# others; a link with any is refused rather than guessed at.
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


def link_normalize(*, network: str, link: str) -> str:
    """`link` as stored: scheme and host lower-cased (the host in ASCII), `www.` and a
    default port dropped, the path without its trailing slash; query and fragment kept.
    Raises SocialLinkInvalidError when it is not an http(s) link naming an account, and
    SocialLinkNetworkMismatchError when its host is not one of `network`'s own."""
    parts = _split(link)
    host = _ascii_host(parts)
    if host.startswith("www."):
        host = host[len("www.") :]
    if host not in NETWORK_HOSTS.get(network, frozenset()):
        raise SocialLinkNetworkMismatchError()
    path = parts.path.rstrip("/")
    if not path:
        raise SocialLinkInvalidError()  # the network's home page names no account
    normalized = f"{parts.scheme.lower()}://{host}{path}"
    if parts.query:
        normalized += f"?{parts.query}"
    if parts.fragment:
        normalized += f"#{parts.fragment}"
    return normalized


def _split(link: str) -> SplitResult:
    if len(link) > LINK_MAX_LENGTH or _UNSAFE.search(link):
        raise SocialLinkInvalidError()
    try:
        parts = urlsplit(link)
        port = parts.port  # ValueError for a port that is not a number in range
    except ValueError as exc:
        raise SocialLinkInvalidError() from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or parts.username is not None or parts.password is not None:
        raise SocialLinkInvalidError()
    if (port is not None and port != DEFAULT_PORTS[scheme]) or not parts.hostname:
        raise SocialLinkInvalidError()
    return parts


def _ascii_host(parts: SplitResult) -> str:
    """The host as DNS sees it: a look-alike in another script (`vк.com`, with a Cyrillic
    letter) becomes its punycode (`xn--v-...`), which no network's host is."""
    host = parts.hostname or ""
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise SocialLinkInvalidError() from exc
