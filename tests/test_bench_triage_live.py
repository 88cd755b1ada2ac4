"""The live triage benchmark's figures (bench/triage_live): the verdict against the 2 s bar and its README block."""

from bench.triage_live.__main__ import SECTION_BEGIN, SECTION_END, markdown


def test_the_figures_count_the_rounds_within_two_seconds():
    text = markdown([400.0, 2500.0, 1900.0, 300.0], "meta")
    assert text.startswith(SECTION_BEGIN) and text.endswith(SECTION_END)
    assert "| 4 | 1150 | 2500 | 300 | 2500 | 3 of 4 |" in text
    assert "Per round: 400, 2500, 1900, 300." in text
