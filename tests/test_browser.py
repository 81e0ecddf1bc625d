"""The web UI in a real browser: a live server (the FastAPI app with the Gradio UI, on a free loopback port) driven by
Playwright in a headless Chromium, at a desktop size (1366×900) and a phone's (390×844), checking what a user sees —
[n] markers that open, scroll to and highlight their source card under the answer they belong to (by mouse and by
keyboard, on old answers too), answers streamed as they are verified, a Chinese page (lang, labels, Gradio's own
strings), the character counter and the over-length message that keeps the text, examples that ask, 👍/👎 feedback
stored on the server, nothing wider than a phone's screen, follow-ups, the 数据一览 tab, inert markup and a clean
console.

The browser is the system's Chromium (Playwright's own download is not used): ``/usr/bin/chromium`` or the path in
``AIDQA_CHROMIUM``. Without it these tests fail and say how to install it; ``AIDQA_SKIP_BROWSER=1`` skips them.
Every test leaves a screenshot in ``test-artifacts/browser/<test name>.png`` (also when it fails).
``AIDQA_UPDATE_DOCS_SCREENSHOT=1`` also rewrites the README's screenshots in ``docs/screenshots/`` — an answer with
its citation highlighted, the feedback box and the 数据一览 tab, each at desktop and phone size (small PNGs).

No fixed sleeps: every wait is one of Playwright's auto-waiting ``expect`` assertions, with generous timeouts.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import serve_app

from aidqa.qa.examples import GENERIC_EXAMPLES

try:
    from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
except ImportError:  # reported by the `browser` fixture, with how to install it
    sync_playwright = None

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts" / "browser"
DOCS = REPO / "docs" / "screenshots"
DOCS_MAX_BYTES = 300_000
UPDATE_DOCS = os.environ.get("AIDQA_UPDATE_DOCS_SCREENSHOT") == "1"  # the README's pictures; never set by CI
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

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SIZES = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]
TITLE = "天津对口支援青海省黄南州"
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
def feedback_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("browser-feedback")


@pytest.fixture(scope="module")
def base_url(settings, assistant, feedback_dir) -> Iterator[str]:
    """``aidqa.create_app`` served by uvicorn on a free loopback port in a background thread (the session's model
    and index; feedback goes to a folder of its own)."""
    import httpx

    from aidqa import Assistant
    from aidqa.web.app import create_app

    own = settings.model_copy(update={"feedback": settings.feedback.model_copy(update={"dir": feedback_dir})})
    served = Assistant(own)
    served._embeddings = assistant.embeddings
    with serve_app(create_app(own, served), start_seconds=SERVER_START) as base:
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
        self.console_warnings: list[str] = []
        self.external: list[str] = []

    def attach(self, page: Page) -> None:
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("console", self._console)
        page.context.route("**/*", self._route)

    def _console(self, message) -> None:
        # Only errors count here. Warnings are kept for the tests that look at them: Vega (the 数据一览 chart) logs
        # "WARN The input spec uses Vega-Lite v5…" whenever it draws, harmlessly, and "Infinite extent…" for an empty
        # chart — which the tab never draws.
        if message.type == "error":
            self.console_errors.append(f"{message.text} @ {message.location.get('url', '')}")
        elif message.type == "warning":
            self.console_warnings.append(message.text)

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
def app_page(browser, base_url: str, watch, request, viewport: dict | None = None, locale: str = "zh-CN") -> Iterator[Page]:
    """A fresh page on the app at ``base_url`` (desktop size unless ``viewport``), with the status line already
    naming the loaded reports. At the end: a screenshot named after the test (taken also when the test failed), then
    no page error, console error or off-machine request is allowed."""
    context = browser.new_context(viewport=viewport or DESKTOP, locale=locale, base_url=base_url)
    context.set_default_timeout(UI)
    pg = context.new_page()
    watch.attach(pg)
    try:
        pg.goto("/")
        expect(pg.locator("#aidqa-status")).to_contain_text("已载入", timeout=READY)  # "已载入 1 份报告：《…》"
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
    """The app at desktop size, or at the size of the test's ``size`` parameter."""
    size = request.node.callspec.params.get("size") if hasattr(request.node, "callspec") else None
    with app_page(browser, base_url, watch, request, viewport=size) as pg:
        yield pg


# ---- helpers -------------------------------------------------------------------------------------------------


def question_box(page: Page) -> Locator:
    return page.locator("#aidqa-question textarea")


