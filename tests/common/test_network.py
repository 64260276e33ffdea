"""common.network: what the service keeps of who is asking (a network, never a full
address) and which user agents are not people."""

from __future__ import annotations

import pytest

from common.network import is_crawler, network_prefix

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


class TestNetworkPrefix:
    @pytest.mark.parametrize(
        ("address", "network"),
        [
            ("203.0.113.77", "203.0.113.0/24"),
            ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
            ("::ffff:203.0.113.77", "203.0.113.0/24"),
            ("not an address", "unknown"),
            ("", "unknown"),
        ],
    )
    def test_keeps_a_slash_24_or_64(self, address: str, network: str) -> None:
        assert network_prefix(address) == network


class TestIsCrawler:
    @pytest.mark.parametrize(
        ("user_agent", "crawler"),
        [
            (BROWSER, False),
            ("Mozilla/5.0 (iPhone) AppleWebKit Telegram-iOS/11.2", False),
            ("TelegramBot (like TwitterBot)", True),
            ("facebookexternalhit/1.1", True),
            ("Mozilla/5.0 (compatible; Googlebot/2.1)", True),
            ("WhatsApp/2.23.20.0 A", True),
            ("curl/8.5.0", True),
            ("", True),
        ],
    )
    def test_tells_bots_scripts_and_previewers_from_browsers(
        self, user_agent: str, crawler: bool
    ) -> None:
        assert is_crawler(user_agent) is crawler
