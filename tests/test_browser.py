"""The web UI in a real browser: a live server (the FastAPI app with the Gradio UI, on a free loopback port) driven by
Playwright in a headless Chromium, checking what a user sees — the answer with its [n] markers, the cited passage with
the quote in <mark>, follow-ups, the empty-question message, the 数据一览 tab, inert markup and a clean console.

The browser is the system's Chromium (Playwright's own download is not used): ``/usr/bin/chromium`` or the path in
``AIDQA_CHROMIUM``. Without it these tests fail and say how to install it; ``AIDQA_SKIP_BROWSER=1`` skips them.
Every test leaves a screenshot in ``test-artifacts/browser/<test name>.png`` (also when it fails).
``AIDQA_UPDATE_DOCS_SCREENSHOT=1`` also rewrites the README's ``docs/screenshot-chat.png``.

No fixed sleeps: every wait is one of Playwright's auto-waiting ``expect`` assertions, with generous timeouts.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import serve_app

try:
    from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
except ImportError:  # reported by the `browser` fixture, with how to install it
    sync_playwright = None

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts" / "browser"
DOCS_SCREENSHOT = REPO / "docs" / "screenshot-chat.png"
REPORT = "tianjin-huangnan-report.txt"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = (
    "Install Debian's Chromium and CJK fonts: `sudo apt-get install -y chromium fonts-noto-cjk` (CI's .ci/run does "
    "this), or point AIDQA_CHROMIUM at a Chromium/Chrome binary, or set AIDQA_SKIP_BROWSER=1 to skip the browser tests."
)

SERVER_START = 60  # seconds for uvicorn to listen
READY = 120_000  # ms: the status line says the index is ready (it may still be building when the page opens)
ANSWER = 60_000  # ms: one answer (the model is loaded; a first answer still warms things up)
UI = 30_000  # ms: any other UI update

VIEWPORT = {"width": 1280, "height": 900}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

if os.environ.get("AIDQA_SKIP_BROWSER") == "1":
    pytestmark = pytest.mark.skip(reason="AIDQA_SKIP_BROWSER=1: the real-browser UI tests are skipped")


# ---- fixtures: one live server and one browser for the module; a fresh context (page) per test ------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium binary; a missing one is a failure that says how to install it (not a silent skip)."""
    path = os.environ.get("AIDQA_CHROMIUM") or DEFAULT_CHROMIUM
    resolved = shutil.which(path)
    if resolved is None:
        pytest.fail(f"Chromium not found at {path!r} (AIDQA_CHROMIUM). {INSTALL_HINT}", pytrace=False)
    return resolved


@pytest.fixture(scope="module")
def base_url(settings, assistant) -> Iterator[str]:
    """``aidqa.create_app`` served by uvicorn on a free loopback port in a background thread."""
    import httpx

    from aidqa.web.app import create_app

    with serve_app(create_app(settings, assistant), start_seconds=SERVER_START) as base:
        assert httpx.get(base + "/api/health", timeout=30).status_code in (200, 503)
        yield base


@pytest.fixture(scope="module")
def browser(chromium) -> Iterator[Browser]:
    if sync_playwright is None:
        pytest.fail("Playwright is not installed: `.venv/bin/pip install -e '.[test]'`.", pytrace=False)
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=chromium, headless=True)
        except Exception as exc:
            pytest.fail(f"Chromium at {chromium!r} did not start: {exc}\n{INSTALL_HINT}", pytrace=False)
        yield b
        b.close()


class Watch:
    """What went wrong on the page: uncaught exceptions, console errors, and requests that left the machine."""

    def __init__(self) -> None:
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []
        self.external: list[str] = []

    def attach(self, page: Page) -> None:
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("console", self._console)
        page.context.route("**/*", self._route)

    def _console(self, message) -> None:
        # Only errors count. Warnings are expected and harmless: Vega (the 数据一览 chart) logs "WARN The input spec
        # uses Vega-Lite v5…", "x-scale's zero is dropped…" and "Infinite extent…" for an empty chart.
        if message.type == "error":
            self.console_errors.append(f"{message.text} @ {message.location.get('url', '')}")

    def _route(self, route) -> None:
        """Everything must be served by our own server (the app runs offline): a request elsewhere is recorded and
        refused, so the tests behave the same with or without a network."""
        if urlparse(route.request.url).hostname in LOOPBACK or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def problems(self) -> list[str]:
        return (
            [f"page error: {e}" for e in self.page_errors]
            + [f"console error: {e}" for e in self.console_errors]
            + [f"request off the machine: {u}" for u in self.external]
        )