def bot_messages(page: Page) -> Locator:
    return page.locator('#aidqa-chat [data-testid="bot"]')


def user_messages(page: Page) -> Locator:
    return page.locator('#aidqa-chat [data-testid="user"]')


def wait_for_answer(page: Page, before: int) -> Locator:
    """The bot message after the first ``before`` ones, once it is final (no longer "正在查找答案……" or streaming)."""
    answers = bot_messages(page)
    expect(answers).to_have_count(before + 1, timeout=ANSWER)
    reply = answers.nth(before)
    expect(reply.locator(".aidqa-streaming")).to_have_count(0, timeout=ANSWER)  # "正在查找答案……", "……": not final
    expect(reply).not_to_contain_text("索引正在建立中")  # the page waited for the reports, so never "please wait"
    return reply


def ask(page: Page, question: str, *, via: str = "enter") -> Locator:
    """Type a question and send it (Enter, or the 发送 button); returns the new bot message once it is final."""
    before = bot_messages(page).count()
    box = question_box(page)
    box.fill(question)
    if via == "enter":
        box.press("Enter")
    else:
        page.locator("#aidqa-send").click()
    reply = wait_for_answer(page, before)
    expect(box).to_have_value("", timeout=UI)  # the box is cleared when a question is taken
    return reply


def marker(reply: Locator, n: int) -> Locator:
    return reply.locator("a.aidqa-ref", has_text=f"[{n}]").first


def answer_text(reply: Locator) -> str:
    """The text of a bot message without its sources block."""
    return reply.evaluate("m => { const c = m.cloneNode(true); c.querySelectorAll('details').forEach(d => d.remove());"
                          " return c.textContent; }")


def card_of(page: Page, link: Locator) -> Locator:
    """The source card a marker link names."""
    return page.locator(link.get_attribute("href"))


