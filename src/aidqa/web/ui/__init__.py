"""The Gradio UI: the chat tab (``chat``) and the 数据一览 figures tab (``figures``)."""

from aidqa.web.ui.chat import SERVED_FILE_NAMES, build_ui

__all__ = ["SERVED_FILE_NAMES", "build_ui"]