@pytest.fixture
def watch() -> Watch:
    return Watch()


@contextlib.contextmanager
def app_page(browser, base_url: str, watch, request) -> Iterator[Page]:
    """A fresh page on the app at ``base_url``, with the status line already saying "ready". At the end: a screenshot
    named after the test (taken also when the test failed), then no page error, console error or off-machine request
    is allowed."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=base_url)
    context.set_default_timeout(UI)
    pg = context.new_page()
    watch.attach(pg)
    try:
        pg.goto("/")
        expect(pg.locator("#aidqa-status")).to_contain_text("就绪", timeout=READY)  # "就绪：N 个段落（ready: N passages）"
        yield pg
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
        try:
            pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        finally:
            context.close()
    problems = watch.problems()
    assert not problems, "the page reported problems:\n" + "\n".join(problems)


@pytest.fixture
def page(browser, base_url, request, watch) -> Iterator[Page]:
    with app_page(browser, base_url, watch, request) as pg:
        yield pg


# ---- helpers -------------------------------------------------------------------------------------------------


def question_box(page: Page) -> Locator:
    return page.locator("#aidqa-question textarea")


def bot_messages(page: Page) -> Locator:
    return page.locator('#aidqa-chat [data-testid="bot"]')


def user_messages(page: Page) -> Locator:
    return page.locator('#aidqa-chat [data-testid="user"]')


def ask(page: Page, question: str, *, via: str = "enter") -> Locator:
    """Type a question and send it (Enter, or the 发送 button); returns the new bot message once it is there."""
    answers = bot_messages(page)
    before = answers.count()
    box = question_box(page)
    box.fill(question)
    if via == "enter":
        box.press("Enter")
    else:
        page.locator("#aidqa-send").click()
    expect(answers).to_have_count(before + 1, timeout=ANSWER)
    reply = answers.nth(before)
    expect(reply).not_to_contain_text("索引正在构建中")  # the page waited for "ready", so never "please wait"
    expect(box).to_have_value("", timeout=UI)  # the box is cleared after the turn, ready for the next question
    return reply


def citation_cards(page: Page) -> Locator:
    return page.locator("#aidqa-citations .aidqa-cite")


# ---- 1. a question gets a cited answer ----------------------------------------------------------------------


def test_question_gets_answer_with_marker_and_highlighted_citation(page):
    reply = ask(page, "天津对口支援黄南州累计投入了多少资金？")
    expect(reply).to_contain_text("18.51亿元", timeout=ANSWER)
    expect(reply).to_contain_text("[1]")
    expect(reply).to_contain_text("来源 · Sources")
    expect(reply).to_contain_text(REPORT)
    expect(user_messages(page).last).to_contain_text("天津对口支援黄南州累计投入了多少资金？")

    panel = page.locator("#aidqa-citations")
    expect(panel).to_contain_text(REPORT)
    expect(panel.locator(".aidqa-cite-head").first).to_contain_text("[1]")
    mark = panel.locator("mark").first
    expect(mark).to_contain_text("18.51亿元")
    expect(mark).to_be_visible()
    # The figure that answers the question is emphasised inside the highlighted quote.
    expect(mark.locator("strong.aidqa-answer-figure")).to_have_text("18.51亿元")


# ---- 2. the citation card: the passage, the quote highlighted inside it ------------------------------------------


def test_each_citation_shows_its_passage_with_the_quote_highlighted(page, assistant):
    question = "医疗方面投入了多少资金？"
    expected = assistant.ask(question)  # what the page must show: the same Answer the UI renders
    assert len(expected.citations) >= 3
    reply = ask(page, question, via="button")
    for c in expected.citations:
        expect(reply).to_contain_text(f"[{c.id}]")

    cards = citation_cards(page)
    expect(cards).to_have_count(len(expected.citations))
    figures = {"700万元", "1000万元", "1400万元"}
    seen: set[str] = set()
    for card, c in zip(cards.all(), expected.citations):
        # The panel has no per-citation link or button to open: each card is the opened citation. Bring it into
        # view (as a reader scrolling to it) and check what it shows.
        card.scroll_into_view_if_needed()
        expect(card).to_be_visible()
        head = card.locator(".aidqa-cite-head")
        expect(head).to_contain_text(f"[{c.id}]")
        expect(head).to_contain_text(c.source)
        expect(head.locator(".aidqa-section")).to_have_text(c.section)
        passage = card.locator(".aidqa-passage")
        expect(passage).to_have_text(c.passage)  # the whole passage, the quote and the text around it
        marks = passage.locator("mark")
        expect(marks).to_have_count(1)
        expect(marks).to_have_text(c.quote)  # exactly the quote is highlighted
        seen |= {f for f in figures if f in c.quote}
        # The quote sits where the citation says: the text before the <mark> is the passage up to the quote.
        i = c.start - c.passage_start
        before = passage.evaluate("el => el.textContent.slice(0, el.textContent.indexOf(el.querySelector('mark').textContent))")
        assert before == c.passage[:i]
    assert seen == figures
    # Citations 2 and 3 are quotes in the middle of their paragraph: there is context shown on both sides.
    assert any(c.passage != c.quote for c in expected.citations)

    if os.environ.get("AIDQA_UPDATE_DOCS_SCREENSHOT") == "1":  # the README's picture; never written by CI
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(DOCS_SCREENSHOT), full_page=True)


# ---- 3. a follow-up question is read in the light of the previous one --------------------------------------------


def test_follow_up_is_understood_from_the_previous_question(page):
    first = ask(page, "天津给尖扎县医院投入了多少援青资金？")
    expect(first).to_contain_text("700万元")
    second = ask(page, "那泽库县呢？")
    expect(second).to_contain_text("1000万元")
    reading = second.locator("em", has_text="按上文理解为")  # *按上文理解为：…* — how the follow-up was understood
    expect(reading).to_have_count(1)
    expect(reading).to_contain_text("泽库县")
    expect(second).to_contain_text("[1]")
    expect(page.locator("#aidqa-citations mark").first).to_contain_text("1000万元")
    expect(user_messages(page)).to_have_count(2)


# ---- 4. empty and whitespace-only questions ---------------------------------------------------------------------


def test_empty_question_gets_a_clear_message_and_the_chat_keeps_working(page):
    empty = ask(page, "", via="button")
    expect(empty).to_contain_text("请输入问题")
    blank = ask(page, "   \t  ")
    expect(blank).to_contain_text("请输入问题")
    expect(user_messages(page)).to_have_count(0)  # nothing to show as the user's turn
    expect(page.locator("#aidqa-chat")).not_to_contain_text("出错了")  # the "something went wrong" reply
    expect(page.locator("#aidqa-citations mark")).to_have_count(0)
    expect(page.locator("#aidqa-status")).to_contain_text("就绪")

    reply = ask(page, "举办了多少场招聘活动？")
    expect(reply).to_contain_text("18场")
    expect(reply).to_contain_text("[1]")
    expect(page.locator("#aidqa-citations mark").first).to_contain_text("18场")


# ---- 5. the 数据一览 (Figures) tab --------------------------------------------------------------------------------


def test_figures_tab_search_and_click_shows_the_figure_in_its_passage(page):
    page.get_by_role("tab", name="数据一览 Figures").click()
    summary = page.locator("#aidqa-figs-summary")
    expect(summary).to_contain_text(re.compile(r"显示 \d+ / \d+ 条数字"), timeout=READY)
    table = page.locator("#aidqa-figs-table")
    rows = table.locator('[role="row"].virtual-row')
    expect(rows.first).to_be_visible()
    expect(table).to_contain_text("18.51亿元")  # unfiltered: the report's headline figure is listed

    search = page.locator("#aidqa-figs-text input")
    search.fill("医疗")
    # Gradio's Textbox fires its `input` event on key presses, and text that arrives without one (pasted, or from a
    # Chinese IME, like Playwright's fill) does not; Enter submits the search either way.
    search.press("Enter")
    for figure in ("700万元", "1000万元", "1400万元"):
        expect(rows.filter(has_text=figure)).to_have_count(1)
    expect(table).not_to_contain_text("18.51亿元")
    expect(summary).to_contain_text(re.compile(r"显示 \d+ / \d+"))

    rows.filter(has_text="1000万元").locator('[role="gridcell"]').first.click()
    passage = page.locator("#aidqa-figs-passage")
    mark = passage.locator(".aidqa-fig-passage mark")
    expect(mark).to_have_text("1000万元")
    expect(passage.locator(".aidqa-fig-sentence")).to_contain_text("泽库县")  # the figure's sentence, underlined
    expect(passage.locator(".aidqa-fig-head")).to_contain_text("1000万元")
    expect(passage).to_contain_text(REPORT)

    rows.filter(has_text="1400万元").locator('[role="gridcell"]').first.click()
    expect(mark).to_have_text("1400万元")
    expect(passage).to_contain_text("河南县")


# ---- 6. markup typed as a question stays text ------------------------------------------------------------------


def test_markup_in_a_question_is_shown_as_text_not_run(page):
    payload = '<img src=x onerror="window.__aidqa_xss=1"><b>粗体</b>'
    reply = ask(page, payload)
    expect(user_messages(page).last).to_contain_text('<img src=x onerror="window.__aidqa_xss=1"><b>粗体</b>')
    expect(reply).to_be_visible()
    chat = page.locator("#aidqa-chat")
    expect(chat.locator(".message-content img")).to_have_count(0)
    expect(chat.locator(".message-content b")).to_have_count(0)
    expect(page.locator("#aidqa-citations img")).to_have_count(0)
    assert page.evaluate("() => window.__aidqa_xss") is None


# ---- 7. no page errors across the whole UI ------------------------------------------------------------------------


def test_whole_ui_runs_without_page_errors(page, watch):
    """Load, ask, open the other tab and come back: no uncaught exception, no console error and nothing fetched from
    outside the machine. (The `page` fixture checks the same after every test; this test makes it explicit.)"""
    reply = ask(page, "How many projects has Tianjin implemented?")
    expect(reply).to_contain_text("567")
    page.get_by_role("tab", name="数据一览 Figures").click()
    expect(page.locator("#aidqa-figs-summary")).to_contain_text("显示", timeout=READY)
    expect(page.locator("#aidqa-figs-chart")).to_be_visible()
    page.get_by_role("tab", name="问答 Chat").click()
    expect(bot_messages(page)).to_have_count(1)
    page.locator("#aidqa-clear").click()
    expect(bot_messages(page)).to_have_count(0)
    expect(page.locator("#aidqa-citations")).to_contain_text("提问后")
    assert watch.problems() == []


# ---- 8. a report's planted link, through the LLM backend: shown as text, nothing fetched -------------------------


@pytest.fixture(scope="module")
def planted_url(assistant, tmp_path_factory) -> Iterator[str]:
    """The app over a report that plants an instruction and an outside link, answering with the LLM backend
    against ``tests/fake_openai.py`` following the instruction."""
    from fake_openai import INJECTION, OUTSIDE_IMAGE, FakeOpenAI

    from aidqa import Assistant
    from aidqa.settings import Settings
    from aidqa.web.app import create_app

    corpus = tmp_path_factory.mktemp("planted-corpus")
    (corpus / "annual.txt").write_text(
        f"年度工作报告\n\n全年累计投入资金3.2亿元，实施项目45个。{INJECTION}。{OUTSIDE_IMAGE}\n", encoding="utf-8")
    with FakeOpenAI(script="injection") as fake:
        settings = Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("planted-index"),
                            answering={"backend": "llm"}, llm={"base_url": fake.base_url, "model": "fake"})
        planted = Assistant(settings)
        planted._embeddings = assistant.embeddings  # the session's loaded model
        with serve_app(create_app(settings, planted), start_seconds=SERVER_START) as base:
            yield base


def test_a_planted_link_is_text_and_nothing_is_fetched(browser, planted_url, watch, request):
    with app_page(browser, planted_url, watch, request) as page:
        reply = ask(page, "统计图在哪里？")
        expect(reply).to_contain_text("注：未采用大模型的回答")  # the injection-following reply was dropped
        expect(reply).to_contain_text("evil.example")  # the report's text, quoted as text
        expect(reply).not_to_contain_text("已被攻破")
        chat = page.locator("#aidqa-chat")
        expect(chat.locator(".message-content img")).to_have_count(0)
        expect(chat.locator(".message-content a[href*='evil']")).to_have_count(0)