def fits_width(page: Page) -> None:
    """Nothing on the page is wider than the screen (no sideways scrolling)."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("document.body.scrollWidth") <= width


def no_element_wider_than_the_screen(page: Page, root: str = "body") -> None:
    """No visible element under ``root`` reaches past the right edge of the screen (stricter than ``fits_width``: a
    child of a clipping container counts too)."""
    width = page.viewport_size["width"]
    wide = page.evaluate("""([root, width]) => [...document.querySelectorAll(root + ' *')]
        .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.right > width + 1; })
        .slice(0, 5).map(e => `${e.tagName}#${e.id}.${String(e.className).slice(0, 40)} right=${e.getBoundingClientRect().right}`)""",
                         [root, width])
    assert wide == [], f"wider than the {width}px screen: {wide}"


def docs_screenshot(page: Page, name: str) -> None:
    """One of the README's pictures: the screen as a user sees it (not the whole page), as a palette PNG so that it
    stays small."""
    if UPDATE_DOCS:
        from PIL import Image  # installed with gradio

        DOCS.mkdir(parents=True, exist_ok=True)
        path = DOCS / name
        page.screenshot(path=str(path))
        with Image.open(path) as shot:
            shot.convert("RGB").quantize(colors=128).save(path, optimize=True)
        assert path.stat().st_size < DOCS_MAX_BYTES, f"{name}: {path.stat().st_size} bytes"


# ---- 1. citations that work like links ------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_a_marker_opens_scrolls_to_and_highlights_its_source(page, size):
    reply = ask(page, "天津对口支援黄南州累计投入了多少资金？")
    expect(reply).to_contain_text("18.51亿元")
    expect(user_messages(page).last).to_contain_text("天津对口支援黄南州累计投入了多少资金？")
    link = marker(reply, 1)
    expect(link).to_be_visible()
    expect(link).to_have_attribute("title", re.compile(f"《{TITLE}》.*18.51亿元"))  # the hover preview
    card = card_of(page, link)
    expect(reply.locator(".aidqa-cite")).to_have_count(1)  # the sources live under the answer they belong to
    link.click()
    expect(card).to_have_class(re.compile(r"\baidqa-flash\b"))
    expect(card).to_be_in_viewport()
    expect(card).to_be_focused()
    head = card.locator(".aidqa-cite-head")
    expect(head).to_contain_text(f"《{TITLE}》")  # the report's title, then its section
    expect(head.locator(".aidqa-section")).not_to_be_empty()
    mark = card.locator("mark")
    expect(mark).to_contain_text("18.51亿元")
    expect(mark.locator("strong.aidqa-answer-figure")).to_have_text("18.51亿元")
    expect(card).to_contain_text(REPORT)
    expect(reply).not_to_contain_text("相关度")
    # Said once: the short answer above, the sentence highlighted in its card, not the sentence twice.
    assert "实施567个项目" not in answer_text(reply) and reply.inner_text().count("实施567个项目") == 1
    fits_width(page)
    docs_screenshot(page, f"answer-{'phone' if size == PHONE else 'desktop'}.png")


def test_each_citation_shows_its_passage_and_the_keyboard_reaches_it(page, assistant):
    question = "医疗方面投入了多少资金？"
    expected = assistant.ask(question)  # what the page must show: the same Answer the UI renders
    assert len(expected.citations) >= 3
    reply = ask(page, question, via="button")
    figures = {"700万元", "1000万元", "1400万元"}
    seen: set[str] = set()
    for c in expected.citations:
        link = marker(reply, c.id)
        link.focus()  # a link: reachable with Tab, followed with Enter
        expect(link).to_be_focused()
        page.keyboard.press("Enter")
        card = card_of(page, link)
        expect(card).to_have_class(re.compile(r"\baidqa-flash\b"))
        expect(card).to_be_in_viewport()
        expect(card.locator(".aidqa-cite-head")).to_contain_text(f"[{c.id}]")
        expect(card.locator(".aidqa-section")).to_have_text(c.section)
        passage = card.locator(".aidqa-passage")
        expect(passage).to_contain_text(c.passage)  # the whole passage, the quote and the text around it
        mark = passage.locator(f"mark.aidqa-q{c.id}")
        expect(mark).to_have_text(c.quote)  # exactly the quote is highlighted
        before = mark.evaluate("m => { const r = document.createRange(); r.setStart(m.parentElement, 0);"
                               " r.setEndBefore(m); return r.toString(); }")
        assert before == c.passage[: c.start - c.passage_start]  # where the citation says it is
        seen |= {f for f in figures if f in c.quote}
    assert seen == figures
    # One card per passage, never a copy: here all three quotes stand in one paragraph.
    assert len({(c.source, c.passage_start) for c in expected.citations}) == 1
    expect(reply.locator(".aidqa-cite")).to_have_count(1)
    expect(reply.locator(".aidqa-cite mark")).to_have_count(3)


def test_an_older_answer_keeps_its_own_sources(page):
    first = ask(page, "天津对口支援黄南州累计投入了多少资金？")
    second = ask(page, "举办了多少场招聘活动？")
    expect(second).to_contain_text("18场")
    marker(first, 1).click()
    card = card_of(page, marker(first, 1))
    expect(card).to_have_class(re.compile(r"\baidqa-flash\b"))
    expect(card.locator("mark")).to_contain_text("18.51亿元")
    expect(card).to_be_in_viewport()
    marker(second, 1).click()
    expect(card_of(page, marker(second, 1)).locator("mark")).to_contain_text("18场")
    expect(card).not_to_have_class(re.compile(r"\baidqa-flash\b"))  # one highlighted card at a time


# ---- 2. streaming ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def llm_url(assistant, settings) -> Iterator[tuple[str, object]]:
    """The app answering with the LLM backend against ``tests/fake_openai.py``, streamed in small pieces."""
    from fake_openai import FakeOpenAI

    from aidqa import Assistant
    from aidqa.settings import Settings
    from aidqa.web.app import create_app

    with FakeOpenAI(script="invent", chunk_delay=0.02) as fake:
        own = Settings(corpus_dir=settings.corpus_dir, index_dir=settings.index_dir, answering={"backend": "llm"},
                       llm={"base_url": fake.base_url, "model": "fake"})
        llm = Assistant(own)
        llm._embeddings = assistant.embeddings
        with serve_app(create_app(own, llm), start_seconds=SERVER_START) as base:
            yield base, fake


def test_verified_sentences_stream_in_and_an_invented_figure_never_shows(browser, llm_url, watch, request):
    from fake_openai import INVENTED, INVENTED_WORDS

    base, _ = llm_url
    with app_page(browser, base, watch, request) as page:
        # Every text the chat ever shows is recorded, however briefly it is there.
        page.evaluate("""() => { window.__aidqa_seen = [];
            new MutationObserver(() => { const c = document.querySelector('#aidqa-chat');
                if (c) window.__aidqa_seen.push(c.innerText); })
              .observe(document.querySelector('#aidqa-chat'), {subtree: true, childList: true, characterData: true}); }""")
        reply = ask(page, "天津对口支援黄南州累计投入了多少资金？")
        expect(reply).to_contain_text("注：大模型回答中有 2 句无法用引用核实，已略去。")
        expect(marker(reply, 1)).to_be_visible()
        seen = page.evaluate("window.__aidqa_seen")
        streaming = [t for t in seen if "18.51亿元" in t and "……" in t and "来源" not in t]
        assert streaming, "the verified sentence was never on screen before the answer was complete"
        assert not any(INVENTED in t or INVENTED_WORDS in t for t in seen)


# ---- 3. Chinese first ---------------------------------------------------------------------------------------------


def test_the_page_is_chinese_even_in_an_english_browser(browser, base_url, watch, request):
    with app_page(browser, base_url, watch, request, locale="en-US") as page:
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        expect(page.locator("#aidqa-status")).to_have_text(f"已载入 1 份报告：《{TITLE}》")
        body = page.locator("body")
        for english in ("Built with Gradio", "Use via API", "Settings", "Send", "Clear", "Chat", "Figures"):
            expect(body).not_to_contain_text(english)
        expect(page.get_by_role("tab", name="问答")).to_be_visible()
        expect(page.locator("#aidqa-send")).to_have_text("发送")
        reply = ask(page, "天津对口支援黄南州累计投入了多少资金？")
        # Gradio's own controls speak Chinese too (its zh-CN strings): the thumbs under an answer.
        expect(page.locator("#aidqa-chat").get_by_role("button", name="赞")).to_have_count(1)
        expect(reply).to_be_visible()
        assert page.evaluate("document.documentElement.lang") == "zh-CN"


# ---- 4. input ---------------------------------------------------------------------------------------------------------


def test_empty_and_over_long_questions_get_clear_messages_and_keep_the_text(page):
    before = bot_messages(page).count()
    page.locator("#aidqa-send").click()
    expect(wait_for_answer(page, before)).to_have_text("请输入问题。")
    expect(user_messages(page)).to_have_count(0)  # nothing to show as the user's turn

    long = "天津对口支援黄南州的资金投入情况" * 40  # 640 characters
    box = question_box(page)
    box.fill(long)
    counter = page.locator("#aidqa-counter")
    expect(counter).to_contain_text("640 / 500 字：超出 140 字")
    box.press("Enter")
    expect(wait_for_answer(page, before + 1)).to_contain_text("问题有 640 字，超过了 500 字的上限")
    expect(box).to_have_value(long)  # the user's text is still there, to be shortened
    expect(user_messages(page)).to_have_count(0)

    box.fill("举办了多少场招聘活动？")
    expect(counter).to_have_text("11 / 500 字")
    box.press("Enter")
    reply = wait_for_answer(page, before + 2)
    expect(reply).to_contain_text("18场")
    expect(box).to_have_value("")
    expect(page.locator("#aidqa-chat")).not_to_contain_text("出错了")


def test_clicking_an_example_asks_it(page):
    page.locator("#aidqa-examples button").first.wait_for()
    # The page shows generic examples until the loaded report's own (made from its figures) arrive, and again for a
    # moment whenever the index is being swapped (the generic ones are overview questions, tests/test_overview.py).
    # A report's own example, a figure question, must be answered with its figure's passage. Pick and click one in
    # one step inside the page, so the label read is the one clicked.
    generic = json.dumps(GENERIC_EXAMPLES, ensure_ascii=False)
    page.wait_for_function(f"() => [...document.querySelectorAll('#aidqa-examples button')]"
                           f".some(b => !{generic}.includes(b.innerText.trim()))", timeout=READY)
    text = page.evaluate(f"""() => {{
        const button = [...document.querySelectorAll('#aidqa-examples button')]
            .find(b => !{generic}.includes(b.innerText.trim()));
        button.click();
        return button.innerText.trim();
    }}""")
    reply = wait_for_answer(page, 0)
    expect(user_messages(page).last).to_contain_text(text)
    expect(reply, f"the example {text!r} was not answered").to_contain_text("[1]")


def test_the_examples_are_on_a_phones_first_screen(browser, base_url, watch, request):
    with app_page(browser, base_url, watch, request, viewport=PHONE) as page:
        # The generic examples are replaced by the report's own once they are made; a button measured during that
        # swap has no box. Wait for the report's own, then measure the first button in one step inside the page.
        generic = json.dumps(GENERIC_EXAMPLES, ensure_ascii=False)
        page.wait_for_function(f"() => [...document.querySelectorAll('#aidqa-examples button')]"
                               f".some(b => !{generic}.includes(b.innerText.trim()))", timeout=READY)
        expect(page.locator("#aidqa-examples button").first).to_be_in_viewport()
        bottom = page.evaluate("""() => {
            const box = document.querySelector('#aidqa-examples button').getBoundingClientRect();
            return box.height > 0 ? box.bottom : null;
        }""")
        assert bottom is not None and bottom <= PHONE["height"], f"the first example ends at {bottom}px"
        fits_width(page)


# ---- 5. feedback ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_thumbs_and_a_comment_are_stored_with_the_answer(page, feedback_dir, size):
    reply = ask(page, "天津对口支援黄南州累计投入了多少资金？")
    thumbs_down = page.locator("#aidqa-chat").get_by_role("button", name="踩").last
    thumbs_down.click()
    note = page.locator("#aidqa-feedback-note")
    expect(note).to_contain_text("已记录：👎")
    comment = page.locator("#aidqa-feedback-comment textarea")
    comment.fill("想看每年分别投入多少")
    if UPDATE_DOCS:
        comment.scroll_into_view_if_needed()
        docs_screenshot(page, f"feedback-{'phone' if size == PHONE else 'desktop'}.png")
    page.locator("#aidqa-feedback-send").click()
    expect(note).to_have_text("已收到您的说明，谢谢！")
    expect(comment).to_have_value("")
    records = [json.loads(line) for line in (feedback_dir / "feedback.jsonl").read_text(encoding="utf-8").splitlines()]
    last = records[-1]
    assert last["rating"] == "down" and last["comment"] == "想看每年分别投入多少" and last["channel"] == "ui"
    assert last["question"] == "天津对口支援黄南州累计投入了多少资金？" and "18.51亿元" in last["answer"]
    assert last["citations"][0]["title"] == TITLE and "18.51亿元" in last["citations"][0]["quote"]
    assert sum(r["id"] == last["id"] for r in records) == 2  # the thumb, then the same feedback with its comment
    expect(reply).to_be_visible()


# ---- 6. follow-ups, the figures tab, inert markup, a clean console --------------------------------------------------


def test_follow_up_is_understood_from_the_previous_question(page):
    first = ask(page, "天津给尖扎县医院投入了多少援青资金？")
    expect(first).to_contain_text("700万元")
    second = ask(page, "那泽库县呢？")
    expect(second).to_contain_text("1000万元")
    reading = second.locator("em", has_text="按上文理解为")  # *按上文理解为：…* — how the follow-up was understood
    expect(reading).to_have_count(1)
    expect(reading).to_contain_text("泽库县")
    marker(second, 1).click()
    expect(card_of(page, marker(second, 1)).locator("mark").first).to_contain_text("1000万元")
    expect(user_messages(page)).to_have_count(2)


@pytest.mark.parametrize("size", SIZES)
def test_figures_tab_search_and_click_shows_the_figure_in_its_passage(page, size):
    page.get_by_role("tab", name="数据一览").click()
    summary = page.locator("#aidqa-figs-summary")
    expect(summary).to_contain_text(re.compile(r"显示 \d+ / \d+ 条数字"), timeout=READY)
    table = page.locator("#aidqa-figs-table")
    rows = table.locator('[role="row"].virtual-row')
    expect(rows.first).to_be_visible()
    expect(table).to_contain_text("18.51亿元")  # unfiltered: the report's headline figure is listed
    if size == PHONE:
        # A two-column list (数字, 指标): "18.51亿元" reads on one line, not one character per line.
        cell = table.locator('[role="gridcell"]', has_text="18.51亿元").first
        line = cell.locator("span").first.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
        box = cell.locator("span").first.bounding_box()
        assert box is not None and box["height"] < 1.6 * line and box["width"] > 60, (box, line)
        expect(table.locator('th[role="columnheader"]:visible')).to_have_count(2)
        no_element_wider_than_the_screen(page)

    search = page.locator("#aidqa-figs-text input")
    search.fill("医疗")
    # Gradio's Textbox fires its `input` event on key presses, and text that arrives without one (pasted, or from a
    # Chinese IME, like Playwright's fill) does not; Enter submits the search either way.
    search.press("Enter")
    for figure in ("700万元", "1000万元", "1400万元"):
        expect(rows.filter(has_text=figure)).to_have_count(1)
    expect(table).not_to_contain_text("18.51亿元")

    rows.filter(has_text="1000万元").locator('[role="gridcell"]').first.click()
    passage = page.locator("#aidqa-figs-passage")
    mark = passage.locator(".aidqa-fig-passage mark")
    expect(mark).to_have_text("1000万元")
    expect(passage.locator(".aidqa-fig-sentence")).to_contain_text("泽库县")  # the figure's sentence, underlined
    expect(passage.locator(".aidqa-fig-head")).to_contain_text("1000万元")
    expect(passage).to_contain_text(REPORT)
    fits_width(page)
    no_element_wider_than_the_screen(page)
    if UPDATE_DOCS:
        if size == PHONE:
            table.scroll_into_view_if_needed()
        docs_screenshot(page, f"figures-{'phone' if size == PHONE else 'desktop'}.png")


def test_figures_chart_adds_only_like_with_like_sorts_in_chinese_and_an_empty_filter_is_friendly(page, watch):
    page.get_by_role("tab", name="数据一览").click()
    summary = page.locator("#aidqa-figs-summary")
    expect(summary).to_contain_text(re.compile(r"显示 \d+ / \d+ 条数字"), timeout=READY)
    chart, note = page.locator("#aidqa-figs-chart"), page.locator("#aidqa-figs-chart-note")
    # Everything: many units, so no chart (no axes at all), and the note says why.
    expect(note).to_contain_text("种单位")
    expect(chart).to_be_hidden()
    # One unit (元), three different measures: drawn side by side, not added.
    search = page.locator("#aidqa-figs-text input")
    search.fill("医疗")
    search.press("Enter")
    expect(note).to_contain_text("不相加")
    expect(chart).to_be_visible()
    expect(chart.locator("canvas, svg").first).to_be_visible()
    # The sort control speaks Chinese and orders the rows.
    page.locator("#aidqa-figs-sort input").click()
    page.get_by_role("option", name="数值从大到小").click()
    rows = page.locator('#aidqa-figs-table [role="row"].virtual-row')
    expect(rows.first).to_contain_text("1400万元")
    expect(rows.last).to_contain_text("700万元")
    expect(page.locator("#aidqa-figs-table")).to_contain_text(re.compile(r"第\d+段"))  # 位置: a paragraph, not an offset
    # Nothing matches: a friendly line, no chart, and Vega never warns about an empty one.
    search.fill("火星")
    search.press("Enter")
    expect(summary).to_contain_text("没有符合筛选条件的数字")
    expect(chart).to_be_hidden()
    expect(note).to_contain_text("没有可比较")
    assert not [w for w in watch.console_warnings if "Infinite extent" in w or "empty" in w.lower()], watch.console_warnings


def test_markup_in_a_question_is_shown_as_text_not_run(page):
    payload = '<img src=x onerror="window.__aidqa_xss=1"><b>粗体</b>'
    reply = ask(page, payload)
    expect(user_messages(page).last).to_contain_text('<img src=x onerror="window.__aidqa_xss=1"><b>粗体</b>')
    expect(reply).to_be_visible()
    chat = page.locator("#aidqa-chat")
    expect(chat.locator(".message-content img")).to_have_count(0)
    expect(chat.locator(".message-content b")).to_have_count(0)
    assert page.evaluate("() => window.__aidqa_xss") is None


def test_whole_ui_runs_without_page_errors(page, watch):
    """Load, ask, open the other tab and come back: no uncaught exception, no console error and nothing fetched from
    outside the machine. (The `page` fixture checks the same after every test; this test makes it explicit.)"""
    reply = ask(page, "How many projects has Tianjin implemented?")
    expect(reply).to_contain_text("567")
    page.get_by_role("tab", name="数据一览").click()
    expect(page.locator("#aidqa-figs-summary")).to_contain_text("显示", timeout=READY)
    expect(page.locator("#aidqa-figs-chart-note")).to_contain_text("种单位")  # all figures: no chart, and why
    page.get_by_role("tab", name="问答").click()
    expect(bot_messages(page)).to_have_count(1)
    page.locator("#aidqa-clear").click()
    expect(bot_messages(page)).to_have_count(0)
    assert watch.problems() == []


# ---- 7. a report's planted link, through the LLM backend: shown as text, nothing fetched -------------------------


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
        # The model's injected reply is not shown; the report's own sentence saying it stays in the source card.
        assert "已被攻破" not in answer_text(reply)
        chat = page.locator("#aidqa-chat")
        expect(chat.locator(".message-content img")).to_have_count(0)
        expect(chat.locator(".message-content a[href*='evil']")).to_have_count(0)
