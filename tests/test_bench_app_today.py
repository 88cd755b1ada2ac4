"""The citizen app benchmark's figures (bench/app_today): spread, budget verdict and what counts as the shell."""

from bench.app_today.__main__ import Figures, is_shell, markdown, spread


def test_spread_gives_median_p90_min_max_and_the_rounds_within_one_second():
    assert spread([900.0, 1100.0, 700.0, 1500.0, 1000.0]) == "1000 | 1500 | 700 | 1500 | 3 of 5"


def test_the_shell_is_everything_but_the_api_and_the_socket():
    assert is_shell("/app/ (sent by the service worker)")
    assert is_shell("/static/borgerapp/js/main.js (the page's own request)")
    assert not is_shell("/api/v1/me/today (sent by the service worker)")
    assert not is_shell("/ws/app/ (the page's own request)")


def test_the_section_says_whether_the_first_load_is_within_the_budget_and_names_shell_requests():
    figures = Figures(warm_ms=[800.0], cold_ms=[1200.0], first_load_bytes=[250 * 1024], warm_network=[[]])
    text = markdown(figures, "meta")
    assert "NOT within" in text and "requests for the shell that reached the network: **none**" in text
    figures = Figures(
        warm_ms=[800.0],
        cold_ms=[1200.0],
        first_load_bytes=[100 * 1024],
        warm_network=[["/app/ (sent by the service worker)", "/api/v1/me/today (sent by the service worker)"]],
    )
    text = markdown(figures, "meta")
    assert "NOT within" not in text and "`/app/ (sent by the service worker)`; data requests: `/api/v1/me" in text
