"""The page around the Blocks: Chinese first, citation links that work, a layout that fits a phone.

Gradio 6 serves its page from a template that says ``<html lang="en">`` and takes the language of its own labels
("Clear", "Copy message"…) from ``navigator.language`` only — there is no server setting for either. The app is
for Chinese readers whatever their browser is set to, so ``ChineseFirstPage`` (an ASGI middleware in front of the
mounted UI) rewrites the page as it is served: ``lang="zh-CN"``, and a first script in ``<head>`` that reports
zh-CN as the browser language before Gradio's own code reads it (so its i18n picks its zh-CN strings, and keeps
``lang`` at zh-CN when it sets it again).

``PAGE_JS`` runs once the app is up: a click (or Enter) on a ``[n]`` link opens that answer's sources, scrolls to
the card and highlights it. ``PAGE_CSS`` holds the cards' styles and the narrow-screen layout (the figures table as a two-column list).
"""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aidqa.web.errors import app_path

LANG = "zh-CN"
PIN_LANGUAGE = (
    "<script>(()=>{const p=Navigator.prototype;"
    f"for(const[k,v]of[['language','{LANG}'],['languages',['{LANG}','zh']]])"
    "{try{Object.defineProperty(p,k,{get:()=>v,configurable:true})}catch(e){}}})();</script>"
)
_HTML_TAG = re.compile(rb"<html(\s[^>]*?)?\slang=\"[^\"]*\"", re.S)


def chinese_first(page: bytes) -> bytes:
    """The Gradio page with ``lang="zh-CN"`` and the language pin as the first thing in ``<head>``."""
    page = _HTML_TAG.sub(lambda m: m.group(0)[: m.group(0).rindex(b"lang=")] + f'lang="{LANG}"'.encode(), page, 1)
    return page.replace(b"<head>", b"<head>" + PIN_LANGUAGE.encode(), 1)


class ChineseFirstPage:
    """ASGI middleware: rewrites the HTML page of the UI (``GET /`` → text/html) with ``chinese_first``; every other
    response passes through untouched, streamed as it comes."""

    def __init__(self, app: ASGIApp, page_paths: tuple[str, ...] = ("/", "")) -> None:
        self.app = app
        self.page_paths = page_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or app_path(scope) not in self.page_paths:
            await self.app(scope, receive, send)
            return
        start: Message | None = None  # held back until the whole page is read; None: passing through
        body: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message["headers"]))
                if headers.get("content-type", "").startswith("text/html") and not headers.get("content-encoding"):
                    start = message
                else:
                    await send(message)
                return
            if start is None:
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            page = chinese_first(b"".join(body))
            headers = MutableHeaders(raw=list(start["headers"]))
            headers["content-length"] = str(len(page))
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, rewrite)


# Opens an answer's sources at the card a [n] link names, scrolls to it and highlights it. Only ids of the form the
# renderer writes are followed; nothing from the message is evaluated.
PAGE_JS = """
() => {
  const CARD = /^aidqa-src-[0-9a-f]{12}-[0-9]+$/;
  const go = (link, event) => {
    const id = (link.getAttribute('href') || '').slice(1);
    const card = CARD.test(id) ? document.getElementById(id) : null;
    if (!card) return;
    event.preventDefault();
    event.stopPropagation();
    const details = card.closest('details');
    if (details) details.open = true;
    document.querySelectorAll('.aidqa-cite.aidqa-flash').forEach((c) => c.classList.remove('aidqa-flash'));
    card.classList.add('aidqa-flash');
    card.scrollIntoView({block: 'nearest'});
    card.focus({preventScroll: true});
  };
  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest('a.aidqa-ref') : null;
    if (link) go(link, event);
  }, true);
}
"""

PAGE_CSS = """
#aidqa-title h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
#aidqa-chat .message-content { overflow-wrap: anywhere; }
a.aidqa-ref { text-decoration: none; font-weight: 600; padding: 0 .15em; border-radius: 4px;
              color: var(--color-accent); cursor: pointer; white-space: nowrap; }
a.aidqa-ref:hover, a.aidqa-ref:focus-visible { background: var(--color-accent-soft); outline: 2px solid var(--color-accent); }
details.aidqa-sources { margin-top: .5rem; }
details.aidqa-sources > summary { cursor: pointer; color: var(--body-text-color-subdued); font-size: .9rem; }
.aidqa-cites { display: flex; flex-direction: column; gap: .6rem; margin-top: .5rem; font-size: .92rem; line-height: 1.65; }
.aidqa-cite { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .5rem .7rem;
              background: var(--background-fill-secondary); scroll-margin: 1rem; }
.aidqa-cite.aidqa-flash { outline: 3px solid var(--color-accent); }
.aidqa-cite:focus { outline: 3px solid var(--color-accent); }
.aidqa-cite-head { font-weight: 600; margin-bottom: .3rem; }
.aidqa-n { color: var(--color-accent); }
.aidqa-section, .aidqa-page, .aidqa-file { font-weight: 400; color: var(--body-text-color-subdued); }
.aidqa-file { font-size: .8rem; margin-top: .3rem; }
.aidqa-passage { white-space: pre-wrap; overflow-wrap: anywhere; }
.aidqa-passage mark, .aidqa-quote mark { background: #fde68a; color: #111827; padding: 0 1px; border-radius: 2px; }
.aidqa-passage mark strong { color: #b91c1c; }
.aidqa-passage mark strong.aidqa-answer-figure { text-decoration: underline 2px; text-underline-offset: 3px; }
#aidqa-counter { font-size: .85rem; color: var(--body-text-color-subdued); min-height: 1.2em; }
#aidqa-counter .aidqa-over { color: #b91c1c; font-weight: 600; }
@media (max-width: 640px) {
  .gradio-container { padding-left: 6px !important; padding-right: 6px !important; }
  #aidqa-title h1 { font-size: 1.25rem; }
  #aidqa-intro { display: none; }
  /* The figures table as a two-column list: 数字 (as written, with unit and qualifier) and 指标; the rest is in the
     passage a tap opens. Eight columns at 390 px wrap an amount like "1234.56亿元" one character per line. Gradio's table sets
     each cell's width inline (body cells data-col, header cells data-heading), hence !important. */
  #aidqa-figs-table [data-col]:not([data-col="0"]):not([data-col="4"]),
  #aidqa-figs-table th[data-heading]:not([data-heading="0"]):not([data-heading="4"]) { display: none !important; }
  #aidqa-figs-table table.header-table { table-layout: fixed; width: 100% !important; }
  #aidqa-figs-table [data-col="0"], #aidqa-figs-table th[data-heading="0"] {
    width: 38% !important; min-width: 38% !important; max-width: 38% !important; flex: 0 0 38% !important; }
  #aidqa-figs-table [data-col="4"], #aidqa-figs-table th[data-heading="4"] {
    width: 62% !important; min-width: 62% !important; max-width: 62% !important; flex: 0 0 62% !important; }
  #aidqa-figs-table [data-col="0"] span { word-break: keep-all; overflow-wrap: anywhere; font-weight: 600; }
}
"""
