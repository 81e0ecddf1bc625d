"""aidqa: question answering over Chinese reports with verbatim, cited answers."""

__version__ = "0.1.0"

__all__ = ["Answer", "Assistant", "Citation", "Settings", "__version__"]


def __getattr__(name: str):
    # Lazy: `import aidqa` stays cheap (no torch/chroma) until the assistant is actually used.
    if name == "Assistant":
        from aidqa.qa.assistant import Assistant

        return Assistant
    if name in ("Answer", "Citation"):
        from aidqa import models

        return getattr(models, name)
    if name == "Settings":
        from aidqa.settings import Settings

        return Settings
    raise AttributeError(name)
