"""The 管理报告 (Manage reports) tab: administrators upload and delete reports from the page.

Why it talks to the JSON API from the page instead of using a Gradio file component: Gradio's upload route and any
file data in an event body are refused by the security guard (``docs/security.md``: file data lets a request name a
file on the server), and that must stay so. The panel is plain HTML whose script posts the chosen file to
``POST /api/documents`` with ``fetch`` (the browser adds the page's Basic credentials; the guard sees the same
origin), follows the job at ``GET /api/documents/jobs/{id}``, lists the reports from ``GET /api/documents`` and
deletes with ``DELETE /api/documents/{id}``. Every check, and who may, is the API's; the panel only shows its
answers, as text (``textContent``), never as HTML. It is added only when ``AIDQA_ADMINS`` is set; a user who is
not an administrator sees the API's 403 message in it.
"""

from __future__ import annotations

import gradio as gr

from aidqa.ingest.registry import supported_suffixes
from aidqa.settings import Settings

TAB_LABEL = "管理报告 Manage"
PANEL_ID = "aidqa-manage"

_PANEL_HTML = """
<div class="aidqa-manage">
  <form class="aidqa-upload">
    <input type="file" name="file" required accept="{accept}">
    <label><input type="checkbox" name="replace" value="true"> 替换同名报告（replace a report of the same name）</label>
    <button type="submit">上传 Upload</button>
  </form>
  <p class="aidqa-manage-status" role="status"></p>
  <table class="aidqa-reports">
    <thead><tr><th>报告 Report</th><th>文件 File</th><th>格式 Format</th><th></th></tr></thead>
    <tbody></tbody>
  </table>
</div>
"""

# Runs once in the page (Gradio's js_on_load; ``element`` is the panel). Server text is only ever set as textContent.
_PANEL_JS = r"""
const api = new URL("api/", window.location.href);
const statusLine = element.querySelector(".aidqa-manage-status");
const rows = element.querySelector(".aidqa-reports tbody");
const form = element.querySelector(".aidqa-upload");
const say = (text) => { statusLine.textContent = text; };
const idPath = (id) => id.split("/").map(encodeURIComponent).join("/");

async function call(method, path, body) {
  const response = await fetch(new URL(path, api), {method, body, credentials: "same-origin"});
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) {
    const message = data && data.error ? data.error.message : "HTTP " + response.status;
    throw new Error(message);
  }
  return data;
}

async function list() {
  const data = await call("GET", "documents");
  rows.replaceChildren();
  for (const doc of data.documents) {
    const tr = document.createElement("tr");
    for (const text of [doc.title, doc.id, doc.format]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    const td = document.createElement("td");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "删除 Delete";
    button.addEventListener("click", async () => {
      if (!window.confirm("删除 " + doc.id + "？")) return;
      try {
        const answer = await call("DELETE", "documents/" + idPath(doc.id));
        await follow(answer.job);
      } catch (e) { say("删除失败 delete failed: " + e.message); }
    });
    td.appendChild(button);
    tr.appendChild(td);
    rows.appendChild(tr);
  }
}

async function follow(job) {
  while (job.state === "queued" || job.state === "running") {
    const progress = job.total ? " " + (job.stage || "") + " " + job.done + "/" + job.total : "";
    say("索引中 indexing " + job.file + "：" + job.state + progress);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    job = await call("GET", "documents/jobs/" + encodeURIComponent(job.id));
  }
  let listed = "";
  try { await list(); } catch (e) { listed = " (" + e.message + ")"; }  // the list first: "done" means it is shown
  if (job.state === "done") {
    const c = job.changes || {};
    const n = (list) => (list || []).length;
    say("完成 done: " + job.file + " — added " + n(c.added) + ", updated " + n(c.updated) + ", removed " +
        n(c.removed) + ", unchanged " + n(c.unchanged) + "; embedded " + (c.embedded_chunks || 0) + " chunk(s) and " +
        (c.embedded_sentences || 0) + " sentence(s), reused " + (c.reused_chunks || 0) + " and " +
        (c.reused_sentences || 0) + listed);
  } else {
    say("索引失败 indexing failed: " + (job.error || "") + listed);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  if (!data.get("replace")) data.delete("replace");
  say("上传中 uploading…");
  try {
    const answer = await call("POST", "documents", data);
    form.reset();
    await follow(answer.job);
  } catch (e) { say("上传失败 upload refused: " + e.message); }
});

list().catch((e) => say(e.message));
"""

_PANEL_CSS = """
.aidqa-upload { display: flex; gap: 1em; align-items: center; flex-wrap: wrap; }
.aidqa-reports { width: 100%; margin-top: 1em; }
.aidqa-reports td, .aidqa-reports th { padding: 0.3em 0.6em; text-align: left; }
"""


def management_on(settings: Settings) -> bool:
    """Whether corpus management is configured (the same rule as the API's: users and administrators set)."""
    return bool(settings.auth_users() and settings.admin_users())


def add_manage_tab(demo: gr.Blocks, settings: Settings) -> gr.HTML | None:
    """Add the 管理报告 tab to the app's tabs (``elem_id="aidqa-tabs"``; at the end of the page if there are none)
    when management is on; returns its panel, or None when it is off."""
    if not management_on(settings):
        return None
    accept = ",".join(supported_suffixes())
    tabs = next((b for b in demo.blocks.values() if isinstance(b, gr.Tabs) and b.elem_id == "aidqa-tabs"), None)
    with demo:
        parent = tabs if tabs is not None else gr.Tabs()
        with parent, gr.Tab(TAB_LABEL, id="manage", elem_id=f"{PANEL_ID}-tab"):
            gr.Markdown("上传或删除报告（仅管理员）。上传后在后台建立索引，完成后即可回答。"
                        "Upload or delete reports (administrators only); a report is answerable once its indexing is done.")
            return gr.HTML(value="", html_template=_PANEL_HTML.replace("{accept}", accept), css_template=_PANEL_CSS,
                           js_on_load=_PANEL_JS, elem_id=PANEL_ID, padding=False)
