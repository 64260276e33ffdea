"""Profile links are parsed, never searched: the host is compared exactly with the
network's own, and everything that is not an http(s) link naming an account is refused."""

from __future__ import annotations

import pytest

from social.errors import SocialLinkInvalidError, SocialLinkNetworkMismatchError
from social.links import NETWORK_HOSTS, link_normalize
from social.models import Network


class TestLinkNormalize:
    @pytest.mark.parametrize(
        ("network", "link", "stored"),
        [
            ("vk", "https://vk.com/durov", "https://vk.com/durov"),
            ("vk", "HTTPS://WWW.VK.COM/durov/", "https://vk.com/durov"),
            ("vk", "https://m.vk.com/id1", "https://m.vk.com/id1"),
            ("telegram", "https://t.me/anna_k", "https://t.me/anna_k"),
            ("telegram", "http://telegram.me/anna_k", "http://telegram.me/anna_k"),
            ("ok", "https://ok.ru/profile/5712", "https://ok.ru/profile/5712"),
            ("github", "https://github.com:443/octocat", "https://github.com/octocat"),
            ("github", "http://github.com:80/octocat", "http://github.com/octocat"),
            ("x", "https://x.com/jack", "https://x.com/jack"),
            ("x", "https://twitter.com/jack", "https://twitter.com/jack"),
            ("facebook", "https://m.facebook.com/zuck", "https://m.facebook.com/zuck"),
            ("instagram", "https://www.instagram.com/nasa/", "https://instagram.com/nasa"),
            ("youtube", "https://youtu.be/@nasa", "https://youtu.be/@nasa"),
            ("youtube", "https://m.youtube.com/@nasa?x=1", "https://m.youtube.com/@nasa?x=1"),
            # The path keeps its case: on most networks it is the account's own name.
            ("github", "https://GitHub.com/OctoCat", "https://github.com/OctoCat"),
            # Full-width letters are vk.com itself in IDNA (as in a browser).
            ("vk", "https://\uff56\uff4b.com/durov", "https://vk.com/durov"),
        ],
    )
    def test_stores_the_link_normalized(self, network: str, link: str, stored: str) -> None:
        assert link_normalize(network=network, link=link) == stored

    @pytest.mark.parametrize(
        "link",
        [
            "https://evil.com/?vk.com",
            "https://vk.com.evil.com/durov",
            "https://evilvk.com/durov",
            "https://vk.com./durov",
            "https://xn--vk-1ca.com/durov",
            "https://v\u043a.com/durov",  # a Cyrillic к
            "https://t.me/durov",  # another network's host
            "https://[::1]/durov",
            "https://vk%2Ecom/durov",
        ],
    )
    def test_refuses_another_host_as_a_mismatch(self, link: str) -> None:
        with pytest.raises(SocialLinkNetworkMismatchError):
            link_normalize(network="vk", link=link)

    @pytest.mark.parametrize(
        "link",
        [
            "evil.com/?vk.com",
            "vk.com/durov",
            "javascript:alert(1)",
            "javascript://vk.com/%0Aalert(1)",
            "ftp://vk.com/durov",
            "data:text/html,vk.com",
            "//vk.com/durov",
            "https://user@vk.com@evil.com/x",
            "https://user@vk.com/durov",
            "https://user:pass@vk.com/durov",
            "https://@vk.com/durov",
            "https://vk.com:8443/durov",
            "https://vk.com:99999/durov",
            "https://vk.com:x/durov",
            "https://vk.com",
            "https://vk.com/",
            "https://vk.com//",
            "https://vk.com/?id=1",
            "https://vk.com\\@evil.com/durov",
            "https://vk.com/du rov",
            "https://vk.com/durov\n",
            "https://vk.com/\x00",
            "https:///durov",
            "https://vk..com/durov",
            "https://" + "a" * 64 + ".vk.com/durov",
            "https://vk.com/" + "d" * 10_000,
            "",
        ],
    )
    def test_refuses_what_is_not_an_http_link_naming_an_account(self, link: str) -> None:
        with pytest.raises(SocialLinkInvalidError):
            link_normalize(network="vk", link=link)

    def test_every_network_has_its_hosts_in_the_one_table(self) -> None:
        assert set(NETWORK_HOSTS) == set(Network.values)
        assert NETWORK_HOSTS["youtube"] == {"youtube.com", "m.youtube.com", "youtu.be"}

    def test_an_unknown_network_matches_no_host(self) -> None:
        with pytest.raises(SocialLinkNetworkMismatchError):
            link_normalize(network="myspace", link="https://vk.com/durov")
