"""The web layer: one FastAPI app (``app``) with the JSON API (``api``, ``schemas``) under /api and the Gradio UI
(``ui``) at /, the service both share (``service``), and the security guard in front of all of it (``security``,
``errors``). It depends on the QA layer, never the reverse."""

__all__ = ["create_app", "serve"]


def __getattr__(name: str):
    if name in __all__:
        from aidqa.web import app

        return getattr(app, name)
    raise AttributeError(name)
